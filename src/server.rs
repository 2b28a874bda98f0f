//! The running dev server: listener, request routing, and the glue from the
//! watcher to the hub.

use crate::body::ResponseBody;
use crate::builder::ServerBuilder;
use crate::client_assets;
use crate::config::{Config, CLIENT_PATH, SOCKJS_PREFIX};
use crate::event::Event;
use crate::guard::{self, GuardPolicy};
use crate::handle::Handle;
use crate::hub::{ClientSettings, Hub, CLOSE_SHUTDOWN};
use crate::protocol::Message;
use crate::sockjs::{Options as SockJsOptions, SockJsServer};
use crate::static_files::{StaticFiles, StaticOptions};
use crate::watch::{ChangeSet, WatchOptions, Watcher};
use crate::Error;
use http::{header, HeaderName, HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;

/// Ports tried after the requested one is found taken.
const PORT_ATTEMPTS: u16 = 20;
/// Time a client gets to send its request headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest message a browser may send on the live-reload endpoint.
const MAX_CLIENT_MESSAGE: usize = 16 * 1024;
/// Most live-reload sessions at once.
const MAX_SESSIONS: usize = 20_000;
/// How long open connections get to finish when the server stops.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);
/// Change sets with more URL paths than this go out without `content-changed` paths.
const MAX_CHANGED_PATHS: usize = 100;

/// An embedder's handler for requests the static files do not answer.
pub(crate) type Fallback = Arc<
    dyn Fn(Request<Incoming>) -> Pin<Box<dyn Future<Output = Response<ResponseBody>> + Send>>
        + Send
        + Sync,
>;

/// A running dev server. Dropping it stops it less gracefully than [`Server::shutdown`].
///
/// ```no_run
/// # async fn run() -> Result<(), devserve::Error> {
/// let config = devserve::Config { root: "dist".into(), ..Default::default() };
/// let server = devserve::Server::start(config).await?;
/// println!("http://{} — {} browsers connected", server.local_addr(), server.client_count());
/// let mut events = server.events();
/// while let Ok(event) = events.recv().await {
///     println!("{event:?}");
/// }
/// server.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    hub: Hub,
    sockjs: SockJsServer,
    events: broadcast::Sender<Event>,
    changes: broadcast::Sender<ChangeSet>,
    stop: watch::Sender<bool>,
    accept_task: JoinHandle<()>,
    watcher: Option<Watcher>,
}

/// Everything a request needs.
struct App {
    static_files: StaticFiles,
    sockjs: SockJsServer,
    policy: GuardPolicy,
    headers: Vec<(HeaderName, HeaderValue)>,
    cors: bool,
    fallback: Option<Fallback>,
}

