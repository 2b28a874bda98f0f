//! Range and conditional headers never panic; partial ranges stay in the file.
#![no_main]

use devserve::fuzzing::{conditional, range};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut fields = text.split('\n');
    let range_value = fields.next().unwrap_or("");
    let len = u64::from(data.first().copied().unwrap_or(0)) * 97;
    if let Some((start, end)) = range(range_value, len) {
        assert!(start <= end && end < len, "{range_value:?} on {len}: {start}-{end}");
    }
    let mut request = http::Request::builder().uri("/");
    for (name, value) in ["if-none-match", "if-modified-since", "if-match", "if-unmodified-since", "if-range"]
        .into_iter()
        .zip(fields)
    {
        if let Ok(value) = http::HeaderValue::from_str(value) {
            request = request.header(name, value);
        }
    }
    if let Ok(request) = request.body(()) {
        conditional(&request.into_parts().0);
    }
});
