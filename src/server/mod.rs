//! The running dev server's lifecycle: build the parts from a validated
//! [`Config`], bind, accept, serve each connection, shut down.
//!
//! A request's path: `listen` (accept) → `connection` (TLS, HTTP/1.1 or
//! HTTP/2, upgrades) → [`crate::router::Router`]. A file change's path: the watcher →
//! [`crate::reload::Reload`] → the hub → every session.

mod connection;
mod listen;
mod sniff;

use crate::client_assets::{self, ClientScript, ClientSettings};
use crate::compress::Compressor;
use crate::config::{Config, CLIENT_PATH, SOCKJS_PREFIX};
use crate::editor::Editor;
use crate::event::Event;
use crate::guard::GuardPolicy;
use crate::handle::Handle;
use crate::hub::{Hub, CLOSE_SHUTDOWN};
use crate::proxy::Proxy;
use crate::reload::Reload;
use crate::response_headers::CommonHeaders;
use crate::router::{Fallback, Router};
use crate::sockjs::{Options as SockJsOptions, SockJsServer};
use crate::static_files::{StaticFiles, StaticOptions};
use crate::tls::Tls;
use crate::watch::filter::IgnoreMatcher;
use crate::watch::{ChangeSet, WatchOptions, Watcher};
use crate::wds5_socket::Wds5Socket;
use crate::Error;
use connection::Shared;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

/// Largest message a browser may send on the live-reload endpoint.
const MAX_CLIENT_MESSAGE: usize = 16 * 1024;
/// Most live-reload sessions at once.
const MAX_SESSIONS: usize = 20_000;

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
    wds5: Wds5Socket,
    events: broadcast::Sender<Event>,
    changes: broadcast::Sender<ChangeSet>,
    stop: watch::Sender<bool>,
    accept_tasks: Vec<JoinHandle<()>>,
    watcher: Option<Watcher>,
    certificate: Option<(PathBuf, bool)>,
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
        let tls = config.tls.as_ref().map(Tls::new).transpose()?;
        let bound = listen::bind(config.addr, config.strict_port).await?;
        let requested_port = bound.moved_from;
        let addr = bound
            .listeners
            .first()
            .map(TcpListener::local_addr)
            .transpose()
            .map_err(|source| Error::Bind {
                addr: config.addr,
                source,
            })?
            .ok_or(Error::AddressInUse(config.addr))?;
        let (sockjs, hub) = live_reload_endpoint(&config);
        let wds5 = Wds5Socket::new(&hub, |prefix| socket_options(prefix, &config));
        // Roomy enough for a burst of request-log events between two prints.
        let (events, _) = broadcast::channel(1024);
        let (changes, _) = broadcast::channel(64);
        let reload = Reload {
            hub: hub.clone(),
            static_files: static_files.clone(),
            events: events.clone(),
            subscribers: changes.clone(),
            announce: config.reload_on_change,
            served: std::path::absolute(&config.root).unwrap_or_else(|_| config.root.clone()),
        };
        let watcher = start_watching(&config, reload)?;
        let (editor, client) = page_tools(&config, &root);
        let endpoints = Endpoints {
            static_files,
            sockjs: sockjs.clone(),
            wds5: wds5.clone(),
            fallback,
            editor,
            client,
        };
        let router = Arc::new(router(&config, endpoints, &events));
        let certificate = tls.as_ref().map(|t| (t.cert_path.clone(), t.generated));
        let shared = Arc::new(Shared { router, tls });
        let (stop, stopped) = watch::channel(false);
        let accept_tasks = listen::spawn_accept_loops(bound, &shared, &stopped);
        let _ = events.send(Event::Listening {
            addr,
            requested_port,
        });
        Ok(Server {
            addr,
            hub,
            sockjs,
            wds5,
            events,
            changes,
            stop,
            accept_tasks,
            watcher,
            certificate,
        })
    }

    /// The certificate file in use when serving HTTPS (generated or the
    /// user's own), so users can be told what to trust.
    pub fn certificate(&self) -> Option<&Path> {
        self.certificate.as_ref().map(|(path, _)| path.as_path())
    }

    /// Whether this start generated the certificate (rather than reusing one).
    pub fn certificate_is_new(&self) -> bool {
        self.certificate.as_ref().is_some_and(|(_, new)| *new)
    }

    /// `https` when serving TLS, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.certificate.is_some() {
            "https"
        } else {
            "http"
        }
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
        self.wds5.shut_down();
        self.hub.close_all(CLOSE_SHUTDOWN, "Server shutting down");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
        let live = || self.sockjs.live_sessions() + self.wds5.live_sessions();
        while live() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        for task in self.accept_tasks {
            let _ = task.await;
        }
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
    options.vary_encoding = config.serve.compress;
    options.headers = CommonHeaders::new(&config.serve.headers)
        .get(config.security.cors)
        .to_vec();
    options
}

