//! One SockJS server: its sessions, the connections it hands out, and the
//! request dispatch under its prefix.

use super::body::{self, Body};
use super::options::{LogLevel, Options};
use super::pages;
use super::route::{route, Route, TransportKind};
use super::session::{safe_headers, Connection, ConnectionInfo, Session};
use super::transport;
use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use std::collections::HashMap;
use std::error::Error as StdError;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// State shared by a server's handlers and sessions.
pub(crate) struct Shared {
    pub(crate) options: Options,
    sessions: Mutex<HashMap<String, Arc<Session>>>,
    pub(crate) live: AtomicUsize,
    shutting_down: AtomicBool,
    accept_tx: mpsc::UnboundedSender<Connection>,
}

impl Shared {
    /// Hand a newly opened connection to the application.
    pub(crate) fn accept(&self, connection: Connection) {
        if let Err(unwanted) = self.accept_tx.send(connection) {
            self.log(
                LogLevel::Debug,
                "connection opened while nobody accepts connections; closing it",
            );
            unwanted
                .0
                .close(1011, "Server is not accepting connections");
        }
    }

    /// Remove session `id` from the registry, if it is still `session`.
    pub(crate) fn forget(&self, id: &str, session: &Session) {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        if sessions
            .get(id)
            .is_some_and(|s| std::ptr::eq(Arc::as_ptr(s), session))
        {
            sessions.remove(id);
        }
    }

    /// The registered session `id`.
    pub(crate) fn session(&self, id: &str) -> Option<Arc<Session>> {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    /// Whether another session may be opened; the refusal to send when not.
    pub(crate) fn admit(&self) -> Result<(), Refusal> {
        if self.shutting_down.load(Ordering::SeqCst) {
            return Err(Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Server is shutting down.",
            ));
        }
        if self.live.load(Ordering::SeqCst) >= self.options.max_sessions {
            return Err(Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Too many sessions.",
            ));
        }
        Ok(())
    }

    /// The registered session `id`, created when there is none. A new
    /// session comes with the receiver of its application inbox.
    pub(crate) fn session_or_create(
        self: &Arc<Self>,
        id: &str,
        info: impl FnOnce() -> ConnectionInfo,
    ) -> Result<(Arc<Session>, Option<mpsc::Receiver<String>>), Refusal> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(session) = sessions.get(id) {
            return Ok((session.clone(), None));
        }
        self.admit()?;
        let (session, inbox) = Session::new(self.clone(), info(), true);
        sessions.insert(id.to_string(), session.clone());
        Ok((session, Some(inbox)))
    }

    /// Emit a log line through the configured logger.
    pub(crate) fn log(&self, level: LogLevel, message: &str) {
        (self.options.log)(level, message)
    }
}

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
    shared: Arc<Shared>,
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
        let shared = Arc::new(Shared {
            options,
            sessions: Mutex::new(HashMap::new()),
            live: AtomicUsize::new(0),
            shutting_down: AtomicBool::new(false),
            accept_tx,
        });
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
        self.shared.live.load(Ordering::SeqCst)
    }

    /// Stop opening sessions: from now on new ones are refused with 503.
    /// Existing sessions carry on until the application closes them.
    pub fn shut_down(&self) {
        self.shared.shutting_down.store(true, Ordering::SeqCst);
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
    /// as [`ConnectionInfo::remote_addr`].
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
            Route::Session { session, kind } if kind_enabled(kind, transports) => {
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
        if method == Method::OPTIONS && kind.allow().starts_with("OPTIONS") {
            return pages::preflight(&req.into_parts().0, &shared.options, "OPTIONS, POST");
        }
        let expected = match kind {
            TransportKind::Websocket
            | TransportKind::EventSource
            | TransportKind::HtmlFile
            | TransportKind::Jsonp => Method::GET,
            _ => Method::POST,
        };
        if method != expected {
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

fn kind_enabled(kind: TransportKind, t: super::options::Transports) -> bool {
    match kind {
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

/// Details of the request that creates a session.
pub(crate) fn connection_info(
    parts: &http::request::Parts,
    prefix: &str,
    session_id: Option<&str>,
    protocol: &'static str,
) -> ConnectionInfo {
    connection_info_of(
        &parts.uri,
        &parts.headers,
        &parts.extensions,
        prefix,
        session_id,
        protocol,
    )
}

/// [`connection_info`] from the pieces of a request.
pub(crate) fn connection_info_of(
    uri: &http::Uri,
    headers: &http::HeaderMap,
    extensions: &http::Extensions,
    prefix: &str,
    session_id: Option<&str>,
    protocol: &'static str,
) -> ConnectionInfo {
    ConnectionInfo {
        session_id: session_id.map(str::to_string),
        remote_addr: extensions.get::<SocketAddr>().copied(),
        headers: safe_headers(headers),
        url: uri
            .path_and_query()
            .map_or_else(|| uri.path().to_string(), |pq| pq.as_str().to_string()),
        pathname: uri.path().to_string(),
        prefix: prefix.to_string(),
        protocol,
    }
}

/// `text/plain` response with `status`.
pub(crate) fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut response = Response::new(body::full(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=UTF-8"),
    );
    response
}

/// A refused request: its status and the protocol's text for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) message: &'static str,
}

impl Refusal {
    /// A refusal with `status` and `message`.
    pub(crate) const fn new(status: StatusCode, message: &'static str) -> Self {
        Refusal { status, message }
    }

    /// The `text/plain` response.
    pub(crate) fn into_response(self) -> Response<Body> {
        plain(self.status, self.message)
    }
}

/// 404 for paths nothing answers.
pub(crate) fn not_found() -> Response<Body> {
    plain(StatusCode::NOT_FOUND, "Not found.\n")
}

/// 405 with `Allow`, no body and no content type.
pub(crate) fn method_not_allowed(allow: &'static str) -> Response<Body> {
    let mut response = Response::new(body::empty());
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

/// Several SockJS servers (different prefixes) in front of an application's
/// own handler: requests under a prefix go to its server, everything else
/// to `fallback`.
///
/// ```no_run
/// use devserve::sockjs::{Body, Mount, Options, SockJsServer};
/// use http::{Request, Response};
/// # async fn run() {
/// let (echo, _connections) = SockJsServer::new(Options::new("/echo"));
/// let mount = Mount::new(vec![echo], |_req: Request<hyper::body::Incoming>| async {
///     Response::builder().status(404).body(devserve::sockjs::empty_body())
/// });
/// // `mount.serve(req).await` answers each request.
/// # let _ = mount;
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Mount<F> {
    servers: Vec<SockJsServer>,
    fallback: F,
}

impl<F> Mount<F> {
    /// Mount `servers` in front of `fallback`.
    pub fn new(servers: Vec<SockJsServer>, fallback: F) -> Self {
        Mount { servers, fallback }
    }

    /// The mounted servers.
    pub fn servers(&self) -> &[SockJsServer] {
        &self.servers
    }

    /// Answer one request.
    pub async fn serve<B, Fut, E>(&self, req: Request<B>) -> Result<Response<Body>, E>
    where
        F: Fn(Request<B>) -> Fut,
        Fut: std::future::Future<Output = Result<Response<Body>, E>>,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn StdError + Send + Sync>>,
    {
        let path = req.uri().path();
        match self.servers.iter().find(|s| s.matches(path)) {
            Some(server) => Ok(server.handle(req).await),
            None => (self.fallback)(req).await,
        }
    }
}
