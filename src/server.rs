//! The running dev server's lifecycle: build the parts from a validated
//! [`Config`], bind, accept, serve each connection, shut down.
//!
//! A request's path: [`accept_loop`] → `serve_connection` (HTTP/1.1, upgrades)
//! → [`crate::router::Router`]. A file change's path: the watcher →
//! [`crate::reload::Reload`] → the hub → every session.

use crate::client_assets;
use crate::config::{Config, CLIENT_PATH, SOCKJS_PREFIX};
use crate::event::Event;
use crate::guard::GuardPolicy;
use crate::handle::Handle;
use crate::hub::{Hub, CLOSE_SHUTDOWN};
use crate::proxy::Proxy;
use crate::reload::Reload;
use crate::router::{Fallback, Router};
use crate::sockjs::{Options as SockJsOptions, SockJsServer};
use crate::static_files::{StaticFiles, StaticOptions};
use crate::watch::filter::IgnoreMatcher;
use crate::watch::{ChangeSet, WatchOptions, Watcher};
use crate::Error;
use http::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, watch};
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
/// First pause after a failed accept (out of descriptors and the like); it
/// doubles while accepting keeps failing.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(1);
/// Longest pause between accept attempts.
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

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

impl Server {
    /// Start serving with `config`.
    pub async fn start(config: Config) -> Result<Server, Error> {
        Server::start_with(config, None).await
    }

