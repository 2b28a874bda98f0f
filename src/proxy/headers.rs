//! What changes in the headers on the way through the proxy: hop-by-hop
//! headers removed, `Host` and `X-Forwarded-*` set on the way in, redirects
//! to the backend's own origin pointed back at devserve on the way out.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::Uri;

/// Headers that describe one connection, never the message (RFC 9110 §7.6.1).
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// Who asked, as the backend is told.
#[derive(Debug, Clone)]
pub(crate) struct Forwarded {
    /// The browser's address.
    pub(crate) client_ip: Option<std::net::IpAddr>,
    /// The `Host` the browser sent (already through the Host gate).
    pub(crate) host: Option<HeaderValue>,
    /// `http` or `https`: how the browser reached devserve.
    pub(crate) proto: &'static str,
}

/// Remove the hop-by-hop headers, and those the `Connection` header names.
/// With `upgrade`, `Connection: upgrade` and `Upgrade` are kept (a
/// WebSocket handshake needs them end to end).
pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap, upgrade: bool) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|token| HeaderName::from_bytes(token.trim().as_bytes()).ok())
        .collect();
    let upgrade_to = headers.get(header::UPGRADE).cloned();
    for name in named.iter().chain(HOP_BY_HOP.iter()) {
        headers.remove(name);
    }
    if let (true, Some(protocol)) = (upgrade, upgrade_to) {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, protocol);
    }
}

/// The request headers as the backend gets them.
pub(crate) fn to_backend(
    headers: &mut HeaderMap,
    backend: &Uri,
    change_origin: bool,
    who: &Forwarded,
    upgrade: bool,
) {
    strip_hop_by_hop(headers, upgrade);
    if change_origin {
        if let Some(value) = backend
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
        {
            headers.insert(header::HOST, value);
        }
    }
    if let Some(ip) = who.client_ip {
        let chain = match headers.get(&X_FORWARDED_FOR).and_then(|v| v.to_str().ok()) {
            Some(earlier) => format!("{earlier}, {ip}"),
            None => ip.to_string(),
        };
        if let Ok(value) = HeaderValue::from_str(&chain) {
            headers.insert(X_FORWARDED_FOR, value);
        }
    }
    if let Some(host) = &who.host {
        headers.insert(X_FORWARDED_HOST, host.clone());
    }
    headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static(who.proto));
}

/// The response headers as the browser gets them.
pub(crate) fn to_browser(headers: &mut HeaderMap, backend: &Uri, who: &Forwarded, upgrade: bool) {
    strip_hop_by_hop(headers, upgrade);
    let rewritten = headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|location| rewrite_location(location, backend, who));
    if let Some(location) = rewritten {
        headers.insert(header::LOCATION, location);
    }
}

/// A redirect to the backend's own origin, pointed at devserve instead
/// (same path and query); any other `Location` stays as it is.
fn rewrite_location(location: &str, backend: &Uri, who: &Forwarded) -> Option<HeaderValue> {
    let target: Uri = location.parse().ok()?;
    let same_origin = target.scheme() == backend.scheme()
        && target.authority().map(|a| a.as_str().to_ascii_lowercase())
            == backend.authority().map(|a| a.as_str().to_ascii_lowercase());
    if !same_origin {
        return None;
    }
    let host = who.host.as_ref()?.to_str().ok()?;
    let path = target.path_and_query().map_or("/", |pq| pq.as_str());
    HeaderValue::from_str(&format!("{}://{host}{path}", who.proto)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who() -> Forwarded {
        Forwarded {
            client_ip: Some("127.0.0.1".parse().expect("ip")),
            host: Some(HeaderValue::from_static("localhost:8080")),
            proto: "http",
        }
    }

    fn backend() -> Uri {
        Uri::from_static("http://127.0.0.1:3000/")
    }

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_str(value).expect("value"),
            );
        }
        headers
    }

    #[test]
    fn hop_by_hop_headers_and_the_ones_connection_names_go() {
        let mut headers = map(&[
            ("connection", "keep-alive, x-secret-hop"),
            ("keep-alive", "timeout=5"),
            ("x-secret-hop", "1"),
            ("te", "trailers"),
            ("transfer-encoding", "chunked"),
            ("accept", "text/html"),
        ]);
        strip_hop_by_hop(&mut headers, false);
        let left: Vec<_> = headers.keys().map(|k| k.as_str()).collect();
        assert_eq!(left, ["accept"]);
    }

    #[test]
    fn an_upgrade_keeps_its_handshake_headers() {
        let mut headers = map(&[
            ("connection", "Upgrade"),
            ("upgrade", "websocket"),
            ("sec-websocket-key", "k"),
        ]);
        strip_hop_by_hop(&mut headers, true);
        assert_eq!(headers["connection"], "upgrade");
        assert_eq!(headers["upgrade"], "websocket");
        assert_eq!(headers["sec-websocket-key"], "k");
    }

    #[test]
    fn the_backend_learns_who_asked() {
        let mut headers = map(&[("host", "localhost:8080"), ("x-forwarded-for", "10.1.1.1")]);
        to_backend(&mut headers, &backend(), true, &who(), false);
        assert_eq!(headers["host"], "127.0.0.1:3000");
        assert_eq!(headers["x-forwarded-for"], "10.1.1.1, 127.0.0.1");
        assert_eq!(headers["x-forwarded-host"], "localhost:8080");
        assert_eq!(headers["x-forwarded-proto"], "http");

        let mut kept = map(&[("host", "localhost:8080")]);
        to_backend(&mut kept, &backend(), false, &who(), false);
        assert_eq!(kept["host"], "localhost:8080");
    }

    #[test]
    fn redirects_to_the_backend_come_back_to_devserve() {
        let cases = [
            (
                "http://127.0.0.1:3000/login?next=%2F",
                Some("http://localhost:8080/login?next=%2F"),
            ),
            ("http://127.0.0.1:3000", Some("http://localhost:8080/")),
            (
                "http://127.0.0.1:3000//evil.test/",
                Some("http://localhost:8080//evil.test/"),
            ),
            ("http://127.0.0.1:3001/other", None),
            ("https://example.test/", None),
            ("/relative", None),
        ];
        for (location, expected) in cases {
            let mut headers = map(&[("location", location)]);
            to_browser(&mut headers, &backend(), &who(), false);
            let now = headers["location"].to_str().expect("ascii");
            assert_eq!(now, expected.unwrap_or(location), "{location}");
        }
    }
}
