//! [`Handle`]: how a build tool tells the browsers about its builds.

use crate::hub::{BuildStatus, Hub};
use crate::protocol::{Message, Progress};

/// Reports builds to every connected browser. Cheap to clone, `Send + Sync`.
///
/// A typical build: [`Handle::invalid`], some [`Handle::progress`], then
/// [`Handle::ok`] (browsers reload or hot-update), [`Handle::warnings`], or
/// [`Handle::errors`] (the overlay shows them; no reload).
///
/// ```no_run
/// # async fn run() -> Result<(), devserve::Error> {
/// let server = devserve::Server::builder().root("dist").reload_on_change(false).start().await?;
/// let handle = server.handle();
/// handle.invalid();
/// handle.progress(50, "bundling");
/// match std::process::Command::new("make").status() {
///     Ok(status) if status.success() => handle.ok(""), // "" picks a fresh hash
///     _ => handle.errors("", vec!["make failed".into()]),
/// };
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Handle {
    hub: Hub,
}

impl Handle {
    pub(crate) fn new(hub: Hub) -> Handle {
        Handle { hub }
    }

    /// A build started. Returns how many clients were told.
    pub fn invalid(&self) -> usize {
        self.hub.broadcast(&[Message::Invalid])
    }

    /// Build progress (`percent` is capped at 100).
    pub fn progress(&self, percent: u8, msg: &str) -> usize {
        self.hub.broadcast(&[Message::ProgressUpdate(Progress {
            percent: percent.min(100),
            msg: msg.to_string(),
        })])
    }

    /// The build succeeded with hash `hash`.
    ///
    /// A non-empty `hash` is taken as the bundler's own compilation hash:
    /// with hot mode on, webpack HMR runtimes (wds 5 clients at `/ws`)
    /// apply the build in place when `hash` is webpack's `__webpack_hash__`
    /// of the new build, and `/sockjs-node` clients are told `still-ok`
    /// instead of reloading over the update. `""` is a build without one:
    /// devserve picks a fresh hash and every client reloads.
    pub fn ok(&self, hash: &str) -> usize {
        self.finish(hash, BuildStatus::Ok)
    }

    /// The build succeeded with warnings.
    pub fn warnings(&self, hash: &str, warnings: Vec<String>) -> usize {
        self.finish(hash, BuildStatus::Warnings(warnings))
    }

    /// The build failed.
    pub fn errors(&self, hash: &str, errors: Vec<String>) -> usize {
        self.finish(hash, BuildStatus::Errors(errors))
    }

    /// A build that changed nothing.
    pub fn still_ok(&self) -> usize {
        self.hub.broadcast(&[Message::StillOk])
    }

    /// Send any message to every client.
    pub fn broadcast(&self, message: Message) -> usize {
        self.hub.broadcast(&[message])
    }

    /// Browsers connected now.
    pub fn client_count(&self) -> usize {
        self.hub.client_count()
    }

    fn finish(&self, hash: &str, status: BuildStatus) -> usize {
        if hash.is_empty() {
            self.hub.finish_build(self.hub.next_hash(), status, &[])
        } else {
            self.hub.finish_compilation(hash.to_string(), status, &[])
        }
    }
}
