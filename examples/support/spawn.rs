//! Processes for the benchmarks: tools looked up with the Debian package
//! that provides them, commands pinned to a CPU, children ended (with their
//! whole process group) when their guard drops, and the open-file limit.

use std::ffi::OsStr;
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
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
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
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
        use rustix::process::{kill_process_group, Pid, Signal};
        let Some(group) = i32::try_from(self.child.id()).ok().and_then(Pid::from_raw) else {
            let _ = self.child.kill();
            let _ = self.child.wait();
            return;
        };
        let _ = kill_process_group(group, Signal::TERM);
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(10));
        }
        // Whatever is left of the group (workers of a master that died first).
        let _ = kill_process_group(group, Signal::KILL);
        let _ = self.child.wait();
    }
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
