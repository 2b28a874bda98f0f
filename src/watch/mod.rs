#![deny(unreachable_pub, missing_debug_implementations)]
//! File watching with coalescing: notify events in, [`ChangeSet`]s out.
//!
//! ```text
//!  notify thread ──std mpsc──▶ "devserve-watch" thread ──tokio mpsc──▶ coalescer task ──▶ Receiver<ChangeSet>
//!  (callback only sends)       event_loop: filter,        (stamped       pump + Coalescer:
//!   backend.rs                 ignore, watches; roots.rs   batches of     held writes, leading
//!                              arms and re-arms roots      changes)       edge, quiet window, cap
//! ```
//!
//! Files: `backend.rs` (notify or polling, watch limits, the fallback),
//! `roots.rs` (locating paths under roots, arming and re-arming them),
//! `event_loop.rs` (the watcher thread), `pump.rs` (the coalescer task),
//! `coalesce.rs` (pure coalescing rules), `filter.rs` (which events count,
//! ignores), `types.rs` (what they pass each other).
//!
//! # Behaviour
//! - **Events that count**: Create, Remove, Modify(Data | Name | Any |
//!   Metadata(WriteTime)), `Access(Close(Write))`, and `Any`. Other Access and
//!   metadata-only events are dropped, except that an unspecific metadata event
//!   (inotify `IN_ATTRIB`) counts when the file's mtime is under 2 s old: that
//!   is `utimensat` setting both times, as `touch` and `os.utime` do, while a
//!   `chmod` of an old file stays silent. Both paths of a rename count. An atomic save
//!   (`.a.js.tmp` renamed over `a.js`) reports `a.js`; the temp name is ignored.
//! - **Ignored**: `.git`, `node_modules` and `target` anywhere below a root,
//!   editor temp files (`*~`, `.*.swp`, `.*.swx`, `4913`, `.#*`,
//!   `*___jb_tmp___`, `*___jb_old___`, `*.tmp`, `.DS_Store`) and the
//!   [`WatchOptions::ignore`] globs. Patterns are tested against each component
//!   and each root-relative prefix of a path, so naming a folder ignores its tree.
//! - **One watch per folder** (inotify and polling): the tree is walked and
//!   every non-ignored folder gets its own non-recursive watch, so ignored
//!   folders cost no inotify watches and no poll scans. New folders are watched
//!   as they appear and the files already in them are reported (they may have
//!   been written before the watch existed). Other native backends (FSEvents,
//!   Windows) are recursive by nature and get one recursive watch per root,
//!   with ignored paths filtered out.
//! - **Single files** as roots: the parent folder is watched (a watch on the
//!   file itself would die at the first atomic save) and events are filtered
//!   to that file.
//! - **Paths** in a [`ChangeSet`] are absolute, under the *canonical* root
//!   (symlinks in the root resolved at start and on every re-arm), sorted and
//!   de-duplicated. Event paths are matched against both the given and the
//!   canonical root.
//! - **Coalescing**: see [`Coalescer`]. Each event is stamped in notify's
//!   callback and classified ([`ChangeKind`]). Where the platform reports the
//!   close of a written file (inotify `CLOSE_WRITE`), a set is held while a
//!   write is open, so one save is one set however the writer is scheduled;
//!   elsewhere (polling, FSEvents, Windows) the quiet window alone decides. A
//!   lone complete in-place save is delivered at the leading edge
//!   ([`LEAD_WINDOW`] after its close); anything else once no event arrived
//!   for the quiet window ([`WatchOptions::quiet`] for one path, stretching
//!   with the number of distinct paths, `quiet × n`, at most
//!   [`DEFAULT_BURST_QUIET`], which a set that creates something always
//!   waits), or [`WatchOptions::max_delay`] after its first event. On a busy
//!   2-core machine a 500-file write stalls for 3–56 ms several times, which
//!   a fixed 3 ms window cut into 3–31 sets in measurements, and the
//!   stretched window into one (or two when the write outlasts `max_delay`).
//! - **Temp files**: a path created within a set that no longer exists when
//!   the set is closed is left out (the `sedXXXXXX` of `sed -i`,
//!   `site.css.tmp.123`, any write-temp-then-rename save), so an atomic save
//!   reports its target only.
//! - **Watch limit**: inotify ENOSPC / EMFILE / `MaxFilesWatch`, at start or
//!   later, switches to notify's `PollWatcher` (every 500 ms unless
//!   [`WatchOptions::poll`] says otherwise) and logs one `tracing::warn!`
//!   naming `sudo sysctl fs.inotify.max_user_watches=524288` and `--poll`. A
//!   native backend that cannot start at all (ENOSYS in some containers) falls
//!   back the same way. [`Watcher::is_polling`] says which one is active.
//! - **Root deleted and re-created**: the deletion is seen (inotify
//!   `DELETE_SELF`/`MOVE_SELF` on the root, or the poller's error/remove for
//!   it); its watches are dropped and the root's path is checked every 250 ms
//!   (a `stat`, no inotify watch on the parent). When it exists again it is
//!   re-resolved, re-armed, and a `rescan` change set is sent, since files may
//!   have been written before the new watch existed.
//! - **Symlinked roots**: when a folder root is a symlink, the folder holding
//!   the link is watched too (its entries only), so re-pointing the link
//!   (`ln -sfn b2 dist`) is seen: the root is resolved again, its new target
//!   armed, and a `rescan` set names it in [`ChangeSet::retargeted`]. When
//!   polling, the link is read once per poll interval instead (the poller's
//!   one-second mtimes miss a quick re-point). A real root replaced by a
//!   symlink is followed the same way, with a warning.
//!
//! # Known limits
//! - `PollWatcher` compares mtimes at one-second resolution, so in polling mode a
//!   file rewritten within the same second as the previous scan is missed.
//! - Symlinked folders inside a root are not followed, and of a root's path
//!   only its last component is followed as a link.
//! - A build that rewrites existing files with pauses of more than
//!   [`LEAD_WINDOW`] between its first and second file (its writer
//!   descheduled right there) announces the first file alone.
//! - A hard link (`link(2)`) is held like an open write until `max_delay`,
//!   since no close follows; symlinks, folders and special files are not.

