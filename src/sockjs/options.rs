//! Settings of one SockJS server (one prefix).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// How a server logs; defaults to `tracing` events under the `devserve::sockjs` target.
pub type LogFn = Arc<dyn Fn(LogLevel, &str) + Send + Sync>;

/// Decides the `Set-Cookie` value (without the header name) for a request,
/// when a custom JSESSIONID policy is used.
pub type CookieFn = Arc<dyn Fn(&http::request::Parts) -> Option<String> + Send + Sync>;

/// Severity of a log line the server emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Per-request detail.
    Debug,
    /// Lifecycle events.
    Info,
    /// Something went wrong.
    Error,
}

/// Whether and how the server sets the `JSESSIONID` cookie some load
/// balancers use for sticky sessions.
#[derive(Clone, Default)]
pub enum Jsessionid {
    /// No cookie (the default).
    #[default]
    Off,
    /// `JSESSIONID=<value sent by the client, or "dummy">; path=/`.
    On,
    /// A function of the request decides the whole cookie.
    Custom(CookieFn),
}

impl fmt::Debug for Jsessionid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Jsessionid::Off => f.write_str("Off"),
            Jsessionid::On => f.write_str("On"),
            Jsessionid::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

/// Which browser origins may use the server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum OriginPolicy {
    /// Any origin; CORS responses reflect it with credentials (the
    /// reference behaviour, needed by cross-domain clients).
    #[default]
    Any,
    /// Only these origins (`scheme://host[:port]`, compared
    /// case-insensitively). Requests without an `Origin` header (non-browser
    /// clients) are allowed; others get 403.
    List(Vec<String>),
}

impl OriginPolicy {
    /// Whether a request carrying `origin` may proceed.
    pub fn allows(&self, origin: Option<&str>) -> bool {
        match (self, origin) {
            (OriginPolicy::Any, _) | (_, None) => true,
            (OriginPolicy::List(list), Some(o)) => list.iter().any(|a| a.eq_ignore_ascii_case(o)),
        }
    }
}

/// The transports a server offers. All are on by default; a hardened
/// deployment whose clients are same-origin turns off the ones it does not need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transports {
    /// `/<server>/<session>/websocket` and the raw `/websocket` endpoint.
    pub websocket: bool,
    /// `xhr` and `xhr_send`.
    pub xhr_polling: bool,
    /// `xhr_streaming`.
    pub xhr_streaming: bool,
    /// `eventsource`.
    pub eventsource: bool,
    /// `htmlfile` (script-callback streaming).
    pub htmlfile: bool,
    /// `jsonp` and `jsonp_send`.
    pub jsonp: bool,
    /// The `iframe.html` page that iframe-based transports load.
    pub iframe: bool,
}

impl Default for Transports {
    fn default() -> Self {
        Transports {
            websocket: true,
            xhr_polling: true,
            xhr_streaming: true,
            eventsource: true,
            htmlfile: true,
            jsonp: true,
            iframe: true,
        }
    }
}

/// Settings of one SockJS server. Defaults follow the reference server.
///
/// ```
/// use devserve::sockjs::Options;
/// use std::time::Duration;
/// let options = Options::new("/echo").response_limit(4096).heartbeat_delay(Duration::from_secs(10));
/// assert_eq!(options.prefix, "/echo");
/// ```
#[derive(Clone)]
pub struct Options {
    /// URL prefix the server answers under, e.g. `/echo` (no trailing slash).
    pub prefix: String,
    /// Script the iframe page loads (a sockjs-client build); the
    /// application serves it. Default `/sockjs-client.js`.
    pub sockjs_url: String,
    /// Bytes a streaming response may carry before it is closed so the
    /// client opens a fresh one. Default 128 KiB.
    pub response_limit: usize,
    /// Transports on offer.
    pub transports: Transports,
    /// JSESSIONID cookie policy. Default off.
    pub jsessionid: Jsessionid,
    /// Idle time after which a heartbeat frame is sent. Default 25 s.
    pub heartbeat_delay: Duration,
    /// How long a session without a receiving connection survives. Default 5 s.
    pub disconnect_delay: Duration,
    /// Leave out CORS headers entirely. Default false.
    pub disable_cors: bool,
    /// Which origins may connect. Default: any.
    pub origins: OriginPolicy,
    /// Largest accepted client payload (HTTP body or WebSocket message), in bytes. Default 64 KiB.
    pub max_message_size: usize,
    /// Largest message the application may write, in bytes of UTF-8 text.
    /// A larger one is refused with [`crate::sockjs::WriteError::TooLarge`];
    /// the connection stays open. Queued messages are batched into frames
    /// no larger than one message at this size would make (escaping can
    /// grow it sixfold), and WebSocket sends large frames as 4 KiB
    /// fragments, so memory per session stays small. Default 4 MiB: whole
    /// build logs fit.
    pub max_outgoing_message_size: usize,
    /// Most sessions alive at once; further ones are refused with 503. Default 100,000.
    pub max_sessions: usize,
    /// Most messages a session holds for a client that is not reading;
    /// beyond it [`crate::sockjs::WriteError::QueueFull`] is returned. Default 1,024.
    pub max_queued_messages: usize,
    /// How long a client may take to accept one frame before it counts as
    /// gone (a client that stopped reading). Default 30 s.
    pub write_timeout: Duration,
    /// Where log lines go.
    pub log: LogFn,
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("prefix", &self.prefix)
            .field("sockjs_url", &self.sockjs_url)
            .field("response_limit", &self.response_limit)
            .field("transports", &self.transports)
            .field("jsessionid", &self.jsessionid)
            .field("heartbeat_delay", &self.heartbeat_delay)
            .field("disconnect_delay", &self.disconnect_delay)
            .field("disable_cors", &self.disable_cors)
            .field("origins", &self.origins)
            .field("max_message_size", &self.max_message_size)
            .field("max_outgoing_message_size", &self.max_outgoing_message_size)
            .field("max_sessions", &self.max_sessions)
            .field("max_queued_messages", &self.max_queued_messages)
            .field("write_timeout", &self.write_timeout)
            .finish_non_exhaustive()
    }
}

