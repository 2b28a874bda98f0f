//! `--exec`: run a build command on start and after every change set, and
//! report each build to the browsers through the library's [`Handle`].
//!
//! Builds never overlap: a change during a build queues exactly one more.
//! Files the build writes into the served folder (during the build and a
//! short cooldown after it) belong to that build's `ok`, so they never cause
//! a second reload.
//!
//! Each build runs in a process group of its own. The group (with anything the
//! build left running) is ended when the next build starts and when devserve
//! stops, so no build process outlives devserve.

#![deny(unreachable_pub, missing_debug_implementations)]

mod group;
mod output;

use crate::term;
use devserve::watch::ChangeSet;
use devserve::Handle;
use group::Group;
use output::{Kept, LineReader, MAX_KEPT, MAX_LINE};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::io::BufReader;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::oneshot;

/// How long after a build its own writes are still folded into it.
const COOLDOWN: Duration = Duration::from_millis(200);

/// The process group of the latest build, kept until it is ended: a build's
/// leftovers live until the next build supersedes it or devserve stops.
type Latest = Mutex<Option<Group>>;

/// What drives the builds.
#[derive(Debug)]
pub(crate) struct Builder {
    /// The shell command.
    pub(crate) command: String,
    /// The served folder (canonical): changes there during a build are its output.
    pub(crate) root: PathBuf,
    /// Reports to the browsers.
    pub(crate) handle: Handle,
    /// Send progress updates.
    pub(crate) progress: bool,
    /// Print only failures.
    pub(crate) quiet: bool,
}

/// The builds, running in the background until [`Exec::stop`].
#[derive(Debug)]
pub(crate) struct Exec {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Exec {
    /// Build now, then after every change set.
    pub(crate) fn start(builder: Builder, changes: broadcast::Receiver<ChangeSet>) -> Exec {
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            let latest = Latest::default();
            tokio::select! {
                _ = builder.run(changes, &latest) => {}
                _ = stopped => {}
            }
            let group = latest.lock().unwrap_or_else(PoisonError::into_inner).take();
            if let Some(group) = group {
                group.end().await;
            }
        });
        Exec { stop, task }
    }

    /// Stop building and end every process of the current build (and of
    /// whatever the last one left running).
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

impl Builder {
    /// Build now, then after every change set, until the changes end.
    async fn run(&self, mut changes: broadcast::Receiver<ChangeSet>, latest: &Latest) {
        let mut pending = Some("devserve started".to_string());
        loop {
            let cause = match pending.take() {
                Some(cause) => cause,
                None => match changes.recv().await {
                    Ok(set) => self.describe(&set),
                    Err(RecvError::Lagged(_)) => "files changed".to_string(),
                    Err(RecvError::Closed) => return,
                },
            };
            if !self.quiet {
                term::out(&format!("[exec] {cause} → building…"));
            }
            pending = self.build(&mut changes, latest).await;
        }
    }

    /// What a change set says to the user: `src/a.ts changed (+2 more)`.
    fn describe(&self, set: &ChangeSet) -> String {
        let cwd = std::env::current_dir().unwrap_or_default();
        let shown = |p: &std::path::PathBuf| {
            p.strip_prefix(&cwd)
                .or_else(|_| p.strip_prefix(&self.root))
                .unwrap_or(p)
                .display()
                .to_string()
        };
        match set.paths.first() {
            Some(first) if set.paths.len() > 1 => {
                format!("{} changed (+{} more)", shown(first), set.paths.len() - 1)
            }
            Some(first) => format!("{} changed", shown(first)),
            None => "files changed".to_string(),
        }
    }

    /// One build; returns the source change during it that asks for another.
    async fn build(
        &self,
        changes: &mut broadcast::Receiver<ChangeSet>,
        latest: &Latest,
    ) -> Option<String> {
        self.handle.invalid();
        if self.progress {
            self.handle
                .progress(0, &format!("running {}", self.command));
        }
        let started = Instant::now();
        let mut again = None;
        let status = match self.spawn_and_follow(changes, &mut again, latest).await {
            Ok(done) => done,
            Err(error) => {
                let message = format!("devserve could not run `{}`: {error}", self.command);
                term::err(&format!("[exec] {message}"));
                self.handle.errors("", vec![message]);
                return again;
            }
        };
        // Fold the build's own late writes into this build.
        let cooldown = tokio::time::sleep(COOLDOWN);
        tokio::pin!(cooldown);
        loop {
            tokio::select! {
                change = changes.recv() => self.note_source_change(change, &mut again),
                _ = &mut cooldown => break,
            }
        }
        let (status, kept) = status;
        self.report(status, &kept, started.elapsed());
        again
    }

