//! Coalescing of change events into change sets, with an injectable clock.
//!
//! Pure logic: every method takes `now`, and the one question asked of the
//! file system (does a path created within the set still exist?) goes through
//! a replaceable probe, so the rules below are tested without sleeping.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{ChangeSet, RootRetarget};

/// Above this many distinct paths a set stops recording paths and asks for a
/// full reload instead (`rescan`), which bounds memory under a runaway stream.
pub const MAX_PATHS: usize = 65_536;

/// Default ceiling of the stretched quiet window (see [`Coalescer`]), and
/// the window of a set that creates something. It is also the pause that
/// must precede a change for it to be delivered at the leading edge, unless
/// it repeats the previous set's lone path.
///
/// Measured on a 2-core machine with two busy loops and other work beside
/// them (load average 7): a loop writing 500 files stalled for up to 56 ms
/// between two files (p99 28 ms); 50 ms cut such bursts in two about one
/// time in three, 100 ms leaves twice the worst stall seen.
pub const DEFAULT_BURST_QUIET: Duration = Duration::from_millis(100);

/// How long a lone complete save waits for company before it is delivered
/// (the leading-edge rule of [`Coalescer`]). A build's next file follows its
/// previous one within microseconds, so 1 ms keeps an overwriting build in
/// one set while a save is announced about 1 ms after its close.
pub const LEAD_WINDOW: Duration = Duration::from_millis(1);

/// What happened to one path, as far as coalescing cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// A file (or other non-folder entry) appeared. `awaits_close`: the
    /// platform will report when its write is complete (inotify
    /// `CLOSE_WRITE`), so the set is held until then.
    Created {
        /// Hold the set until a [`ChangeKind::Closed`] for this path.
        awaits_close: bool,
    },
    /// A folder appeared. A new folder usually gets content next, so the set
    /// waits the full burst window.
    CreatedFolder,
    /// Data was written. `awaits_close` as for [`ChangeKind::Created`].
    Written {
        /// Hold the set until a [`ChangeKind::Closed`] for this path.
        awaits_close: bool,
    },
    /// A file opened for writing was closed: its write is complete.
    Closed,
    /// The path was removed.
    Removed,
    /// The path was renamed away. The other half of the rename (its target)
    /// usually follows at once; until it does, the set waits the whole burst
    /// window, so a rename is not cut in two.
    RenamedFrom,
    /// Something was renamed onto the path (the end of an atomic save).
    RenamedTo,
    /// Any other change (metadata, an unspecific event, a file found in a new
    /// folder).
    Touched,
}

impl ChangeKind {
    /// Whether this event opens (`Some(true)`) or ends (`Some(false)`) a
    /// pending write of its path; `None` leaves it as it was.
    fn opens(self) -> Option<bool> {
        match self {
            ChangeKind::Created { awaits_close } | ChangeKind::Written { awaits_close } => {
                awaits_close.then_some(true)
            }
            ChangeKind::Closed
            | ChangeKind::Removed
            | ChangeKind::RenamedFrom
            | ChangeKind::RenamedTo => Some(false),
            ChangeKind::CreatedFolder | ChangeKind::Touched => None,
        }
    }

    fn creates(self) -> bool {
        matches!(self, ChangeKind::Created { .. } | ChangeKind::CreatedFolder)
    }
}

/// Per-path state within the pending set.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// The path's first event in this set created it: it did not exist before.
    born: bool,
    /// A write is in progress (opened, not yet closed).
    open: bool,
    last: ChangeKind,
}

/// The end of the previous set, for the leading-edge rule.
#[derive(Debug, Clone)]
struct Previous {
    /// Stamp of its last event.
    end: Instant,
    /// Its only path, when it had exactly one.
    lone: Option<PathBuf>,
}

/// Answers "does this path exist now?" for paths created within a set.
#[derive(Clone)]
struct Probe(Arc<dyn Fn(&Path) -> bool + Send + Sync>);

impl fmt::Debug for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Probe")
    }
}

fn path_exists(p: &Path) -> bool {
    // A dangling symlink is still an entry that changed.
    std::fs::symlink_metadata(p).is_ok()
}

/// Why the pending set is due when it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Due {
    /// A write is still open: only the cap ends the set.
    Held,
    /// A lone, complete in-place save: deliver after [`LEAD_WINDOW`].
    Leading,
    /// The quiet window (or the cap, if it comes first).
    Quiet,
}

