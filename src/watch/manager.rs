//! The watcher thread: owns notify's watcher, filters its events, keeps one
//! watch per non-ignored directory, falls back to polling, and re-arms deleted roots.
//!
//! notify's callback only pushes onto a std channel (never blocks); this thread
//! does the rest and hands stamped batches to the coalescer task over an
//! unbounded tokio channel (whose `send` is synchronous, so no runtime worker
//! is ever blocked).

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant, SystemTime};

use notify::event::{EventKind, ModifyKind, RenameMode};
use notify::{RecursiveMode, Watcher as _};
use tokio::sync::mpsc::UnboundedSender;

use super::filter::{classify, IgnoreMatcher, Relevance};
use super::WatchError;

/// How often a deleted root is looked for again.
pub(crate) const REARM_INTERVAL: Duration = Duration::from_millis(250);
/// Poll interval used by the watch-limit fallback unless `WatchOptions::poll` gives one.
pub(crate) const FALLBACK_POLL_INTERVAL: Duration = Duration::from_millis(500);
/// A metadata-only event counts as a write when the file's mtime is this recent.
const RECENT_WRITE: Duration = Duration::from_secs(2);

/// Folders nested deeper than this below a new folder are not walked (a bind
/// mount can make a tree infinitely deep).
const MAX_DEPTH: usize = 128;

const ENOSPC: i32 = 28;
const EMFILE: i32 = 24;

/// Messages to the watcher thread.
pub(crate) enum Msg {
    /// Something from notify's callback.
    Event(notify::Result<notify::Event>),
    /// The public `Watcher` was dropped.
    Shutdown,
}

/// Changed paths found at one instant, for the coalescer.
#[derive(Debug)]
pub(crate) struct Batch {
    /// When the watcher thread received the event.
    pub(crate) at: Instant,
    /// Absolute paths under the canonical roots.
    pub(crate) paths: Vec<PathBuf>,
    /// Reload everything.
    pub(crate) rescan: bool,
}

/// Test hooks (never set in production).
#[derive(Debug, Default)]
pub(crate) struct Hooks {
    /// How many native `watch` calls succeed before a simulated ENOSPC.
    pub(crate) native_watch_budget: Option<usize>,
}

/// One watched path as given by the user.
#[derive(Debug)]
pub(crate) struct Root {
    /// Absolute, as given (symlinks not resolved).
    pub(crate) given: PathBuf,
    /// Canonical. For a file root: canonical parent joined with the file name.
    pub(crate) canonical: PathBuf,
    /// A single file: its parent folder is watched and events filtered to the file.
    pub(crate) is_file: bool,
    /// The folder to watch disappeared; it is looked for every `REARM_INTERVAL`.
    pub(crate) missing: bool,
}