mod backend;
mod coalesce;
mod event_loop;
pub(crate) mod filter;
mod pump;
mod roots;
#[cfg(test)]
mod tests;
mod types;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc as std_mpsc, Arc};
use std::time::Duration;

use tokio::sync::mpsc;

pub use coalesce::{ChangeKind, Coalescer, DEFAULT_BURST_QUIET, LEAD_WINDOW, MAX_PATHS};
use event_loop::{EventLoop, Setup};
use roots::Root;
use types::{Hooks, InFlight, Msg};

/// Default [`WatchOptions::quiet`]: the quiet window of a set that is not a
/// lone complete save. Writes are held until closed where the platform says
/// so, so the window only has to bridge the steps *between* writes (the
/// rename of an atomic save, the next file of a build), which a descheduled
/// writer on a busy 2-core machine stretches to several milliseconds.
pub const DEFAULT_QUIET: Duration = Duration::from_millis(20);

/// Default [`WatchOptions::max_delay`]: the longest a set is held, even while
/// a write stays open.
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(1);

/// Capacity of the [`ChangeSet`] channel. A slow consumer only delays sets;
/// meanwhile events keep being coalesced, never dropped.
const CHANGESET_CAPACITY: usize = 16;

/// What to watch and how.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// Folders (or single files) to watch recursively. Each must exist.
    pub paths: Vec<PathBuf>,
    /// Extra glob patterns (globset syntax) to ignore, matched against the
    /// root-relative path, each of its prefixes and each component.
    /// Defaults to none (the built-in ignores always apply).
    pub ignore: Vec<String>,
    /// `Some(interval)` polls with notify's `PollWatcher` instead of using the
    /// native backend. Defaults to `None`.
    pub poll: Option<Duration>,
    /// Coalescing quiet window for a single changed path; it stretches with the
    /// number of distinct pending paths, up to [`DEFAULT_BURST_QUIET`] (see
    /// [`Coalescer`]). A lone complete save does not wait for it (see
    /// [`LEAD_WINDOW`]); a set that creates something waits the whole burst
    /// window.
    /// Defaults to [`DEFAULT_QUIET`].
    pub quiet: Duration,
    /// Longest a continuous stream of events (or an open write) is held
    /// before a set is emitted; a burst that lasts longer becomes several
    /// sets. Defaults to [`DEFAULT_MAX_DELAY`].
    pub max_delay: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        Self {
            paths: Vec::new(),
            ignore: Vec::new(),
            poll: None,
            quiet: DEFAULT_QUIET,
            max_delay: DEFAULT_MAX_DELAY,
        }
    }
}

impl WatchOptions {
    /// Default options for the given paths.
    pub fn new<I, P>(paths: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<PathBuf>,
    {
        Self {
            paths: paths.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }
}

/// One coalesced batch of changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeSet {
    /// Changed paths: absolute (under the canonical root), de-duplicated, sorted.
    pub paths: Vec<PathBuf>,
    /// Reload everything: the event queue overflowed, a change could not be
    /// placed, the watcher switched backend, or a root was re-created or
    /// re-targeted. `paths` may then be incomplete.
    pub rescan: bool,
    /// Roots that now resolve to a different folder (a symlinked root was
    /// pointed elsewhere, or a root was replaced by a symlink). Whoever serves
    /// from a root should resolve it again. Non-empty implies `rescan`.
    pub retargeted: Vec<RootRetarget>,
}

/// A watch root that now resolves to a different folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootRetarget {
    /// The root as given in [`WatchOptions::paths`], made absolute.
    pub root: PathBuf,
    /// Its new canonical folder. Later [`ChangeSet::paths`] are under it.
    pub target: PathBuf,
}

