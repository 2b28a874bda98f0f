//! What the application may know about the request that opened a
//! connection, kept small: a session lives long, and thousands may be open.

use http::{HeaderMap, HeaderValue};
use std::net::SocketAddr;

/// What the application may know about the request that opened a connection.
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    /// The session id from the URL (`None` for raw WebSocket).
    pub session_id: Option<String>,
    /// The peer's address, when the application put a `SocketAddr` into the request extensions.
    pub remote_addr: Option<SocketAddr>,
    /// The safe subset of request headers (never `cookie` or `authorization`):
    /// the first value of each, and only values of at most
    /// [`ConnectionInfo::MAX_HEADER_VALUE`] bytes — a longer value is dropped, never cut,
    /// so what the application reads is always what the client sent.
    pub headers: HeaderMap,
    /// Path and query of the request; only the path when the query would
    /// make it longer than [`ConnectionInfo::MAX_URL`] bytes.
    pub url: String,
    /// Path of the request.
    pub pathname: String,
    /// The server's prefix.
    pub prefix: String,
    /// Transport name: `websocket`, `rawwebsocket`, `xhr-polling`, `xhr-streaming`, `eventsource`, `htmlfile` or `jsonp-polling`.
    pub protocol: &'static str,
}

/// Request headers copied into [`ConnectionInfo::headers`].
const SAFE_HEADERS: &[&str] = &[
    "origin",
    "referer",
    "host",
    "user-agent",
    "accept-language",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-port",
    "x-forwarded-proto",
    "x-real-ip",
    "x-client-ip",
    "x-cluster-client-ip",
    "via",
    "dnt",
];

/// Keep only the headers an application may see, each bounded.
fn safe_headers(headers: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for name in SAFE_HEADERS {
        if let Some(value) = headers
            .get(*name)
            .filter(|v| v.len() <= ConnectionInfo::MAX_HEADER_VALUE)
        {
            // A fresh copy: a `HeaderValue` cloned from the request would
            // keep the whole request head it was parsed from alive.
            if let Ok(value) = HeaderValue::from_bytes(value.as_bytes()) {
                out.insert(*name, value);
            }
        }
    }
    out
}

impl ConnectionInfo {
    /// Longest header value kept in [`ConnectionInfo::headers`], in bytes.
    pub const MAX_HEADER_VALUE: usize = 1024;

    /// Longest [`ConnectionInfo::url`] kept with its query, in bytes.
    pub const MAX_URL: usize = 1024;

    /// Details of the request that opens a session.
    pub(crate) fn of_request(
        parts: &http::request::Parts,
        prefix: &str,
        session_id: Option<&str>,
        protocol: &'static str,
    ) -> ConnectionInfo {
        Self::of_pieces(
            &parts.uri,
            &parts.headers,
            &parts.extensions,
            prefix,
            session_id,
            protocol,
        )
    }

    /// [`ConnectionInfo::of_request`] from the pieces of a request.
    pub(crate) fn of_pieces(
        uri: &http::Uri,
        headers: &HeaderMap,
        extensions: &http::Extensions,
        prefix: &str,
        session_id: Option<&str>,
        protocol: &'static str,
    ) -> ConnectionInfo {
        let url = uri
            .path_and_query()
            .map(|pq| pq.as_str())
            .filter(|url| url.len() <= ConnectionInfo::MAX_URL)
            .unwrap_or_else(|| uri.path());
        ConnectionInfo {
            session_id: session_id.map(str::to_string),
            remote_addr: extensions.get::<SocketAddr>().copied(),
            headers: safe_headers(headers),
            url: url.to_string(),
            pathname: uri.path().to_string(),
            prefix: prefix.to_string(),
            protocol,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX_HEADER_VALUE: usize = ConnectionInfo::MAX_HEADER_VALUE;
    const MAX_URL: usize = ConnectionInfo::MAX_URL;

    fn info(uri: &str, headers: &[(&str, &[u8])]) -> ConnectionInfo {
        let mut builder = http::Request::builder().uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let parts = builder.body(()).expect("request").into_parts().0;
        ConnectionInfo::of_request(&parts, "/p", Some("id"), "xhr-polling")
    }

    #[test]
    fn session_info_keeps_only_bounded_safe_headers() {
        let long = vec![b'a'; MAX_HEADER_VALUE + 1];
        let fits = vec![b'b'; MAX_HEADER_VALUE];
        let info = info(
            "/p/0/id/xhr",
            &[
                ("cookie", b"secret"),
                ("authorization", b"secret"),
                ("user-agent", &long),
                ("referer", &fits),
                ("via", b"first"),
                ("via", b"second"),
            ],
        );
        assert!(info.headers.get("cookie").is_none());
        assert!(info.headers.get("authorization").is_none());
        assert!(
            info.headers.get("user-agent").is_none(),
            "too long: dropped"
        );
        assert_eq!(info.headers["referer"].len(), MAX_HEADER_VALUE);
        assert_eq!(info.headers.get_all("via").iter().count(), 1);
        assert_eq!(info.headers.len(), 2);
    }

    #[test]
    fn session_info_drops_a_long_query() {
        let short = info("/p/0/id/jsonp?c=cb", &[]);
        assert_eq!(short.url, "/p/0/id/jsonp?c=cb");
        let long = info(&format!("/p/0/id/jsonp?c={}", "x".repeat(MAX_URL)), &[]);
        assert_eq!(long.url, "/p/0/id/jsonp");
        assert_eq!(long.pathname, "/p/0/id/jsonp");
    }
}
