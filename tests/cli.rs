//! The `devserve` binary as a process: `--exec` output and process groups,
//! signals, a closed stdout, and start-up errors.

use crate::common::*;
use rustix::process::Signal;
use std::path::Path;
use std::process::Stdio;
use tokio::io::AsyncReadExt;

/// A folder to serve (`dist`) beside a watched source folder (`src`).
fn project() -> tempfile::TempDir {
    let dir = temp_dir();
    write(dir.path(), "dist/index.html", "<p>app</p>");
    write(dir.path(), "src/app.txt", "one");
    dir
}

/// Connect a client and wait for the status of the next build.
async fn next_build(client: &mut LiveClient) -> Vec<serde_json::Value> {
    loop {
        let messages = client.until_status().await;
        if messages.iter().any(|m| m["type"] == "invalid") {
            return messages;
        }
    }
}

/// The pids written one a line into `file`.
fn pids(file: &Path) -> Vec<u32> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

#[tokio::test]
async fn exec_output_that_is_not_utf8_does_not_kill_the_build() {
    let dir = project();
    let mut devserve = spawn_cli(
        &["dist", "--exec", r"printf 'caf\351\n'; echo after"],
        dir.path(),
    )
    .await;
    assert_eq!(
        devserve.line(|l| l.starts_with("[exec] caf")).await,
        "[exec] caf\u{fffd}"
    );
    devserve.line(|l| l == "[exec] after").await;
    devserve.line(|l| l.contains("succeeded in")).await;
    assert!(devserve.stop(Signal::INT).await.success());
}

#[tokio::test]
async fn exec_output_is_capped_and_says_what_was_cut() {
    let dir = project();
    // One 3,000,000-byte line, then about 2 MB of short lines, then a failure.
    let command =
        r"head -c 3000000 /dev/zero | tr '\0' x; echo; seq 1 300000; printf 'caf\351\n'; exit 4";
    let mut devserve = spawn_cli(&["dist", "--exec", command], dir.path()).await;
    let long = devserve.line(|l| l.starts_with("[exec] xxx")).await;
    assert!(
        long.ends_with("x… 2,995,904 bytes cut"),
        "{}",
        &long[long.len() - 40..]
    );
    assert!(long.len() < 5 * 1024, "{} bytes printed", long.len());
    devserve.line(|l| l == "[exec] 300000").await;
    let mut client = LiveClient::connect(devserve.addr).await;
    let report = loop {
        let messages = client.until_status().await;
        let status = messages.last().expect("status");
        if status["type"] == "errors" {
            break status["data"][0].as_str().expect("report").to_string();
        }
    };
    assert!(
        report.len() <= 1024 * 1024 + 200,
        "{} bytes kept",
        report.len()
    );
    assert!(report.starts_with("`head -c"), "{}", &report[..80]);
    assert!(report.contains("failed with code 4"), "{}", &report[..80]);
    assert!(
        report.contains(" bytes cut (earlier output)\n"),
        "{}",
        &report[..200]
    );
    assert!(
        report.ends_with("\n299999\n300000\ncaf\u{fffd}\n"),
        "{}",
        &report[report.len() - 40..]
    );
    assert!(devserve.stop(Signal::INT).await.success());
}

#[tokio::test]
async fn a_build_and_its_children_never_outlive_devserve() {
    for signal in [Signal::TERM, Signal::INT, Signal::HUP] {
        let dir = project();
        let pid_file = dir.path().join("grandchild.pid");
        let devserve = spawn_cli(
            &[
                "dist",
                "--exec",
                "sleep 1000 & echo $! > grandchild.pid; wait",
            ],
            dir.path(),
        )
        .await;
        assert!(
            eventually(WAIT, || !pids(&pid_file).is_empty()).await,
            "the build started its child"
        );
        let grandchild = pids(&pid_file)[0];
        assert!(!process_gone(grandchild));
        let status = devserve.stop(signal).await;
        assert!(status.success(), "{signal:?}: {status:?}");
        assert!(
            eventually(WAIT, || process_gone(grandchild)).await,
            "{signal:?}: the build's child {grandchild} survived devserve"
        );
    }
}

#[tokio::test]
async fn what_a_build_leaves_running_ends_with_the_next_build_and_with_devserve() {
    let dir = project();
    let pid_file = dir.path().join("leftovers.pid");
    let mut devserve = spawn_cli(
        &[
            "dist",
            "--watch",
            "src",
            "--exec",
            "sleep 1000 >/dev/null 2>&1 & echo $! >> leftovers.pid",
        ],
        dir.path(),
    )
    .await;
    devserve.line(|l| l.contains("succeeded in")).await;
    let mut client = LiveClient::connect(devserve.addr).await;
    client.until_status().await;
    let first = pids(&pid_file)[0];
    assert!(!process_gone(first), "the leftover runs after its build");

    write(dir.path(), "src/app.txt", "two");
    assert_eq!(
        types(&next_build(&mut client).await),
        ["invalid", "hash", "ok"]
    );
    let all = pids(&pid_file);
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(
        eventually(WAIT, || process_gone(first)).await,
        "the first build's leftover {first} survived the next build"
    );
    assert!(devserve.stop(Signal::TERM).await.success());
    assert!(
        eventually(WAIT, || process_gone(all[1])).await,
        "the last build's leftover {} survived devserve",
        all[1]
    );
}

