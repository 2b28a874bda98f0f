//! Backing off an accept loop when `accept` fails, typically because the
//! process ran out of file descriptors (EMFILE/ENFILE). Retrying at once
//! spins a core at 100% while nothing can succeed; sleeping a growing delay
//! lets connections finish and free descriptors, and the loop recovers by
//! itself as soon as an accept succeeds.

use std::time::Duration;

/// The delay schedule of an accept loop: after each failed accept, sleep
/// [`BackoffStep::delay`] (from 1 ms, doubling up to 1 s); a successful
/// accept ends the episode and resets the delay. Log once per episode: on
/// the step whose [`BackoffStep::first`] is true, and when
/// [`AcceptBackoff::succeeded`] reports the episode over.
///
/// ```no_run
/// use devserve::sockjs::AcceptBackoff;
/// # async fn run(listener: tokio::net::TcpListener) {
/// let mut backoff = AcceptBackoff::new();
/// loop {
///     match listener.accept().await {
///         Ok((tcp, _peer)) => {
///             if let Some(failures) = backoff.succeeded() {
///                 eprintln!("accepting again after {failures} failed attempts");
///             }
///             // serve `tcp`…
/// #           drop(tcp);
///         }
///         Err(error) => {
///             let step = backoff.failed();
///             if step.first {
///                 eprintln!("accept failed ({error}); backing off");
///             }
///             tokio::time::sleep(step.delay).await;
///         }
///     }
/// }
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct AcceptBackoff {
    min: Duration,
    max: Duration,
    next: Duration,
    failures: u64,
}

/// What to do after one failed accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffStep {
    /// How long to sleep before accepting again.
    pub delay: Duration,
    /// Whether this failure starts an episode (the one to log).
    pub first: bool,
}

impl Default for AcceptBackoff {
    fn default() -> Self {
        Self::new()
    }
}

impl AcceptBackoff {
    /// From 1 ms, doubling up to 1 s.
    pub fn new() -> Self {
        Self::with_limits(Duration::from_millis(1), Duration::from_secs(1))
    }

    /// From `min`, doubling up to `max` (`max` is raised to `min` when lower).
    pub fn with_limits(min: Duration, max: Duration) -> Self {
        AcceptBackoff {
            min,
            max: max.max(min),
            next: min,
            failures: 0,
        }
    }

    /// Record a failed accept: the delay to sleep, and whether it is the
    /// first failure of an episode.
    pub fn failed(&mut self) -> BackoffStep {
        let step = BackoffStep {
            delay: self.next,
            first: self.failures == 0,
        };
        self.failures += 1;
        self.next = self.next.saturating_mul(2).min(self.max);
        step
    }

    /// Record a successful accept. Ends an episode: returns how many
    /// accepts failed in it, or `None` when there was none.
    pub fn succeeded(&mut self) -> Option<u64> {
        self.next = self.min;
        let failures = std::mem::take(&mut self.failures);
        (failures > 0).then_some(failures)
    }

    /// Failed accepts in the current episode.
    pub fn failures(&self) -> u64 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn accept_backoff_doubles_to_a_second_and_logs_once_per_episode() {
        let mut backoff = AcceptBackoff::new();
        let steps: Vec<BackoffStep> = (0..13).map(|_| backoff.failed()).collect();
        let delays: Vec<u128> = steps.iter().map(|s| s.delay.as_millis()).collect();
        assert_eq!(
            delays,
            [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000, 1000, 1000]
        );
        assert_eq!(steps.iter().filter(|s| s.first).count(), 1);
        assert!(steps[0].first);
        assert_eq!(backoff.failures(), 13);
        assert_eq!(backoff.succeeded(), Some(13));
        assert_eq!(backoff.succeeded(), None, "no episode, nothing to report");
        let again = backoff.failed();
        assert_eq!(
            (again.delay, again.first),
            (MS, true),
            "a new episode starts over"
        );
    }

    #[test]
    fn accept_backoff_limits_are_ordered() {
        let mut backoff = AcceptBackoff::with_limits(10 * MS, MS);
        assert_eq!(backoff.failed().delay, 10 * MS);
        assert_eq!(backoff.failed().delay, 10 * MS);
    }
}
