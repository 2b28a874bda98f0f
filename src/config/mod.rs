//! The settings of a dev server, grouped by what they govern, with the one
//! home of every default and the checks that make a [`Config`] valid.
//!
//! The CLI maps its flags into a [`Config`] one to one; embedders build one
//! directly or through [`crate::ServerBuilder`]. [`crate::Server::start`]
//! calls [`Config::validate`] first, so no invalid value ever reaches the
//! running parts.

mod proxy;

pub use proxy::{ProxyConfig, ProxyRule, DEFAULT_PROXY_TIMEOUT, MAX_PROXY_TIMEOUT};

use crate::protocol::Overlay;
use crate::watch::filter::IgnoreMatcher;
use http::{HeaderName, HeaderValue};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// The URL prefix of the live-reload endpoint.
pub const SOCKJS_PREFIX: &str = "/sockjs-node";

/// Where the browser client is served.
pub const CLIENT_PATH: &str = "/__devserve/client.js";

/// The default port.
pub const DEFAULT_PORT: u16 = 8080;
/// The default heartbeat interval of the live-reload endpoint (SockJS's own default).
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(25);
/// The default quiet time after a change before it is announced (the
/// watcher's own default; a lone save whose write is closed goes out at once).
pub const DEFAULT_DEBOUNCE: Duration = crate::watch::DEFAULT_QUIET;
/// The default longest time a continuous stream of changes is held.
pub const DEFAULT_MAX_DELAY: Duration = crate::watch::DEFAULT_MAX_DELAY;
/// The poll interval `--poll` uses when given no value.
pub const DEFAULT_POLL: Duration = Duration::from_millis(500);

/// Shortest heartbeat interval accepted (anything shorter floods clients).
pub const MIN_HEARTBEAT: Duration = Duration::from_millis(10);
/// Longest heartbeat interval accepted: clients must hear from the server
/// well within their reconnect logic's patience.
pub const MAX_HEARTBEAT: Duration = Duration::from_secs(600);
/// Longest poll interval accepted.
pub const MAX_POLL: Duration = Duration::from_secs(600);
/// Longest wait for a stream of changes to end before it is announced anyway.
pub const MAX_MAX_DELAY: Duration = Duration::from_secs(60);

/// Console verbosity of the browser client, as webpack-dev-server's clients
/// understand it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClientLogLevel {
    /// Everything but debug output (the default).
    #[default]
    Info,
    /// Warnings and errors (`warn`).
    Warn,
    /// Warnings and errors (`warning`, the older spelling).
    Warning,
    /// Errors only.
    Error,
    /// Debug output too.
    Debug,
    /// Everything.
    Trace,
    /// Nothing (`silent`).
    Silent,
    /// Nothing (`none`).
    None,
}

impl ClientLogLevel {
    /// Every level, in the order `--help` lists them.
    pub const ALL: [ClientLogLevel; 8] = [
        ClientLogLevel::Info,
        ClientLogLevel::Warn,
        ClientLogLevel::Warning,
        ClientLogLevel::Error,
        ClientLogLevel::Debug,
        ClientLogLevel::Trace,
        ClientLogLevel::Silent,
        ClientLogLevel::None,
    ];

    /// The name sent to clients in `log-level`.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientLogLevel::Info => "info",
            ClientLogLevel::Warn => "warn",
            ClientLogLevel::Warning => "warning",
            ClientLogLevel::Error => "error",
            ClientLogLevel::Debug => "debug",
            ClientLogLevel::Trace => "trace",
            ClientLogLevel::Silent => "silent",
            ClientLogLevel::None => "none",
        }
    }
}

impl fmt::Display for ClientLogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ClientLogLevel {
    type Err = ConfigError;

    /// ```
    /// use devserve::config::ClientLogLevel;
    /// assert_eq!("warn".parse::<ClientLogLevel>().unwrap(), ClientLogLevel::Warn);
    /// assert!("loud".parse::<ClientLogLevel>().is_err());
    /// ```
    fn from_str(text: &str) -> Result<Self, ConfigError> {
        ClientLogLevel::ALL
            .into_iter()
            .find(|level| level.as_str() == text)
            .ok_or_else(|| {
                let names: Vec<_> = ClientLogLevel::ALL.iter().map(|l| l.as_str()).collect();
                ConfigError::new(
                    "client.log_level",
                    format!("{text:?} is not one of {}", names.join(", ")),
                )
            })
    }
}

