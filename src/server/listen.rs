//! Listening: bind (moving to the next port when one is taken), and the
//! accept loop that hands each connection to [`super::connection`].

use super::connection::{self, Shared};
use crate::Error;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Ports tried after the requested one is found taken.
const PORT_ATTEMPTS: u16 = 20;
/// First pause after a failed accept (out of descriptors and the like); it
/// doubles while accepting keeps failing.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(1);
/// Longest pause between accept attempts.
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// Listen on `addr`, or on one of the next ports when it is taken and
/// `strict` is off. Returns the listener and, when it moved, the port asked for.
pub(super) async fn bind(
    addr: SocketAddr,
    strict: bool,
) -> Result<(TcpListener, Option<u16>), Error> {
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
pub(super) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
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
        tokio::spawn(connection::serve(
            tcp,
            remote,
            shared.clone(),
            stopped.clone(),
        ));
    }
}

/// The pause after another failed accept: doubling from the minimum, capped.
fn next_backoff(previous: Option<Duration>) -> Duration {
    previous.map_or(ACCEPT_BACKOFF_MIN, |p| (p * 2).min(ACCEPT_BACKOFF_MAX))
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
