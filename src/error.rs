//! devserve's error type.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Everything that can stop devserve from starting.
///
/// ```no_run
/// # async fn run() {
/// let config = devserve::Config { root: "no/such/folder".into(), ..Default::default() };
/// match devserve::Server::start(config).await {
///     Err(devserve::Error::RootNotFound(path)) => eprintln!("{}: no such folder", path.display()),
///     Err(other) => eprintln!("{other}"),
///     Ok(server) => server.shutdown().await,
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The folder to serve does not exist.
    #[error("{}: no such folder", .0.display())]
    RootNotFound(PathBuf),
    /// The path to serve is not a folder.
    #[error("{}: not a folder", .0.display())]
    RootNotADirectory(PathBuf),
    /// The folder to serve cannot be read.
    #[error("{}: permission denied", .0.display())]
    PermissionDenied(PathBuf),
    /// The port is taken (and no other port may be tried).
    #[error("{0} is already in use")]
    AddressInUse(SocketAddr),
    /// Listening failed for another reason.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// A configuration value is invalid.
    #[error(transparent)]
    InvalidConfig(#[from] crate::config::ConfigError),
    /// The TLS certificate or key cannot be used.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// The file watcher could not start.
    #[error(transparent)]
    Watch(#[from] crate::watch::WatchError),
    /// Another I/O failure.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        source: std::io::Error,
    },
}