/// A configuration value that cannot work, with the field it is in.
///
/// ```
/// let config = devserve::Config {
///     client: devserve::config::ClientConfig {
///         heartbeat: std::time::Duration::ZERO,
///         ..Default::default()
///     },
///     ..Default::default()
/// };
/// let error = config.validate().unwrap_err();
/// assert_eq!(error.field(), "client.heartbeat");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {reason}")]
pub struct ConfigError {
    field: &'static str,
    reason: String,
}

impl ConfigError {
    /// An error in `field` (its path in [`Config`], e.g. `watch.poll`).
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        ConfigError {
            field,
            reason: reason.into(),
        }
    }

    /// The field, as its path in [`Config`] (`client.heartbeat`, `watch.ignore`, …).
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// Why the value cannot work.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// What the served pages are told and how the live-reload endpoint behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// Reload pages on change. Default true.
    pub live_reload: bool,
    /// Tell clients hot mode is on. Default false.
    pub hot: bool,
    /// Overlay settings sent to clients; `None` turns the overlay off. Default errors only.
    pub overlay: Option<Overlay>,
    /// Tell clients to show build progress. Default false.
    pub progress: bool,
    /// Console verbosity for clients. Default [`ClientLogLevel::Info`].
    pub log_level: ClientLogLevel,
    /// Offer WebSocket on the live-reload endpoint. Default true.
    pub websocket: bool,
    /// SockJS heartbeat interval, announced to clients too. Default
    /// [`DEFAULT_HEARTBEAT`]; from [`MIN_HEARTBEAT`] to [`MAX_HEARTBEAT`].
    pub heartbeat: Duration,
    /// Show the page's uncaught errors and unhandled promise rejections in the
    /// overlay (while the overlay is on). Default true.
    pub runtime_errors: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            live_reload: true,
            hot: false,
            overlay: Some(Overlay::default()),
            progress: false,
            log_level: ClientLogLevel::default(),
            websocket: true,
            heartbeat: DEFAULT_HEARTBEAT,
            runtime_errors: true,
        }
    }
}

/// How files are served.
#[derive(Debug, Clone, Default)]
pub struct ServeConfig {
    /// Serve `/index.html` for missing extension-less paths. Default false.
    pub spa: bool,
    /// Extra response headers. Default none.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Inject the client into HTML pages. Default true.
    pub inject: bool,
    /// Compress text responses (brotli or gzip, as the browser prefers).
    /// Default true, as webpack-dev-server's `compress`.
    pub compress: bool,
}

/// Who may reach the server and what it may hand out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecurityConfig {
    /// Host names allowed besides localhost and IP literals; `.example.test`
    /// covers its subdomains. Default none.
    pub allowed_hosts: Vec<String>,
    /// Send permissive CORS headers on static files. Default false.
    pub cors: bool,
    /// Serve dotfiles. Default false.
    pub show_hidden: bool,
    /// Follow symlinks that lead outside the root. Default false.
    pub follow_symlinks: bool,
}

/// What the file watcher does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchConfig {
    /// Watch at all (embedders that report builds themselves may turn it off). Default true.
    pub enabled: bool,
    /// Folders watched besides the served one. Default none.
    pub extra_paths: Vec<PathBuf>,
    /// Glob patterns to ignore, besides the defaults (`.git`, `node_modules`, `target`, editor temp files).
    pub ignore: Vec<String>,
    /// Poll at this interval instead of using native events. Default `None`;
    /// at most [`MAX_POLL`].
    pub poll: Option<Duration>,
    /// Quiet time after a change before it is announced, where the platform
    /// does not say a write is complete (a lone save whose write was closed
    /// goes out within about a millisecond); it stretches for bursts. Default
    /// [`DEFAULT_DEBOUNCE`]; at most `max_delay`.
    pub debounce: Duration,
    /// Longest a continuous stream of changes is held before it is announced
    /// anyway. Default [`DEFAULT_MAX_DELAY`]; at most [`MAX_MAX_DELAY`].
    pub max_delay: Duration,
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            enabled: true,
            extra_paths: Vec::new(),
            ignore: Vec::new(),
            poll: None,
            debounce: DEFAULT_DEBOUNCE,
            max_delay: DEFAULT_MAX_DELAY,
        }
    }
}

