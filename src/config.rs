//! The validated settings of a dev server. The CLI turns flags into a
//! [`Config`]; embedders build one directly or through [`crate::ServerBuilder`].

use crate::protocol::Overlay;
use http::{HeaderName, HeaderValue};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// The URL prefix of the live-reload endpoint.
pub const SOCKJS_PREFIX: &str = "/sockjs-node";

/// Where the browser client is served.
pub const CLIENT_PATH: &str = "/__devserve/client.js";

/// What the file watcher does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchConfig {
    /// Watch at all (embedders that report builds themselves may turn it off).
    pub enabled: bool,
    /// Folders watched besides the served one.
    pub extra_paths: Vec<PathBuf>,
    /// Glob patterns to ignore, besides the defaults (`.git`, `node_modules`, `target`, editor temp files).
    pub ignore: Vec<String>,
    /// Poll at this interval instead of using native events.
    pub poll: Option<Duration>,
    /// Quiet time after a single change before it is announced; it stretches
    /// with the size of a burst (up to 50 ms). Default 2 ms.
    pub debounce: Duration,
    /// Longest a continuous stream of changes is held before it is announced
    /// anyway. Default 1 s.
    pub max_delay: Duration,
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            enabled: true,
            extra_paths: Vec::new(),
            ignore: Vec::new(),
            poll: None,
            debounce: Duration::from_millis(2),
            max_delay: Duration::from_secs(1),
        }
    }
}

/// Everything a dev server needs to start.
///
/// ```
/// use devserve::{Config, Overlay};
/// let config = Config {
///     root: "dist".into(),
///     spa: true,
///     overlay: Some(Overlay { errors: true, warnings: true }),
///     ..Config::default()
/// };
/// assert_eq!(config.addr.to_string(), "127.0.0.1:8080");
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    /// The folder to serve.
    pub root: PathBuf,
    /// Address to listen on. Default `127.0.0.1:8080`.
    pub addr: SocketAddr,
    /// Fail when the port is taken instead of trying the next ones. Default false.
    pub strict_port: bool,
    /// Reload pages on change. Default true.
    pub live_reload: bool,
    /// Tell clients hot mode is on. Default false.
    pub hot: bool,
    /// Overlay settings sent to clients; `None` turns the overlay off. Default errors only.
    pub overlay: Option<Overlay>,
    /// Tell clients to show build progress. Default false.
    pub progress: bool,
    /// Console verbosity for clients. Default `info`.
    pub client_log_level: String,
    /// File watching.
    pub watch: WatchConfig,
    /// Serve `/index.html` for missing extension-less paths. Default false.
    pub spa: bool,
    /// Extra response headers.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Send permissive CORS headers on static files. Default false.
    pub cors: bool,
    /// Host names allowed besides localhost and IP literals.
    pub allowed_hosts: Vec<String>,
    /// Inject the client into HTML pages. Default true.
    pub inject: bool,
    /// Offer WebSocket on the live-reload endpoint. Default true.
    pub websocket: bool,
    /// Serve dotfiles. Default false.
    pub show_hidden: bool,
    /// Follow symlinks that lead outside the root. Default false.
    pub follow_symlinks: bool,
    /// SockJS heartbeat interval. Default 25 s.
    pub heartbeat: Duration,
    /// Announce change sets to browsers by itself. Default true; off when a
    /// build tool reports builds instead.
    pub reload_on_change: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            root: PathBuf::from("."),
            addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080),
            strict_port: false,
            live_reload: true,
            hot: false,
            overlay: Some(Overlay::default()),
            progress: false,
            client_log_level: "info".to_string(),
            watch: WatchConfig::default(),
            spa: false,
            headers: Vec::new(),
            cors: false,
            allowed_hosts: Vec::new(),
            inject: true,
            websocket: true,
            show_hidden: false,
            follow_symlinks: false,
            heartbeat: Duration::from_secs(25),
            reload_on_change: true,
        }
    }
}

/// Parse `Name: value` into a header pair.
///
/// ```
/// let (name, value) = devserve::config::parse_header("X-Frame-Options: DENY").unwrap();
/// assert_eq!(name, "x-frame-options");
/// assert_eq!(value, "DENY");
/// ```
pub fn parse_header(text: &str) -> Result<(HeaderName, HeaderValue), crate::Error> {
    let invalid =
        || crate::Error::InvalidConfig(format!("invalid header {text:?}: expected 'Name: value'"));
    let (name, value) = text.split_once(':').ok_or_else(invalid)?;
    let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| invalid())?;
    let value = HeaderValue::from_str(value.trim()).map_err(|_| invalid())?;
    Ok((name, value))
}
