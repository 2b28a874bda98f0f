//! webpack-dev-server 5's socket endpoint at `/ws`: a plain WebSocket at
//! `/ws` itself (wds 5's default `ws` transport), and a SockJS server under
//! the `/ws` prefix (`webSocketServer: 'sockjs'`: `/ws/info`,
//! `/ws/<server>/<session>/websocket`, xhr-streaming, xhr-polling).
//!
//! Both are the SockJS module, hardened like `/sockjs-node`; the plain
//! socket is its unframed WebSocket transport, pinging every second as
//! wds 5's server does. Every connection joins the hub speaking
//! [`Dialect::Wds5`].

#![deny(unreachable_pub, missing_debug_implementations)]

use crate::body::ResponseBody;
use crate::hub::Hub;
use crate::protocol::Dialect;
use crate::sockjs::{Options, SockJsServer};
use http::uri::PathAndQuery;
use http::{Request, Response, Uri};
use hyper::body::Incoming;
use std::time::Duration;

/// Where webpack-dev-server 5's client connects.
pub(crate) const WDS5_PATH: &str = "/ws";
/// How often the plain socket pings an idle client (wds 5's heartbeat).
pub(crate) const WDS5_PING: Duration = Duration::from_secs(1);

/// Which of the two `/ws` endpoints a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wds5Route {
    /// `/ws`: a plain WebSocket upgrade.
    Plain,
    /// `/ws/**`: SockJS.
    SockJs,
}

/// The `/ws` endpoint that `path` names, if any.
pub(crate) fn route(path: &str) -> Option<Wds5Route> {
    match path.strip_prefix(WDS5_PATH)? {
        "" => Some(Wds5Route::Plain),
        rest if rest.starts_with('/') => Some(Wds5Route::SockJs),
        _ => None,
    }
}

/// Both `/ws` endpoints. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Wds5Socket {
    plain: SockJsServer,
    sockjs: SockJsServer,
}

impl Wds5Socket {
    /// The endpoints, built from `options(prefix)` (the settings every
    /// live-reload endpoint shares), their sessions joining `hub`.
    pub(crate) fn new(hub: &Hub, options: impl Fn(&str) -> Options) -> Wds5Socket {
        let plain = serve(hub, options(WDS5_PATH).heartbeat_delay(WDS5_PING));
        let sockjs = serve(hub, options(WDS5_PATH));
        Wds5Socket { plain, sockjs }
    }

    /// Answer a request for `route`.
    pub(crate) async fn handle(
        &self,
        route: Wds5Route,
        req: Request<Incoming>,
    ) -> Response<ResponseBody> {
        match route {
            Wds5Route::SockJs => self.sockjs.handle(req).await,
            Wds5Route::Plain => {
                let (mut parts, body) = req.into_parts();
                parts.uri = raw_websocket_uri(&parts.uri);
                self.plain.handle(Request::from_parts(parts, body)).await
            }
        }
    }

    /// Refuse new sessions from now on.
    pub(crate) fn shut_down(&self) {
        self.plain.shut_down();
        self.sockjs.shut_down();
    }

    /// Sessions alive on either endpoint.
    pub(crate) fn live_sessions(&self) -> usize {
        self.plain.live_sessions() + self.sockjs.live_sessions()
    }
}

/// A SockJS server with `options` whose connections join `hub` as wds 5 clients.
fn serve(hub: &Hub, options: Options) -> SockJsServer {
    let (server, mut connections) = SockJsServer::new(options);
    let hub = hub.clone();
    tokio::spawn(async move {
        while let Some(connection) = connections.accept().await {
            hub.join_as(connection, Dialect::Wds5);
        }
    });
    server
}

/// `/ws?q` as the SockJS module's unframed WebSocket endpoint, `/ws/websocket?q`.
fn raw_websocket_uri(uri: &Uri) -> Uri {
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    let mut parts = uri.clone().into_parts();
    // The path is a fixed ASCII string and the query was already valid.
    if let Ok(path) = PathAndQuery::try_from(format!("{WDS5_PATH}/websocket{query}")) {
        parts.path_and_query = Some(path);
    }
    Uri::from_parts(parts).unwrap_or_else(|_| uri.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_plain_and_sockjs_paths() {
        assert_eq!(route("/ws"), Some(Wds5Route::Plain));
        assert_eq!(route("/ws/"), Some(Wds5Route::SockJs));
        assert_eq!(route("/ws/info"), Some(Wds5Route::SockJs));
        assert_eq!(route("/ws/0/abc/websocket"), Some(Wds5Route::SockJs));
        assert_eq!(route("/wsx"), None);
        assert_eq!(route("/w"), None);
        assert_eq!(route("/sockjs-node"), None);
    }

    #[test]
    fn plain_socket_maps_to_the_unframed_endpoint_keeping_the_query() {
        let uri: Uri = "/ws?x=1".parse().expect("uri");
        assert_eq!(raw_websocket_uri(&uri), "/ws/websocket?x=1");
        let uri: Uri = "/ws".parse().expect("uri");
        assert_eq!(raw_websocket_uri(&uri), "/ws/websocket");
    }
}
