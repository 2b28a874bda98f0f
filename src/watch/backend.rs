//! notify's watcher behind one type: the native backend or `PollWatcher`,
//! the set of watched folders, the watch limits and the fallback to polling.
//!
//! notify's callback only pushes onto a std channel (never blocks); the
//! watcher thread reads it.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher as _};

use super::types::{Hooks, InFlight, Msg};
use super::WatchError;

/// Poll interval used by the watch-limit fallback unless `WatchOptions::poll` gives one.
pub(crate) const FALLBACK_POLL_INTERVAL: Duration = Duration::from_millis(500);

const ENOSPC: i32 = 28;
const EMFILE: i32 = 24;

enum Engine {
    Native(notify::RecommendedWatcher),
    Poll(notify::PollWatcher),
}

/// Outcome of one `watch` call.
#[derive(Debug)]
pub(crate) enum Armed {
    /// Watched (now or already).
    Ok,
    /// The folder no longer exists.
    Gone,
    /// Some other failure (logged at debug level); the folder is skipped.
    Failed,
    /// The inotify watch or instance limit was hit.
    Limit(notify::Error),
}

/// How far one watch reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// Part of a root's tree: non-recursive on per-folder backends, recursive
    /// on the others (one watch covers the tree).
    Tree,
    /// Only this folder's entries (the folder holding a root's symlink).
    Entries,
}

/// The active notify watcher and what it watches.
pub(crate) struct Backend {
    engine: Engine,
    /// Folders with a watch.
    watched: BTreeSet<PathBuf>,
    msg_tx: mpsc::Sender<Msg>,
    in_flight: InFlight,
    polling: Arc<AtomicBool>,
    poll_interval: Duration,
    warned: bool,
    hooks: Hooks,
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backend")
            .field("polling", &self.is_polling())
            .field("watched", &self.watched.len())
            .finish_non_exhaustive()
    }
}

impl Backend {
    /// The native backend, or polling when asked (`poll`) or when the native
    /// one cannot start. `first_root` names the path in a fatal error.
    pub(crate) fn start(
        poll: Option<Duration>,
        msg_tx: mpsc::Sender<Msg>,
        in_flight: InFlight,
        polling: Arc<AtomicBool>,
        hooks: Hooks,
        first_root: &Path,
    ) -> Result<Backend, WatchError> {
        let poll_interval = poll.unwrap_or(FALLBACK_POLL_INTERVAL);
        let mut warned = false;
        let engine = match poll {
            Some(interval) => Engine::Poll(new_poll(&msg_tx, &in_flight, interval)?),
            None => match notify::recommended_watcher(handler(&msg_tx, &in_flight)) {
                Ok(w) => Engine::Native(w),
                Err(e) => {
                    warn_fallback(&e, None, poll_interval);
                    warned = true;
                    let poller = new_poll(&msg_tx, &in_flight, poll_interval).map_err(|_| {
                        WatchError::WatchLimit {
                            path: first_root.to_path_buf(),
                            hint: limit_hint(&e),
                        }
                    })?;
                    Engine::Poll(poller)
                }
            },
        };
        polling.store(matches!(engine, Engine::Poll(_)), Ordering::SeqCst);
        Ok(Backend {
            engine,
            watched: BTreeSet::new(),
            msg_tx,
            in_flight,
            polling,
            poll_interval,
            warned,
            hooks,
        })
    }

    /// Whether `PollWatcher` is active.
    pub(crate) fn is_polling(&self) -> bool {
        matches!(self.engine, Engine::Poll(_))
    }

    /// The interval `PollWatcher` scans at (when polling).
    pub(crate) fn poll_interval(&self) -> Duration {
        self.poll_interval
    }

    /// Whether every folder gets its own non-recursive watch (inotify and
    /// polling) rather than one recursive watch per root.
    pub(crate) fn per_dir(&self) -> bool {
        self.is_polling() || cfg!(any(target_os = "linux", target_os = "android"))
    }

    /// Whether the backend reports the close of a file written to (inotify
    /// `CLOSE_WRITE`), so a write can be held until it is complete.
    pub(crate) fn reports_close(&self) -> bool {
        !self.is_polling() && cfg!(any(target_os = "linux", target_os = "android"))
    }

    /// Whether `dir` has a watch.
    pub(crate) fn is_watched(&self, dir: &Path) -> bool {
        self.watched.contains(dir)
    }

