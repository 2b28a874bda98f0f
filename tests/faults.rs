//! Faults a dev server meets on a laptop: folders deleted and re-created by
//! build tools, paths that cannot be read, and a crowd of browsers coming
//! back at once after a restart, connections that never send a whole request.
//! The server keeps working and loses nothing.

use crate::common::*;
use devserve::{Config, Server, WatchConfig};
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

async fn start(root: &Path, addr: SocketAddr, adjust: impl FnOnce(&mut Config)) -> Server {
    let mut config = Config {
        root: root.to_path_buf(),
        addr,
        strict_port: true,
        ..Config::default()
    };
    adjust(&mut config);
    Server::start(config).await.expect("server starts")
}

fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().expect("addr")
}

/// A server on any port whose `index.html` is `page`, and its folder.
async fn serving(page: &str) -> (tempfile::TempDir, Server) {
    let root = temp_dir();
    write(root.path(), "index.html", page);
    let server = start(root.path(), any_port(), |_| {}).await;
    (root, server)
}

#[tokio::test]
async fn served_folder_deleted_and_recreated_still_reloads() {
    let outer = temp_dir();
    let root = outer.path().join("dist");
    write(&root, "index.html", "<p>v1</p>");
    let server = start(&root, any_port(), |_| {}).await;
    let addr = server.local_addr();
    let mut client = LiveClient::connect(addr).await;
    client.until_status().await;

    // What `rm -rf dist && mkdir dist && build` does.
    std::fs::remove_dir_all(&root).expect("delete");
    assert_eq!(
        get(addr, "/index.html", &[]).await.status,
        404,
        "a missing folder is a clean 404"
    );
    std::fs::create_dir(&root).expect("re-create");
    write(&root, "index.html", "<p>v2</p>");
    let mut seen = Vec::new();
    let deadline = Instant::now() + WAIT;
    while !seen.iter().any(|t: &String| t == "ok")
        || !get(addr, "/index.html", &[]).await.text().contains("v2")
    {
        assert!(
            Instant::now() < deadline,
            "no reload after the folder came back: {seen:?}"
        );
        for message in client.until_status().await {
            seen.push(message["type"].as_str().unwrap_or("?").to_string());
        }
    }
    // Let the watcher notice the new folder (it announces that as a rescan),
    // then a later edit is an ordinary change set again.
    let deadline = Instant::now() + WAIT;
    while !client.silent_for(Duration::from_millis(800)).await {
        assert!(Instant::now() < deadline, "change sets never settled");
        client.until_status().await;
    }
    write(&root, "index.html", "<p>v3</p>");
    let deadline = Instant::now() + WAIT;
    loop {
        let set = client.until_status().await;
        let paths = set
            .iter()
            .find(|m| m["type"] == "content-changed")
            .map(|m| m["data"].to_string());
        if paths.is_some_and(|p| p.contains("/index.html")) {
            break;
        }
        assert!(Instant::now() < deadline, "later edits were not seen");
    }
    assert!(get(addr, "/index.html", &[]).await.text().contains("v3"));
    server.shutdown().await;
}

#[tokio::test]
async fn retargeted_symlink_root_reloads_pages_and_serves_the_new_target() {
    let outer = temp_dir();
    let b1 = outer.path().join("b1");
    let b2 = outer.path().join("b2");
    write(&b1, "index.html", "<p>one</p>");
    write(&b2, "index.html", "<p>two</p>");
    let dist = outer.path().join("dist");
    std::os::unix::fs::symlink(&b1, &dist).expect("symlink");
    let server = start(&dist, any_port(), |_| {}).await;
    let mut client = LiveClient::connect(server.local_addr()).await;
    client.until_status().await;
    // What a build tool that swaps release folders does.
    let status = std::process::Command::new("ln")
        .arg("-sfn")
        .arg(&b2)
        .arg(&dist)
        .status()
        .expect("ln runs");
    assert!(status.success());
    let set = client.until_status().await;
    assert_eq!(types(&set), ["invalid", "hash", "ok"], "pages reload");
    let page = get(server.local_addr(), "/", &[]).await;
    assert!(
        page.text().contains("<p>two</p>"),
        "the new target is served: {}",
        page.text()
    );
    server.shutdown().await;
}

