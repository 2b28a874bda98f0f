//! Coalescing of change events into change sets, with an injectable clock.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::ChangeSet;

/// Above this many distinct paths a set stops recording paths and asks for a
/// full reload instead (`rescan`), which bounds memory under a runaway stream.
pub const MAX_PATHS: usize = 65_536;

/// Default ceiling of the stretched quiet window (see [`Coalescer`]).
pub const DEFAULT_BURST_QUIET: Duration = Duration::from_millis(50);

/// Gathers changed paths into one [`ChangeSet`].
///
/// A set is due once no event arrived for the quiet window, or `max_delay`
/// after its first event, whichever comes first. The clock is the caller's:
/// every method takes `now`, so the logic is tested without sleeping.
///
/// The quiet window stretches with the size of the pending set: it is
/// `quiet × distinct paths`, at most the burst ceiling
/// ([`DEFAULT_BURST_QUIET`], see [`Coalescer::with_burst_quiet`]) and never
/// less than `quiet`. A single save still flushes after `quiet`, while a build
/// writing hundreds of files, whose writer or watcher thread the scheduler
/// pauses for a few milliseconds (routine on two busy cores), is not cut into
/// several reloads.
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
    burst_quiet: Duration,
    max_delay: Duration,
    paths: BTreeSet<PathBuf>,
    rescan: bool,
    first: Option<Instant>,
    last: Option<Instant>,
}

impl Coalescer {
    /// A coalescer with the given quiet window and cap, and the default burst
    /// ceiling.
    pub fn new(quiet: Duration, max_delay: Duration) -> Self {
        Self {
            quiet,
            burst_quiet: DEFAULT_BURST_QUIET,
            max_delay,
            paths: BTreeSet::new(),
            rescan: false,
            first: None,
            last: None,
        }
    }

    /// Set the ceiling of the stretched quiet window. `Duration::ZERO` turns
    /// stretching off (the window is always `quiet`). Defaults to
    /// [`DEFAULT_BURST_QUIET`].
    pub fn with_burst_quiet(mut self, burst_quiet: Duration) -> Self {
        self.burst_quiet = burst_quiet;
        self
    }

    /// The quiet window for the pending set: `quiet × distinct paths`,
    /// clamped to `[quiet, max(quiet, burst ceiling)]`.
    pub fn quiet_window(&self) -> Duration {
        let n = u32::try_from(self.paths.len().max(1)).unwrap_or(u32::MAX);
        let stretched = self.quiet.saturating_mul(n).min(self.burst_quiet);
        stretched.max(self.quiet)
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
        let quiet_end = last.checked_add(self.quiet_window());
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

    /// Twenty distinct, sorted paths.
    const FILES: [&str; 20] = [
        "/f00", "/f01", "/f02", "/f03", "/f04", "/f05", "/f06", "/f07", "/f08", "/f09", "/f10",
        "/f11", "/f12", "/f13", "/f14", "/f15", "/f16", "/f17", "/f18", "/f19",
    ];

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
                name: "burst with gaps below quiet is one set; the window stretches",
                quiet: 3,
                max: 250,
                events: vec![
                    (0, Push("/a")),
                    (2, Push("/b")),
                    (4, Push("/c")),
                    (6, Push("/d")),
                ],
                // 4 distinct paths: a 12 ms window after the last event.
                want: vec![(18, vec!["/a", "/b", "/c", "/d"], false)],
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
                want: vec![(7, vec!["/a", "/b"], false), (57, vec!["/a", "/c"], false)],
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
                want: vec![(11, vec!["/a", "/m", "/z"], false)],
            },
            Case {
                name: "repeats of one path keep the short window",
                quiet: 3,
                max: 250,
                events: vec![(0, Push("/a")), (1, Push("/a")), (2, Push("/a"))],
                want: vec![(5, vec!["/a"], false)],
            },
            Case {
                name: "a stalled burst stays one set",
                quiet: 3,
                max: 250,
                // 10 files in 10 ms (window 30 ms), a 25 ms stall, 10 more.
                events: (0..10)
                    .map(|i| (i, Push(FILES[i as usize])))
                    .chain((10..20).map(|i| (i + 25, Push(FILES[i as usize]))))
                    .collect(),
                want: vec![(44 + 50, FILES.to_vec(), false)],
            },
            Case {
                name: "the stretch is capped at the burst ceiling",
                quiet: 3,
                max: 250,
                // 20 paths: 60 ms stretched, capped at 50; a 60 ms stall splits.
                events: (0..20)
                    .map(|i| (i, Push(FILES[i as usize])))
                    .chain([(79, Push("/late"))])
                    .collect(),
                want: vec![(69, FILES.to_vec(), false), (82, vec!["/late"], false)],
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
                want: vec![(8, vec!["/a", "/b"], true), (23, vec!["/c"], false)],
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
    fn quiet_window_stretch() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut c = Coalescer::new(ms(3), ms(250));
        assert_eq!(c.quiet_window(), ms(3));
        c.push("/a".into(), t0);
        c.push("/a".into(), t0);
        assert_eq!(c.quiet_window(), ms(3), "one distinct path");
        c.push("/b".into(), t0);
        assert_eq!(c.quiet_window(), ms(6));
        for i in 0..100 {
            c.push(PathBuf::from(format!("/x{i}")), t0);
        }
        assert_eq!(c.quiet_window(), DEFAULT_BURST_QUIET);
        let mut off = Coalescer::new(ms(3), ms(250)).with_burst_quiet(Duration::ZERO);
        off.push("/a".into(), t0);
        off.push("/b".into(), t0);
        assert_eq!(off.quiet_window(), ms(3));
        // A quiet window above the ceiling is never shortened.
        let mut long = Coalescer::new(ms(500), ms(1000));
        long.push("/a".into(), t0);
        long.push("/b".into(), t0);
        assert_eq!(long.quiet_window(), ms(500));
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
        c.push("/a".into(), t0);
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