impl Server {
    /// A builder for a server.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::new()
    }

    /// Start serving with `config`.
    pub async fn start(config: Config) -> Result<Server, Error> {
        Server::start_with(config, None).await
    }

    /// Start serving with `config` and an optional fallback handler.
    pub(crate) async fn start_with(
        config: Config,
        fallback: Option<Fallback>,
    ) -> Result<Server, Error> {
        let root = check_root(&config.root)?;
        let static_files = StaticFiles::new(StaticOptions {
            root: root.clone(),
            spa: config.spa,
            show_hidden: config.show_hidden,
            follow_symlinks: config.follow_symlinks,
            listing: true,
            inject: config
                .inject
                .then(|| format!("<script src=\"{CLIENT_PATH}\"></script>")),
            injection_version: client_assets::version().to_string(),
        })
        .map_err(|source| Error::Io {
            context: format!("cannot serve {}", root.display()),
            source,
        })?;
        let (listener, requested_port) = bind(config.addr, config.strict_port).await?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: config.addr,
            source,
        })?;

        let settings = ClientSettings {
            log_level: config.client_log_level.clone(),
            live_reload: config.live_reload,
            hot: config.hot,
            progress: config.progress,
            overlay: config.overlay,
            heartbeat_ms: u64::try_from(config.heartbeat.as_millis()).unwrap_or(u64::MAX),
        };
        let hub = Hub::new(&settings);
        let (sockjs, mut connections) = SockJsServer::new(
            SockJsOptions::new(SOCKJS_PREFIX)
                .hardened()
                .websocket(config.websocket)
                .heartbeat_delay(config.heartbeat)
                .max_message_size(MAX_CLIENT_MESSAGE)
                .max_sessions(MAX_SESSIONS),
        );
        let joining = hub.clone();
        tokio::spawn(async move {
            while let Some(connection) = connections.accept().await {
                joining.join(connection);
            }
        });

        let (events, _) = broadcast::channel(64);
        let (change_sets, _) = broadcast::channel(64);
        let watcher = if config.watch.enabled {
            // As given, so the watcher can follow a symlinked root when it is re-pointed.
            let mut paths = vec![config.root.clone()];
            paths.extend(config.watch.extra_paths.iter().cloned());
            let mut options = WatchOptions::new(paths);
            options.ignore = config.watch.ignore.clone();
            options.poll = config.watch.poll;
            options.quiet = config.watch.debounce;
            options.max_delay = config.watch.max_delay;
            let (watcher, changes) = Watcher::start(options)?;
            if !watcher.is_polling() {
                if let Ok(ignore) = crate::watch::filter::IgnoreMatcher::new(&config.watch.ignore) {
                    static_files.enable_cache(ignore);
                }
            }
            tokio::spawn(follow_changes(
                changes,
                hub.clone(),
                static_files.clone(),
                events.clone(),
                change_sets.clone(),
                config.reload_on_change,
            ));
            Some(watcher)
        } else {
            None
        };

        let mut allowed_hosts = config.allowed_hosts.clone();
        if !config.addr.ip().is_unspecified() && !config.addr.ip().is_loopback() {
            allowed_hosts.push(config.addr.ip().to_string());
        }
        let app = Arc::new(App {
            static_files,
            sockjs: sockjs.clone(),
            policy: GuardPolicy {
                allowed_hosts,
                bound_host: None,
                allowed_origins: Vec::new(),
            },
            headers: config.headers.clone(),
            cors: config.cors,
            fallback,
        });
        let (stop, stopped) = watch::channel(false);
        let accept_task = tokio::spawn(accept_loop(listener, app, stopped));
        let _ = events.send(Event::Listening {
            addr,
            requested_port,
        });
        Ok(Server {
            addr,
            hub,
            sockjs,
            events,
            changes: change_sets,
            stop,
            accept_task,
            watcher,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Browsers connected to the live-reload endpoint now.
    pub fn client_count(&self) -> usize {
        self.hub.client_count()
    }

    /// A handle for reporting builds to the browsers.
    pub fn handle(&self) -> Handle {
        Handle::new(self.hub.clone())
    }

    /// Events from now on (change sets, …).
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Change sets from the watcher from now on: what a build tool rebuilds on.
    pub fn changes(&self) -> broadcast::Receiver<ChangeSet> {
        self.changes.subscribe()
    }

    /// Whether the watcher fell back to (or was asked for) polling.
    pub fn is_polling(&self) -> bool {
        self.watcher.as_ref().is_some_and(Watcher::is_polling)
    }

    /// Stop accepting connections, close every live-reload session cleanly
    /// and wait (briefly) for the close frames to go out.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        self.sockjs.shut_down();
        self.hub.close_all(CLOSE_SHUTDOWN, "Server shutting down");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
        while self.sockjs.live_sessions() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let _ = self.accept_task.await;
        drop(self.watcher);
    }
}

/// Canonical served folder, or a clear error.
fn check_root(root: &Path) -> Result<PathBuf, Error> {
    match std::fs::metadata(root) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(Error::RootNotADirectory(root.to_path_buf())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::RootNotFound(root.to_path_buf()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(Error::PermissionDenied(root.to_path_buf()))
        }
        Err(source) => {
            return Err(Error::Io {
                context: format!("cannot read {}", root.display()),
                source,
            })
        }
    }
    if let Err(e) = std::fs::read_dir(root) {
        if e.kind() == std::io::ErrorKind::PermissionDenied {
            return Err(Error::PermissionDenied(root.to_path_buf()));
        }
    }
    root.canonicalize().map_err(|source| Error::Io {
        context: format!("cannot resolve {}", root.display()),
        source,
    })
}

/// Listen on `addr`, or on one of the next ports when it is taken and
/// `strict` is off. Returns the listener and, when it moved, the port asked for.
async fn bind(addr: SocketAddr, strict: bool) -> Result<(TcpListener, Option<u16>), Error> {
    let attempts = if strict || addr.port() == 0 {
        1
    } else {
        PORT_ATTEMPTS
    };
    for offset in 0..attempts {
        let Some(port) = addr.port().checked_add(offset) else {
            break;
        };
        let candidate = SocketAddr::new(addr.ip(), port);
        match TcpListener::bind(candidate).await {
            Ok(listener) => return Ok((listener, (offset > 0).then_some(addr.port()))),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => continue,
            Err(source) => {
                return Err(Error::Bind {
                    addr: candidate,
                    source,
                })
            }
        }
    }
    Err(Error::AddressInUse(addr))
}