#[tokio::test]
async fn watched_folder_replaced_by_a_file() {
    let outer = temp_dir();
    let root = outer.path().join("dist");
    let src = outer.path().join("src");
    write(&root, "index.html", "<p>home</p>");
    write(&src, "main.js", "1");
    let server = start(&root, any_port(), |c| {
        c.watch = WatchConfig {
            extra_paths: vec![src.clone()],
            ..WatchConfig::default()
        };
    })
    .await;
    let addr = server.local_addr();
    let mut client = LiveClient::connect(addr).await;
    client.until_status().await;
    std::fs::remove_dir_all(&src).expect("delete src");
    std::fs::write(&src, "now a file").expect("file in its place");
    // The server keeps serving and the served folder is still watched.
    assert_eq!(get(addr, "/", &[]).await.status, 200);
    write(&root, "style.css", "a {}");
    let deadline = Instant::now() + WAIT;
    loop {
        let set = client.until_status().await;
        if set
            .iter()
            .any(|m| m["type"] == "content-changed" && m["data"].to_string().contains("/style.css"))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "changes in the served folder were lost"
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn unreadable_paths_get_clean_answers() {
    let root = temp_dir();
    write(root.path(), "index.html", "<p>home</p>");
    write(root.path(), "file.txt", "x");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(root.path().join("nowhere"), root.path().join("dangling"))
            .expect("symlink");
        std::os::unix::fs::symlink(root.path().join("loop-b"), root.path().join("loop-a"))
            .expect("symlink");
        std::os::unix::fs::symlink(root.path().join("loop-a"), root.path().join("loop-b"))
            .expect("symlink");
        let status = std::process::Command::new("mkfifo")
            .arg(root.path().join("pipe"))
            .status();
        assert!(status.is_ok_and(|s| s.success()), "mkfifo");
    }
    let server = start(root.path(), any_port(), |_| {}).await;
    let addr = server.local_addr();
    for path in [
        "/dangling",
        "/loop-a",
        "/pipe",
        "/file.txt/inside",
        "/index.html/",
        "/%2e",
    ] {
        let r = tokio::time::timeout(WAIT, get(addr, path, &[]))
            .await
            .expect("answered, not hung");
        assert!(matches!(r.status, 400 | 403 | 404), "{path}: {}", r.status);
        assert_eq!(
            get(addr, "/", &[]).await.status,
            200,
            "still serving after {path}"
        );
    }
    server.shutdown().await;
}

/// Connect with retries, as a browser's backoff would (compressed).
async fn connect_with_retries(addr: SocketAddr) -> LiveClient {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let attempt =
            tokio::time::timeout(Duration::from_secs(5), LiveClient::try_connect(addr)).await;
        if let Ok(Some(client)) = attempt {
            return client;
        }
        assert!(Instant::now() < deadline, "a client never got back in");
        tokio::time::sleep(Duration::from_millis(50 + fastrand::u64(..200))).await;
    }
}

