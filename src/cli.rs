//! Command-line flags, and their translation into a validated [`Config`].

use anyhow::{bail, Context};
use clap::Parser;
use devserve::config::{
    parse_header, ClientConfig, ClientLogLevel, ConfigError, ProxyConfig, ProxyRule,
    SecurityConfig, ServeConfig, DEFAULT_DEBOUNCE, DEFAULT_HEARTBEAT, DEFAULT_PORT,
    DEFAULT_PROXY_TIMEOUT,
};
use devserve::tls::TlsConfig;
use devserve::{Config, Overlay, WatchConfig};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

/// Serve a folder, watch it, and reload every open page when it changes.
#[derive(Parser, Debug)]
#[command(name = "devserve", version, about)]
pub struct Cli {
    /// Folder to serve.
    #[arg(default_value = ".", env = "DEVSERVE_DIR")]
    pub dir: PathBuf,
    /// Port to listen on; when taken, the next free one is used.
    #[arg(short, long, default_value_t = DEFAULT_PORT, env = "DEVSERVE_PORT")]
    pub port: u16,
    /// Address to listen on. Anything but loopback exposes the server to the network.
    #[arg(long, default_value = "127.0.0.1", env = "DEVSERVE_HOST")]
    pub host: String,
    /// Fail instead of trying other ports when the port is taken.
    #[arg(env = "DEVSERVE_STRICT_PORT", long)]
    pub strict_port: bool,
    /// Open the served page in the default browser.
    #[arg(env = "DEVSERVE_OPEN", long)]
    pub open: bool,
    /// Do not reload pages on change.
    #[arg(env = "DEVSERVE_NO_LIVE_RELOAD", long)]
    pub no_live_reload: bool,
    /// Tell clients hot mode is on (pages with a hot-update runtime update in place).
    #[arg(env = "DEVSERVE_HOT", long)]
    pub hot: bool,
    /// Show build warnings in the overlay too.
    #[arg(env = "DEVSERVE_OVERLAY_WARNINGS", long, conflicts_with = "no_overlay")]
    pub overlay_warnings: bool,
    /// Turn the in-page error overlay off.
    #[arg(env = "DEVSERVE_NO_OVERLAY", long)]
    pub no_overlay: bool,
    /// Do not show the page's uncaught errors and promise rejections in the overlay.
    #[arg(env = "DEVSERVE_NO_RUNTIME_ERRORS", long)]
    pub no_runtime_errors: bool,
    /// Open files clicked in the overlay with CMD, run without a shell ({file},
    /// {line}, {column} are replaced; default $VISUAL, else $EDITOR, else code).
    #[arg(env = "DEVSERVE_EDITOR", long, value_name = "CMD")]
    pub editor: Option<String>,
    /// Show build progress in the page.
    #[arg(env = "DEVSERVE_PROGRESS", long)]
    pub progress: bool,
    /// Browser console verbosity: info, warn, error, debug, trace, silent or none.
    #[arg(env = "DEVSERVE_LOG_LEVEL", long, default_value = "info", value_parser = parse_log_level)]
    pub log_level: ClientLogLevel,
    /// Also watch this path (repeatable).
    #[arg(env = "DEVSERVE_WATCH", long = "watch", value_name = "PATH")]
    pub watch: Vec<PathBuf>,
    /// Ignore changes to paths matching this glob (repeatable).
    #[arg(env = "DEVSERVE_IGNORE", long = "ignore", value_name = "GLOB")]
    pub ignore: Vec<String>,
    /// Poll for changes every MS milliseconds (for Docker, WSL and network mounts).
    #[arg(env = "DEVSERVE_POLL", long, value_name = "MS", num_args = 0..=1, default_missing_value = DEFAULT_POLL_MS)]
    pub poll: Option<u64>,
    /// Wait this many milliseconds of quiet after a change before reloading
    /// (it stretches for bursts); raise it if a build's writes arrive as several reloads.
    #[arg(env = "DEVSERVE_DEBOUNCE", long, value_name = "MS", default_value_t = millis(DEFAULT_DEBOUNCE))]
    pub debounce: u64,
    /// Do not watch for changes at all.
    #[arg(env = "DEVSERVE_NO_WATCH", long)]
    pub no_watch: bool,
    /// Serve /index.html for missing paths without an extension (single-page apps).
    #[arg(env = "DEVSERVE_SPA", long)]
    pub spa: bool,
    /// Add a response header, 'Name: value' (repeatable).
    #[arg(env = "DEVSERVE_HEADER", long = "header", value_name = "HEADER")]
    pub header: Vec<String>,
    /// Let any origin read static files (Access-Control-Allow-Origin: *).
    #[arg(env = "DEVSERVE_CORS", long)]
    pub cors: bool,
    /// Accept this Host name besides localhost and IP addresses (repeatable; '.example.com' covers subdomains).
    #[arg(
        env = "DEVSERVE_ALLOWED_HOST",
        long = "allowed-host",
        value_name = "HOST"
    )]
    pub allowed_host: Vec<String>,
    /// Do not compress responses (brotli/gzip are on by default).
    #[arg(env = "DEVSERVE_NO_COMPRESS", long)]
    pub no_compress: bool,
    /// Do not inject the reload client into HTML pages.
    #[arg(env = "DEVSERVE_NO_INJECT", long)]
    pub no_inject: bool,
    /// Do not offer WebSocket on the live-reload endpoint (clients fall back to HTTP streaming).
    #[arg(env = "DEVSERVE_NO_WEBSOCKET", long)]
    pub no_websocket: bool,
    /// Serve dotfiles such as .env (hidden by default).
    #[arg(env = "DEVSERVE_SHOW_HIDDEN", long)]
    pub show_hidden: bool,
    /// Follow symlinks that lead outside the served folder.
    #[arg(env = "DEVSERVE_FOLLOW_SYMLINKS", long)]
    pub follow_symlinks: bool,
    /// Forward requests under PREFIX to a backend, PREFIX=URL (repeatable;
    /// e.g. /api=http://127.0.0.1:3000; the longest prefix wins).
    #[arg(env = "DEVSERVE_PROXY", long = "proxy", value_name = "PREFIX=URL", value_parser = parse_proxy_rule)]
    pub proxy: Vec<ProxyRule>,
    /// Milliseconds a proxy backend gets to connect and answer before the browser gets 504.
    #[arg(env = "DEVSERVE_PROXY_TIMEOUT", long, value_name = "MS", default_value_t = millis(DEFAULT_PROXY_TIMEOUT))]
    pub proxy_timeout: u64,
    /// Serve HTTPS (and HTTP/2) with a self-signed certificate for this
    /// machine, generated once and kept in the user's cache folder.
    #[arg(env = "DEVSERVE_HTTPS", long)]
    pub https: bool,
    /// Serve HTTPS with this PEM certificate (chain); needs --key.
    #[arg(env = "DEVSERVE_CERT", long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// The PEM private key of --cert.
    #[arg(env = "DEVSERVE_KEY", long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// Run this shell command on start and after every change, and report
    /// its result to the browsers (errors appear in the overlay).
    #[arg(env = "DEVSERVE_EXEC", long, value_name = "COMMAND")]
    pub exec: Option<String>,
    /// Print only errors.
    #[arg(env = "DEVSERVE_QUIET", short, long)]
    pub quiet: bool,
    /// What else to print: `requests` prints one line per request (method,
    /// path, status, size, time).
    #[arg(env = "DEVSERVE_LOG", long, value_name = "WHAT", value_enum)]
    pub log: Vec<LogWhat>,
    /// Print one line per request (the same as --log requests).
    #[arg(env = "DEVSERVE_VERBOSE", short, long)]
    pub verbose: bool,
    /// Read settings from this TOML file (default: devserve.toml in the
    /// working folder, when there is one). Flags and DEVSERVE_* variables win.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print the merged settings (flags, environment, file, defaults) as TOML and exit.
    #[arg(long)]
    pub print_config: bool,
    /// Print a shell completion script and exit.
    #[arg(long, value_name = "SHELL", value_enum)]
    pub completions: Option<clap_complete::Shell>,
    /// Print the man page (roff) and exit.
    #[arg(long)]
    pub man: bool,
    /// Live-reload heartbeat interval in milliseconds (for testing clients).
    #[arg(long, value_name = "MS", default_value_t = millis(DEFAULT_HEARTBEAT), hide = true)]
    pub heartbeat_ms: u64,
}