/// Start devserve with its stdout a pipe that is closed at once.
async fn spawn_with_closed_stdout(args: &[&str], cwd: &Path) -> (tokio::process::Child, u16) {
    let port = free_port();
    let mut child = devserve_command(cwd)
        .args(args)
        .args(["--port", &port.to_string(), "--strict-port"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn devserve");
    drop(child.stdout.take());
    let addr = format!("127.0.0.1:{port}");
    assert!(
        eventually(WAIT, || std::net::TcpStream::connect(&addr).is_ok()).await,
        "devserve answers"
    );
    (child, port)
}

/// Stop with Ctrl-C and check for a clean exit without a panic.
async fn interrupt_cleanly(mut child: tokio::process::Child) {
    let mut stderr = child.stderr.take().expect("stderr");
    send_signal(&child, Signal::INT);
    let status = exit_status(&mut child).await;
    let mut errors = String::new();
    let _ = stderr.read_to_string(&mut errors).await;
    assert!(!errors.contains("panicked"), "{errors}");
    assert!(status.success(), "Ctrl-C exits 0, got {status:?}: {errors}");
}

#[tokio::test]
async fn a_closed_stdout_never_takes_the_server_down() {
    let dir = project();
    let (child, port) = spawn_with_closed_stdout(&["dist"], dir.path()).await;
    let addr = format!("127.0.0.1:{port}").parse().expect("addr");
    let mut client = LiveClient::connect(addr).await;
    client.until_status().await;
    for text in ["<p>two</p>", "<p>three</p>"] {
        write(dir.path(), "dist/index.html", text);
        let reload = client.until_status().await;
        assert_eq!(types(&reload)[0], "invalid", "{reload:?}");
    }
    assert!(get(addr, "/", &[]).await.text().contains("<p>three</p>"));
    interrupt_cleanly(child).await;
}

#[tokio::test]
async fn a_closed_stdout_never_takes_the_builds_down() {
    let dir = project();
    let (child, port) = spawn_with_closed_stdout(
        &[
            "dist",
            "--watch",
            "src",
            "--exec",
            "echo building; cat src/app.txt",
        ],
        dir.path(),
    )
    .await;
    let addr = format!("127.0.0.1:{port}").parse().expect("addr");
    let mut client = LiveClient::connect(addr).await;
    client.until_status().await;
    for text in ["two", "three"] {
        write(dir.path(), "src/app.txt", text);
        let build = next_build(&mut client).await;
        assert_eq!(types(&build), ["invalid", "hash", "ok"]);
    }
    assert_eq!(get(addr, "/", &[]).await.status, 200);
    interrupt_cleanly(child).await;
}

#[tokio::test]
async fn ctrl_c_right_after_start_exits_cleanly() {
    const SIGHUP: u32 = 1;
    const SIGINT: u32 = 2;
    const SIGTERM: u32 = 15;
    let dir = project();
    for _ in 0..5 {
        let port = free_port();
        let mut child = devserve_command(dir.path())
            .args([
                "dist",
                "--port",
                &port.to_string(),
                "--strict-port",
                "--quiet",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn devserve");
        let pid = child.id().expect("pid");
        let addr = format!("127.0.0.1:{port}");
        // The moment devserve answers is the first a user can tell it runs:
        // by then it must already catch every stopping signal.
        assert!(
            eventually(WAIT, || std::net::TcpStream::connect(&addr).is_ok()).await,
            "devserve answers"
        );
        for signum in [SIGINT, SIGTERM, SIGHUP] {
            assert!(
                catches_signal(pid, signum),
                "signal {signum} is not handled while devserve answers"
            );
        }
        send_signal(&child, Signal::INT);
        let status = exit_status(&mut child).await;
        assert!(status.success(), "Ctrl-C exits 0, got {status:?}");
    }
    // Earlier still: the moment the handler exists, before the server is up.
    for _ in 0..3 {
        let mut child = devserve_command(dir.path())
            .args(["dist", "--port", "0", "--quiet"])
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn devserve");
        let pid = child.id().expect("pid");
        assert!(eventually(WAIT, || catches_signal(pid, SIGINT)).await);
        send_signal(&child, Signal::INT);
        let status = exit_status(&mut child).await;
        assert!(
            status.success(),
            "Ctrl-C during start-up exits 0, got {status:?}"
        );
    }
}

#[tokio::test]
async fn a_start_up_error_is_said_once_on_one_line() {
    let dir = project();
    let output = devserve_command(dir.path())
        .args(["dist", "--host", "8.8.8.8", "--port", "0"])
        .output()
        .await
        .expect("run devserve");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert_eq!(stderr.matches("os error").count(), 1, "{stderr}");
    assert!(stderr.contains("cannot listen on 8.8.8.8"), "{stderr}");
}
