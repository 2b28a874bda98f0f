//! Listening: bind (moving to the next port when one is taken), and the
//! accept loop that hands each connection to [`super::connection`].

use super::connection::{self, Shared};
use crate::sockjs::AcceptBackoff;
use crate::Error;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Ports tried after the requested one is found taken.
const PORT_ATTEMPTS: u16 = 20;

/// The sockets a server listens on, and where it ended up.
#[derive(Debug)]
pub(super) struct Bound {
    /// One listener, or two for the default loopback address (IPv4 and IPv6).
    pub(super) listeners: Vec<TcpListener>,
    /// The port asked for, when it was taken and another was used.
    pub(super) moved_from: Option<u16>,
}

/// Listen on `addr`, or on one of the next ports when it is taken and
/// `strict` is off. `127.0.0.1` also listens on `[::1]` at the same port
/// (where the machine has IPv6), so `localhost` reaches devserve whichever
/// family the browser tries first, and a port counts as taken when either
/// family holds it: another server on `[::1]` can never answer in
/// devserve's place.
pub(super) async fn bind(addr: SocketAddr, strict: bool) -> Result<Bound, Error> {
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
        match bind_port(candidate).await {
            Ok(listeners) => {
                return Ok(Bound {
                    listeners,
                    moved_from: (offset > 0).then_some(addr.port()),
                })
            }
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

/// Bind `addr` (and, for `127.0.0.1`, `[::1]` at the same port). Port 0
/// picks a port free in both families, trying again when the IPv6 side of a
/// fresh IPv4 port happens to be taken.
async fn bind_port(addr: SocketAddr) -> std::io::Result<Vec<TcpListener>> {
    let tries = if addr.port() == 0 { 8 } else { 1 };
    let mut last = std::io::Error::from(std::io::ErrorKind::AddrInUse);
    for _ in 0..tries {
        let first = TcpListener::bind(addr).await?;
        if addr.ip() != IpAddr::V4(Ipv4Addr::LOCALHOST) {
            return Ok(vec![first]);
        }
        let port = first.local_addr()?.port();
        match TcpListener::bind((Ipv6Addr::LOCALHOST, port)).await {
            Ok(second) => return Ok(vec![first, second]),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => last = e,
            // No IPv6 on this machine: IPv4 alone is all `localhost` can mean.
            Err(_) => return Ok(vec![first]),
        }
    }
    Err(last)
}

/// At most one warning per period, shared by every accept loop of a server:
/// descriptors that run out and free up again and again (or two listeners
/// hitting the same limit) are one problem to the user, said once.
#[derive(Debug)]
struct WarnEvery {
    period: Duration,
    last: Mutex<Option<Instant>>,
}

impl WarnEvery {
    fn new(period: Duration) -> WarnEvery {
        WarnEvery {
            period,
            last: Mutex::new(None),
        }
    }

    /// Whether to warn now; if so, the period starts again.
    fn due(&self, now: Instant) -> bool {
        let mut last = crate::util::lock(&self.last);
        let due = last.is_none_or(|at| now.duration_since(at) >= self.period);
        if due {
            *last = Some(now);
        }
        due
    }
}

/// A failing accept is reported at most once in this long.
const ACCEPT_WARNING_PERIOD: Duration = Duration::from_secs(30);

/// One accept loop per listener of `bound`, sharing one warning period.
pub(super) fn spawn_accept_loops(
    bound: Bound,
    shared: &Arc<Shared>,
    stopped: &watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let warnings = Arc::new(WarnEvery::new(ACCEPT_WARNING_PERIOD));
    bound
        .listeners
        .into_iter()
        .map(|listener| {
            tokio::spawn(accept_loop(
                listener,
                shared.clone(),
                stopped.clone(),
                warnings.clone(),
            ))
        })
        .collect()
}

/// Accept connections until the server stops. A failing accept (out of
/// file descriptors, most often) pauses with a growing delay and is logged
/// once per episode; serving resumes as soon as accepting works again.
async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
    warnings: Arc<WarnEvery>,
) {
    let mut backoff = AcceptBackoff::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopped.changed() => return,
        };
        let (tcp, remote) = match accepted {
            Ok(pair) => pair,
            Err(error) => {
                let step = backoff.failed();
                if step.first && warnings.due(Instant::now()) {
                    tracing::warn!("accepting connections failed: {error}; retrying");
                }
                tokio::time::sleep(step.delay).await;
                continue;
            }
        };
        if let Some(failures) = backoff.succeeded() {
            tracing::info!("accepting connections again after {failures} failed attempts");
        }
        let _ = tcp.set_nodelay(true);
        tokio::spawn(connection::serve(
            tcp,
            remote,
            shared.clone(),
            stopped.clone(),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_said_once_per_period() {
        let warnings = WarnEvery::new(Duration::from_secs(30));
        let start = Instant::now();
        assert!(warnings.due(start));
        assert!(!warnings.due(start + Duration::from_secs(1)));
        assert!(!warnings.due(start + Duration::from_secs(29)));
        assert!(warnings.due(start + Duration::from_secs(31)));
    }
}
