//! The heartbeat clock of one receiver: due after `delay` without output.
//!
//! One timer lives as long as the receiver. Sending something only records
//! the time; the timer is moved when it fires early, not on every message,
//! so a busy session (a broadcast to thousands) touches the timer wheel
//! once per heartbeat period instead of once per message.

use std::pin::Pin;
use std::time::Duration;
use tokio::time::{sleep_until, Instant, Sleep};

/// When the next heartbeat is due.
#[derive(Debug)]
pub(crate) struct Heartbeat {
    delay: Duration,
    last_output: Instant,
    timer: Pin<Box<Sleep>>,
}

impl Heartbeat {
    /// A clock that is due `delay` from now.
    pub(crate) fn new(delay: Duration) -> Self {
        let now = Instant::now();
        Heartbeat {
            delay,
            last_output: now,
            timer: Box::pin(sleep_until(now + delay)),
        }
    }

    /// Something went out: the heartbeat is due `delay` from now.
    pub(crate) fn output(&mut self) {
        self.last_output = Instant::now();
    }

    /// Resolves once `delay` has passed since the last output. Cancel-safe:
    /// dropping it before it resolves loses nothing.
    pub(crate) async fn due(&mut self) {
        loop {
            self.timer.as_mut().await;
            let due = self.last_output + self.delay;
            if due <= Instant::now() {
                // Re-armed for the period after this heartbeat; the caller
                // records the heartbeat itself with `output`.
                self.timer.as_mut().reset(due + self.delay);
                return;
            }
            self.timer.as_mut().reset(due);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn due_after_the_delay_without_output() {
        let start = Instant::now();
        let mut heartbeat = Heartbeat::new(Duration::from_secs(25));
        heartbeat.due().await;
        assert_eq!(start.elapsed(), Duration::from_secs(25));
        heartbeat.output();
        heartbeat.due().await;
        assert_eq!(start.elapsed(), Duration::from_secs(50));
    }

    #[tokio::test(start_paused = true)]
    async fn output_postpones_the_heartbeat() {
        let start = Instant::now();
        let mut heartbeat = Heartbeat::new(Duration::from_secs(25));
        tokio::time::sleep(Duration::from_secs(10)).await;
        heartbeat.output();
        heartbeat.due().await;
        assert_eq!(start.elapsed(), Duration::from_secs(35));
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_wait_loses_nothing() {
        let start = Instant::now();
        let mut heartbeat = Heartbeat::new(Duration::from_secs(25));
        let early = tokio::time::timeout(Duration::from_secs(5), heartbeat.due()).await;
        assert!(early.is_err(), "not due yet");
        heartbeat.due().await;
        assert_eq!(start.elapsed(), Duration::from_secs(25));
    }
}
