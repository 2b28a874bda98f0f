//! Each build runs in a process group of its own, so everything it starts
//! (compilers, watchers, a stray `sleep &`) can be ended together: ending only
//! the shell would leave its children to init, alive after devserve.

use std::time::Duration;
use tokio::process::{Child, Command};

/// How long a build's processes get to exit after SIGTERM before SIGKILL.
pub(super) const GRACE: Duration = Duration::from_secs(2);
/// How often an ending group is checked.
const POLL: Duration = Duration::from_millis(20);

/// The process group of one build.
#[derive(Debug, Clone)]
pub(super) struct Group {
    #[cfg(unix)]
    id: Option<rustix::process::Pid>,
}

/// Start `command` as the leader of a new process group.
pub(super) fn spawn(command: &mut Command) -> std::io::Result<(Child, Group)> {
    #[cfg(unix)]
    command.process_group(0);
    let child = command.spawn()?;
    #[cfg(unix)]
    let group = Group {
        // The leader's pid is the group's id.
        id: child
            .id()
            .and_then(|pid| i32::try_from(pid).ok())
            .and_then(rustix::process::Pid::from_raw),
    };
    #[cfg(not(unix))]
    let group = Group {};
    Ok((child, group))
}

impl Group {
    /// End every process of the group: SIGTERM, then SIGKILL for whatever is
    /// still there after [`GRACE`]. The leader must be reaped by someone
    /// waiting on it, or its zombie keeps the group alive until then.
    pub(super) async fn end(&self) {
        #[cfg(unix)]
        if let Some(id) = self.id {
            use rustix::process::{kill_process_group, test_kill_process_group, Signal};
            if kill_process_group(id, Signal::TERM).is_err() {
                return;
            }
            let deadline = tokio::time::Instant::now() + GRACE;
            while test_kill_process_group(id).is_ok() && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(POLL).await;
            }
            let _ = kill_process_group(id, Signal::KILL);
        }
    }
}