impl Root {
    /// Resolve a user path. Fails when it does not exist.
    pub(crate) fn resolve(path: &Path) -> Result<Root, WatchError> {
        let given = std::path::absolute(path).map_err(|source| WatchError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let meta = fs::metadata(&given).map_err(|source| {
            if source.kind() == io::ErrorKind::NotFound {
                WatchError::PathNotFound(path.to_path_buf())
            } else {
                WatchError::Io {
                    path: path.to_path_buf(),
                    source,
                }
            }
        })?;
        let is_file = !meta.is_dir();
        let canonical = canonical_of(&given, is_file).map_err(|source| WatchError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Root {
            given,
            canonical,
            is_file,
            missing: false,
        })
    }

    fn watch_dir(&self) -> &Path {
        if self.is_file {
            self.canonical.parent().unwrap_or(&self.canonical)
        } else {
            &self.canonical
        }
    }

    fn given_watch_dir(&self) -> &Path {
        if self.is_file {
            self.given.parent().unwrap_or(&self.given)
        } else {
            &self.given
        }
    }

    /// Whether `p` names this root's watched folder (in either spelling).
    fn is_watch_dir(&self, p: &Path) -> bool {
        p == self.watch_dir() || p == self.given_watch_dir()
    }
}

/// Canonical form of a root: the path itself for a folder, the canonical
/// parent plus the file name for a file (an atomic save replaces the file, so
/// a symlinked file is followed at its own name, not its target).
fn canonical_of(given: &Path, is_file: bool) -> io::Result<PathBuf> {
    if is_file {
        if let (Some(parent), Some(name)) = (given.parent(), given.file_name()) {
            return Ok(fs::canonicalize(parent)?.join(name));
        }
    }
    fs::canonicalize(given)
}

enum Backend {
    Native(notify::RecommendedWatcher),
    Poll(notify::PollWatcher),
}

/// Outcome of one `watch` call.
enum Armed {
    Ok,
    Gone,
    Failed,
    Limit(notify::Error),
}

/// Whether a notify error means the inotify watch/instance limit was hit.
pub(crate) fn is_limit_error(e: &notify::Error) -> bool {
    match &e.kind {
        notify::ErrorKind::MaxFilesWatch => true,
        notify::ErrorKind::Io(io) => matches!(io.raw_os_error(), Some(ENOSPC) | Some(EMFILE)),
        _ => false,
    }
}

/// The help text for a limit error.
pub(crate) fn limit_hint(e: &notify::Error) -> String {
    let instances =
        matches!(&e.kind, notify::ErrorKind::Io(io) if io.raw_os_error() == Some(EMFILE));
    let mut hint = String::from(
        "raise the limit with `sudo sysctl fs.inotify.max_user_watches=524288` \
         (add `fs.inotify.max_user_watches=524288` to /etc/sysctl.conf to keep it)",
    );
    if instances {
        hint.push_str(" and `sudo sysctl fs.inotify.max_user_instances=512`");
    }
    hint.push_str(", or pass `--poll` to always poll");
    hint
}

fn handler(tx: mpsc::Sender<Msg>) -> impl FnMut(notify::Result<notify::Event>) + Send + 'static {
    move |res| {
        // The thread is gone only while shutting down: nothing left to tell.
        let _ = tx.send(Msg::Event(res));
    }
}