#[tokio::test]
async fn a_thousand_clients_reconnect_at_once_after_a_restart() {
    const CLIENTS: usize = 1000;
    let (root, server) = serving("<p>home</p>").await;
    let addr = server.local_addr();
    let mut clients = Vec::with_capacity(CLIENTS);
    for _ in 0..CLIENTS {
        clients.push(LiveClient::connect(addr).await);
    }
    assert_eq!(server.client_count(), CLIENTS);
    server.shutdown().await;
    drop(clients);

    let server = start(root.path(), addr, |_| {}).await;
    let returning: Vec<_> = (0..CLIENTS)
        .map(|_| tokio::spawn(connect_with_retries(addr)))
        .collect();
    // Meanwhile the server keeps answering ordinary requests promptly.
    let mut worst = Duration::ZERO;
    for _ in 0..20 {
        let t0 = Instant::now();
        assert_eq!(get(addr, "/", &[]).await.status, 200);
        worst = worst.max(t0.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        worst < Duration::from_secs(5),
        "a page took {worst:?} while clients reconnected"
    );
    let mut back = Vec::with_capacity(CLIENTS);
    for handle in returning {
        back.push(handle.await.expect("client task"));
    }
    let deadline = Instant::now() + WAIT;
    while server.client_count() < CLIENTS {
        assert!(
            Instant::now() < deadline,
            "only {} of {CLIENTS} clients came back",
            server.client_count()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Every one of them hears the next change.
    write(root.path(), "index.html", "<p>after</p>");
    for client in back.iter_mut().take(50) {
        let set = client.until_status().await;
        assert!(set.iter().any(|m| m["type"] == "ok"));
    }
    server.shutdown().await;
}

/// Regression: connections opened before a shutdown kept serving, so a
/// browser could "reconnect" to a server that was going away.
#[tokio::test]
async fn shutdown_closes_open_connections_and_refuses_sessions() {
    let (_root, server) = serving("<p>home</p>").await;
    let addr = server.local_addr();
    // A connection that has sent nothing yet (accepted before the next one,
    // whose answer shows that it was), and a keep-alive connection, idle
    // after one request.
    let mut silent = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    tcp.write_all(format!("GET / HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .expect("write");
    let mut buf = vec![0u8; 4096];
    let n = tcp.read(&mut buf).await.expect("response");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    server.shutdown().await;
    // Closed by the stop, not 10 s later by the header-read timeout.
    let closed = until_closed(&mut silent, Duration::from_secs(5)).await;
    assert!(closed.is_some(), "a silent connection outlived the stop");
    // The open connection no longer opens live-reload sessions.
    let request = format!(
        "POST /sockjs-node/000/zombie/xhr HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n"
    );
    let _ = tcp.write_all(request.as_bytes()).await;
    let answer = until_closed(&mut tcp, WAIT).await.expect("connection ends");
    let text = String::from_utf8_lossy(&answer);
    assert!(!text.contains(" 200 "), "a stopped server answered: {text}");
}

/// CPU seconds (user + system) a process has used so far.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("process stat");
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i).and_then(|v| v.parse::<f64>().ok()))
        .sum();
    ticks / 100.0
}

#[tokio::test]
async fn out_of_descriptors_the_accept_loop_backs_off_logs_once_and_recovers() {
    let root = temp_dir();
    write(root.path(), "index.html", "<p>still here</p>");
    let port = free_port();
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n 64 && exec \"$0\" \"$1\" --port {port} --strict-port --no-watch"
        ))
        .arg(env!("CARGO_BIN_EXE_devserve"))
        .arg(root.path())
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn devserve under a descriptor limit");
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    assert!(
        eventually(WAIT, || std::net::TcpStream::connect(addr).is_ok()).await,
        "devserve listens"
    );
    // Idle connections until accept runs out of descriptors; the rest wait in the backlog.
    let mut held = Vec::new();
    for _ in 0..120 {
        if let Ok(tcp) = tokio::net::TcpStream::connect(addr).await {
            held.push(tcp);
        }
    }
    let pid = child.id().expect("pid");
    let before = cpu_seconds(pid);
    let window = Instant::now();
    // A measurement window, not a wait for an event: how busy is devserve while stuck?
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let busy = cpu_seconds(pid) - before;
    let elapsed = window.elapsed().as_secs_f64();
    assert!(
        busy < elapsed * 0.3,
        "devserve spun at EMFILE: {busy:.2}s CPU in {elapsed:.2}s"
    );
    drop(held);
    let page = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if let Ok(Ok(page)) = tokio::time::timeout(Duration::from_secs(2), get_once(addr)).await
            {
                return page;
            }
        }
    })
    .await
    .expect("devserve recovers once descriptors are free");
    assert!(page.contains("still here"));
    send_signal(&child, rustix::process::Signal::INT);
    let status = exit_status(&mut child).await;
    assert!(status.success(), "{status:?}");
    let mut stderr = String::new();
    use tokio::io::AsyncReadExt as _;
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .await
        .expect("stderr");
    let warnings = stderr.matches("accepting connections failed").count();
    assert_eq!(warnings, 1, "one warning per episode:\n{stderr}");
}

#[tokio::test]
async fn silent_half_sent_and_undecided_connections_are_closed_and_others_are_served() {
    use tokio::io::AsyncWriteExt;
    let (_root, server) = serving("<p>up</p>").await;
    let addr = server.local_addr();
    let mut silent = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut half = tokio::net::TcpStream::connect(addr).await.expect("connect");
    half.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .expect("half a request head");
    // As far as it goes, the start of HTTP/2's preface.
    let mut undecided = tokio::net::TcpStream::connect(addr).await.expect("connect");
    undecided.write_all(b"P").await.expect("one byte");
    // Both hold a connection, neither holds up anyone else.
    assert!(get_once(addr).await.expect("served").contains("<p>up</p>"));
    // The server's header-read timeout is 10 s.
    let limit = Duration::from_secs(20);
    for (name, tcp) in [
        ("silent", &mut silent),
        ("half-sent", &mut half),
        ("undecided", &mut undecided),
    ] {
        let rest = until_closed(tcp, limit).await;
        let rest = rest.unwrap_or_else(|| panic!("a {name} connection was kept open"));
        assert!(
            !String::from_utf8_lossy(&rest).contains("<p>up</p>"),
            "{name}: {rest:?}"
        );
    }
    assert!(get_once(addr).await.expect("served").contains("<p>up</p>"));
    server.shutdown().await;
}

/// What `tcp` receives until the server closes it (a reset counts as
/// closed), or `None` when it is still open after `limit`.
async fn until_closed(tcp: &mut tokio::net::TcpStream, limit: Duration) -> Option<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut received = Vec::new();
    let read = tokio::time::timeout(limit, tcp.read_to_end(&mut received)).await;
    read.is_ok().then_some(received)
}

/// One GET of `/` on a fresh connection.
async fn get_once(addr: SocketAddr) -> std::io::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await?;
    tcp.write_all(&request("GET", addr, "/", &[], b"")).await?;
    let mut out = Vec::new();
    tcp.read_to_end(&mut out).await?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}
