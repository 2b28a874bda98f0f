//! The watcher thread: reads notify's events, turns them into changes under
//! the roots, keeps one watch per non-ignored folder, falls back to polling
//! when the watch limit is hit, and re-arms roots that went away.
//!
//! It hands stamped batches to the coalescer task over an unbounded tokio
//! channel (whose `send` is synchronous, so no runtime worker is ever blocked).

use std::fs;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant, SystemTime};

use notify::event::{EventKind, ModifyKind, RenameMode};
use tokio::sync::mpsc::UnboundedSender;

use super::backend::Backend;
use super::filter::{classify, kind_of, IgnoreMatcher, Relevance};
use super::roots::{Rearm, Root, Roots};
use super::types::{Batch, Hooks, InFlight, Msg};
use super::{ChangeKind, WatchError, LEAD_WINDOW};

/// How often a deleted root is looked for again.
pub(crate) const REARM_INTERVAL: Duration = Duration::from_millis(250);
/// A metadata-only event counts as a write when the file's mtime is this recent.
const RECENT_WRITE: Duration = Duration::from_secs(2);

/// What `EventLoop::new` needs.
#[derive(Debug)]
pub(crate) struct Setup {
    pub(crate) roots: Vec<Root>,
    pub(crate) ignore: IgnoreMatcher,
    pub(crate) poll: Option<Duration>,
    pub(crate) msg_tx: mpsc::Sender<Msg>,
    pub(crate) in_flight: InFlight,
    pub(crate) out: UnboundedSender<Batch>,
    pub(crate) polling: Arc<AtomicBool>,
    pub(crate) hooks: Hooks,
}

/// State owned by the watcher thread.
#[derive(Debug)]
pub(crate) struct EventLoop {
    pub(super) roots: Roots,
    pub(super) backend: Backend,
    out: UnboundedSender<Batch>,
    in_flight: InFlight,
    last_rearm: Instant,
    /// When to send the coalescer a tick after the last close (see `tick`).
    tick_due: Option<Instant>,
    /// When the symlinks of roots were last read (polling only, see `check_links`).
    last_link_check: Instant,
}

fn is_dir(p: &Path) -> bool {
    fs::symlink_metadata(p).is_ok_and(|m| m.is_dir())
}

/// What a creation of `p` is: a folder, or an entry whose write the
/// backend will report closed (a regular file, or one already gone whose kind
/// is unknown; links and special files get no close).
fn created(p: &Path, reports_close: bool) -> ChangeKind {
    match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => ChangeKind::CreatedFolder,
        Ok(m) => ChangeKind::Created {
            awaits_close: reports_close && m.is_file(),
        },
        Err(_) => ChangeKind::Created {
            awaits_close: reports_close,
        },
    }
}

/// Whether the file was written recently (what `touch` does).
fn recently_written(p: &Path) -> bool {
    let Ok(meta) = fs::metadata(p) else {
        return false;
    };
    if meta.is_dir() {
        return false;
    }
    meta.modified()
        .ok()
        .and_then(|m| SystemTime::now().duration_since(m).ok())
        .is_some_and(|age| age <= RECENT_WRITE)
}

impl EventLoop {
    /// Create the backend (native, or polling when asked or when native fails)
    /// and arm every root. Walks the trees synchronously.
    pub(crate) fn new(setup: Setup) -> Result<EventLoop, WatchError> {
        let roots = Roots::new(setup.roots, setup.ignore);
        let backend = Backend::start(
            setup.poll,
            setup.msg_tx,
            setup.in_flight.clone(),
            setup.polling,
            setup.hooks,
            &roots.first_given(),
        )?;
        let mut ev = EventLoop {
            roots,
            backend,
            out: setup.out,
            in_flight: setup.in_flight,
            last_rearm: Instant::now(),
            tick_due: None,
            last_link_check: Instant::now(),
        };
        for i in 0..ev.roots.len() {
            if let Err(e) = ev.roots.arm(i, &mut ev.backend) {
                let path = ev.roots.given(i);
                ev.fall_back_to_poll(&e, &path, false)?;
                break; // fall_back_to_poll re-armed every root
            }
        }
        Ok(ev)
    }