fn is_dir(p: &Path) -> bool {
    fs::symlink_metadata(p).is_ok_and(|m| m.is_dir())
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

/// State owned by the watcher thread.
pub(crate) struct Manager {
    roots: Vec<Root>,
    ignore: IgnoreMatcher,
    backend: Backend,
    /// Folders with a (non-recursive, or recursive for the root on non-inotify
    /// native backends) watch.
    watched: BTreeSet<PathBuf>,
    msg_tx: mpsc::Sender<Msg>,
    out: UnboundedSender<Batch>,
    polling: Arc<AtomicBool>,
    poll_interval: Duration,
    warned: bool,
    hooks: Hooks,
    last_rearm: Instant,
}

/// What `Manager::new` needs.
pub(crate) struct Setup {
    pub(crate) roots: Vec<Root>,
    pub(crate) ignore: IgnoreMatcher,
    pub(crate) poll: Option<Duration>,
    pub(crate) msg_tx: mpsc::Sender<Msg>,
    pub(crate) out: UnboundedSender<Batch>,
    pub(crate) polling: Arc<AtomicBool>,
    pub(crate) hooks: Hooks,
}

impl Manager {
    /// Create the backend (native, or polling when asked or when native fails)
    /// and arm every root. Walks the trees synchronously.
    pub(crate) fn new(setup: Setup) -> Result<Manager, WatchError> {
        let Setup {
            roots,
            ignore,
            poll,
            msg_tx,
            out,
            polling,
            hooks,
        } = setup;
        let poll_interval = poll.unwrap_or(FALLBACK_POLL_INTERVAL);
        let mut warned = false;
        let backend = match poll {
            Some(interval) => Backend::Poll(new_poll(&msg_tx, interval)?),
            None => match notify::recommended_watcher(handler(msg_tx.clone())) {
                Ok(w) => Backend::Native(w),
                Err(e) => {
                    warn_fallback(&e, None, poll_interval);
                    warned = true;
                    let first = roots.first().map(|r| r.given.clone()).unwrap_or_default();
                    Backend::Poll(new_poll(&msg_tx, poll_interval).map_err(|_| {
                        WatchError::WatchLimit {
                            path: first,
                            hint: limit_hint(&e),
                        }
                    })?)
                }
            },
        };
        polling.store(matches!(backend, Backend::Poll(_)), Ordering::SeqCst);
        let mut m = Manager {
            roots,
            ignore,
            backend,
            watched: BTreeSet::new(),
            msg_tx,
            out,
            polling,
            poll_interval,
            warned,
            hooks,
            last_rearm: Instant::now(),
        };
        for i in 0..m.roots.len() {
            if let Err(e) = m.arm_root(i) {
                let path = m.roots[i].given.clone();
                m.fall_back_to_poll(&e, &path, false)?;
                break; // fall_back_to_poll re-armed every root
            }
        }
        Ok(m)
    }

    /// The thread body: runs until `Shutdown`, or until the coalescer is gone.
    pub(crate) fn run(mut self, rx: mpsc::Receiver<Msg>) {
        loop {
            let any_missing = self.roots.iter().any(|r| r.missing);
            let msg = if any_missing {
                match rx.recv_timeout(REARM_INTERVAL) {
                    Ok(msg) => Some(msg),
                    Err(mpsc::RecvTimeoutError::Timeout) => None,
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
            } else {
                match rx.recv() {
                    Ok(msg) => Some(msg),
                    Err(_) => break,
                }
            };
            match msg {
                Some(Msg::Shutdown) => break,
                Some(Msg::Event(Ok(event))) => self.on_event(event),
                Some(Msg::Event(Err(e))) => self.on_error(e),
                None => {}
            }
            if self.roots.iter().any(|r| r.missing) && self.last_rearm.elapsed() >= REARM_INTERVAL {
                self.last_rearm = Instant::now();
                self.rearm_missing();
            }
            if self.out.is_closed() {
                break;
            }
        }
        tracing::debug!("file watcher stopped");
    }

    fn per_dir(&self) -> bool {
        matches!(self.backend, Backend::Poll(_))
            || cfg!(any(target_os = "linux", target_os = "android"))
    }

    fn send(&self, batch: Batch) {
        if !batch.paths.is_empty() || batch.rescan {
            // Err only when the coalescer is gone; the loop then stops.
            let _ = self.out.send(batch);
        }
    }

    /// The root that contains `p` (the most specific one), and `p` relative to it.
    fn locate(&self, p: &Path) -> Option<(usize, PathBuf)> {
        let mut best: Option<(usize, usize, PathBuf)> = None;
        for (i, root) in self.roots.iter().enumerate() {
            for base in [&root.canonical, &root.given] {
                let Ok(rel) = p.strip_prefix(base) else {
                    continue;
                };
                if root.is_file && !rel.as_os_str().is_empty() {
                    continue;
                }
                let depth = base.components().count();
                if best.as_ref().is_none_or(|b| depth > b.1) {
                    best = Some((i, depth, rel.to_path_buf()));
                }
                break;
            }
        }
        best.map(|(i, _, rel)| (i, rel))
    }

    /// `p` in canonical spelling, when it is under a root and not ignored,
    /// and whether it is a root itself.
    fn accept(&self, p: &Path) -> Option<(PathBuf, bool)> {
        let (i, rel) = self.locate(p)?;
        if self.ignore.is_ignored(&rel) {
            return None;
        }
        let root = &self.roots[i].canonical;
        Some(if rel.as_os_str().is_empty() {
            (root.clone(), true)
        } else {
            (root.join(rel), false)
        })
    }

    fn on_event(&mut self, event: notify::Event) {
        let mut batch = Batch {
            at: Instant::now(),
            paths: Vec::new(),
            rescan: event.need_rescan(),
        };
        let relevance = classify(&event.kind);
        if relevance == Relevance::Drop {
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
        // Polling reports a folder's mtime when its entries change; the entries
        // report themselves.
        let metadata_only = matches!(event.kind, EventKind::Modify(ModifyKind::Metadata(_)));
        for (idx, p) in event.paths.iter().enumerate() {
            if root_affecting {
                let hit: Vec<usize> = (0..self.roots.len())
                    .filter(|&i| !self.roots[i].missing && self.roots[i].is_watch_dir(p))
                    .collect();
                for i in hit {
                    batch.rescan |= self.root_disturbed(i);
                }
            }
            let Some((path, is_root)) = self.accept(p) else {
                continue;
            };
            if metadata_only && is_dir(&path) {
                continue;
            }
            if relevance == Relevance::IfRecentlyWritten && !recently_written(&path) {
                continue;
            }
            // Roots are re-armed by `root_disturbed` / `rearm_missing`.
            if self.per_dir() && !is_root {
                self.track_structure(&event.kind, idx, &path, &mut batch);
            }
            batch.paths.push(path);
        }
        self.send(batch);
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
            self.drop_tree(path);
        }
        if is_dir(path) && !self.watched.contains(path) {
            match self.add_tree(path, true) {
                Ok(found) => batch.paths.extend(found),
                Err(e) => {
                    if let Err(err) = self.fall_back_to_poll(&e, path, true) {
                        tracing::error!("file watcher: {err}");
                    }
                }
            }
        }
    }

    /// A root's folder was removed or renamed: drop its watches and re-arm
    /// at once if it is already back, else mark it missing. Returns whether
    /// a full reload is due.
    fn root_disturbed(&mut self, i: usize) -> bool {
        let dir = self.roots[i].watch_dir().to_path_buf();
        if self.roots[i].is_file {
            self.unwatch_one(&dir);
        } else {
            self.drop_tree(&dir);
        }
        self.roots[i].missing = true;
        tracing::debug!(root = %self.roots[i].given.display(), "watch root disappeared");
        self.try_rearm(i)
    }

    fn rearm_missing(&mut self) {
        let mut rescan = false;
        for i in 0..self.roots.len() {
            if self.roots[i].missing {
                rescan |= self.try_rearm(i);
            }
        }
        if rescan {
            self.send(Batch {
                at: Instant::now(),
                paths: Vec::new(),
                rescan: true,
            });
        }
    }

    /// Re-arm a missing root if its folder exists again. Returns whether it did.
    fn try_rearm(&mut self, i: usize) -> bool {
        let root = &self.roots[i];
        let dir = if root.is_file {
            root.given_watch_dir()
        } else {
            &root.given
        };
        if !fs::metadata(dir).is_ok_and(|m| m.is_dir()) {
            return false;
        }
        // The folder may be a new symlink target: resolve it again.
        if let Ok(canonical) = canonical_of(&root.given, root.is_file) {
            self.roots[i].canonical = canonical;
        }
        self.roots[i].missing = false;
        tracing::debug!(root = %self.roots[i].given.display(), "watch root is back; re-armed");
        if let Err(e) = self.arm_root(i) {
            let path = self.roots[i].given.clone();
            if let Err(err) = self.fall_back_to_poll(&e, &path, true) {
                tracing::error!("file watcher: {err}");
            }
        }
        true
    }

    /// Watch one root: its folder tree, or a file root's parent folder.
    fn arm_root(&mut self, i: usize) -> Result<(), notify::Error> {
        let root = &self.roots[i];
        if root.missing {
            return Ok(());
        }
        let dir = root.watch_dir().to_path_buf();
        if root.is_file {
            match self.watch_one(&dir) {
                Armed::Limit(e) => Err(e),
                _ => Ok(()),
            }
        } else {
            self.add_tree(&dir, false).map(drop)
        }
    }

    /// Watch `dir` and every non-ignored folder below it. With `emit_files`,
    /// returns the files found (they may predate the watch).
    fn add_tree(&mut self, dir: &Path, emit_files: bool) -> Result<Vec<PathBuf>, notify::Error> {
        let mut found = Vec::new();
        let mut stack = vec![(dir.to_path_buf(), 0usize)];
        while let Some((d, depth)) = stack.pop() {
            match self.watch_one(&d) {
                Armed::Ok => {}
                Armed::Gone | Armed::Failed => continue,
                Armed::Limit(e) => return Err(e),
            }
            if !self.per_dir() {
                continue; // one recursive watch covers the tree
            }
            if depth >= MAX_DEPTH {
                tracing::debug!(path = %d.display(), "folder nesting too deep; not descending");
                continue;
            }
            let Ok(entries) = fs::read_dir(&d) else {
                continue;
            };
            for entry in entries.flatten() {
                let p = entry.path();
                if self.accept(&p).is_none() {
                    continue; // ignored: not watched, not walked
                }
                match entry.file_type() {
                    Ok(ft) if ft.is_dir() => stack.push((p, depth + 1)),
                    Ok(_) if emit_files => found.push(p),
                    _ => {}
                }
            }
        }
        Ok(found)
    }

    fn watch_one(&mut self, dir: &Path) -> Armed {
        if self.watched.contains(dir) {
            return Armed::Ok;
        }
        let mode = if self.per_dir() {
            RecursiveMode::NonRecursive
        } else {
            RecursiveMode::Recursive
        };
        let res = match &mut self.backend {
            Backend::Native(w) => match &mut self.hooks.native_watch_budget {
                Some(0) => Err(notify::Error::io(io::Error::from_raw_os_error(ENOSPC))),
                Some(n) => {
                    *n -= 1;
                    w.watch(dir, mode)
                }
                None => w.watch(dir, mode),
            },
            Backend::Poll(w) => w.watch(dir, mode),
        };
        match res {
            Ok(()) => {
                self.watched.insert(dir.to_path_buf());
                Armed::Ok
            }
            Err(e) if is_limit_error(&e) => Armed::Limit(e.add_path(dir.to_path_buf())),
            Err(e) => match &e.kind {
                notify::ErrorKind::PathNotFound => Armed::Gone,
                notify::ErrorKind::Io(io) if io.kind() == io::ErrorKind::NotFound => Armed::Gone,
                _ => {
                    tracing::debug!(path = %dir.display(), "cannot watch folder: {e}");
                    Armed::Failed
                }
            },
        }
    }

    fn unwatch_one(&mut self, dir: &Path) {
        if self.watched.remove(dir) {
            // inotify already dropped the watch of a deleted folder: ignore that error.
            let _ = match &mut self.backend {
                Backend::Native(w) => w.unwatch(dir),
                Backend::Poll(w) => w.unwatch(dir),
            };
        }
    }

    /// Drop the watches of `dir` and of every folder below it.
    fn drop_tree(&mut self, dir: &Path) {
        let victims: Vec<PathBuf> = self
            .watched
            .range(dir.to_path_buf()..)
            .take_while(|p| p.starts_with(dir))
            .cloned()
            .collect();
        for v in victims {
            self.unwatch_one(&v);
        }
    }

    fn on_error(&mut self, e: notify::Error) {
        if is_limit_error(&e) {
            let path = e.paths.first().cloned().unwrap_or_default();
            if let Err(err) = self.fall_back_to_poll(&e, &path, true) {
                tracing::error!("file watcher: {err}");
            }
            return;
        }
        let mut rescan = false;
        for p in &e.paths {
            if fs::metadata(p).is_ok() {
                continue;
            }
            let hit: Vec<usize> = (0..self.roots.len())
                .filter(|&i| !self.roots[i].missing && self.roots[i].is_watch_dir(p))
                .collect();
            for i in hit {
                rescan |= self.root_disturbed(i);
            }
            self.drop_tree(p);
        }
        if rescan {
            self.send(Batch {
                at: Instant::now(),
                paths: Vec::new(),
                rescan: true,
            });
        }
        tracing::debug!("file watcher error: {e}");
    }

    /// Replace the native watcher by a `PollWatcher` and re-arm everything.
    /// Logs the one warning. `runtime`: events may have been missed, so ask for
    /// a full reload.
    fn fall_back_to_poll(
        &mut self,
        cause: &notify::Error,
        path: &Path,
        runtime: bool,
    ) -> Result<(), WatchError> {
        if matches!(self.backend, Backend::Poll(_)) {
            return Ok(());
        }
        if !self.warned {
            warn_fallback(cause, Some(path), self.poll_interval);
            self.warned = true;
        }
        let poll =
            new_poll(&self.msg_tx, self.poll_interval).map_err(|_| WatchError::WatchLimit {
                path: path.to_path_buf(),
                hint: limit_hint(cause),
            })?;
        // Dropping the native watcher here stops its thread.
        self.backend = Backend::Poll(poll);
        self.polling.store(true, Ordering::SeqCst);
        self.watched.clear();
        for i in 0..self.roots.len() {
            // A PollWatcher never reports limits.
            let _ = self.arm_root(i);
        }
        if runtime {
            self.send(Batch {
                at: Instant::now(),
                paths: Vec::new(),
                rescan: true,
            });
        }
        Ok(())
    }
}

fn new_poll(tx: &mpsc::Sender<Msg>, interval: Duration) -> Result<notify::PollWatcher, WatchError> {
    let config = notify::Config::default().with_poll_interval(interval);
    notify::PollWatcher::new(handler(tx.clone()), config).map_err(WatchError::Notify)
}

fn warn_fallback(cause: &notify::Error, path: Option<&Path>, interval: Duration) {
    let at = path
        .map(|p| format!(" ({})", p.display()))
        .unwrap_or_default();
    if is_limit_error(cause) {
        tracing::warn!(
            "file watch limit reached{at}: {cause}; falling back to polling every {} ms. Fix: {}",
            interval.as_millis(),
            limit_hint(cause),
        );
    } else {
        tracing::warn!(
            "native file watching unavailable{at}: {cause}; falling back to polling every {} ms \
             (pass `--poll` to choose polling explicitly)",
            interval.as_millis(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manager(root: &Path, hooks: Hooks) -> (Manager, mpsc::Receiver<Msg>) {
        let (msg_tx, msg_rx) = mpsc::channel();
        let (out, _rx) = tokio::sync::mpsc::unbounded_channel();
        let m = Manager::new(Setup {
            roots: vec![Root::resolve(root).expect("root")],
            ignore: IgnoreMatcher::new(&[]).expect("ignores"),
            poll: None,
            msg_tx,
            out,
            polling: Arc::default(),
            hooks,
        })
        .expect("manager");
        (m, msg_rx)
    }

    #[test]
    fn ignored_folders_get_no_watch() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = fs::canonicalize(tmp.path()).expect("canonical");
        for d in [
            "node_modules/react/cjs",
            ".git/objects/ab",
            "target/debug/deps",
            "src/components",
            "css",
            "sub/node_modules/x",
        ] {
            fs::create_dir_all(root.join(d)).expect("mkdir");
        }
        let (m, _rx) = manager(&root, Hooks::default());
        let want: BTreeSet<PathBuf> = ["", "src", "src/components", "css", "sub"]
            .iter()
            .map(|d| {
                if d.is_empty() {
                    root.clone()
                } else {
                    root.join(d)
                }
            })
            .collect();
        assert_eq!(m.watched, want);
    }

    #[test]
    fn runtime_limit_warns_once() {
        use std::sync::Mutex;
        #[derive(Clone, Default)]
        struct Capture(Arc<Mutex<Vec<u8>>>);
        impl io::Write for Capture {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                self.0.lock().expect("lock").extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = fs::canonicalize(tmp.path()).expect("canonical");
        let cap = Capture::default();
        let sink = cap.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || sink.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let hooks = Hooks {
                native_watch_budget: Some(1),
            };
            let (mut m, _rx) = manager(&root, hooks);
            assert!(matches!(m.backend, Backend::Native(_)));
            for name in ["a", "b"] {
                let dir = root.join(name);
                fs::create_dir(&dir).expect("mkdir");
                m.on_event(
                    notify::Event::new(EventKind::Create(notify::event::CreateKind::Folder))
                        .add_path(dir),
                );
            }
            assert!(matches!(m.backend, Backend::Poll(_)));
            assert!(m.watched.contains(&root.join("a")) && m.watched.contains(&root.join("b")));
        });
        let log = String::from_utf8_lossy(&cap.0.lock().expect("lock")).into_owned();
        assert_eq!(log.matches("WARN").count(), 1, "{log}");
        assert!(log.contains("fs.inotify.max_user_watches=524288"), "{log}");
    }

    #[test]
    fn limit_errors() {
        let enospc = notify::Error::io(io::Error::from_raw_os_error(ENOSPC));
        let emfile = notify::Error::io(io::Error::from_raw_os_error(EMFILE));
        let max = notify::Error::new(notify::ErrorKind::MaxFilesWatch);
        let other = notify::Error::io(io::Error::from_raw_os_error(13));
        let nf = notify::Error::path_not_found();
        assert!(is_limit_error(&enospc));
        assert!(is_limit_error(&emfile));
        assert!(is_limit_error(&max));
        assert!(!is_limit_error(&other));
        assert!(!is_limit_error(&nf));
        for e in [&enospc, &emfile, &max] {
            let hint = limit_hint(e);
            assert!(
                hint.contains("sudo sysctl fs.inotify.max_user_watches=524288"),
                "{hint}"
            );
            assert!(hint.contains("--poll"), "{hint}");
        }
        assert!(limit_hint(&emfile).contains("max_user_instances"));
    }
}
