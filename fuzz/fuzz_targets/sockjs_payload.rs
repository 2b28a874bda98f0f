//! Decoding never panics, and whatever decodes re-encodes to the same messages.
#![no_main]

use devserve::fuzzing::{sockjs_decode, sockjs_encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(messages) = sockjs_decode(data) {
        let frame = sockjs_encode(&messages);
        let again = sockjs_decode(&frame.as_bytes()[1..]).expect("own frames decode");
        assert_eq!(again, messages);
    }
});