/// Errors from [`Watcher::start`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    /// A path to watch does not exist.
    #[error("path to watch not found: {}", .0.display())]
    PathNotFound(PathBuf),
    /// The inotify limit was hit and the polling fallback could not start.
    /// (Normally the limit only triggers the fallback and a warning.)
    #[error("file watch limit reached while watching {}: {hint}", path.display())]
    WatchLimit {
        /// The path being watched when the limit was hit.
        path: PathBuf,
        /// How to raise the limit.
        hint: String,
    },
    /// An ignore pattern is not a valid glob.
    #[error("invalid ignore pattern {pattern:?}: {source}")]
    InvalidIgnore {
        /// The pattern as given.
        pattern: String,
        /// globset's complaint.
        #[source]
        source: globset::Error,
    },
    /// An I/O error while resolving a path to watch.
    #[error("cannot watch {}: {source}", path.display())]
    Io {
        /// The path as given.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The watcher thread could not be started.
    #[error("cannot start the file watcher thread: {0}")]
    Thread(#[source] std::io::Error),
    /// Any other error from notify.
    #[error("file watcher error: {0}")]
    Notify(#[from] notify::Error),
    /// [`Watcher::start`] was called outside a tokio runtime.
    #[error("the file watcher must be started from within a tokio runtime")]
    NoRuntime,
}

/// A running watcher. Dropping it stops watching; the [`ChangeSet`] receiver
/// then yields any pending set and ends.
#[derive(Debug)]
pub struct Watcher {
    control: std_mpsc::Sender<Msg>,
    polling: Arc<AtomicBool>,
}

impl Watcher {
    /// Start watching. Must be called from within a tokio runtime with timers
    /// enabled (`#[tokio::main]` or `Builder::enable_all`): the coalescer is a
    /// task on it. Resolves the roots and walks their trees synchronously, so
    /// it returns only once everything is watched (for a very large tree, call
    /// it from `spawn_blocking`).
    pub fn start(opts: WatchOptions) -> Result<(Watcher, mpsc::Receiver<ChangeSet>), WatchError> {
        start_inner(opts, Hooks::default())
    }

    /// Whether notify's `PollWatcher` is in use (asked for, or a fallback).
    pub fn is_polling(&self) -> bool {
        self.polling.load(Ordering::SeqCst)
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        // Err: the thread already stopped.
        let _ = self.control.send(Msg::Shutdown);
    }
}

fn start_inner(
    opts: WatchOptions,
    hooks: Hooks,
) -> Result<(Watcher, mpsc::Receiver<ChangeSet>), WatchError> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| WatchError::NoRuntime)?;
    let ignore = filter::IgnoreMatcher::new(&opts.ignore)
        .map_err(|(pattern, source)| WatchError::InvalidIgnore { pattern, source })?;
    let roots = opts
        .paths
        .iter()
        .map(|p| Root::resolve(p))
        .collect::<Result<Vec<_>, _>>()?;

    let (msg_tx, msg_rx) = std_mpsc::channel();
    let (batch_tx, batch_rx) = mpsc::unbounded_channel();
    let (set_tx, set_rx) = mpsc::channel(CHANGESET_CAPACITY);
    let polling = Arc::new(AtomicBool::new(false));
    let in_flight = InFlight::default();

    let event_loop = EventLoop::new(Setup {
        roots,
        ignore,
        poll: opts.poll,
        msg_tx: msg_tx.clone(),
        in_flight: in_flight.clone(),
        out: batch_tx,
        polling: Arc::clone(&polling),
        hooks,
    })?;
    // The thread logs to the caller's subscriber, as `start` itself does.
    let dispatch = tracing::dispatcher::get_default(Clone::clone);
    std::thread::Builder::new()
        .name("devserve-watch".to_owned())
        .spawn(move || tracing::dispatcher::with_default(&dispatch, || event_loop.run(msg_rx)))
        .map_err(WatchError::Thread)?;
    let coalescer = Coalescer::new(opts.quiet, opts.max_delay);
    runtime.spawn(pump::run(batch_rx, set_tx, coalescer, in_flight));

    Ok((
        Watcher {
            control: msg_tx,
            polling,
        },
        set_rx,
    ))
}
