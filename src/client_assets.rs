//! The browser client, embedded from `client/` at build time and served
//! under `/__devserve/`.

use crate::body::{self, ResponseBody};
use http::{header, HeaderValue, Response, StatusCode};
use include_dir::{include_dir, Dir};

static CLIENT: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/client");

/// Identifies this build of the client; part of ETags and injected-page ETags.
pub fn version() -> &'static str {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION.get_or_init(|| {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for file in CLIENT.files() {
            for b in file
                .path()
                .to_string_lossy()
                .bytes()
                .chain(file.contents().iter().copied())
            {
                hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("{}-{hash:016x}", env!("CARGO_PKG_VERSION"))
    })
}

/// Answer `GET /__devserve/<name>`, or `None` when there is no such asset.
pub fn serve(name: &str, if_none_match: Option<&HeaderValue>) -> Option<Response<ResponseBody>> {
    if name.is_empty() || name.contains("..") {
        return None;
    }
    let file = CLIENT.get_file(name)?;
    let etag = format!("\"{}\"", version());
    let fresh = if_none_match
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == etag)
        });
    let mut response = if fresh {
        let mut r = Response::new(body::empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        Response::new(body::full(file.contents()))
    };
    let mime = match file.path().extension().and_then(|e| e.to_str()) {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        _ => "application/octet-stream",
    };
    let headers = response.headers_mut();
    if !fresh {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_the_client_and_revalidates() {
        let response = serve("client.js", None).expect("client.js is embedded");
        assert_eq!(response.status(), 200);
        let etag = response.headers()[header::ETAG].clone();
        let again = serve("client.js", Some(&etag)).expect("client.js is embedded");
        assert_eq!(again.status(), 304);
        assert!(serve("nope.js", None).is_none());
        assert!(serve("../Cargo.toml", None).is_none());
    }
}