    /// The thread body: runs until `Shutdown`, or until the coalescer is gone.
    pub(crate) fn run(mut self, rx: mpsc::Receiver<Msg>) {
        loop {
            let msg = match self.wait() {
                Some(timeout) => match rx.recv_timeout(timeout) {
                    Ok(msg) => Some(msg),
                    Err(mpsc::RecvTimeoutError::Timeout) => None,
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                },
                None => match rx.recv() {
                    Ok(msg) => Some(msg),
                    Err(_) => break,
                },
            };
            match msg {
                Some(Msg::Shutdown) => break,
                Some(Msg::Event(Ok(event), at)) => {
                    self.on_event(event, at);
                    self.in_flight.handled();
                }
                Some(Msg::Event(Err(e), at)) => {
                    self.on_error(e, at);
                    self.in_flight.handled();
                }
                // Timed out: nothing arrived since the last message.
                None => self.tick(),
            }
            self.check_links();
            if self.roots.any_missing() && self.last_rearm.elapsed() >= REARM_INTERVAL {
                self.last_rearm = Instant::now();
                let mut batch = Batch::at(Instant::now());
                for i in 0..self.roots.len() {
                    self.rearm(i, &mut batch);
                }
                self.send(batch);
            }
            if self.out.is_closed() {
                break;
            }
        }
        tracing::debug!("file watcher stopped");
    }

    fn send(&mut self, batch: Batch) {
        if batch.is_empty() {
            return;
        }
        if batch.changes.iter().any(|c| c.kind == ChangeKind::Closed) {
            self.tick_due = batch.at.checked_add(LEAD_WINDOW);
        }
        // Err only when the coalescer is gone; the loop then stops.
        let _ = self.out.send(batch);
    }

    /// How long to wait for the next message: until a tick is due, or until
    /// missing roots are looked for again; `None` for no limit.
    fn wait(&self) -> Option<Duration> {
        let tick = self
            .tick_due
            .map(|t| t.saturating_duration_since(Instant::now()));
        let rearm = self.roots.any_missing().then_some(REARM_INTERVAL);
        let links = self.polls_links().then(|| self.backend.poll_interval());
        [tick, rearm, links].into_iter().flatten().min()
    }

    /// Whether root symlinks are read on a timer: `PollWatcher` compares
    /// mtimes at one-second resolution, so it misses a link re-pointed
    /// within a second of the previous scan.
    fn polls_links(&self) -> bool {
        self.backend.is_polling() && !self.roots.linked().is_empty()
    }

    /// When polling, read the roots' symlinks once per poll interval.
    fn check_links(&mut self) {
        if !self.polls_links() || self.last_link_check.elapsed() < self.backend.poll_interval() {
            return;
        }
        self.last_link_check = Instant::now();
        let mut batch = Batch::at(Instant::now());
        for i in self.roots.linked() {
            self.relink(i, &mut batch);
        }
        self.send(batch);
    }

    /// Called when waiting timed out. Once `LEAD_WINDOW` has passed after a
    /// close with nothing else arriving, tell the coalescer so (an empty
    /// batch stamped at the end of the window), so a lone save is delivered
    /// at once instead of at the runtime's next timer tick (tokio timers have
    /// millisecond granularity).
    fn tick(&mut self) {
        let Some(due) = self.tick_due else {
            return;
        };
        if Instant::now() >= due {
            self.tick_due = None;
            let _ = self.out.send(Batch::at(due));
        }
    }