impl Cli {
    /// The configuration these flags describe, mapped one to one; the
    /// library's [`Config::validate`] checks the values.
    pub fn config(&self) -> anyhow::Result<Config> {
        let ip = resolve_host(&self.host)?;
        let headers = self
            .header
            .iter()
            .map(|h| parse_header(h).map_err(flag_error))
            .collect::<anyhow::Result<Vec<_>>>()?;
        for path in &self.watch {
            if !path.exists() {
                bail!("--watch {}: no such file or folder", path.display());
            }
        }
        if self.exec.as_deref().is_some_and(|c| c.trim().is_empty()) {
            bail!("--exec needs a command");
        }
        if self.exec.is_some() && self.no_watch {
            bail!("--exec runs on changes; it cannot be combined with --no-watch");
        }
        let config = Config {
            root: self.dir.clone(),
            addr: SocketAddr::new(ip, self.port),
            strict_port: self.strict_port,
            serve: ServeConfig {
                spa: self.spa,
                headers,
                inject: !self.no_inject,
                compress: !self.no_compress,
            },
            client: self.client(),
            security: SecurityConfig {
                allowed_hosts: self.allowed_host.clone(),
                cors: self.cors,
                show_hidden: self.show_hidden,
                follow_symlinks: self.follow_symlinks,
            },
            watch: WatchConfig {
                enabled: !self.no_watch,
                extra_paths: self.watch.clone(),
                ignore: self.ignore.clone(),
                poll: self.poll.map(Duration::from_millis),
                debounce: Duration::from_millis(self.debounce),
                ..WatchConfig::default()
            },
            proxy: ProxyConfig {
                rules: self.proxy.clone(),
                timeout: Duration::from_millis(self.proxy_timeout),
            },
            tls: self.tls(),
            reload_on_change: self.exec.is_none(),
            log_requests: self.verbose || self.log.contains(&LogWhat::Requests),
            editor: self.editor.clone(),
        };
        config.validate().map_err(flag_error)?;
        Ok(config)
    }

