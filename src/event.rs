//! What a running server reports to whoever embeds it (the CLI prints these).

use std::net::SocketAddr;
use std::time::Duration;

/// Something that happened in a running server.
///
/// ```
/// use devserve::Event;
/// let event = Event::Changed { paths: vec!["css/site.css".into()], clients: 3 };
/// if let Event::Changed { paths, clients } = &event {
///     assert_eq!((paths.len(), *clients), (1, 3));
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The server is listening.
    Listening {
        /// The address it listens on.
        addr: SocketAddr,
        /// The port asked for, when it was taken and another was used.
        requested_port: Option<u16>,
    },
    /// A change set was seen and announced.
    Changed {
        /// Changed paths, relative to the served folder where possible.
        paths: Vec<String>,
        /// How many clients were told.
        clients: usize,
    },
    /// A request was answered (only with [`crate::Config::log_requests`]).
    Request {
        /// The method.
        method: String,
        /// The path, without the query.
        path: String,
        /// The response status.
        status: u16,
        /// The body's length, when known up front (not for streams).
        bytes: Option<u64>,
        /// From the request's arrival to the response head.
        elapsed: Duration,
    },
    /// A request named a host that is not allowed (told once per host): the
    /// fix is `--allowed-host HOST` ([`crate::ServerBuilder::allowed_host`]).
    HostRefused {
        /// The host name the request asked for.
        host: String,
    },
    /// A proxied request got no answer from its backend (the browser got 502 or 504).
    ProxyFailed {
        /// The request path.
        path: String,
        /// The backend URL of the rule.
        backend: String,
        /// What went wrong.
        error: String,
    },
}