    /// Start serving with `config` and an optional fallback handler.
    pub(crate) async fn start_with(
        config: Config,
        fallback: Option<Fallback>,
    ) -> Result<Server, Error> {
        config.validate()?;
        let root = check_root(&config.root)?;
        let static_files =
            StaticFiles::new(static_options(&config, &root)).map_err(|source| Error::Io {
                context: format!("cannot serve {}", root.display()),
                source,
            })?;
        let (listener, requested_port) = bind(config.addr, config.strict_port).await?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: config.addr,
            source,
        })?;
        let (sockjs, hub) = live_reload_endpoint(&config);
        let (events, _) = broadcast::channel(64);
        let (changes, _) = broadcast::channel(64);
        let reload = Reload {
            hub: hub.clone(),
            static_files: static_files.clone(),
            events: events.clone(),
            subscribers: changes.clone(),
            announce: config.reload_on_change,
        };
        let watcher = start_watching(&config, &root, reload)?;
        let router = Arc::new(Router {
            static_files,
            sockjs: sockjs.clone(),
            policy: guard_policy(&config),
            headers: config.serve.headers.clone(),
            cors: config.security.cors,
            fallback,
            proxy: Proxy::new(&config.proxy, events.clone()),
        });
        let (stop, stopped) = watch::channel(false);
        let accept_task = tokio::spawn(accept_loop(listener, router, stopped));
        let _ = events.send(Event::Listening {
            addr,
            requested_port,
        });
        Ok(Server {
            addr,
            hub,
            sockjs,
            events,
            changes,
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

/// How the static files are served, from `config`.
fn static_options(config: &Config, root: &Path) -> StaticOptions {
    let mut options = StaticOptions::new(root);
    options.spa = config.serve.spa;
    options.show_hidden = config.security.show_hidden;
    options.follow_symlinks = config.security.follow_symlinks;
    options.inject = config
        .serve
        .inject
        .then(|| format!("<script src=\"{CLIENT_PATH}\"></script>"));
    options.injection_version = client_assets::version().to_string();
    options
}

/// The live-reload endpoint and the hub its sessions join.
fn live_reload_endpoint(config: &Config) -> (SockJsServer, Hub) {
    let hub = Hub::new(&config.client);
    let (sockjs, mut connections) = SockJsServer::new(
        SockJsOptions::new(SOCKJS_PREFIX)
            .hardened()
            .websocket(config.client.websocket)
            .heartbeat_delay(config.client.heartbeat)
            .max_message_size(MAX_CLIENT_MESSAGE)
            .max_sessions(MAX_SESSIONS),
    );
    let joining = hub.clone();
    tokio::spawn(async move {
        while let Some(connection) = connections.accept().await {
            joining.join(connection);
        }
    });
    (sockjs, hub)
}

/// Start the watcher (unless watching is off) with `reload` following it;
/// the static cache is switched on only while native events vouch for it.
fn start_watching(config: &Config, root: &Path, reload: Reload) -> Result<Option<Watcher>, Error> {
    if !config.watch.enabled {
        return Ok(None);
    }
    let mut paths = vec![root.to_path_buf()];
    paths.extend(config.watch.extra_paths.iter().cloned());
    let mut options = WatchOptions::new(paths);
    options.ignore = config.watch.ignore.clone();
    options.poll = config.watch.poll;
    options.quiet = config.watch.debounce;
    options.max_delay = config.watch.max_delay;
    let (watcher, changes) = Watcher::start(options)?;
    if !watcher.is_polling() {
        // Validated with the config: the patterns parse.
        if let Ok(ignore) = IgnoreMatcher::new(&config.watch.ignore) {
            reload.static_files.enable_cache(ignore);
        }
    }
    tokio::spawn(reload.follow(changes));
    Ok(Some(watcher))
}

/// Which hosts and origins the gates let through.
fn guard_policy(config: &Config) -> GuardPolicy {
    let mut allowed_hosts = config.security.allowed_hosts.clone();
    let ip = config.addr.ip();
    if !ip.is_unspecified() && !ip.is_loopback() {
        allowed_hosts.push(ip.to_string());
    }
    GuardPolicy {
        allowed_hosts,
        bound_host: None,
        allowed_origins: Vec::new(),
    }
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

/// Accept connections until the server stops. A failing accept (out of
/// file descriptors, most often) pauses with a growing delay and is logged
/// once per episode; serving resumes as soon as accepting works again.
async fn accept_loop(
    listener: TcpListener,
    router: Arc<Router>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut backoff: Option<Duration> = None;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopped.changed() => return,
        };
        let (tcp, remote) = match accepted {
            Ok(pair) => pair,
            Err(error) => {
                let pause = next_backoff(backoff);
                if backoff.is_none() {
                    tracing::warn!("accepting connections failed: {error}; retrying");
                }
                backoff = Some(pause);
                tokio::time::sleep(pause).await;
                continue;
            }
        };
        if backoff.take().is_some() {
            tracing::info!("accepting connections again");
        }
        let _ = tcp.set_nodelay(true);
        tokio::spawn(serve_connection(
            tcp,
            remote,
            router.clone(),
            stopped.clone(),
        ));
    }
}

/// The pause after another failed accept: doubling from the minimum, capped.
fn next_backoff(previous: Option<Duration>) -> Duration {
    previous.map_or(ACCEPT_BACKOFF_MIN, |p| (p * 2).min(ACCEPT_BACKOFF_MAX))
}

/// Serve one TCP connection until it ends or the server stops; on stop,
/// in-flight responses get a moment to finish, then the connection closes.
async fn serve_connection(
    tcp: TcpStream,
    remote: SocketAddr,
    router: Arc<Router>,
    mut stopped: watch::Receiver<bool>,
) {
    let service = service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(remote);
        let router = router.clone();
        async move { Ok::<_, Infallible>(router.handle(req).await) }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_backoff_doubles_up_to_its_cap() {
        let mut pause = None;
        let mut seen = Vec::new();
        for _ in 0..14 {
            let next = next_backoff(pause);
            seen.push(next);
            pause = Some(next);
        }
        assert_eq!(seen[0], ACCEPT_BACKOFF_MIN);
        assert_eq!(seen[1], ACCEPT_BACKOFF_MIN * 2);
        assert!(seen.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(*seen.last().expect("pauses"), ACCEPT_BACKOFF_MAX);
    }
}
