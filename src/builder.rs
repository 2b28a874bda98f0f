//! [`ServerBuilder`]: a readable way to configure and start a dev server.

use crate::body::ResponseBody;
use crate::config::Config;
use crate::protocol::Overlay;
use crate::router::Fallback;
use crate::server::Server;
use crate::Error;
use http::{HeaderName, HeaderValue, Request, Response};
use hyper::body::Incoming;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Builds a [`Server`]. Every setting starts at the [`Config`] default.
///
/// ```no_run
/// # async fn run() -> Result<(), devserve::Error> {
/// use devserve::{Overlay, Server};
/// let server = Server::builder()
///     .root("dist")
///     .bind("127.0.0.1:0".parse().unwrap())
///     .live_reload(true)
///     .overlay(Overlay { errors: true, warnings: true })
///     .start()
///     .await?;
/// let handle = server.handle();
/// handle.invalid();
/// handle.ok("a1b2c3");
/// server.shutdown().await;
/// # Ok(()) }
/// ```
#[must_use]
#[derive(Default)]
pub struct ServerBuilder {
    config: Config,
    fallback: Option<Fallback>,
}

impl std::fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("config", &self.config)
            .field("fallback", &self.fallback.is_some())
            .finish()
    }
}

impl Server {
    /// A builder for a server.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::new()
    }
}

impl ServerBuilder {
    /// A builder with every default.
    pub fn new() -> Self {
        Self::default()
    }

    /// Start from an existing configuration.
    pub fn from_config(config: Config) -> Self {
        ServerBuilder {
            config,
            fallback: None,
        }
    }

    /// The folder to serve. Default `.`.
    pub fn root(mut self, root: impl Into<PathBuf>) -> Self {
        self.config.root = root.into();
        self
    }

    /// Address to listen on. Default `127.0.0.1:8080`; port 0 picks a free one.
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.config.addr = addr;
        self
    }

    /// Fail when the port is taken instead of trying the next ones. Default false.
    pub fn strict_port(mut self, strict: bool) -> Self {
        self.config.strict_port = strict;
        self
    }

    /// Reload pages after a build. Default true.
    pub fn live_reload(mut self, on: bool) -> Self {
        self.config.client.live_reload = on;
        self
    }

    /// Tell clients the page updates itself (hot mode). Default false.
    pub fn hot(mut self, on: bool) -> Self {
        self.config.client.hot = on;
        self
    }

    /// What the in-page overlay shows. Default errors only.
    pub fn overlay(mut self, overlay: Overlay) -> Self {
        self.config.client.overlay = Some(overlay);
        self
    }

    /// Turn the in-page overlay off.
    pub fn no_overlay(mut self) -> Self {
        self.config.client.overlay = None;
        self
    }

    /// Show build progress in pages. Default false.
    pub fn progress(mut self, on: bool) -> Self {
        self.config.client.progress = on;
        self
    }

    /// Watch the served folder (and extra paths). Default true.
    pub fn watch(mut self, on: bool) -> Self {
        self.config.watch.enabled = on;
        self
    }

    /// Also watch `path`.
    pub fn watch_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.watch.extra_paths.push(path.into());
        self
    }

    /// Ignore changes matching the glob `pattern`.
    pub fn ignore(mut self, pattern: impl Into<String>) -> Self {
        self.config.watch.ignore.push(pattern.into());
        self
    }

    /// Poll for changes at `interval` instead of using native events.
    pub fn poll(mut self, interval: Duration) -> Self {
        self.config.watch.poll = Some(interval);
        self
    }

    /// Announce change sets to browsers by itself (`invalid`, `content-changed`,
    /// `hash`, `ok`). Default true. Build tools that rebuild on change turn this
    /// off, follow [`Server::changes`], and report through [`Server::handle`].
    pub fn reload_on_change(mut self, on: bool) -> Self {
        self.config.reload_on_change = on;
        self
    }

    /// Serve `/index.html` for missing extension-less paths. Default false.
    pub fn spa(mut self, on: bool) -> Self {
        self.config.serve.spa = on;
        self
    }

    /// Add a header to every response.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.config.serve.headers.push((name, value));
        self
    }

    /// Accept this Host name besides localhost and IP literals.
    pub fn allowed_host(mut self, host: impl Into<String>) -> Self {
        self.config.security.allowed_hosts.push(host.into());
        self
    }

    /// Let any origin read the static files (`Access-Control-Allow-Origin: *`,
    /// and CORS preflights answered). Default false.
    pub fn cors(mut self, on: bool) -> Self {
        self.config.security.cors = on;
        self
    }

    /// Serve dotfiles and dot-folders (`.env`, `.git/`). Default false: they answer 404.
    pub fn show_hidden(mut self, on: bool) -> Self {
        self.config.security.show_hidden = on;
        self
    }

    /// Serve symlinks that lead outside the served folder. Default false.
    pub fn follow_symlinks(mut self, on: bool) -> Self {
        self.config.security.follow_symlinks = on;
        self
    }

    /// Console verbosity of the browser client. Default info.
    pub fn client_log_level(mut self, level: crate::config::ClientLogLevel) -> Self {
        self.config.client.log_level = level;
        self
    }

    /// Compress text responses (brotli or gzip). Default true.
    pub fn compress(mut self, on: bool) -> Self {
        self.config.serve.compress = on;
        self
    }

    /// Inject the client into HTML pages. Default true.
    pub fn inject(mut self, on: bool) -> Self {
        self.config.serve.inject = on;
        self
    }

    /// Offer WebSocket on the live-reload endpoint. Default true.
    pub fn websocket(mut self, on: bool) -> Self {
        self.config.client.websocket = on;
        self
    }

    /// Heartbeat interval of the live-reload endpoint. Default 25 s.
    pub fn heartbeat(mut self, interval: Duration) -> Self {
        self.config.client.heartbeat = interval;
        self
    }

    /// Forward requests under the rule's prefix to its backend (the longest
    /// covering prefix wins). Default none.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = devserve::Server::builder()
    ///     .root("dist")
    ///     .proxy("/api=http://127.0.0.1:3000".parse()?)
    ///     .start()
    ///     .await?;
    /// # server.shutdown().await; Ok(()) }
    /// ```
    pub fn proxy(mut self, rule: crate::config::ProxyRule) -> Self {
        self.config.proxy.rules.push(rule);
        self
    }

    /// Time a backend gets to connect and send its response head. Default 30 s.
    pub fn proxy_timeout(mut self, timeout: Duration) -> Self {
        self.config.proxy.timeout = timeout;
        self
    }

    /// Your own handler for every request the static files would answer
    /// with 404 (an API, a proxy, generated pages…).
    pub fn fallback<F, Fut>(mut self, handler: F) -> Self
    where
        F: Fn(Request<Incoming>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Response<ResponseBody>> + Send + 'static,
    {
        self.fallback = Some(Arc::new(move |req| Box::pin(handler(req))));
        self
    }

    /// The configuration built so far.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Validate the configuration and start the server.
    pub async fn start(self) -> Result<Server, Error> {
        Server::start_with(self.config, self.fallback).await
    }
}
