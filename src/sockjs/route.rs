//! Mapping a request path under a server's prefix to an endpoint, and the
//! methods and transport switches each endpoint answers to.

use super::options::Transports;
use http::Method;

/// Longest server or session id in a URL, in bytes. The protocol allows
/// any `[^/.]+`; a longer id is a path like any other that matches nothing
/// (404), so no session is ever keyed by a huge id.
pub(crate) const MAX_ID_LEN: usize = 128;

/// A session transport endpoint: `/<server>/<session>/<kind>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TransportKind {
    Websocket,
    Xhr,
    XhrSend,
    XhrStreaming,
    EventSource,
    HtmlFile,
    Jsonp,
    JsonpSend,
}

impl TransportKind {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "websocket" => TransportKind::Websocket,
            "xhr" => TransportKind::Xhr,
            "xhr_send" => TransportKind::XhrSend,
            "xhr_streaming" => TransportKind::XhrStreaming,
            "eventsource" => TransportKind::EventSource,
            "htmlfile" => TransportKind::HtmlFile,
            "jsonp" => TransportKind::Jsonp,
            "jsonp_send" => TransportKind::JsonpSend,
            _ => return None,
        })
    }

    /// Methods the endpoint answers, as an `Allow` header value.
    pub(crate) fn allow(self) -> &'static str {
        match self {
            TransportKind::Websocket
            | TransportKind::EventSource
            | TransportKind::HtmlFile
            | TransportKind::Jsonp => "GET",
            TransportKind::Xhr | TransportKind::XhrSend | TransportKind::XhrStreaming => {
                "OPTIONS, POST"
            }
            TransportKind::JsonpSend => "POST",
        }
    }

    /// Whether `OPTIONS` gets a CORS preflight answer here.
    pub(crate) fn preflight(self) -> bool {
        self.allow().starts_with("OPTIONS")
    }

    /// The method the endpoint does its work on.
    pub(crate) fn method(self) -> Method {
        match self {
            TransportKind::Websocket
            | TransportKind::EventSource
            | TransportKind::HtmlFile
            | TransportKind::Jsonp => Method::GET,
            TransportKind::Xhr
            | TransportKind::XhrSend
            | TransportKind::XhrStreaming
            | TransportKind::JsonpSend => Method::POST,
        }
    }

    /// Whether the transports on offer include this endpoint. `xhr` and
    /// `xhr_send` serve every transport that sends through XHR.
    pub(crate) fn enabled(self, t: Transports) -> bool {
        match self {
            TransportKind::Websocket => t.websocket,
            TransportKind::Xhr | TransportKind::XhrSend => {
                t.xhr_polling || t.xhr_streaming || t.eventsource || t.htmlfile
            }
            TransportKind::XhrStreaming => t.xhr_streaming,
            TransportKind::EventSource => t.eventsource,
            TransportKind::HtmlFile => t.htmlfile,
            TransportKind::Jsonp | TransportKind::JsonpSend => t.jsonp,
        }
    }
}

/// The endpoint a path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route<'a> {
    /// `<base>` or `<base>/`.
    Greeting,
    /// `<base>/info`.
    Info,
    /// `<base>/iframe.html` or a versioned iframe page.
    Iframe,
    /// `<base>/websocket`: WebSocket without SockJS framing.
    RawWebsocket,
    /// `<base>/<server>/<session>/<transport>`.
    Session {
        session: &'a str,
        kind: TransportKind,
    },
    /// Nothing here.
    NotFound,
}

/// Route `rest`, the path with the prefix removed (`""` or starting with `/`).
pub(crate) fn route(rest: &str) -> Route<'_> {
    if rest.is_empty() || rest == "/" {
        return Route::Greeting;
    }
    let Some(rest) = rest.strip_prefix('/') else {
        return Route::NotFound;
    };
    // Every endpoint accepts one optional trailing slash.
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    match rest {
        "info" => return Route::Info,
        "websocket" => return Route::RawWebsocket,
        _ => {}
    }
    if is_iframe_page(rest) {
        return Route::Iframe;
    }
    let mut parts = rest.split('/');
    let (Some(server), Some(session), Some(kind), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Route::NotFound;
    };
    let valid_id = |id: &str| (1..=MAX_ID_LEN).contains(&id.len()) && !id.contains('.');
    match TransportKind::parse(kind) {
        Some(kind) if valid_id(server) && valid_id(session) => Route::Session { session, kind },
        _ => Route::NotFound,
    }
}

/// `iframe.html`, or `iframe<version>.html` with a version of `[0-9a-z._-]`.
fn is_iframe_page(name: &str) -> bool {
    name.strip_prefix("iframe")
        .and_then(|n| n.strip_suffix(".html"))
        .is_some_and(|version| {
            version.bytes().all(|b| {
                b.is_ascii_digit() || b.is_ascii_lowercase() || matches!(b, b'.' | b'-' | b'_')
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_endpoints() {
        assert_eq!(route(""), Route::Greeting);
        assert_eq!(route("/"), Route::Greeting);
        assert_eq!(route("/info"), Route::Info);
        assert_eq!(route("/info/"), Route::Info);
        assert_eq!(route("/websocket"), Route::RawWebsocket);
        assert_eq!(route("/iframe.html"), Route::Iframe);
        assert_eq!(route("/iframe-0.1.2abc-dirty.2144.html"), Route::Iframe);
        for bad in [
            "/iframe.htm",
            "/iframe",
            "/IFRAME.HTML",
            "/IFRAME",
            "/iframe.HTML",
            "/iframe.xml",
            "/iframe-/.html",
        ] {
            assert_eq!(route(bad), Route::NotFound, "{bad}");
        }
    }

    #[test]
    fn session_endpoints() {
        assert_eq!(
            route("/000/abcdefgh_i-j%20/xhr"),
            Route::Session {
                session: "abcdefgh_i-j%20",
                kind: TransportKind::Xhr
            }
        );
        assert_eq!(
            route("/a/b/websocket/"),
            Route::Session {
                session: "b",
                kind: TransportKind::Websocket
            }
        );
        for bad in [
            "/a",
            "/a.html",
            "//",
            "///",
            "/a/a",
            "/a/a/",
            "/a/",
            "///xhr",
            "/a./a/xhr",
            "/a/a./xhr",
            "/./././xhr",
            "/a/b/c/xhr",
            "/a/b/nope",
        ] {
            assert_eq!(route(bad), Route::NotFound, "{bad}");
        }
    }

    #[test]
    fn session_ids_longer_than_128_bytes_are_not_found() {
        let fits = "a".repeat(MAX_ID_LEN);
        let long = "a".repeat(MAX_ID_LEN + 1);
        assert_eq!(
            route(&format!("/{fits}/{fits}/xhr")),
            Route::Session {
                session: &fits,
                kind: TransportKind::Xhr
            }
        );
        assert_eq!(route(&format!("/0/{long}/xhr")), Route::NotFound);
        assert_eq!(route(&format!("/{long}/a/websocket")), Route::NotFound);
    }

    #[test]
    fn method_table() {
        assert_eq!(TransportKind::Websocket.method(), Method::GET);
        assert_eq!(TransportKind::XhrSend.method(), Method::POST);
        assert!(TransportKind::Xhr.preflight());
        assert!(!TransportKind::JsonpSend.preflight());
        let no_ws = Transports {
            websocket: false,
            ..Transports::default()
        };
        assert!(!TransportKind::Websocket.enabled(no_ws));
        assert!(TransportKind::Xhr.enabled(no_ws));
    }
}
