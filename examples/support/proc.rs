//! Reading a process's memory, shared by the benchmark examples.

/// Resident set size of process `pid` in KiB (0 when unknown).
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU time process `pid` has used so far, in user space and in the
/// kernel, all threads together (zero when unknown).
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuTime {
    /// User-space time.
    pub user: std::time::Duration,
    /// Kernel time spent on the process's behalf (system calls, the
    /// network stack).
    pub system: std::time::Duration,
}

/// Clock ticks per second of `/proc/<pid>/stat` (`USER_HZ`, 100 on Linux).
const USER_HZ: u64 = 100;

/// The CPU time of `pid` from `/proc/<pid>/stat`, 10 ms resolution.
pub fn cpu_time(pid: u32) -> CpuTime {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<u64> = stat
        .rsplit_once(')')
        .map(|(_, rest)| {
            rest.split_whitespace()
                .map(|f| f.parse().unwrap_or(0))
                .collect()
        })
        .unwrap_or_default();
    let ticks = |i: usize| {
        std::time::Duration::from_millis(fields.get(i).copied().unwrap_or(0) * 1000 / USER_HZ)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    CpuTime {
        user: ticks(11),
        system: ticks(12),
    }
}

/// The CPU time of `pid` and its child processes (nginx's workers).
pub fn tree_cpu_time(pid: u32) -> CpuTime {
    let mut total = cpu_time(pid);
    for child in children(pid) {
        let time = cpu_time(child);
        total.user += time.user;
        total.system += time.system;
    }
    total
}

/// The processes whose parent is `pid`.
fn children(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&candidate| {
            let stat =
                std::fs::read_to_string(format!("/proc/{candidate}/stat")).unwrap_or_default();
            // The parent is the second field after the command name.
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok())
                == Some(pid)
        })
        .collect()
}