/// Gathers changed paths into one [`ChangeSet`].
///
/// The rules, in order:
/// - **Held**: while a write is open (its path was created or written and
///   the platform promised a close, see [`ChangeKind`]), the set waits for
///   it: a save cut in two by a descheduled writer is still one set. Only
///   the cap (`max_delay` after the first event) ends a held set.
/// - **Leading edge**: a set that is a single complete in-place write (one
///   path, last event [`ChangeKind::Closed`], the path existed before the set,
///   no rescan) is due [`LEAD_WINDOW`] after that close. It must follow a pause of at least the burst
///   ceiling, or repeat the previous set's lone path: otherwise the first file
///   of a build's burst would split the burst. A created file is never
///   leading: it may be the temp file of an atomic save, renamed next.
/// - **Quiet window**: otherwise the set is due once no event arrived for the
///   quiet window, or `max_delay` after its first event, whichever comes
///   first. The window is `quiet × distinct paths`, at most the burst ceiling
///   ([`DEFAULT_BURST_QUIET`], see [`Coalescer::with_burst_quiet`]) and never
///   less than `quiet`. A set that creates a file or folder waits the whole
///   ceiling: it may be the first of a build's files (or a folder whose
///   files follow), or a temp file about to be renamed. So does a set with a
///   rename seen only from its source.
///
/// When the set is taken, a path created within it that no longer exists
/// (the temp file of `sed -i` or of a write-then-rename save) is left out,
/// and so is its removal or rename in the next set (the set may fall due by
/// the stamps before the rename, yet be taken after it).
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
    entries: BTreeMap<PathBuf, Entry>,
    open: usize,
    /// Entries whose first event created them.
    creations: usize,
    /// Renames seen from their source but not yet at a target.
    unpaired: usize,
    rescan: bool,
    retargeted: Vec<RootRetarget>,
    first: Option<Instant>,
    last: Option<Instant>,
    previous: Option<Previous>,
    /// Paths created within the previous set and left out of it (gone when
    /// it was taken). Their removal in this set is no change either.
    vanished: BTreeSet<PathBuf>,
    probe: Probe,
}

impl Coalescer {
    /// A coalescer with the given quiet window and cap, and the default burst
    /// ceiling.
    pub fn new(quiet: Duration, max_delay: Duration) -> Self {
        Self {
            quiet,
            burst_quiet: DEFAULT_BURST_QUIET,
            max_delay,
            entries: BTreeMap::new(),
            open: 0,
            creations: 0,
            unpaired: 0,
            rescan: false,
            retargeted: Vec::new(),
            first: None,
            last: None,
            previous: None,
            vanished: BTreeSet::new(),
            probe: Probe(Arc::new(path_exists)),
        }
    }

    /// Set the ceiling of the stretched quiet window. `Duration::ZERO` turns
    /// stretching off (the window is always `quiet`). Defaults to
    /// [`DEFAULT_BURST_QUIET`].
    pub fn with_burst_quiet(mut self, burst_quiet: Duration) -> Self {
        self.burst_quiet = burst_quiet;
        self
    }

    /// Replace the existence check used when a set is taken (for tests).
    /// Defaults to `std::fs::symlink_metadata(p).is_ok()`.
    pub fn with_probe(mut self, exists: impl Fn(&Path) -> bool + Send + Sync + 'static) -> Self {
        self.probe = Probe(Arc::new(exists));
        self
    }

    /// The quiet window for the pending set: `quiet × distinct paths`,
    /// clamped to `[quiet, max(quiet, burst ceiling)]`; the ceiling itself
    /// when something was created or half a rename is pending.
    pub fn quiet_window(&self) -> Duration {
        if self.creations > 0 || self.unpaired > 0 {
            return self.quiet.max(self.burst_quiet);
        }
        let n = u32::try_from(self.entries.len().max(1)).unwrap_or(u32::MAX);
        let stretched = self.quiet.saturating_mul(n).min(self.burst_quiet);
        stretched.max(self.quiet)
    }

    /// Record that `path` changed at `now`, kind unknown
    /// ([`ChangeKind::Touched`]).
    pub fn push(&mut self, path: PathBuf, now: Instant) {
        self.record(path, ChangeKind::Touched, now);
    }

