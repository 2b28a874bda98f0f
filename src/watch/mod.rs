//! File watching with coalescing: notify events in, [`ChangeSet`]s out.
//!
//! ```text
//!  notify thread ──std mpsc──▶ "devserve-watch" thread ──tokio mpsc──▶ coalescer task ──▶ Receiver<ChangeSet>
//!  (callback only sends)      filter, ignore, watches,     (stamped       quiet window
//!                             poll fallback, root re-arm    batches)      + cap
//! ```
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
//!   (symlinks in the root resolved once at start), sorted and de-duplicated.
//!   Event paths are matched against both the given and the canonical root.
//! - **Coalescing**: see [`Coalescer`]. A set is emitted once no event arrived
//!   for the quiet window, or [`WatchOptions::max_delay`] after its first
//!   event. The quiet window is [`WatchOptions::quiet`] for a single changed
//!   path and stretches with the number of distinct paths pending (`quiet ×
//!   n`, at most 50 ms): on a busy 2-core machine a 500-file write stalls for
//!   3–30 ms several times, which a fixed 3 ms window cut into 3–31 sets in
//!   measurements, and the stretched window into one (or two when the write
//!   outlasts `max_delay`). Events are time-stamped on the watcher thread, so
//!   a busy runtime does not split or merge sets.
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
//!
//! # Known limits
//! - `PollWatcher` compares mtimes at one-second resolution, so in polling mode a
//!   file rewritten within the same second as the previous scan is missed.
//! - Symlinked folders inside a root are not followed.

mod coalesce;
pub(crate) mod filter;
mod manager;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc as std_mpsc, Arc};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

pub use coalesce::{Coalescer, DEFAULT_BURST_QUIET, MAX_PATHS};
use manager::{Batch, Hooks, Manager, Msg, Root, Setup};

/// Capacity of the [`ChangeSet`] channel. A slow consumer only delays sets;
/// meanwhile events keep being coalesced, never dropped.
const CHANGESET_CAPACITY: usize = 16;
/// At most this many queued batches are absorbed before the cap is re-checked.
const DRAIN_LIMIT: usize = 1024;

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
    /// number of distinct pending paths, up to 50 ms (see [`Coalescer`]).
    /// Defaults to 3 ms.
    pub quiet: Duration,
    /// Longest a continuous stream of events is held before a set is emitted;
    /// a burst that lasts longer becomes several sets. Defaults to 250 ms.
    pub max_delay: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        Self {
            paths: Vec::new(),
            ignore: Vec::new(),
            poll: None,
            quiet: Duration::from_millis(3),
            max_delay: Duration::from_millis(250),
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
    /// placed, the watcher switched backend, or a root was re-created. `paths`
    /// may then be incomplete.
    pub rescan: bool,
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

    let manager = Manager::new(Setup {
        roots,
        ignore,
        poll: opts.poll,
        msg_tx: msg_tx.clone(),
        out: batch_tx,
        polling: Arc::clone(&polling),
        hooks,
    })?;
    std::thread::Builder::new()
        .name("devserve-watch".to_owned())
        .spawn(move || manager.run(msg_rx))
        .map_err(WatchError::Thread)?;
    runtime.spawn(coalesce_task(batch_rx, set_tx, opts.quiet, opts.max_delay));

    Ok((
        Watcher {
            control: msg_tx,
            polling,
        },
        set_rx,
    ))
}

/// Turns stamped batches into change sets. Ends when the watcher thread is
/// gone (after flushing) or when the receiver was dropped.
async fn coalesce_task(
    mut rx: mpsc::UnboundedReceiver<Batch>,
    tx: mpsc::Sender<ChangeSet>,
    quiet: Duration,
    max_delay: Duration,
) {
    let mut co = Coalescer::new(quiet, max_delay);
    'outer: loop {
        let next = match co.deadline() {
            None => rx.recv().await,
            Some(deadline) => {
                tokio::select! {
                    biased;
                    batch = rx.recv() => batch,
                    () = tokio::time::sleep_until(deadline.into()) => {
                        if let Some(set) = co.take_if_due(Instant::now()) {
                            if tx.send(set).await.is_err() {
                                return;
                            }
                        }
                        continue;
                    }
                }
            }
        };
        let Some(batch) = next else {
            break;
        };
        if !absorb(&mut co, batch, &tx).await {
            return;
        }
        // Absorb the backlog before looking at the clock: queued batches carry
        // earlier stamps and may still belong to the pending set (the task can
        // run late on a busy runtime).
        let mut drained = false;
        for _ in 0..DRAIN_LIMIT {
            match rx.try_recv() {
                Ok(batch) => {
                    if !absorb(&mut co, batch, &tx).await {
                        return;
                    }
                }
                Err(mpsc::error::TryRecvError::Empty) => {
                    drained = true;
                    break;
                }
                Err(mpsc::error::TryRecvError::Disconnected) => break 'outer,
            }
        }
        if !drained {
            tokio::task::yield_now().await;
            continue;
        }
        if let Some(set) = co.take_if_due(Instant::now()) {
            if tx.send(set).await.is_err() {
                return;
            }
        }
    }
    if let Some(set) = co.take() {
        let _ = tx.send(set).await;
    }
}

/// Add one batch at its own time stamp, first emitting the pending set if it
/// was already due by then. Returns false when the receiver is gone.
async fn absorb(co: &mut Coalescer, batch: Batch, tx: &mpsc::Sender<ChangeSet>) -> bool {
    if let Some(set) = co.take_if_due(batch.at) {
        if tx.send(set).await.is_err() {
            return false;
        }
    }
    if batch.rescan {
        co.push_rescan(batch.at);
    }
    for path in batch.paths {
        co.push(path, batch.at);
    }
    true
}