    fn tls(&self) -> Option<TlsConfig> {
        match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => Some(TlsConfig::Files {
                cert: cert.clone(),
                key: key.clone(),
            }),
            _ => self.https.then(TlsConfig::self_signed),
        }
    }

    fn client(&self) -> ClientConfig {
        ClientConfig {
            live_reload: !self.no_live_reload,
            hot: self.hot,
            overlay: (!self.no_overlay).then_some(Overlay {
                errors: true,
                warnings: self.overlay_warnings,
            }),
            progress: self.progress,
            log_level: self.log_level,
            websocket: !self.no_websocket,
            heartbeat: Duration::from_millis(self.heartbeat_ms),
            runtime_errors: !self.no_runtime_errors,
        }
    }
}

/// The flag behind a config field, for errors in the flag's own words.
fn flag_error(error: ConfigError) -> anyhow::Error {
    let flag = match error.field() {
        "client.heartbeat" => "--heartbeat-ms",
        "client.log_level" => "--log-level",
        "watch.poll" => "--poll",
        "watch.debounce" => "--debounce",
        "watch.ignore" => "--ignore",
        "security.allowed_hosts" => "--allowed-host",
        "serve.headers" => "--header",
        "proxy.rules" => "--proxy",
        "proxy.timeout" => "--proxy-timeout",
        "editor" => "--editor",
        other => return anyhow::anyhow!("invalid {other}: {}", error.reason()),
    };
    anyhow::anyhow!("invalid {flag}: {}", error.reason())
}

fn parse_proxy_rule(text: &str) -> Result<ProxyRule, String> {
    text.parse()
        .map_err(|e: ConfigError| e.reason().to_string())
}

fn parse_log_level(text: &str) -> Result<ClientLogLevel, String> {
    text.parse()
        .map_err(|e: ConfigError| e.reason().to_string())
}

/// A duration as whole milliseconds, for flag defaults.
const fn millis(duration: Duration) -> u64 {
    duration.as_millis() as u64
}

/// `--poll`'s value when given none.
const DEFAULT_POLL_MS: &str = "500";

/// An IP address, or a name resolved to one (`localhost` → 127.0.0.1).
fn resolve_host(host: &str) -> anyhow::Result<IpAddr> {
    if let Ok(ip) = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        return Ok(ip);
    }
    let mut addrs = (host, 0)
        .to_socket_addrs()
        .with_context(|| format!("invalid --host {host:?}: not an address or a known name"))?;
    addrs
        .next()
        .map(|a| a.ip())
        .with_context(|| format!("invalid --host {host:?}: the name has no address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("devserve").chain(args.iter().copied()))
            .expect("valid flags")
    }

    #[test]
    fn defaults_are_safe() {
        let config = parse(&[]).config().expect("valid");
        assert_eq!(config.addr.to_string(), "127.0.0.1:8080");
        assert!(config.client.live_reload && config.serve.inject && !config.security.cors);
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(Cli::try_parse_from(["devserve", "--log-level", "loud"]).is_err());
        assert!(parse(&["--poll", "0"]).config().is_err());
        assert!(parse(&["--debounce", "5000"]).config().is_err());
        assert!(parse(&["--allowed-host", "a b"]).config().is_err());
        assert!(parse(&["--header", "nocolon"]).config().is_err());
        assert!(parse(&["--host", "not a host"]).config().is_err());
        assert!(parse(&["--ignore", "a[b"]).config().is_err());
        assert!(Cli::try_parse_from(["devserve", "--port", "99999"]).is_err());
    }

    #[test]
    fn poll_takes_an_optional_interval() {
        assert_eq!(parse(&["--poll"]).poll, Some(500));
        assert_eq!(
            Duration::from_millis(DEFAULT_POLL_MS.parse().expect("a number")),
            devserve::config::DEFAULT_POLL
        );
        assert_eq!(parse(&["--poll", "100"]).poll, Some(100));
    }
}

/// What `--log` can add to the terminal output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogWhat {
    /// One line per request.
    Requests,
}