    /// Record one event of `kind` for `path` at `now`.
    pub fn record(&mut self, path: PathBuf, kind: ChangeKind, now: Instant) {
        self.touch(now);
        match kind {
            ChangeKind::RenamedFrom => self.unpaired += 1,
            ChangeKind::RenamedTo => self.unpaired = self.unpaired.saturating_sub(1),
            _ => {}
        }
        if let Some(entry) = self.entries.get_mut(&path) {
            let was_open = entry.open;
            if let Some(open) = kind.opens() {
                entry.open = open;
            }
            entry.last = kind;
            match (was_open, entry.open) {
                (false, true) => self.open += 1,
                (true, false) => self.open -= 1,
                _ => {}
            }
            return;
        }
        if self.entries.len() >= MAX_PATHS {
            self.rescan = true;
            return;
        }
        // A temp file whose set fell due (by the stamps) before its rename
        // arrived, but was taken after it, was left out of that set: its
        // rename away here is part of the same non-change.
        let vanished = matches!(kind, ChangeKind::Removed | ChangeKind::RenamedFrom)
            && self.vanished.contains(&path);
        let entry = Entry {
            born: kind.creates() || vanished,
            open: kind.opens() == Some(true),
            last: kind,
        };
        self.open += usize::from(entry.open);
        self.creations += usize::from(kind.creates());
        self.entries.insert(path, entry);
        if self.entries.len() >= MAX_PATHS {
            self.rescan = true;
        }
    }

    /// Record that everything must be reloaded (overflow, unknown change).
    pub fn push_rescan(&mut self, now: Instant) {
        self.touch(now);
        self.rescan = true;
    }

    /// Record that a root's symlink now points elsewhere (implies a rescan).
    pub fn push_retarget(&mut self, retarget: RootRetarget, now: Instant) {
        self.push_rescan(now);
        if !self.retargeted.contains(&retarget) {
            self.retargeted.push(retarget);
        }
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

    /// Which rule decides when the pending set is due.
    fn due_rule(&self, first: Instant) -> Due {
        if self.open > 0 {
            return Due::Held;
        }
        if self.rescan || !self.retargeted.is_empty() || self.entries.len() != 1 {
            return Due::Quiet;
        }
        let Some((path, entry)) = self.entries.iter().next() else {
            return Due::Quiet;
        };
        if entry.born || entry.last != ChangeKind::Closed {
            return Due::Quiet;
        }
        let after_pause = self.previous.as_ref().is_none_or(|p| {
            p.lone.as_ref() == Some(path)
                || first.saturating_duration_since(p.end) >= self.burst_quiet
        });
        if after_pause {
            Due::Leading
        } else {
            Due::Quiet
        }
    }

    /// When the pending set becomes due, or `None` when nothing is pending.
    pub fn deadline(&self) -> Option<Instant> {
        let first = self.first?;
        let last = self.last.unwrap_or(first);
        let cap_end = first.checked_add(self.max_delay);
        let quiet_end = match self.due_rule(first) {
            Due::Leading => return Some(last.checked_add(LEAD_WINDOW).unwrap_or(last)),
            // A held set with an unrepresentable cap falls back to the window.
            Due::Held if cap_end.is_some() => return cap_end,
            Due::Held | Due::Quiet => last.checked_add(self.quiet_window()),
        };
        // An overflowing deadline (absurd durations) means "never by that rule".
        match (quiet_end, cap_end) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (Some(a), None) => Some(a),
            (None, Some(b)) => Some(b),
            (None, None) => Some(last),
        }
    }

    /// Take the pending set if it is due at `now`. `None` when nothing is due,
    /// or when everything in the due set turned out not to be a change (a temp
    /// file created and removed within it).
    pub fn take_if_due(&mut self, now: Instant) -> Option<ChangeSet> {
        match self.deadline() {
            Some(deadline) if deadline <= now => self.take(),
            _ => None,
        }
    }

    /// Take the pending set regardless of time (used when shutting down).
    /// `None` as for [`Coalescer::take_if_due`].
    pub fn take(&mut self) -> Option<ChangeSet> {
        let first = self.first.take()?;
        let end = self.last.take().unwrap_or(first);
        self.open = 0;
        self.creations = 0;
        self.unpaired = 0;
        let probe = &self.probe.0;
        let mut paths = Vec::new();
        self.vanished.clear();
        for (path, entry) in std::mem::take(&mut self.entries) {
            if !entry.born || probe(&path) {
                paths.push(path);
            } else {
                self.vanished.insert(path);
            }
        }
        let rescan = std::mem::replace(&mut self.rescan, false);
        let retargeted = std::mem::take(&mut self.retargeted);
        self.previous = Some(Previous {
            end,
            lone: (paths.len() == 1).then(|| paths[0].clone()),
        });
        if paths.is_empty() && !rescan {
            return None;
        }
        Some(ChangeSet {
            paths,
            rescan,
            retargeted,
        })
    }
}

#[cfg(test)]
mod tests;
