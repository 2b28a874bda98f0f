//! The fixed endpoints: greeting, `/info`, CORS preflights and the iframe page.

use super::body::{self, Body};
use super::cors;
use super::options::Options;
use http::request::Parts;
use http::{header, HeaderValue, Response, StatusCode};

const IFRAME_TEMPLATE: &str = include_str!("../../assets/sockjs/iframe.html");

/// `GET <base>`: the greeting.
pub(crate) fn greeting() -> Response<Body> {
    let mut response = Response::new(body::full("Welcome to SockJS!\n"));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=UTF-8"),
    );
    response
}

/// `GET <base>/info`: what the client needs to pick a transport.
pub(crate) fn info(req: &Parts, options: &Options) -> Response<Body> {
    let body = serde_json::json!({
        "websocket": options.transports.websocket,
        "cookie_needed": !matches!(options.jsessionid, super::options::Jsessionid::Off),
        "origins": ["*:*"],
        "entropy": fastrand::u32(..),
    });
    let mut response = Response::new(body::full(body.to_string()));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    cors::no_cache(headers);
    cors::cors(headers, req, options);
    response
}

/// `OPTIONS` on an endpoint: a cacheable preflight answer.
pub(crate) fn preflight(req: &Parts, options: &Options, methods: &'static str) -> Response<Body> {
    let mut response = Response::new(body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    cors::preflight(headers, methods);
    cors::cors(headers, req, options);
    cors::jsessionid(headers, req, options);
    response
}

/// The iframe page (`<base>/iframe.html` and versioned names), strongly cacheable.
pub(crate) fn iframe(req: &Parts, options: &Options) -> Response<Body> {
    let page = IFRAME_TEMPLATE.replace("{{ sockjs_url }}", &escape_html(&options.sockjs_url));
    let page = page.trim_end().to_string();
    let etag = format!("\"{:016x}\"", fnv1a(page.as_bytes()));
    let matches = req
        .headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if matches {
        let mut r = Response::new(body::empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        let mut r = Response::new(body::full(page));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=UTF-8"),
        );
        r
    };
    let headers = response.headers_mut();
    cors::cache_for_a_year(headers);
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    response
}

/// Escape text for an HTML attribute or element.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A small, stable, non-cryptographic hash (64-bit FNV-1a) for ETags.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iframe_page_escapes_the_script_url() {
        let req = http::Request::new(()).into_parts().0;
        let options = Options::new("/x").sockjs_url("/a\"><script>alert(1)</script>");
        let response = iframe(&req, &options);
        assert_eq!(response.status(), 200);
        assert!(response.headers().get(header::ETAG).is_some());
        assert!(response.headers().get(header::LAST_MODIFIED).is_none());
    }

    #[test]
    fn escape_html_escapes_markup() {
        assert_eq!(
            escape_html("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