async fn accept_loop(listener: TcpListener, app: Arc<App>, mut stopped: watch::Receiver<bool>) {
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    // Out of file descriptors and similar: back off, keep serving.
                    tracing::warn!("accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopped.changed() => return,
        };
        let _ = tcp.set_nodelay(true);
        tokio::spawn(serve_connection(tcp, remote, app.clone(), stopped.clone()));
    }
}

/// Serve one TCP connection until it ends or the server stops; on stop,
/// in-flight responses get a moment to finish, then the connection closes.
async fn serve_connection(
    tcp: TcpStream,
    remote: SocketAddr,
    app: Arc<App>,
    mut stopped: watch::Receiver<bool>,
) {
    let service = service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(remote);
        let app = app.clone();
        async move { Ok::<_, Infallible>(app.handle(req).await) }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let connection = builder
        .serve_connection(TokioIo::new(tcp), service)
        .with_upgrades();
    tokio::pin!(connection);
    let stopping = async {
        if !*stopped.borrow_and_update() {
            let _ = stopped.changed().await;
        }
    };
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(error) = result {
                tracing::debug!("connection from {remote} ended: {error}");
            }
        }
        _ = stopping => {
            connection.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, connection).await;
        }
    }
}

impl App {
    async fn handle(&self, req: Request<Incoming>) -> Response<ResponseBody> {
        let (parts, body) = req.into_parts();
        let authority = match guard::check_host(&parts, &self.policy) {
            Ok(authority) => authority,
            Err(rejection) => {
                return self.finish(
                    rejection_response(rejection.status(), rejection.message()),
                    false,
                )
            }
        };
        if let Err(rejection) = guard::check_sec_fetch(&parts) {
            return self.finish(
                rejection_response(rejection.status(), rejection.message()),
                false,
            );
        }
        let path = parts.uri.path();
        if self.sockjs.matches(path) {
            if let Err(rejection) = guard::check_origin(&parts, &authority, &self.policy) {
                return self.finish(
                    rejection_response(rejection.status(), rejection.message()),
                    false,
                );
            }
            let response = self.sockjs.handle(Request::from_parts(parts, body)).await;
            return self.finish(response, false);
        }
        if let Some(name) = path.strip_prefix("/__devserve/") {
            if let Some(response) =
                client_assets::serve(name, parts.headers.get(header::IF_NONE_MATCH))
            {
                return self.finish(response, false);
            }
        }
        let response = self.static_files.serve(&parts).await;
        if response.status() == StatusCode::NOT_FOUND {
            if let Some(fallback) = &self.fallback {
                let response = fallback(Request::from_parts(parts, body)).await;
                return self.finish(response, false);
            }
        }
        self.finish(response, self.cors)
    }

    /// Headers every response carries.
    fn finish(&self, mut response: Response<ResponseBody>, cors: bool) -> Response<ResponseBody> {
        let headers = response.headers_mut();
        headers.insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
        if cors {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
        } else {
            headers.insert(
                "cross-origin-resource-policy",
                HeaderValue::from_static("same-origin"),
            );
        }
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
        response
    }
}

fn rejection_response(status: StatusCode, message: &str) -> Response<ResponseBody> {
    crate::util::plain_text(status, message)
}

/// Announce each change set: `invalid`, `content-changed` (URL paths), `hash`, then the build status.
async fn follow_changes(
    mut changes: mpsc::Receiver<ChangeSet>,
    hub: Hub,
    static_files: StaticFiles,
    events: broadcast::Sender<Event>,
    subscribers: broadcast::Sender<ChangeSet>,
    announce: bool,
) {
    while let Some(change) = changes.recv().await {
        // Before anyone is told: the reload they trigger must see fresh files.
        static_files.invalidate();
        let _ = subscribers.send(change.clone());
        if !announce {
            continue;
        }
        let urls: Vec<String> = change
            .paths
            .iter()
            .filter_map(|p| static_files.url_path_for(p))
            .collect();
        let mut before = vec![Message::Invalid];
        if !change.rescan && !urls.is_empty() && urls.len() <= MAX_CHANGED_PATHS {
            before.push(Message::ContentChanged(urls));
        }
        let hash = hub.next_hash();
        let clients = hub.finish_build(hash, hub.status(), &before);
        let root = static_files.root();
        let paths = change
            .paths
            .iter()
            .map(|p| p.strip_prefix(root).unwrap_or(p).display().to_string())
            .collect();
        let _ = events.send(Event::Changed { paths, clients });
    }
}