/// Everything a dev server needs to start.
///
/// ```
/// use devserve::{Config, Overlay};
/// let mut config = Config { root: "dist".into(), ..Config::default() };
/// config.serve.spa = true;
/// config.client.overlay = Some(Overlay { errors: true, warnings: true });
/// assert_eq!(config.addr.to_string(), "127.0.0.1:8080");
/// assert!(config.validate().is_ok());
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    /// The folder to serve. Default `.`.
    pub root: PathBuf,
    /// Address to listen on. Default `127.0.0.1:8080`; port 0 picks a free
    /// one. `127.0.0.1` also listens on `[::1]` (where the machine has IPv6),
    /// so `localhost` reaches devserve in either address family.
    pub addr: SocketAddr,
    /// Fail when the port is taken instead of trying the next ones. Default false.
    pub strict_port: bool,
    /// How files are served.
    pub serve: ServeConfig,
    /// What pages are told, and the live-reload endpoint.
    pub client: ClientConfig,
    /// Who may connect, and what may be served.
    pub security: SecurityConfig,
    /// File watching.
    pub watch: WatchConfig,
    /// Path prefixes forwarded to backends.
    pub proxy: ProxyConfig,
    /// Serve HTTPS (and HTTP/2 by ALPN) with this certificate. Default
    /// `None`: plain HTTP (HTTP/2 with prior knowledge still works).
    pub tls: Option<crate::tls::TlsConfig>,
    /// Announce change sets to browsers by itself. Default true; off when a
    /// build tool reports builds instead.
    pub reload_on_change: bool,
    /// Report every answered request as an [`crate::Event::Request`]. Default false.
    pub log_requests: bool,
    /// The command that opens a file from the overlay, split on whitespace and
    /// run without a shell (`{file}`, `{line}`, `{column}` are replaced when
    /// present). Default `None`: `$VISUAL`, else `$EDITOR`, else `code`.
    pub editor: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            root: PathBuf::from("."),
            addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), DEFAULT_PORT),
            strict_port: false,
            serve: ServeConfig {
                inject: true,
                compress: true,
                ..ServeConfig::default()
            },
            client: ClientConfig::default(),
            security: SecurityConfig::default(),
            watch: WatchConfig::default(),
            proxy: ProxyConfig::default(),
            tls: None,
            reload_on_change: true,
            log_requests: false,
            editor: None,
        }
    }
}

impl Config {
    /// Check every value; the first that cannot work is named in the error.
    /// [`crate::Server::start`] calls this before anything else.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.client.validate()?;
        self.watch.validate()?;
        self.proxy.validate()?;
        self.security.validate()?;
        check_editor(self.editor.as_deref())
    }
}

/// An editor command must name a program and hold no control characters.
fn check_editor(editor: Option<&str>) -> Result<(), ConfigError> {
    let Some(command) = editor else {
        return Ok(());
    };
    if command.trim().is_empty() {
        return Err(ConfigError::new("editor", "the command is empty"));
    }
    if command
        .chars()
        .any(|c| c.is_control() && !c.is_whitespace())
    {
        return Err(ConfigError::new(
            "editor",
            format!("{command:?} contains control characters"),
        ));
    }
    Ok(())
}

impl ClientConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        within(
            "client.heartbeat",
            self.heartbeat,
            MIN_HEARTBEAT,
            MAX_HEARTBEAT,
        )
    }
}

impl WatchConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if let Some(poll) = self.poll {
            within("watch.poll", poll, Duration::from_millis(1), MAX_POLL)?;
        }
        within(
            "watch.max_delay",
            self.max_delay,
            Duration::from_millis(1),
            MAX_MAX_DELAY,
        )?;
        if self.debounce > self.max_delay {
            return Err(ConfigError::new(
                "watch.debounce",
                format!(
                    "{} ms is longer than the longest hold, watch.max_delay ({} ms)",
                    self.debounce.as_millis(),
                    self.max_delay.as_millis()
                ),
            ));
        }
        IgnoreMatcher::new(&self.ignore)
            .map(drop)
            .map_err(|(pattern, error)| {
                ConfigError::new("watch.ignore", format!("{pattern:?}: {error}"))
            })
    }
}

