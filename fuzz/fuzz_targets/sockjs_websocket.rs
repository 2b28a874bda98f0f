//! Whatever bytes a client sends on a SockJS WebSocket, the server's frame
//! decoding never panics, keeps reading only while messages arrive, and
//! ends on a close with a code RFC 6455 allows it to send.
#![no_main]

use devserve::fuzzing::{sockjs_decode, sockjs_websocket_reads, WebSocketRead};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let reads = sockjs_websocket_reads(data, 1024);
    let (last, before) = reads.split_last().expect("at least one read");
    for read in before {
        match read {
            WebSocketRead::Text(text) => {
                assert!(text.len() <= 1024, "message over the cap");
                let _ = sockjs_decode(text.as_bytes());
            }
            WebSocketRead::Other => {}
            other => panic!("read on after the connection ended: {other:?}"),
        }
    }
    match last {
        WebSocketRead::Violation(code) => {
            assert!(matches!(code, 1002 | 1007 | 1009), "close code {code}")
        }
        WebSocketRead::Closed(code) => assert!(
            *code == 1005 || (*code >= 1000 && !matches!(code, 1004 | 1006 | 1015)),
            "echoed close code {code}"
        ),
        WebSocketRead::Lost => {}
        other => panic!("the connection went on after {other:?}"),
    }
});
