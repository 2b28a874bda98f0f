//! Processes for the benchmarks: tools looked up with the Debian package
//! that provides them, commands pinned to a CPU, children ended (with their
//! whole process group) when their guard drops, and the open-file limit.

use rustix::process::{kill_process_group, Pid, Signal};
use std::ffi::OsStr;
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// The error type of the benchmarks: a message printed on one line.
pub type BenchError = Box<dyn std::error::Error>;

/// The CPU the servers run on.
pub const SERVER_CPU: u32 = 0;
/// The CPU the load generators and clients run on.
pub const CLIENT_CPU: u32 = 1;

/// Where `tool` is installed, or a one-line error naming the Debian package.
pub fn require_tool(tool: &str, package: &str) -> Result<PathBuf, String> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/sbin", "/sbin"].map(PathBuf::from));
    dirs.into_iter()
        .map(|dir| dir.join(tool))
        .find(|path| path.is_file())
        .ok_or_else(|| format!("`{tool}` not found: apt-get install -y {package}"))
}

/// Runs `body` on a Tokio runtime with this process pinned to the client CPU,
/// and prints any error on one line (exit code 1).
pub fn run_pinned<F>(name: &str, body: F) -> std::process::ExitCode
where
    F: std::future::Future<Output = Result<(), BenchError>>,
{
    end_children_on_signal(name);
    let result = pin_self(CLIENT_CPU).and_then(|()| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        runtime.block_on(body)
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{name}: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Pins every thread of this process (and the threads and children it
/// starts later) to `cpu`.
fn pin_self(cpu: u32) -> Result<(), BenchError> {
    let taskset = require_tool("taskset", "util-linux")?;
    let status = Command::new(taskset)
        .args([
            "-a",
            "-c",
            "-p",
            &cpu.to_string(),
            &std::process::id().to_string(),
        ])
        .stdout(Stdio::null())
        .status()?;
    if !status.success() {
        return Err(format!("cannot pin the benchmark to CPU {cpu} (taskset failed)").into());
    }
    Ok(())
}

/// `program` to be started on `cpu` only.
pub fn pinned(cpu: u32, program: impl AsRef<OsStr>) -> Command {
    let mut command = Command::new("taskset");
    command.arg("-c").arg(cpu.to_string()).arg(program);
    command
}

/// A load generator on the client CPU, killed if it overruns `limit`.
pub fn pinned_bounded(program: &str, limit: Duration) -> Command {
    let mut command = pinned(CLIENT_CPU, "timeout");
    command
        .args(["-k", "5"])
        .arg(limit.as_secs().max(1).to_string())
        .arg(program);
    command
}

/// A started process; dropping it ends its whole process group (nginx's
/// master and workers, node, devserve), politely first.
#[derive(Debug)]
pub struct Guard {
    child: Child,
    name: String,
}

impl Guard {
    /// Starts `command` in a process group of its own.
    pub fn spawn(mut command: Command, name: &str) -> Result<Guard, BenchError> {
        command.process_group(0);
        let mut live = lock_live();
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        live.push(child.id());
        Ok(Guard {
            child,
            name: name.to_string(),
        })
    }

    /// The process id (also its process group id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The child, for its pipes.
    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Fails when the process has already exited.
    pub fn check_alive(&mut self) -> Result<(), BenchError> {
        match self.child.try_wait()? {
            None => Ok(()),
            Some(status) => Err(format!("{} exited early ({status})", self.name).into()),
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let id = self.child.id();
        signal_group(id, Signal::TERM);
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(10));
        }
        // Whatever is left of the group (workers of a master that died first).
        signal_group(id, Signal::KILL);
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        lock_live().retain(|&live| live != id);
    }
}

/// Process groups started by [`Guard::spawn`] and not yet ended.
static LIVE: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn lock_live() -> MutexGuard<'static, Vec<u32>> {
    LIVE.lock().unwrap_or_else(PoisonError::into_inner)
}

fn signal_group(id: u32, signal: Signal) {
    if let Some(group) = i32::try_from(id).ok().and_then(Pid::from_raw) {
        let _ = kill_process_group(group, signal);
    }
}

/// On Ctrl-C, SIGTERM or SIGHUP (the children run in process groups of
/// their own, so the terminal's signal does not reach them), ends every
/// live child group, then exits with 130.
fn end_children_on_signal(name: &str) {
    let name = name.to_string();
    std::thread::spawn(move || {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        let caught = runtime.block_on(async {
            let (Ok(mut term), Ok(mut hup)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::hangup()),
            ) else {
                return false;
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => true,
                _ = term.recv() => true,
                _ = hup.recv() => true,
            }
        });
        if !caught {
            return;
        }
        let groups = lock_live().clone();
        groups.iter().for_each(|&id| signal_group(id, Signal::TERM));
        std::thread::sleep(Duration::from_millis(300));
        groups.iter().for_each(|&id| signal_group(id, Signal::KILL));
        eprintln!(
            "{name}: interrupted; ended {} process group(s)",
            groups.len()
        );
        std::process::exit(130);
    });
}

/// Runs `command` to its end under a [`Guard`] (so an interrupted
/// benchmark ends it too); its standard output and error.
pub fn output(mut command: Command, name: &str) -> Result<(String, String), BenchError> {
    use std::io::Read;
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut guard = Guard::spawn(command, name)?;
    let mut stderr = guard.child.stderr.take().ok_or("no stderr")?;
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut text = String::new();
    if let Some(mut stdout) = guard.child.stdout.take() {
        stdout.read_to_string(&mut text)?;
    }
    guard.child.wait()?;
    Ok((text, errors.join().unwrap_or_default()))
}

/// A free loopback port (bound, then released).
pub fn free_port() -> Result<u16, BenchError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Waits until `127.0.0.1:port` accepts connections; the time it took.
pub fn wait_for_port(port: u16, limit: Duration) -> Result<Duration, BenchError> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(start.elapsed());
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    Err(format!("nothing listens on 127.0.0.1:{port} after {limit:?}").into())
}

/// The release `devserve` binary beside this example.
pub fn devserve_bin() -> Result<PathBuf, BenchError> {
    sibling_bin(Path::new("..").join("devserve").as_path())
}

/// A binary next to this example (`name`), or one level up (`../name`).
pub fn sibling_bin(relative: &Path) -> Result<PathBuf, BenchError> {
    let exe = std::env::current_exe()?;
    let dir = exe.parent().ok_or("no folder for the current binary")?;
    let path = dir.join(relative);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} missing: cargo build --release --bins --examples",
            path.display()
        )
        .into())
    }
}

/// Raises this process's open-file limit to its hard limit (for thousands
/// of sessions); the servers it starts inherit it.
pub fn raise_fd_limit() -> u64 {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    limit.current = limit.maximum;
    let _ = setrlimit(Resource::Nofile, limit);
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}