impl SecurityConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        for host in &self.allowed_hosts {
            check_host_name(host)
                .map_err(|reason| ConfigError::new("security.allowed_hosts", reason))?;
        }
        Ok(())
    }
}

/// `value` must lie in `min..=max`.
fn within(
    field: &'static str,
    value: Duration,
    min: Duration,
    max: Duration,
) -> Result<(), ConfigError> {
    if value < min || value > max {
        return Err(ConfigError::new(
            field,
            format!(
                "{} ms is outside {} ms to {} ms",
                value.as_millis(),
                min.as_millis(),
                max.as_millis()
            ),
        ));
    }
    Ok(())
}

/// A host name as `--allowed-host` takes it: DNS labels of letters, digits,
/// `-` and `_`, an optional leading `.` for "and its subdomains".
fn check_host_name(host: &str) -> Result<(), String> {
    let name = host.strip_prefix('.').unwrap_or(host);
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if name.is_empty() || name.len() > 253 || !name.split('.').all(label_ok) {
        return Err(format!("{host:?} is not a host name"));
    }
    Ok(())
}

/// Parse `Name: value` into a header pair.
///
/// ```
/// let (name, value) = devserve::config::parse_header("X-Frame-Options: DENY").unwrap();
/// assert_eq!(name, "x-frame-options");
/// assert_eq!(value, "DENY");
/// ```
pub fn parse_header(text: &str) -> Result<(HeaderName, HeaderValue), ConfigError> {
    let invalid = || {
        ConfigError::new(
            "serve.headers",
            format!("{text:?} is not of the form 'Name: value'"),
        )
    };
    let (name, value) = text.split_once(':').ok_or_else(invalid)?;
    let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| invalid())?;
    let value = HeaderValue::from_str(value.trim()).map_err(|_| invalid())?;
    Ok((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(adjust: impl FnOnce(&mut Config)) -> ConfigError {
        let mut config = Config::default();
        adjust(&mut config);
        config.validate().expect_err("refused")
    }

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(Config::default().validate(), Ok(()));
    }

    #[test]
    fn zero_and_huge_intervals_are_refused() {
        assert_eq!(
            refused(|c| c.client.heartbeat = Duration::ZERO).field(),
            "client.heartbeat"
        );
        assert_eq!(
            refused(|c| c.watch.poll = Some(Duration::ZERO)).field(),
            "watch.poll"
        );
        assert_eq!(
            refused(|c| c.watch.poll = Some(Duration::from_millis(u64::MAX))).field(),
            "watch.poll"
        );
        assert_eq!(
            refused(|c| c.watch.max_delay = Duration::ZERO).field(),
            "watch.max_delay"
        );
    }

    #[test]
    fn a_debounce_longer_than_the_hold_is_refused() {
        let error = refused(|c| c.watch.debounce = Duration::from_secs(5));
        assert_eq!(error.field(), "watch.debounce");
        assert!(error.reason().contains("5000 ms"), "{error}");
    }

    #[test]
    fn bad_globs_and_host_names_are_refused() {
        assert_eq!(
            refused(|c| c.watch.ignore.push("a[".into())).field(),
            "watch.ignore"
        );
        for host in ["", "a b", ".", "a..b", "é.test"] {
            let error = refused(|c| c.security.allowed_hosts.push(host.into()));
            assert_eq!(error.field(), "security.allowed_hosts", "{host:?}");
        }
        let mut config = Config::default();
        config.security.allowed_hosts = vec!["dev.example.test".into(), ".example.test".into()];
        assert_eq!(config.validate(), Ok(()));
    }

    #[test]
    fn blank_or_binary_editor_commands_are_refused() {
        for bad in ["", "  ", "vim\0-x", "code\u{7}"] {
            let error = refused(|c| c.editor = Some(bad.into()));
            assert_eq!(error.field(), "editor", "{bad:?}");
        }
        let config = Config {
            editor: Some("code -g".into()),
            ..Config::default()
        };
        assert_eq!(config.validate(), Ok(()));
    }

    #[test]
    fn log_levels_round_trip() {
        for level in ClientLogLevel::ALL {
            assert_eq!(level.as_str().parse::<ClientLogLevel>(), Ok(level));
        }
        let error = "loud".parse::<ClientLogLevel>().expect_err("refused");
        assert_eq!(error.field(), "client.log_level");
    }
}
