//! Types shared by the watcher's parts: the messages the watcher thread
//! receives, the batches it hands to the coalescer task, and test hooks.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::{ChangeKind, RootRetarget};

/// Messages to the watcher thread.
#[derive(Debug)]
pub(crate) enum Msg {
    /// Something from notify's callback, stamped when the callback ran (on
    /// notify's thread, so a descheduled watcher thread does not spread the
    /// events of one kernel read over time).
    Event(notify::Result<notify::Event>, Instant),
    /// The public `Watcher` was dropped.
    Shutdown,
}

/// One path and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change {
    /// Absolute, under a canonical root.
    pub(crate) path: PathBuf,
    /// What happened.
    pub(crate) kind: ChangeKind,
}

/// Changes found at one instant, for the coalescer. An empty batch is a
/// tick: nothing else arrived until `at`.
#[derive(Debug)]
pub(crate) struct Batch {
    /// When the watcher thread received the event.
    pub(crate) at: Instant,
    /// The changed paths, in event order.
    pub(crate) changes: Vec<Change>,
    /// Reload everything.
    pub(crate) rescan: bool,
    /// Roots that now resolve elsewhere.
    pub(crate) retargeted: Vec<RootRetarget>,
}

impl Batch {
    /// An empty batch stamped `at`.
    pub(crate) fn at(at: Instant) -> Batch {
        Batch {
            at,
            changes: Vec::new(),
            rescan: false,
            retargeted: Vec::new(),
        }
    }

    /// A batch that asks for a full reload.
    pub(crate) fn rescan() -> Batch {
        Batch {
            rescan: true,
            ..Batch::at(Instant::now())
        }
    }

    /// Whether there is anything to send.
    pub(crate) fn is_empty(&self) -> bool {
        self.changes.is_empty() && !self.rescan && self.retargeted.is_empty()
    }

    /// Add a change of `kind` to `path`.
    pub(crate) fn add(&mut self, path: PathBuf, kind: ChangeKind) {
        self.changes.push(Change { path, kind });
    }
}

/// How many events notify's callback has sent that the watcher thread has
/// not finished handling. While any are in flight, the coalescer does not
/// close a set by the clock: an event stamped before the deadline may still
/// be on its way (the watcher thread can be descheduled for tens of
/// milliseconds on a busy machine).
#[derive(Debug, Clone, Default)]
pub(crate) struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    /// An event is on its way.
    pub(crate) fn sent(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    /// An event was handled (its batch, if any, is in the coalescer's queue).
    pub(crate) fn handled(&self) {
        // Paired with `sent`; never below zero.
        let _ = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    }

    /// Whether nothing is on its way.
    pub(crate) fn is_idle(&self) -> bool {
        self.0.load(Ordering::SeqCst) == 0
    }
}

/// Test hooks (never set in production).
#[derive(Debug, Default)]
pub(crate) struct Hooks {
    /// How many native `watch` calls succeed before a simulated ENOSPC.
    pub(crate) native_watch_budget: Option<usize>,
}
