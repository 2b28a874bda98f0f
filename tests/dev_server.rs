//! The dev server end to end: static semantics, hostile paths, the
//! Host/Origin/Sec-Fetch gates, watcher → browser message sequences, and
//! the command line.

use crate::common::*;
use devserve::{Config, Server, WatchConfig};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

async fn start(root: &Path, adjust: impl FnOnce(&mut Config)) -> Server {
    start_server(root, adjust).await
}

fn site() -> tempfile::TempDir {
    let dir = temp_dir();
    write(
        dir.path(),
        "index.html",
        "<!doctype html><html><body><h1>Hi</h1></body></html>",
    );
    write(dir.path(), "style.css", "body { color: red }");
    write(dir.path(), "app.js", "console.log(1)");
    write(dir.path(), "lib.mjs", "export {}");
    write(dir.path(), "app.js.map", "{}");
    write(dir.path(), "docs/readme.txt", "hello");
    write(dir.path(), "no-body.html", "<p>fragment");
    std::fs::write(dir.path().join("big.bin"), vec![7u8; 300 * 1024]).expect("big file");
    dir
}

#[tokio::test]
async fn static_files_with_injection_and_caching() {
    let root = site();
    let server = start(root.path(), |c| {
        c.serve
            .headers
            .push(devserve::config::parse_header("X-Test: yes").expect("header"))
    })
    .await;
    let addr = server.local_addr();

    let page = get(addr, "/", &[]).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(page
        .text()
        .contains("<script src=\"/__devserve/client.js\"></script></body>"));
    assert_eq!(
        page.header("content-length"),
        Some(page.body.len().to_string().as_str())
    );
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(
        page.header("cross-origin-resource-policy"),
        Some("same-origin")
    );
    assert_eq!(page.header("x-test"), Some("yes"));
    assert!(page.header("access-control-allow-origin").is_none());
    let head = raw(addr, &request("HEAD", addr, "/", &[], b"")).await;
    assert_eq!(head.header("content-length"), page.header("content-length"));
    let etag = page.header("etag").expect("etag").to_string();
    assert_eq!(
        get(addr, "/", &[("If-None-Match", &etag)]).await.status,
        304
    );
    let fragment = get(addr, "/no-body.html", &[]).await;
    assert!(fragment
        .text()
        .ends_with("<p>fragment<script src=\"/__devserve/client.js\"></script>"));

    let css = get(addr, "/style.css", &[]).await;
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert_eq!(css.header("cache-control"), Some("no-cache"));
    let etag = css.header("etag").expect("etag").to_string();
    assert!(!etag.starts_with("W/"), "files get strong ETags");
    assert_eq!(
        get(addr, "/style.css", &[("If-None-Match", &etag)])
            .await
            .status,
        304
    );
    let lm = css
        .header("last-modified")
        .expect("last-modified")
        .to_string();
    assert_eq!(
        get(addr, "/style.css", &[("If-Modified-Since", &lm)])
            .await
            .status,
        304
    );
    let part = get(addr, "/style.css", &[("Range", "bytes=0-3")]).await;
    assert_eq!((part.status, part.text().as_str()), (206, "body"));
    assert_eq!(part.header("content-range"), Some("bytes 0-3/19"));
    assert_eq!(
        get(addr, "/style.css", &[("Range", "bytes=500-")])
            .await
            .status,
        416
    );
    assert_eq!(
        get(addr, "/", &[("Range", "bytes=0-3")]).await.status,
        200,
        "injected HTML is never ranged"
    );

    for (path, mime) in [
        ("/app.js", "text/javascript; charset=utf-8"),
        ("/lib.mjs", "text/javascript; charset=utf-8"),
        ("/app.js.map", "application/json"),
        ("/big.bin", "application/octet-stream"),
    ] {
        let r = raw(addr, &request("HEAD", addr, path, &[], b"")).await;
        assert!(
            r.header("content-type")
                .is_some_and(|t| t.starts_with(mime)),
            "{path}: {:?}",
            r.header("content-type")
        );
    }
    let big = get(addr, "/big.bin", &[]).await;
    assert_eq!(big.body.len(), 300 * 1024);

    let listing = get(addr, "/docs/", &[]).await;
    assert_eq!(listing.status, 200);
    assert!(listing.text().contains("readme.txt"));
    let redirect = get(addr, "/docs?x=1", &[]).await;
    assert_eq!(
        (redirect.status, redirect.header("location")),
        (308, Some("/docs/?x=1"))
    );
    let missing = get(addr, "/missing.html", &[]).await;
    assert_eq!(missing.status, 404);
    assert!(missing.text().contains("404"));
    assert_eq!(
        raw(addr, &request("DELETE", addr, "/", &[], b""))
            .await
            .status,
        405
    );
    assert_eq!(get(addr, "/__devserve/client.js", &[]).await.status, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn spa_fallback_and_cors_opt_in() {
    let root = site();
    let server = start(root.path(), |c| {
        c.serve.spa = true;
        c.security.cors = true;
    })
    .await;
    let addr = server.local_addr();
    let r = get(addr, "/app/settings", &[]).await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("<h1>Hi</h1>"));
    assert_eq!(get(addr, "/app/missing.png", &[]).await.status, 404);
    assert_eq!(
        get(addr, "/style.css", &[])
            .await
            .header("access-control-allow-origin"),
        Some("*")
    );
    // The live-reload endpoint never gets CORS headers.
    let info = get(addr, "/sockjs-node/info", &[]).await;
    assert!(info.header("access-control-allow-origin").is_none());
    server.shutdown().await;
}

#[tokio::test]
async fn hostile_paths_never_escape_the_root() {
    let outer = temp_dir();
    let root = outer.path().join("site");
    write(&root, "index.html", "<p>home</p>");
    write(&root, ".env", "SECRET_ENV_VALUE");
    write(&root, ".git/config", "SECRET_GIT_VALUE");
    write(outer.path(), "secret.txt", "SECRET_OUTSIDE_VALUE");
    #[cfg(unix)]
    std::os::unix::fs::symlink(outer.path().join("secret.txt"), root.join("link.txt"))
        .expect("symlink");
    let server = start(&root, |_| {}).await;
    let addr = server.local_addr();
    let probes = [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/..%2fsecret.txt",
        "/..%2Fsecret.txt",
        "/..\\secret.txt",
        "/%5c..%5csecret.txt",
        "/.%2e/secret.txt",
        "//secret.txt",
        "/docs/../../secret.txt",
        "/.env",
        "/.env/.",
        "/%2eenv",
        "/.git/config",
        "/.git/",
        "/link.txt",
        "/index.html%00.txt",
        "/%00",
        "/C:/Windows/win.ini",
        "/%ff%fe",
        "/a/#/../../secret.txt",
        "/?/../../secret.txt",
        "/index.html?../../secret.txt",
    ];
    for probe in probes {
        let r = raw(addr, &request("GET", addr, probe, &[], b"")).await;
        let text = r.text();
        assert!(!text.contains("SECRET_"), "{probe} leaked a secret: {text}");
        assert!(
            r.status >= 400 || text.contains("home"),
            "{probe}: unexpected {}",
            r.status
        );
        if let Some(location) = r.header("location") {
            assert!(
                !location.starts_with("//") && !location.starts_with("/\\"),
                "{probe}: open redirect {location}"
            );
        }
        assert_eq!(
            get(addr, "/", &[]).await.status,
            200,
            "server still answers after {probe}"
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn host_origin_and_sec_fetch_gates() {
    let root = site();
    let server = start(root.path(), |c| {
        c.security.allowed_hosts.push("dev.example.com".into())
    })
    .await;
    let addr = server.local_addr();
    let port = addr.port();
    let host = |h: &str| format!("{h}:{port}");
    for ok in [
        host("localhost"),
        host("127.0.0.1"),
        host("app.localhost"),
        host("[::1]"),
        host("dev.example.com"),
    ] {
        assert_eq!(get(addr, "/", &[("Host", &ok)]).await.status, 200, "{ok}");
    }
    assert_eq!(
        get(addr, "/", &[("Host", &host("evil.example"))])
            .await
            .status,
        403
    );
    let no_host = raw(addr, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").await;
    assert_eq!(no_host.status, 400);
    let two_hosts = raw(
        addr,
        format!(
            "GET / HTTP/1.1\r\nHost: {addr}\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(two_hosts.status, 400);
    let bad = raw(
        addr,
        b"GET / HTTP/1.1\r\nHost: [::1\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(bad.status, 400);
    let absolute = raw(
        addr,
        format!("GET http://evil.example/ HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .await;
    assert_eq!(
        absolute.status, 403,
        "the absolute-form authority is the one checked"
    );

    let info = "/sockjs-node/info";
    assert_eq!(
        get(addr, info, &[]).await.status,
        200,
        "no Origin: a non-browser client"
    );
    assert_eq!(
        get(
            addr,
            info,
            &[("Origin", &format!("http://localhost:{port}"))]
        )
        .await
        .status,
        200
    );
    assert_eq!(
        get(
            addr,
            info,
            &[("Origin", &format!("http://127.0.0.1:{port}"))]
        )
        .await
        .status,
        200
    );
    for origin in [
        "null",
        "http://evil.example",
        "http://192.168.1.5",
        &format!("http://localhost:{}", port + 1),
    ] {
        assert_eq!(
            get(addr, info, &[("Origin", origin)]).await.status,
            403,
            "{origin}"
        );
    }
    let upgrade = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Origin", "http://evil.example"),
    ];
    let r = get(addr, "/sockjs-node/000/abc/websocket", &upgrade).await;
    assert_eq!(
        r.status, 403,
        "a cross-site WebSocket is refused before the 101"
    );
    let cross = [
        ("Sec-Fetch-Site", "cross-site"),
        ("Sec-Fetch-Mode", "no-cors"),
    ];
    assert_eq!(get(addr, "/app.js", &cross).await.status, 403);
    assert_eq!(
        get(
            addr,
            "/app.js",
            &[
                ("Sec-Fetch-Site", "same-origin"),
                ("Sec-Fetch-Mode", "no-cors")
            ]
        )
        .await
        .status,
        200
    );
    // Transports a same-origin client never needs are off on the dev endpoint.
    assert_eq!(
        get(addr, "/sockjs-node/000/abc/jsonp?c=x", &[])
            .await
            .status,
        404
    );
    assert_eq!(
        get(addr, "/sockjs-node/000/abc/htmlfile?c=x", &[])
            .await
            .status,
        404
    );
    assert_eq!(get(addr, "/sockjs-node/iframe.html", &[]).await.status, 404);
    server.shutdown().await;
}

#[tokio::test]
async fn new_clients_get_the_connect_sequence() {
    let root = site();
    let server = start(root.path(), |c| c.client.hot = true).await;
    let mut client = LiveClient::connect(server.local_addr()).await;
    let messages = client.until_status().await;
    assert_eq!(
        types(&messages),
        [
            "log-level",
            "liveReload",
            "hot",
            "overlay",
            "heartbeat",
            "hash",
            "ok"
        ]
    );
    assert_eq!(messages[0]["data"], "info");
    assert_eq!(
        messages[3]["data"],
        json!({"errors": true, "warnings": false})
    );
    // Build status pushed by an embedder is replayed to later clients.
    server.handle().errors("h2", vec!["bad thing".into()]);
    let seen = client.until_status().await;
    assert_eq!(types(&seen), ["hash", "errors"]);
    let mut late = LiveClient::connect(server.local_addr()).await;
    let replay = late.until_status().await;
    assert_eq!(
        replay[replay.len() - 2],
        json!({"type": "hash", "data": "h2"})
    );
    assert_eq!(
        replay[replay.len() - 1],
        json!({"type": "errors", "data": ["bad thing"]})
    );
    assert_eq!(server.client_count(), 2);
    server.shutdown().await;
}

/// Wait for one change set and return its messages; it must start with `invalid`.
async fn change_set(client: &mut LiveClient) -> Vec<Value> {
    let messages = client.until_status().await;
    assert_eq!(messages[0]["type"], "invalid", "{messages:?}");
    messages
}

fn changed_paths(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .find(|m| m["type"] == "content-changed")
        .map(|m| serde_json::from_value(m["data"].clone()).expect("paths"))
        .unwrap_or_default()
}

#[tokio::test]
async fn file_changes_become_change_sets() {
    let root = site();
    let server = start(root.path(), |_| {}).await;
    let mut client = LiveClient::connect(server.local_addr()).await;
    let first = client.until_status().await;
    let first_hash = first[first.len() - 2]["data"].clone();
    let mut events = server.events();

    write(root.path(), "new.css", "a {}");
    let set = change_set(&mut client).await;
    assert_eq!(types(&set), ["invalid", "content-changed", "hash", "ok"]);
    assert_eq!(changed_paths(&set), ["/new.css"]);
    assert_ne!(
        set[2]["data"], first_hash,
        "every change set has a new hash"
    );

    write(root.path(), "style.css", "body { color: blue }");
    assert_eq!(
        changed_paths(&change_set(&mut client).await),
        ["/style.css"]
    );

    std::fs::remove_file(root.path().join("app.js")).expect("delete");
    assert_eq!(changed_paths(&change_set(&mut client).await), ["/app.js"]);

    std::fs::rename(root.path().join("new.css"), root.path().join("renamed.css")).expect("rename");
    let mut paths = changed_paths(&change_set(&mut client).await);
    paths.sort();
    assert_eq!(paths, ["/new.css", "/renamed.css"]);

    // Atomic save: write a temp file, rename it over the target.
    write(root.path(), ".style.css.tmp", "body { color: green }");
    std::fs::rename(
        root.path().join(".style.css.tmp"),
        root.path().join("style.css"),
    )
    .expect("rename over");
    assert!(changed_paths(&change_set(&mut client).await).contains(&"/style.css".to_string()));

    write(root.path(), "docs/deep/page.html", "<p>deep</p>");
    assert!(
        changed_paths(&change_set(&mut client).await).contains(&"/docs/deep/page.html".to_string())
    );

    // Ignored paths produce nothing.
    write(root.path(), "node_modules/x/index.js", "x");
    write(root.path(), ".git/HEAD", "x");
    write(root.path(), ".index.html.swp", "x");
    assert!(
        client.silent_for(Duration::from_millis(400)).await,
        "ignored paths were announced"
    );

    let event = tokio::time::timeout(WAIT, events.recv())
        .await
        .expect("event")
        .expect("open");
    assert!(
        matches!(event, devserve::Event::Changed { clients: 1, .. }),
        "{event:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_burst_of_files_is_one_change_set() {
    let root = site();
    let out = root.path().join("out");
    std::fs::create_dir(&out).expect("out folder");
    // A debug build on a busy 2-core machine writes 500 files in up to a
    // second with pauses of tens of milliseconds: give the window room, as
    // a user would with --debounce for a slow build.
    let server = start(root.path(), |c| {
        c.watch.debounce = Duration::from_millis(40);
        c.watch.max_delay = Duration::from_secs(5);
    })
    .await;
    let mut client = LiveClient::connect(server.local_addr()).await;
    client.until_status().await;
    tokio::task::spawn_blocking(move || {
        for i in 0..500 {
            std::fs::write(out.join(format!("chunk-{i}.js")), format!("// {i}")).expect("write");
        }
    })
    .await
    .expect("burst");
    let set = change_set(&mut client).await;
    let paths = changed_paths(&set);
    assert!(
        paths.is_empty(),
        "{} paths: more than a content-changed lists",
        paths.len()
    );
    assert_eq!(types(&set), ["invalid", "hash", "ok"]);
    assert!(
        client.silent_for(Duration::from_millis(500)).await,
        "the burst produced a second change set"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn sed_in_place_announces_the_edited_file_only() {
    let root = site();
    let css = write(root.path(), "css/site.css", "body { color: red }");
    let server = start(root.path(), |_| {}).await;
    let mut client = LiveClient::connect(server.local_addr()).await;
    client.until_status().await;
    // `sed -i` writes a temp file (sedXXXXXX) beside the target, then renames
    // it over the target.
    let status = std::process::Command::new("sed")
        .args(["-i", "s/red/blue/"])
        .arg(&css)
        .status()
        .expect("sed runs (apt-get install sed)");
    assert!(status.success());
    assert_eq!(
        changed_paths(&change_set(&mut client).await),
        ["/css/site.css"]
    );
    assert!(
        client.silent_for(Duration::from_millis(300)).await,
        "the save was announced twice"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn watching_can_be_turned_off_and_extended() {
    let root = site();
    let extra = temp_dir();
    let server = start(root.path(), |c| {
        c.watch = WatchConfig {
            extra_paths: vec![extra.path().to_path_buf()],
            ..WatchConfig::default()
        };
    })
    .await;
    let mut client = LiveClient::connect(server.local_addr()).await;
    client.until_status().await;
    write(extra.path(), "src/main.rs", "fn main() {}");
    let set = change_set(&mut client).await;
    assert_eq!(
        types(&set),
        ["invalid", "hash", "ok"],
        "paths outside the served folder are not URLs"
    );
    server.shutdown().await;

    let quiet = start(root.path(), |c| c.watch.enabled = false).await;
    let mut client = LiveClient::connect(quiet.local_addr()).await;
    client.until_status().await;
    write(root.path(), "style.css", "x");
    assert!(client.silent_for(Duration::from_millis(300)).await);
    quiet.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_every_session_cleanly() {
    let root = site();
    let server = start(root.path(), |_| {}).await;
    let mut client = LiveClient::connect(server.local_addr()).await;
    client.until_status().await;
    server.shutdown().await;
    let mut saw_close_frame = false;
    while let Some(frame) = client.frame().await {
        if frame.starts_with("c[1001,") {
            saw_close_frame = true;
        }
    }
    assert!(
        saw_close_frame,
        "the client is told the server is going away"
    );
}

fn devserve() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_devserve"))
}

fn one_line_error(args: &[&str]) -> String {
    let output = devserve().args(args).output().expect("run devserve");
    assert!(!output.status.success(), "{args:?} should fail");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "{args:?}: one line, got {stderr:?}"
    );
    stderr
}

#[tokio::test]
async fn cli_mistakes_get_one_line_and_a_non_zero_exit() {
    let root = site();
    let file = root.path().join("style.css");
    assert!(one_line_error(&["/definitely/not/here"]).contains("no such folder"));
    assert!(one_line_error(&[file.to_str().expect("utf-8")]).contains("not a folder"));
    assert!(one_line_error(&["--port", "notanumber"]).contains("notanumber"));
    assert!(one_line_error(&["--no-such-flag"]).contains("--no-such-flag"));
    assert!(one_line_error(&["--header", "broken", "."]).contains("Name: value"));
    assert!(one_line_error(&["--log-level", "loud", "."]).contains("log-level"));
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let dir = root.path().to_str().expect("utf-8");
    assert!(one_line_error(&[dir, "--port", &port, "--strict-port"]).contains("in use"));
}

#[tokio::test]
async fn cli_serves_moves_off_a_taken_port_and_exits_cleanly() {
    let root = site();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_devserve"))
        .arg(root.path())
        .args(["--port", &port.to_string()])
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let mut url = None;
    let mut moved = false;
    while url.is_none() {
        let line = tokio::time::timeout(WAIT, lines.next_line())
            .await
            .expect("output")
            .expect("read")
            .expect("line");
        moved |= line.contains("is in use");
        if let Some(rest) = line.trim().strip_prefix("Local:") {
            url = Some(rest.trim().to_string());
        }
    }
    assert!(moved, "says the port moved");
    let url = url.expect("url");
    let served_port: u16 = url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");
    assert_ne!(served_port, port);
    let addr: SocketAddr = format!("127.0.0.1:{served_port}").parse().expect("addr");
    assert_eq!(get(addr, "/", &[]).await.status, 200);
    let pid = child.id().expect("pid").to_string();
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("exits in time")
        .expect("wait");
    assert!(exit.success(), "Ctrl-C exits 0, got {exit:?}");
}

#[tokio::test]
async fn webpack_dev_server_3_client_reloads_and_reconnects() {
    if !require("chromium and playwright-core", chromium_ready()) {
        return;
    }
    let (ok, output) = run_node(
        "wds3_client.mjs",
        &[("DEVSERVE_BIN", env!("CARGO_BIN_EXE_devserve").to_string())],
        Duration::from_secs(200),
    )
    .await;
    println!("{output}");
    assert!(
        ok,
        "webpack-dev-server 3's client against devserve failed:\n{output}"
    );
}

#[tokio::test]
async fn cached_files_are_never_stale() {
    let root = site();
    write(root.path(), "a.txt", "one");
    write(root.path(), "node_modules/pkg/m.js", "export const v = 1");
    let server = start(root.path(), |_| {}).await;
    let addr = server.local_addr();
    let mut client = LiveClient::connect(addr).await;
    client.until_status().await;
    for _ in 0..3 {
        assert_eq!(get(addr, "/a.txt", &[]).await.text(), "one");
    }
    write(root.path(), "a.txt", "two!");
    change_set(&mut client).await;
    let fresh = get(addr, "/a.txt", &[]).await;
    assert_eq!(
        (fresh.text().as_str(), fresh.header("content-length")),
        ("two!", Some("4"))
    );
    // Paths the watcher ignores are never cached, so they are fresh at once.
    assert_eq!(
        get(addr, "/node_modules/pkg/m.js", &[]).await.text(),
        "export const v = 1"
    );
    write(root.path(), "node_modules/pkg/m.js", "export const v = 2");
    assert_eq!(
        get(addr, "/node_modules/pkg/m.js", &[]).await.text(),
        "export const v = 2"
    );
    server.shutdown().await;
}
