//! Coalescing of change events into change sets, with an injectable clock.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::ChangeSet;

/// Above this many distinct paths a set stops recording paths and asks for a
/// full reload instead (`rescan`), which bounds memory under a runaway stream.
pub const MAX_PATHS: usize = 65_536;

/// Gathers changed paths into one [`ChangeSet`].
///
/// A set is due once no event arrived for `quiet`, or `max_delay` after its
/// first event, whichever comes first. The clock is the caller's: every method
/// takes `now`, so the logic is tested without sleeping.
///
/// ```
/// # use std::time::{Duration, Instant};
/// # use devserve::watch::Coalescer;
/// let mut c = Coalescer::new(Duration::from_millis(3), Duration::from_millis(250));
/// let t0 = Instant::now();
/// c.push("/site/a.js".into(), t0);
/// assert!(c.take_if_due(t0 + Duration::from_millis(2)).is_none());
/// let set = c.take_if_due(t0 + Duration::from_millis(3)).unwrap();
/// assert_eq!(set.paths, vec![std::path::PathBuf::from("/site/a.js")]);
/// ```
#[derive(Debug, Clone)]
pub struct Coalescer {
    quiet: Duration,
    max_delay: Duration,
    paths: BTreeSet<PathBuf>,
    rescan: bool,
    first: Option<Instant>,
    last: Option<Instant>,
}

impl Coalescer {
    /// A coalescer with the given quiet window and cap.
    pub fn new(quiet: Duration, max_delay: Duration) -> Self {
        Self {
            quiet,
            max_delay,
            paths: BTreeSet::new(),
            rescan: false,
            first: None,
            last: None,
        }
    }

    /// Record that `path` changed at `now`.
    pub fn push(&mut self, path: PathBuf, now: Instant) {
        self.touch(now);
        if self.rescan && self.paths.len() >= MAX_PATHS {
            return;
        }
        self.paths.insert(path);
        if self.paths.len() >= MAX_PATHS {
            self.rescan = true;
        }
    }

    /// Record that everything must be reloaded (overflow, unknown change).
    pub fn push_rescan(&mut self, now: Instant) {
        self.touch(now);
        self.rescan = true;
    }

    fn touch(&mut self, now: Instant) {
        if self.first.is_none() {
            self.first = Some(now);
        }
        // Never move `last` backwards if stamps arrive slightly out of order.
        self.last = Some(self.last.map_or(now, |last| last.max(now)));
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    /// When the pending set becomes due, or `None` when nothing is pending.
    pub fn deadline(&self) -> Option<Instant> {
        let first = self.first?;
        let last = self.last.unwrap_or(first);
        let quiet_end = last.checked_add(self.quiet);
        let cap_end = first.checked_add(self.max_delay);
        // An overflowing deadline (absurd durations) means "never by that rule".
        match (quiet_end, cap_end) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (Some(a), None) => Some(a),
            (None, Some(b)) => Some(b),
            (None, None) => Some(last),
        }
    }

    /// Take the pending set if it is due at `now`.
    pub fn take_if_due(&mut self, now: Instant) -> Option<ChangeSet> {
        match self.deadline() {
            Some(deadline) if deadline <= now => self.take(),
            _ => None,
        }
    }