    /// Watch one folder.
    pub(crate) fn watch(&mut self, dir: &Path, reach: Reach) -> Armed {
        if self.watched.contains(dir) {
            return Armed::Ok;
        }
        let mode = if self.per_dir() || reach == Reach::Entries {
            RecursiveMode::NonRecursive
        } else {
            RecursiveMode::Recursive
        };
        let res = match &mut self.engine {
            Engine::Native(w) => match &mut self.hooks.native_watch_budget {
                Some(0) => Err(notify::Error::io(io::Error::from_raw_os_error(ENOSPC))),
                Some(n) => {
                    *n -= 1;
                    w.watch(dir, mode)
                }
                None => w.watch(dir, mode),
            },
            Engine::Poll(w) => w.watch(dir, mode),
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

    /// Drop the watch of one folder.
    pub(crate) fn unwatch(&mut self, dir: &Path) {
        if self.watched.remove(dir) {
            // inotify already dropped the watch of a deleted folder: ignore that error.
            let _ = match &mut self.engine {
                Engine::Native(w) => w.unwatch(dir),
                Engine::Poll(w) => w.unwatch(dir),
            };
        }
    }

    /// Drop the watches of `dir` and of every folder below it.
    pub(crate) fn drop_tree(&mut self, dir: &Path) {
        let victims: Vec<PathBuf> = self
            .watched
            .range(dir.to_path_buf()..)
            .take_while(|p| p.starts_with(dir))
            .cloned()
            .collect();
        for v in victims {
            self.unwatch(&v);
        }
    }

    /// Replace the native watcher by a `PollWatcher`, forgetting every watch
    /// (the caller re-arms). Logs the one warning. Returns whether it
    /// switched (false when already polling).
    pub(crate) fn switch_to_poll(
        &mut self,
        cause: &notify::Error,
        path: &Path,
    ) -> Result<bool, WatchError> {
        if self.is_polling() {
            return Ok(false);
        }
        if !self.warned {
            warn_fallback(cause, Some(path), self.poll_interval);
            self.warned = true;
        }
        let poll = new_poll(&self.msg_tx, &self.in_flight, self.poll_interval).map_err(|_| {
            WatchError::WatchLimit {
                path: path.to_path_buf(),
                hint: limit_hint(cause),
            }
        })?;
        // Dropping the native watcher here stops its thread.
        self.engine = Engine::Poll(poll);
        self.polling.store(true, Ordering::SeqCst);
        self.watched.clear();
        Ok(true)
    }

    #[cfg(test)]
    pub(crate) fn watched(&self) -> &BTreeSet<PathBuf> {
        &self.watched
    }
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

/// notify's error text without the paths it carries (the warning names the
/// path once, itself).
fn describe(e: &notify::Error) -> String {
    let text = e.to_string();
    match text.find(" about [") {
        Some(i) if !e.paths.is_empty() => text[..i].to_owned(),
        _ => text,
    }
}

/// The one warning logged when falling back to polling.
pub(crate) fn fallback_warning(
    cause: &notify::Error,
    path: Option<&Path>,
    interval: Duration,
) -> String {
    let at = path
        .or_else(|| cause.paths.first().map(PathBuf::as_path))
        .map(|p| format!(" ({})", p.display()))
        .unwrap_or_default();
    let why = describe(cause);
    if is_limit_error(cause) {
        format!(
            "file watch limit reached{at}: {why}; falling back to polling every {} ms. Fix: {}",
            interval.as_millis(),
            limit_hint(cause),
        )
    } else {
        format!(
            "native file watching unavailable{at}: {why}; falling back to polling every {} ms \
             (pass `--poll` to choose polling explicitly)",
            interval.as_millis(),
        )
    }
}

fn warn_fallback(cause: &notify::Error, path: Option<&Path>, interval: Duration) {
    tracing::warn!("{}", fallback_warning(cause, path, interval));
}

fn handler(
    tx: &mpsc::Sender<Msg>,
    in_flight: &InFlight,
) -> impl FnMut(notify::Result<notify::Event>) + Send + 'static {
    let (tx, in_flight) = (tx.clone(), in_flight.clone());
    move |res| {
        in_flight.sent();
        if tx.send(Msg::Event(res, Instant::now())).is_err() {
            // The thread is gone only while shutting down: nothing left to tell.
            in_flight.handled();
        }
    }
}

fn new_poll(
    tx: &mpsc::Sender<Msg>,
    in_flight: &InFlight,
    interval: Duration,
) -> Result<notify::PollWatcher, WatchError> {
    let config = notify::Config::default().with_poll_interval(interval);
    notify::PollWatcher::new(handler(tx, in_flight), config).map_err(WatchError::Notify)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn limit_warning_names_the_path_once() {
        let dir = PathBuf::from("/srv/site/deep/folder");
        let cause = notify::Error::io(io::Error::from_raw_os_error(ENOSPC)).add_path(dir.clone());
        for path in [Some(dir.as_path()), None] {
            let text = fallback_warning(&cause, path, FALLBACK_POLL_INTERVAL);
            assert_eq!(text.matches("/srv/site/deep/folder").count(), 1, "{text}");
            assert!(text.contains("max_user_watches=524288"), "{text}");
        }
        let other = notify::Error::generic("no inotify here").add_path(dir.clone());
        let text = fallback_warning(&other, Some(&dir), FALLBACK_POLL_INTERVAL);
        assert_eq!(text.matches("/srv/site/deep/folder").count(), 1, "{text}");
        assert!(text.contains("no inotify here"), "{text}");
    }
}