    /// Tell the browsers, then the terminal, how the build went (so a line on
    /// the terminal means the browsers already know).
    fn report(&self, status: ExitStatus, kept: &Kept, elapsed: Duration) {
        match outcome(&self.command, status, kept) {
            Outcome::Succeeded => {
                self.handle.ok("");
                if !self.quiet {
                    term::out(&format!(
                        "[exec] `{}` {} in {elapsed:.0?}",
                        self.command,
                        term::paint(anstyle::AnsiColor::Green, "succeeded")
                    ));
                }
            }
            Outcome::Failed { code, report } => {
                self.handle.errors("", vec![report]);
                term::err(&format!(
                    "[exec] `{}` {} with {code} after {elapsed:.0?}",
                    self.command,
                    term::paint(anstyle::AnsiColor::Red, "failed")
                ));
            }
        }
    }

    /// Start the build (after ending what the previous one left running) and
    /// follow its output until it exits.
    async fn spawn_and_follow(
        &self,
        changes: &mut broadcast::Receiver<ChangeSet>,
        again: &mut Option<String>,
        latest: &Latest,
    ) -> std::io::Result<(ExitStatus, Kept)> {
        let previous = latest
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(previous) = previous {
            previous.end().await;
        }
        let (mut child, group) = group::spawn(
            shell(&self.command)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true),
        )?;
        *latest.lock().unwrap_or_else(PoisonError::into_inner) = Some(group);
        let mut out = (child.stdout.take()).map(|p| LineReader::new(BufReader::new(p), MAX_LINE));
        let mut err = (child.stderr.take()).map(|p| LineReader::new(BufReader::new(p), MAX_LINE));
        // The shell is reaped by a task of its own, even when this build is
        // abandoned because devserve stops, so its group can be seen to end.
        let mut exit = tokio::spawn(async move { child.wait().await });
        let mut kept = Kept::new(MAX_KEPT);
        while out.is_some() || err.is_some() {
            tokio::select! {
                line = next_line(&mut out) => match line {
                    Some(line) => {
                        if !self.quiet {
                            term::out(&format!("[exec] {line}"));
                        }
                        kept.push(line);
                    }
                    None => out = None,
                },
                line = next_line(&mut err) => match line {
                    Some(line) => {
                        term::err(&format!("[exec] {line}"));
                        kept.push(line);
                    }
                    None => err = None,
                },
                change = changes.recv() => self.note_source_change(change, again),
            }
        }
        loop {
            tokio::select! {
                status = &mut exit => return Ok((status.map_err(std::io::Error::other)??, kept)),
                change = changes.recv() => self.note_source_change(change, again),
            }
        }
    }

    /// Keep the first source change seen during a build in `again`: a
    /// change outside the served folder (or one that cannot be placed); one
    /// inside it is the build's own output.
    fn note_source_change(&self, change: Result<ChangeSet, RecvError>, again: &mut Option<String>) {
        let cause = match change {
            Ok(set) if set.rescan || set.paths.iter().any(|p| !p.starts_with(&self.root)) => {
                self.describe(&set)
            }
            Err(RecvError::Lagged(_)) => "files changed".to_string(),
            Ok(_) | Err(RecvError::Closed) => return,
        };
        again.get_or_insert(cause);
    }
}

/// How a build ended.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Succeeded,
    /// `code` says how it ended ("code 3", "a signal"); `report` is for the overlay.
    Failed {
        code: String,
        report: String,
    },
}

fn outcome(command: &str, status: ExitStatus, kept: &Kept) -> Outcome {
    if status.success() {
        return Outcome::Succeeded;
    }
    let code = status
        .code()
        .map_or_else(|| "a signal".to_string(), |c| format!("code {c}"));
    let report = format!("`{command}` failed with {code}\n{}", kept.text());
    Outcome::Failed { code, report }
}

/// The next line of a pipe still open; `None` at its end (or on a read error).
async fn next_line<R: tokio::io::AsyncBufRead + Unpin>(
    lines: &mut Option<LineReader<R>>,
) -> Option<String> {
    match lines {
        Some(lines) => lines.next_line().await.ok().flatten(),
        None => std::future::pending().await,
    }
}

fn shell(command: &str) -> tokio::process::Command {
    if cfg!(windows) {
        let mut c = tokio::process::Command::new("cmd");
        c.args(["/C", command]);
        c
    } else {
        let mut c = tokio::process::Command::new("sh");
        c.args(["-c", command]);
        // Real tools keep their colours for the overlay (which renders ANSI).
        c.env("FORCE_COLOR", "1").env("CLICOLOR_FORCE", "1");
        c
    }
}

/// The canonical form of `path`, or `path` itself.
pub(crate) fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    #[test]
    fn a_failed_build_reports_its_code_and_output() {
        let mut kept = Kept::new(100);
        kept.push("src/app.js:1: error".into());
        assert_eq!(
            outcome("make", ExitStatus::from_raw(3 << 8), &kept),
            Outcome::Failed {
                code: "code 3".into(),
                report: "`make` failed with code 3\nsrc/app.js:1: error\n".into()
            }
        );
        assert_eq!(
            outcome("make", ExitStatus::from_raw(15), &kept),
            Outcome::Failed {
                code: "a signal".into(),
                report: "`make` failed with a signal\nsrc/app.js:1: error\n".into()
            }
        );
        assert_eq!(
            outcome("make", ExitStatus::from_raw(0), &kept),
            Outcome::Succeeded
        );
    }
}