    /// Take the pending set regardless of time (used when shutting down).
    pub fn take(&mut self) -> Option<ChangeSet> {
        self.first?;
        self.first = None;
        self.last = None;
        let paths = std::mem::take(&mut self.paths).into_iter().collect();
        let rescan = std::mem::replace(&mut self.rescan, false);
        Some(ChangeSet { paths, rescan })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy)]
    enum Ev {
        Push(&'static str),
        Rescan,
    }
    use Ev::{Push, Rescan};

    /// Replays timed events through a coalescer the way the watcher task does:
    /// before each event, every set that fell due is emitted at its deadline.
    /// Returns `(emit time in ms, sorted paths, rescan)`.
    fn simulate(quiet_ms: u64, max_ms: u64, events: &[(u64, Ev)]) -> Vec<(u64, Vec<String>, bool)> {
        let t0 = Instant::now();
        let ms = |d: Instant| d.duration_since(t0).as_millis() as u64;
        let mut c = Coalescer::new(
            Duration::from_millis(quiet_ms),
            Duration::from_millis(max_ms),
        );
        let mut out = Vec::new();
        let emit = |c: &mut Coalescer, at: Instant, out: &mut Vec<_>| {
            let set = c.take_if_due(at).expect("due at its deadline");
            let paths: Vec<String> = set
                .paths
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            out.push((ms(at), paths, set.rescan));
        };
        for &(t, ev) in events {
            let now = t0 + Duration::from_millis(t);
            while let Some(d) = c.deadline().filter(|d| *d <= now) {
                emit(&mut c, d, &mut out);
            }
            match ev {
                Push(p) => c.push(PathBuf::from(p), now),
                Rescan => c.push_rescan(now),
            }
        }
        while let Some(d) = c.deadline() {
            emit(&mut c, d, &mut out);
        }
        out
    }

    struct Case {
        name: &'static str,
        quiet: u64,
        max: u64,
        events: Vec<(u64, Ev)>,
        want: Vec<(u64, Vec<&'static str>, bool)>,
    }

    fn cases() -> Vec<Case> {
        vec![
            Case {
                name: "single event flushes after quiet",
                quiet: 3,
                max: 250,
                events: vec![(10, Push("/a"))],
                want: vec![(13, vec!["/a"], false)],
            },
            Case {
                name: "burst with gaps below quiet is one set",
                quiet: 3,
                max: 250,
                events: vec![
                    (0, Push("/a")),
                    (2, Push("/b")),
                    (4, Push("/c")),
                    (6, Push("/d")),
                ],
                want: vec![(9, vec!["/a", "/b", "/c", "/d"], false)],
            },
            Case {
                name: "gap equal to quiet splits",
                quiet: 3,
                max: 250,
                events: vec![(0, Push("/a")), (3, Push("/b"))],
                want: vec![(3, vec!["/a"], false), (6, vec!["/b"], false)],
            },
            Case {
                name: "two bursts",
                quiet: 3,
                max: 250,
                events: vec![
                    (0, Push("/a")),
                    (1, Push("/b")),
                    (50, Push("/c")),
                    (51, Push("/a")),
                ],
                want: vec![(4, vec!["/a", "/b"], false), (54, vec!["/a", "/c"], false)],
            },
            Case {
                name: "duplicates collapse and output is sorted",
                quiet: 3,
                max: 250,
                events: vec![
                    (0, Push("/z")),
                    (1, Push("/a")),
                    (1, Push("/z")),
                    (2, Push("/m")),
                    (2, Push("/a")),
                ],
                want: vec![(5, vec!["/a", "/m", "/z"], false)],
            },
            Case {
                name: "continuous stream is cut at the cap",
                quiet: 3,
                max: 10,
                events: (0..=24).map(|t| (t, Push("/a"))).collect(),
                // Sets start at 0, 10 and 20; the last one ends 3 ms after t=24.
                want: vec![
                    (10, vec!["/a"], false),
                    (20, vec!["/a"], false),
                    (27, vec!["/a"], false),
                ],
            },
            Case {
                name: "cap shorter than quiet",
                quiet: 50,
                max: 5,
                events: vec![(0, Push("/a")), (1, Push("/b"))],
                want: vec![(5, vec!["/a", "/b"], false)],
            },
            Case {
                name: "rescan alone",
                quiet: 3,
                max: 250,
                events: vec![(0, Rescan)],
                want: vec![(3, vec![], true)],
            },
            Case {
                name: "rescan merges with paths and ends with the set",
                quiet: 3,
                max: 250,
                events: vec![
                    (0, Push("/a")),
                    (1, Rescan),
                    (2, Push("/b")),
                    (20, Push("/c")),
                ],
                want: vec![(5, vec!["/a", "/b"], true), (23, vec!["/c"], false)],
            },
            Case {
                name: "zero quiet: every event is its own set",
                quiet: 0,
                max: 250,
                events: vec![(0, Push("/a")), (0, Push("/b")), (1, Push("/c"))],
                want: vec![
                    (0, vec!["/a"], false),
                    (0, vec!["/b"], false),
                    (1, vec!["/c"], false),
                ],
            },
        ]
    }

    #[test]
    fn data_driven() {
        for case in cases() {
            let got = simulate(case.quiet, case.max, &case.events);
            let want: Vec<(u64, Vec<String>, bool)> = case
                .want
                .iter()
                .map(|(t, p, r)| (*t, p.iter().map(|s| (*s).to_owned()).collect(), *r))
                .collect();
            assert_eq!(got, want, "case: {}", case.name);
        }
    }

    #[test]
    fn empty_has_no_deadline() {
        let mut c = Coalescer::new(Duration::from_millis(3), Duration::from_millis(250));
        assert!(c.is_empty());
        assert_eq!(c.deadline(), None);
        assert_eq!(c.take_if_due(Instant::now()), None);
        assert_eq!(c.take(), None);
    }

    #[test]
    fn not_due_before_deadline() {
        let t0 = Instant::now();
        let mut c = Coalescer::new(Duration::from_millis(3), Duration::from_millis(250));
        c.push("/a".into(), t0);
        assert_eq!(c.deadline(), Some(t0 + Duration::from_millis(3)));
        assert_eq!(c.take_if_due(t0 + Duration::from_millis(2)), None);
        assert!(!c.is_empty());
        let set = c.take_if_due(t0 + Duration::from_millis(3)).expect("due");
        assert_eq!(set.paths, vec![PathBuf::from("/a")]);
        assert!(c.is_empty());
    }

    #[test]
    fn out_of_order_stamps_do_not_shorten_the_window() {
        let t0 = Instant::now();
        let mut c = Coalescer::new(Duration::from_millis(10), Duration::from_millis(250));
        c.push("/a".into(), t0 + Duration::from_millis(5));
        c.push("/b".into(), t0);
        assert_eq!(c.deadline(), Some(t0 + Duration::from_millis(15)));
    }

    #[test]
    fn huge_durations_do_not_panic() {
        let t0 = Instant::now();
        let mut c = Coalescer::new(Duration::MAX, Duration::MAX);
        c.push("/a".into(), t0);
        assert!(c.deadline().is_some());
        assert!(c.take().is_some());
    }

    #[test]
    fn too_many_paths_turn_into_rescan() {
        let t0 = Instant::now();
        let mut c = Coalescer::new(Duration::from_millis(3), Duration::from_millis(250));
        for i in 0..(MAX_PATHS + 10) {
            c.push(PathBuf::from(format!("/f{i}")), t0);
        }
        let set = c.take().expect("pending");
        assert!(set.rescan);
        assert_eq!(set.paths.len(), MAX_PATHS);
    }
}