    pub(super) fn on_event(&mut self, event: notify::Event, at: Instant) {
        let mut batch = Batch::at(at);
        batch.rescan = event.need_rescan();
        let relevance = classify(&event.kind);
        // inotify reports a rename as From, To, then Both (the two again):
        // Both says nothing new, and stamped a moment later by a descheduled
        // notify thread it would trail the rename as a second set.
        let repeat = self.backend.reports_close()
            && matches!(
                event.kind,
                EventKind::Modify(ModifyKind::Name(RenameMode::Both))
            );
        if relevance == Relevance::Drop || repeat {
            self.send(batch);
            return;
        }
        if event.paths.is_empty() {
            // A change we cannot place: reload everything.
            batch.rescan = true;
        }
        // Only removals and renames can take a root's folder away (or put a
        // new folder at its path).
        let root_affecting = matches!(
            event.kind,
            EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(_))
        );
        for (idx, p) in event.paths.iter().enumerate() {
            for i in self.roots.linked_by(p) {
                self.relink(i, &mut batch);
            }
            if root_affecting {
                for i in self.roots.watching(p) {
                    self.roots.disturbed(i, &mut self.backend);
                    self.rearm(i, &mut batch);
                }
            }
            self.on_path(&event.kind, relevance, idx, p, &mut batch);
        }
        self.send(batch);
    }

    /// One path of a relevant event: filter it, keep the watches in step, and
    /// add it to the batch.
    fn on_path(
        &mut self,
        kind: &EventKind,
        relevance: Relevance,
        idx: usize,
        p: &Path,
        batch: &mut Batch,
    ) {
        let Some((path, is_root)) = self.roots.accept(p) else {
            return;
        };
        // Polling reports a folder's mtime when its entries change; the
        // entries report themselves.
        let metadata_only = matches!(kind, EventKind::Modify(ModifyKind::Metadata(_)));
        if metadata_only && is_dir(&path) {
            return;
        }
        if relevance == Relevance::IfRecentlyWritten && !recently_written(&path) {
            return;
        }
        let reports_close = self.backend.reports_close();
        let change = match kind_of(kind, idx) {
            ChangeKind::Created { .. } => created(&path, reports_close),
            // Data is only written to regular files: no need to look.
            ChangeKind::Written { .. } => ChangeKind::Written {
                awaits_close: reports_close,
            },
            other => other,
        };
        // Roots are re-armed by `rearm` / `relink`.
        if self.backend.per_dir() && !is_root {
            self.track_structure(kind, idx, &path, batch);
        }
        batch.add(path, change);
    }

    /// Keep one watch per folder: add watches for new folders (emitting the
    /// files already inside, which a late watch would miss), drop them for
    /// removed or renamed-away ones.
    fn track_structure(&mut self, kind: &EventKind, idx: usize, path: &Path, batch: &mut Batch) {
        let gone = match kind {
            EventKind::Remove(_) => true,
            EventKind::Modify(ModifyKind::Name(RenameMode::From)) => true,
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => idx == 0,
            EventKind::Create(_) | EventKind::Modify(ModifyKind::Name(_)) | EventKind::Any => false,
            _ => return,
        };
        if gone {
            self.backend.drop_tree(path);
        }
        if is_dir(path) && !self.backend.is_watched(path) {
            match self.roots.add_tree(path, true, &mut self.backend) {
                Ok(found) => {
                    for f in found {
                        batch.add(f, ChangeKind::Touched);
                    }
                }
                Err(e) => {
                    if let Err(err) = self.fall_back_to_poll(&e, path, true) {
                        tracing::error!("file watcher: {err}");
                    }
                }
            }
        }
    }

    /// Re-arm root `i` if it is missing and back; note in `batch` what that means.
    fn rearm(&mut self, i: usize, batch: &mut Batch) {
        let outcome = self.roots.rearm(i, &mut self.backend);
        self.note(i, outcome, batch);
    }

    /// Root `i`'s symlink changed: follow it.
    fn relink(&mut self, i: usize, batch: &mut Batch) {
        if let Some(outcome) = self.roots.relink(i, &mut self.backend) {
            self.note(i, outcome, batch);
        }
    }

    fn note(&mut self, i: usize, outcome: Rearm, batch: &mut Batch) {
        let Rearm::Back { retarget, limit } = outcome else {
            return;
        };
        // Files may have been written before the new watch existed.
        batch.rescan = true;
        batch.retargeted.extend(retarget);
        if let Some(e) = limit {
            let path = self.roots.given(i);
            if let Err(err) = self.fall_back_to_poll(&e, &path, true) {
                tracing::error!("file watcher: {err}");
            }
        }
    }

    fn on_error(&mut self, e: notify::Error, at: Instant) {
        if super::backend::is_limit_error(&e) {
            let path = e.paths.first().cloned().unwrap_or_default();
            if let Err(err) = self.fall_back_to_poll(&e, &path, true) {
                tracing::error!("file watcher: {err}");
            }
            return;
        }
        let mut batch = Batch::at(at);
        for p in &e.paths {
            if fs::metadata(p).is_ok() {
                continue;
            }
            for i in self.roots.watching(p) {
                self.roots.disturbed(i, &mut self.backend);
                self.rearm(i, &mut batch);
            }
            self.backend.drop_tree(p);
        }
        self.send(batch);
        tracing::debug!("file watcher error: {e}");
    }

    /// Replace the native watcher by a `PollWatcher` and re-arm everything.
    /// `runtime`: events may have been missed, so ask for a full reload.
    fn fall_back_to_poll(
        &mut self,
        cause: &notify::Error,
        path: &Path,
        runtime: bool,
    ) -> Result<(), WatchError> {
        if !self.backend.switch_to_poll(cause, path)? {
            return Ok(());
        }
        for i in 0..self.roots.len() {
            // A PollWatcher never reports limits.
            let _ = self.roots.arm(i, &mut self.backend);
        }
        if runtime {
            self.send(Batch::rescan());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
