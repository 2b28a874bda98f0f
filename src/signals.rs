//! The signals that stop devserve: Ctrl-C (SIGINT), SIGTERM, and SIGHUP (the
//! terminal went away). Listening starts before the server binds, so a signal
//! at any moment after start-up ends devserve cleanly (sessions closed, builds
//! ended, exit 0) instead of killing it.

#![deny(unreachable_pub, missing_debug_implementations)]

/// Installed signal handlers; signals that arrive before [`Stop::wait`] are kept.
#[derive(Debug)]
pub(crate) struct Stop {
    #[cfg(unix)]
    streams: Vec<tokio::signal::unix::Signal>,
}

impl Stop {
    /// Install the handlers now (inside the runtime).
    pub(crate) fn listen() -> std::io::Result<Stop> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let kinds = [
                SignalKind::interrupt(),
                SignalKind::terminate(),
                SignalKind::hangup(),
            ];
            let streams = kinds.into_iter().map(signal).collect::<Result<_, _>>()?;
            Ok(Stop { streams })
        }
        #[cfg(not(unix))]
        Ok(Stop {})
    }

    /// Until one of the signals arrives.
    pub(crate) async fn wait(&mut self) {
        #[cfg(unix)]
        {
            let waits = self.streams.iter_mut().map(|s| Box::pin(s.recv()));
            let _ = futures_util::future::select_all(waits).await;
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}
