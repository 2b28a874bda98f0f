//! `--exec`: run a build command on start and after every change set, and
//! report each build to the browsers through the library's [`Handle`].
//!
//! Builds never overlap: a change during a build queues exactly one more.
//! Files the build writes into the served folder (during the build and a
//! short cooldown after it) belong to that build's `ok`, so they never cause
//! a second reload.

use devserve::watch::ChangeSet;
use devserve::Handle;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::broadcast::{self, error::RecvError};

/// Lines of output kept for the error overlay.
const TAIL_LINES: usize = 60;
/// How long after a build its own writes are still folded into it.
const COOLDOWN: Duration = Duration::from_millis(200);

/// What drives the builds.
pub struct Builder {
    /// The shell command.
    pub command: String,
    /// The served folder (canonical): changes there during a build are its output.
    pub root: PathBuf,
    /// Reports to the browsers.
    pub handle: Handle,
    /// Send progress updates.
    pub progress: bool,
    /// Print only failures.
    pub quiet: bool,
}

impl Builder {
    /// Build now, then after every change set, until the changes end.
    pub async fn run(self, mut changes: broadcast::Receiver<ChangeSet>) {
        let mut pending = true;
        loop {
            if !pending {
                match changes.recv().await {
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return,
                }
            }
            pending = self.build(&mut changes).await;
        }
    }

    /// One build; returns whether a source change during it asks for another.
    async fn build(&self, changes: &mut broadcast::Receiver<ChangeSet>) -> bool {
        self.handle.invalid();
        if self.progress {
            self.handle
                .progress(0, &format!("running {}", self.command));
        }
        let started = Instant::now();
        let mut again = false;
        let status = match self.spawn_and_follow(changes, &mut again).await {
            Ok((status, tail)) => (status, tail),
            Err(error) => {
                let message = format!("devserve could not run `{}`: {error}", self.command);
                eprintln!("[exec] {message}");
                self.handle.errors("", vec![message]);
                return again;
            }
        };
        // Fold the build's own late writes into this build.
        let cooldown = tokio::time::sleep(COOLDOWN);
        tokio::pin!(cooldown);
        loop {
            tokio::select! {
                change = changes.recv() => again |= self.is_source_change(change),
                _ = &mut cooldown => break,
            }
        }
        let (status, tail) = status;
        let elapsed = started.elapsed();
        if status.success() {
            if !self.quiet {
                println!("[exec] `{}` succeeded in {elapsed:.0?}", self.command);
            }
            self.handle.ok("");
        } else {
            let code = status
                .code()
                .map_or_else(|| "a signal".to_string(), |c| format!("code {c}"));
            eprintln!(
                "[exec] `{}` failed with {code} after {elapsed:.0?}",
                self.command
            );
            let mut report = format!("`{}` failed with {code}\n", self.command);
            for line in tail {
                report.push_str(&line);
                report.push('\n');
            }
            self.handle.errors("", vec![report]);
        }
        again
    }

    async fn spawn_and_follow(
        &self,
        changes: &mut broadcast::Receiver<ChangeSet>,
        again: &mut bool,
    ) -> std::io::Result<(ExitStatus, VecDeque<String>)> {
        let mut child = shell(&self.command)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let mut out = child.stdout.take().map(|s| BufReader::new(s).lines());
        let mut err = child.stderr.take().map(|s| BufReader::new(s).lines());
        let mut tail = VecDeque::with_capacity(TAIL_LINES);
        let keep = |line: String, tail: &mut VecDeque<String>| {
            if tail.len() == TAIL_LINES {
                tail.pop_front();
            }
            tail.push_back(line);
        };
        while out.is_some() || err.is_some() {
            tokio::select! {
                line = next_line(&mut out) => match line {
                    Some(line) => {
                        if !self.quiet {
                            println!("[exec] {line}");
                        }
                        keep(line, &mut tail);
                    }
                    None => out = None,
                },
                line = next_line(&mut err) => match line {
                    Some(line) => {
                        eprintln!("[exec] {line}");
                        keep(line, &mut tail);
                    }
                    None => err = None,
                },
                change = changes.recv() => *again |= self.is_source_change(change),
            }
        }
        loop {
            tokio::select! {
                status = child.wait() => return Ok((status?, tail)),
                change = changes.recv() => *again |= self.is_source_change(change),
            }
        }
    }

    /// A change outside the served folder (or one that cannot be placed) is a
    /// source change; one inside it is the build's own output.
    fn is_source_change(&self, change: Result<ChangeSet, RecvError>) -> bool {
        match change {
            Ok(set) => set.rescan || set.paths.iter().any(|p| !p.starts_with(&self.root)),
            Err(RecvError::Lagged(_)) => true,
            Err(RecvError::Closed) => false,
        }
    }
}

async fn next_line<R: tokio::io::AsyncBufRead + Unpin>(
    lines: &mut Option<tokio::io::Lines<R>>,
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
        c
    }
}

/// The canonical form of `path`, or `path` itself.
pub fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}
