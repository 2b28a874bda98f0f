//! The devserve binary as a process: start it, follow what it prints, signal
//! it, and see which processes are still alive.

use super::WAIT;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// A running `devserve` whose stdout lines are collected.
pub struct Devserve {
    child: Child,
    pub addr: SocketAddr,
    lines: mpsc::UnboundedReceiver<String>,
}

/// The devserve binary, without colours.
pub fn devserve_command(cwd: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_devserve"));
    command
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

/// Start devserve with `args` on a free port and wait for its `Local:` line.
pub async fn spawn_cli(args: &[&str], cwd: &Path) -> Devserve {
    let mut child = devserve_command(cwd)
        .args(args)
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn devserve");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, mut lines) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut reader = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = reader.next_line().await {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    loop {
        let line = tokio::time::timeout(WAIT, lines.recv())
            .await
            .expect("the Local: line in time")
            .expect("devserve printed Local:");
        if let Some(url) = line.trim().strip_prefix("Local:") {
            let port: u16 = url
                .trim()
                .trim_end_matches('/')
                .rsplit(':')
                .next()
                .and_then(|p| p.parse().ok())
                .expect("port");
            let addr = format!("127.0.0.1:{port}").parse().expect("addr");
            return Devserve { child, addr, lines };
        }
    }
}

impl Devserve {
    /// The next stdout line for which `wanted` holds (earlier lines are dropped).
    pub async fn line(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        loop {
            let line = tokio::time::timeout(WAIT, self.lines.recv())
                .await
                .expect("the line in time")
                .expect("devserve still printing");
            if wanted(&line) {
                return line;
            }
        }
    }

    /// Send `signal`, then wait for the exit.
    pub async fn stop(mut self, signal: rustix::process::Signal) -> ExitStatus {
        send_signal(&self.child, signal);
        exit_status(&mut self.child).await
    }
}

/// Send `signal` to `child`.
pub fn send_signal(child: &Child, signal: rustix::process::Signal) {
    let pid = child
        .id()
        .and_then(|pid| rustix::process::Pid::from_raw(pid as i32))
        .expect("running");
    rustix::process::kill_process(pid, signal).expect("signal");
}

/// Wait for `child` to exit.
pub async fn exit_status(child: &mut Child) -> ExitStatus {
    tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("exits in time")
        .expect("wait")
}

/// Whether process `pid` has ended (a zombie waiting to be reaped counts as ended).
pub fn process_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => true,
    }
}

/// Whether process `pid` has a handler installed for signal number `signum`.
pub fn catches_signal(pid: u32, signum: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (signum - 1)) != 0)
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}
