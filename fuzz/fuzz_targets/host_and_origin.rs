//! The Host/Origin/Sec-Fetch gates never panic, and by default accept only
//! local names.
#![no_main]

use devserve::fuzzing::gates;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut fields = data.split(|b| *b == b'\n');
    let mut request = http::Request::builder().uri("/");
    for name in ["host", "origin", "sec-fetch-site", "sec-fetch-mode", "host"] {
        if let Some(value) = fields.next() {
            if let Ok(value) = http::HeaderValue::from_bytes(value) {
                request = request.header(name, value);
            }
        }
    }
    if let Ok(request) = request.body(()) {
        if let Some(host) = gates(&request.into_parts().0) {
            let local = host == "localhost"
                || host.ends_with(".localhost")
                || host.parse::<std::net::IpAddr>().is_ok();
            assert!(local, "accepted host {host:?}");
        }
    }
});