fn tracing_log(level: LogLevel, message: &str) {
    match level {
        LogLevel::Debug => tracing::debug!(target: "devserve::sockjs", "{message}"),
        LogLevel::Info => tracing::info!(target: "devserve::sockjs", "{message}"),
        LogLevel::Error => tracing::error!(target: "devserve::sockjs", "{message}"),
    }
}

impl Options {
    /// Defaults for a server under `prefix` (`""` or `"/"` means the root).
    pub fn new(prefix: &str) -> Self {
        Options {
            prefix: prefix.trim_end_matches('/').to_string(),
            sockjs_url: "/sockjs-client.js".to_string(),
            response_limit: 128 * 1024,
            transports: Transports::default(),
            jsessionid: Jsessionid::Off,
            heartbeat_delay: Duration::from_secs(25),
            disconnect_delay: Duration::from_secs(5),
            disable_cors: false,
            origins: OriginPolicy::Any,
            max_message_size: 64 * 1024,
            max_outgoing_message_size: 4 * 1024 * 1024,
            max_sessions: 100_000,
            max_queued_messages: 1024,
            write_timeout: Duration::from_secs(30),
            log: Arc::new(tracing_log),
        }
    }

    /// Set [`Options::sockjs_url`].
    pub fn sockjs_url(mut self, url: impl Into<String>) -> Self {
        self.sockjs_url = url.into();
        self
    }

    /// Set [`Options::response_limit`].
    pub fn response_limit(mut self, bytes: usize) -> Self {
        self.response_limit = bytes;
        self
    }

    /// Turn the WebSocket transports on or off.
    pub fn websocket(mut self, on: bool) -> Self {
        self.transports.websocket = on;
        self
    }

    /// Set [`Options::transports`].
    pub fn transports(mut self, transports: Transports) -> Self {
        self.transports = transports;
        self
    }

    /// Set [`Options::jsessionid`].
    pub fn jsessionid(mut self, policy: Jsessionid) -> Self {
        self.jsessionid = policy;
        self
    }

    /// Set [`Options::heartbeat_delay`].
    pub fn heartbeat_delay(mut self, delay: Duration) -> Self {
        self.heartbeat_delay = delay;
        self
    }

    /// Set [`Options::disconnect_delay`].
    pub fn disconnect_delay(mut self, delay: Duration) -> Self {
        self.disconnect_delay = delay;
        self
    }

    /// Set [`Options::disable_cors`].
    pub fn disable_cors(mut self, disable: bool) -> Self {
        self.disable_cors = disable;
        self
    }

    /// Set [`Options::origins`].
    pub fn origins(mut self, policy: OriginPolicy) -> Self {
        self.origins = policy;
        self
    }

    /// Set [`Options::max_message_size`].
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Set [`Options::max_outgoing_message_size`].
    pub fn max_outgoing_message_size(mut self, bytes: usize) -> Self {
        self.max_outgoing_message_size = bytes;
        self
    }

    /// Set [`Options::max_sessions`].
    pub fn max_sessions(mut self, sessions: usize) -> Self {
        self.max_sessions = sessions;
        self
    }

    /// Set [`Options::max_queued_messages`].
    pub fn max_queued_messages(mut self, messages: usize) -> Self {
        self.max_queued_messages = messages;
        self
    }

    /// Set [`Options::write_timeout`].
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// Set [`Options::log`].
    pub fn log(mut self, log: impl Fn(LogLevel, &str) + Send + Sync + 'static) -> Self {
        self.log = Arc::new(log);
        self
    }

    /// A hardened profile for same-origin clients: no JSONP, htmlfile or
    /// iframe page, and no CORS headers.
    pub fn hardened(mut self) -> Self {
        self.transports.jsonp = false;
        self.transports.htmlfile = false;
        self.transports.iframe = false;
        self.disable_cors = true;
        self
    }
}