/// The open-in-editor endpoint (files under the served and watched folders) and the client
/// script that knows its token.
fn page_tools(config: &Config, root: &Path) -> (Editor, ClientScript) {
    let mut roots = vec![root.to_path_buf()];
    roots.extend(config.watch.extra_paths.iter().cloned());
    let editor = Editor::new(&roots, config.editor.as_deref());
    let client = ClientScript::new(&ClientSettings {
        token: editor.token().to_string(),
        runtime_errors: config.client.runtime_errors && config.client.overlay.is_some(),
    });
    (editor, client)
}

/// The live-reload endpoint and the hub its sessions join.
fn live_reload_endpoint(config: &Config) -> (SockJsServer, Hub) {
    let hub = Hub::new(&config.client);
    let (sockjs, mut connections) = SockJsServer::new(socket_options(SOCKJS_PREFIX, config));
    let joining = hub.clone();
    tokio::spawn(async move {
        while let Some(connection) = connections.accept().await {
            joining.join(connection);
        }
    });
    (sockjs, hub)
}

/// The settings every live-reload endpoint shares, under `prefix`.
fn socket_options(prefix: &str, config: &Config) -> SockJsOptions {
    SockJsOptions::new(prefix)
        .hardened()
        .websocket(config.client.websocket)
        .heartbeat_delay(config.client.heartbeat)
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_sessions(MAX_SESSIONS)
}

/// Start the watcher (unless watching is off) with `reload` following it;
/// the static cache is switched on only while native events vouch for it.
fn start_watching(config: &Config, reload: Reload) -> Result<Option<Watcher>, Error> {
    if !config.watch.enabled {
        return Ok(None);
    }
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
        // Validated with the config: the patterns parse.
        if let Ok(ignore) = IgnoreMatcher::new(&config.watch.ignore) {
            reload.static_files.enable_cache(ignore);
        }
    }
    tokio::spawn(reload.follow(changes));
    Ok(Some(watcher))
}

/// What the router serves besides what `config` says.
struct Endpoints {
    static_files: StaticFiles,
    sockjs: SockJsServer,
    wds5: Wds5Socket,
    fallback: Option<Fallback>,
    editor: Editor,
    client: ClientScript,
}

/// The router for `config`'s routes.
fn router(config: &Config, parts: Endpoints, events: &broadcast::Sender<Event>) -> Router {
    Router {
        static_files: parts.static_files,
        sockjs: parts.sockjs,
        wds5: parts.wds5,
        policy: guard_policy(config),
        common: CommonHeaders::new(&config.serve.headers),
        cors: config.security.cors,
        fallback: parts.fallback,
        proxy: Proxy::new(&config.proxy, events.clone()),
        compress: config.serve.compress.then(Compressor::new),
        scheme: if config.tls.is_some() {
            "https"
        } else {
            "http"
        },
        events: events.clone(),
        refused_hosts: Default::default(),
        log_requests: config.log_requests,
        editor: parts.editor,
        client: parts.client,
    }
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
