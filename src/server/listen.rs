//! Listening: bind (moving to the next port when one is taken), and the
//! accept loop that hands each connection to [`super::connection`].

use super::connection::{self, Shared};
use crate::sockjs::AcceptBackoff;
use crate::Error;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Ports tried after the requested one is found taken.
const PORT_ATTEMPTS: u16 = 20;

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
                if step.first {
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
