//! The dispatcher of one SockJS server: the request under its prefix goes
//! to the endpoint its path and method name.

use super::body::Body;
use super::options::{LogLevel, Options};
use super::pages;
use super::registry::Registry;
use super::response::{method_not_allowed, not_found, plain};
use super::route::{route, Route, TransportKind};
use super::session::Connection;
use super::transport;
use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use std::error::Error as StdError;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// Connections a [`SockJsServer`] opens, in order. Dropping this makes the
/// server close new connections at once.
#[derive(Debug)]
pub struct Connections {
    rx: mpsc::UnboundedReceiver<Connection>,
}

impl Connections {
    /// The next newly opened connection; `None` once every handle to the
    /// server is gone.
    pub async fn accept(&mut self) -> Option<Connection> {
        self.rx.recv().await
    }
}

impl futures_util::Stream for Connections {
    type Item = Connection;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Connection>> {
        self.rx.poll_recv(cx)
    }
}

/// A SockJS server answering under one prefix. Cheap to clone.
///
/// ```no_run
/// use devserve::sockjs::{Options, SockJsServer};
/// # async fn run() {
/// let (echo, mut connections) = SockJsServer::new(Options::new("/echo"));
/// tokio::spawn(async move {
///     while let Some(mut conn) = connections.accept().await {
///         tokio::spawn(async move {
///             while let Some(message) = conn.recv().await {
///                 let _ = conn.write(&message);
///             }
///         });
///     }
/// });
/// // Route requests whose path `echo.matches(..)` to `echo.handle(req).await`.
/// # let _ = echo;
/// # }
/// ```
#[derive(Clone)]
pub struct SockJsServer {
    shared: Arc<Registry>,
}

impl std::fmt::Debug for SockJsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SockJsServer")
            .field("prefix", &self.shared.options.prefix)
            .field("live_sessions", &self.live_sessions())
            .finish()
    }
}

impl SockJsServer {
    /// A server with `options`, and the stream of connections it will open.
    pub fn new(options: Options) -> (SockJsServer, Connections) {
        let (accept_tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Registry::new(options, accept_tx));
        (SockJsServer { shared }, Connections { rx })
    }

    /// The prefix this server answers under.
    pub fn prefix(&self) -> &str {
        &self.shared.options.prefix
    }

    /// The server's settings.
    pub fn options(&self) -> &Options {
        &self.shared.options
    }

    /// Sessions currently alive (open, or closed but not yet forgotten).
    pub fn live_sessions(&self) -> usize {
        self.shared.live()
    }

    /// Stop opening sessions: from now on new ones are refused with 503.
    /// Existing sessions carry on until the application closes them.
    pub fn shut_down(&self) {
        self.shared.shut_down();
    }

    /// Whether `path` is this server's to answer.
    pub fn matches(&self, path: &str) -> bool {
        self.rest_of(path).is_some()
    }

    fn rest_of<'a>(&self, path: &'a str) -> Option<&'a str> {
        let rest = path.strip_prefix(self.prefix())?;
        (rest.is_empty() || rest.starts_with('/')).then_some(rest)
    }

    /// Answer a request under this server's prefix (404 for anything else).
    ///
    /// WebSocket upgrades need the connection to be served with upgrades
    /// enabled (`hyper::server::conn::http1::Builder::serve_connection(..).with_upgrades()`).
    /// Put the peer's `SocketAddr` into the request extensions to expose it
    /// as [`ConnectionInfo::remote_addr`](super::ConnectionInfo::remote_addr).
    pub async fn handle<B>(&self, req: Request<B>) -> Response<Body>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn StdError + Send + Sync>>,
    {
        let shared = &self.shared;
        let path = req.uri().path().to_string();
        let Some(rest) = self.rest_of(&path) else {
            return not_found();
        };
        let origin = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok());
        if !shared.options.origins.allows(origin) {
            shared.log(
                LogLevel::Info,
                &format!("refused origin {origin:?} on {path}"),
            );
            return plain(StatusCode::FORBIDDEN, "Origin not allowed.");
        }
        let transports = shared.options.transports;
        let method = req.method().clone();
        match route(rest) {
            Route::Greeting => match method {
                Method::GET => pages::greeting(),
                _ => method_not_allowed("GET"),
            },
            Route::Info => match method {
                Method::GET => pages::info(&req.into_parts().0, &shared.options),
                Method::OPTIONS => {
                    pages::preflight(&req.into_parts().0, &shared.options, "OPTIONS, GET")
                }
                _ => method_not_allowed("OPTIONS, GET"),
            },
            Route::Iframe if transports.iframe => match method {
                Method::GET => pages::iframe(&req.into_parts().0, &shared.options),
                _ => method_not_allowed("GET"),
            },
            Route::RawWebsocket if transports.websocket => match method {
                Method::GET => transport::websocket::upgrade(shared.clone(), req, None),
                _ => method_not_allowed("GET"),
            },
            Route::Session { session, kind } if kind.enabled(transports) => {
                let session = session.to_string();
                self.handle_session(req, session, kind).await
            }
            _ => not_found(),
        }
    }

    async fn handle_session<B>(
        &self,
        req: Request<B>,
        session: String,
        kind: TransportKind,
    ) -> Response<Body>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn StdError + Send + Sync>>,
    {
        let shared = &self.shared;
        let method = req.method().clone();
        if method == Method::OPTIONS && kind.preflight() {
            return pages::preflight(&req.into_parts().0, &shared.options, "OPTIONS, POST");
        }
        if method != kind.method() {
            return method_not_allowed(kind.allow());
        }
        match kind {
            TransportKind::Websocket => {
                transport::websocket::upgrade(shared.clone(), req, Some(session))
            }
            TransportKind::Xhr => transport::xhr::polling(shared, req.into_parts().0, &session),
            TransportKind::XhrStreaming => {
                transport::xhr::streaming(shared, req.into_parts().0, &session)
            }
            TransportKind::XhrSend => transport::xhr::send(shared, req, &session).await,
            TransportKind::EventSource => {
                transport::eventsource::receive(shared, req.into_parts().0, &session)
            }
            TransportKind::HtmlFile => {
                transport::htmlfile::receive(shared, req.into_parts().0, &session)
            }
            TransportKind::Jsonp => transport::jsonp::receive(shared, req.into_parts().0, &session),
            TransportKind::JsonpSend => transport::jsonp::send(shared, req, &session).await,
        }
    }
}
