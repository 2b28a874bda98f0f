//! devserve's own browser client (`client/client.js`) in headless Chromium.
//!
//! Each test starts devserve in-process on a fixture site and runs one scenario of
//! `tests/node/client_browser.mjs` (Chromium via playwright-core). The script prints
//! `@@ <command> <json>` lines when it needs the server to act (write a file, report a
//! build, stop, restart, freeze the connection); [`Driver::command`] performs them and
//! answers `@@ done <reply>` on the script's stdin. Browser tests run one at a time so
//! their timing checks hold on a small machine.

use crate::common::*;
use devserve::{Config, Message, Overlay, Server};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::Command;
use tokio::sync::watch;

/// One browser scenario at a time.
static BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Longest a scenario may take, Chromium start included.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(110);

const INDEX: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>devserve client test</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/css/site.css">
<link rel="stylesheet" href="/css/main.css">
<style>@import "/css/inline.css";</style>
</head><body>
<h1 id="a">A</h1><p id="b">B</p><p id="c">C</p><p id="d">D</p><p id="e">E</p>
<input id="name"><p id="version">v1</p>
</body></html>
"#;

/// A page whose CSS tries to hide or restyle anything devserve adds, with an element at the
/// highest z-index.
const HOSTILE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>hostile</title><link rel="icon" href="data:,">
<style>
devserve-ui, div, pre, span, button { display: none !important; color: lime !important; }
* { font-size: 1px !important; z-index: 2147483647 !important; }
#top { display: block !important; position: fixed; inset: 0; background: #fff; }
</style></head><body><section id="top">page content on top</section></body></html>
"#;

/// The fixture site.
fn site() -> tempfile::TempDir {
    let dir = temp_dir();
    let root = dir.path();
    write(root, "index.html", INDEX);
    write(root, "hostile.html", HOSTILE);
    write(
        root,
        "nobody.html",
        "<!doctype html><title>no body</title><link rel=\"icon\" href=\"data:,\"><p>no closing body tag",
    );
    write(
        root,
        "headonly.html",
        "<!doctype html><html><head><title>head only</title><link rel=\"icon\" href=\"data:,\">",
    );
    write(root, "css/site.css", "#a { color: rgb(1, 2, 3) }\n");
    write(
        root,
        "css/main.css",
        "@import \"imported.css\";\n#e { color: rgb(1, 1, 1) }\n",
    );
    write(
        root,
        "css/imported.css",
        "@import \"nested.css\";\n#b { color: rgb(4, 5, 6) }\n",
    );
    write(root, "css/nested.css", "#c { color: rgb(7, 8, 9) }\n");
    write(root, "css/inline.css", "#d { color: rgb(2, 2, 2) }\n");
    write(root, "css/unused.css", "#a { color: rgb(0, 0, 0) }\n");
    dir
}

/// The server, its config (for restarts on the same port) and what sits in front of it.
///
/// The server runs on a runtime of its own, so "stop" can end it the way a process exit
/// does: every task and socket gone, including idle keep-alive connections, which
/// [`Server::shutdown`] alone leaves served.
struct Driver {
    root: tempfile::TempDir,
    config: Config,
    server: Option<(Server, tokio::runtime::Runtime)>,
    proxy: Option<FreezeProxy>,
    /// Where the fake editor records its arguments, one per line.
    editor_log: Option<PathBuf>,
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some((_, runtime)) = self.server.take() {
            runtime.shutdown_background();
        }
    }
}

/// Start devserve with `config` on a fresh runtime.
async fn launch(config: Config) -> Result<(Server, tokio::runtime::Runtime), devserve::Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("server runtime");
    match runtime
        .spawn(Server::start(config))
        .await
        .expect("start task")
    {
        Ok(server) => Ok((server, runtime)),
        Err(error) => {
            runtime.shutdown_background();
            Err(error)
        }
    }
}

impl Driver {
    async fn start(configure: impl FnOnce(&mut Config)) -> Driver {
        Driver::start_in(site(), configure).await
    }

    /// Start on the fixture folder `root`.
    async fn start_in(root: tempfile::TempDir, configure: impl FnOnce(&mut Config)) -> Driver {
        let mut config = Config {
            root: root.path().to_path_buf(),
            addr: "127.0.0.1:0".parse().expect("address"),
            strict_port: true,
            ..Config::default()
        };
        configure(&mut config);
        let server = launch(config.clone()).await.expect("start devserve");
        config.addr = server.0.local_addr();
        Driver {
            root,
            config,
            server: Some(server),
            proxy: None,
            editor_log: None,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.config.addr
    }

    fn server(&self) -> &Server {
        &self.server.as_ref().expect("the server is running").0
    }

    /// Run `scenario` with pages loaded from `base`; panics with the transcript on failure.
    async fn run(&mut self, scenario: &str, base: &str) {
        let started = Instant::now();
        let mut child = Command::new("node")
            .arg(repo().join("tests/node/client_browser.mjs"))
            .arg(scenario)
            .env("DEVSERVE_URL", base)
            .current_dir(repo())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("run node");
        let mut stdin = child.stdin.take().expect("stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut stderr = child.stderr.take().expect("stderr");
        let errors = tokio::spawn(async move {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text).await;
            text
        });
        let deadline = tokio::time::Instant::now() + SCENARIO_TIMEOUT;
        let mut transcript = String::new();
        loop {
            let line = match tokio::time::timeout_at(deadline, stdout.next_line()).await {
                Ok(Ok(Some(line))) => line,
                Ok(_) => break,
                Err(_) => panic!("scenario {scenario} timed out; transcript:\n{transcript}"),
            };
            let Some(request) = line.strip_prefix("@@ ") else {
                transcript.push_str(&line);
                transcript.push('\n');
                continue;
            };
            let reply = self.command(request).await;
            transcript.push_str(&format!("> {} -> {reply}\n", shorten(request)));
            stdin
                .write_all(format!("@@ done {reply}\n").as_bytes())
                .await
                .expect("answer the script");
        }
        let status = tokio::time::timeout_at(deadline, child.wait())
            .await
            .unwrap_or_else(|_| {
                panic!("scenario {scenario} did not exit; transcript:\n{transcript}")
            })
            .expect("node status");
        let errors = errors.await.unwrap_or_default();
        println!(
            "{transcript}{errors}# {scenario}: {:.1}s",
            started.elapsed().as_secs_f64()
        );
        assert!(
            status.success(),
            "browser scenario {scenario} failed:\n{transcript}{errors}"
        );
    }

    /// Perform one command from the script.
    async fn command(&mut self, request: &str) -> String {
        let (name, args) = request.split_once(' ').unwrap_or((request, "null"));
        let args: serde_json::Value = serde_json::from_str(args).expect("command arguments");
        let strings = |v: &serde_json::Value| -> Vec<String> {
            serde_json::from_value(v.clone()).expect("a list of strings")
        };
        match name {
            "write" => {
                let [path, content] = <[String; 2]>::try_from(strings(&args)).expect("path, text");
                write(self.root.path(), &path, &content);
                "written".into()
            }
            "edit" => {
                let [path, from, to] =
                    <[String; 3]>::try_from(strings(&args)).expect("path, from, to");
                let file = self.root.path().join(&path);
                let text = std::fs::read_to_string(&file).expect("read fixture");
                assert!(text.contains(&from), "{path} does not contain {from:?}");
                write(self.root.path(), &path, &text.replacen(&from, &to, 1));
                "edited".into()
            }
            "append" => {
                let [path, content] = <[String; 2]>::try_from(strings(&args)).expect("path, text");
                let file = self.root.path().join(&path);
                let text = std::fs::read_to_string(&file).expect("read fixture");
                write(self.root.path(), &path, &(text + &content));
                "appended".into()
            }
            "editor-args" => {
                let log = self.editor_log.as_ref().expect("a fake editor");
                let text = std::fs::read_to_string(log).unwrap_or_default();
                // Complete once the fake editor wrote its end marker.
                let args: Vec<&str> = match text.strip_suffix("END\n") {
                    Some(done) => done.lines().collect(),
                    None => Vec::new(),
                };
                serde_json::to_string(&args).expect("json")
            }
            "root" => serde_json::to_string(&self.root.path().canonicalize().expect("root"))
                .expect("json"),
            "many-errors" => {
                let count = args[0].as_u64().expect("count");
                let errors = (1..=count)
                    .map(|i| {
                        format!(
                            "src/file{i}.ts:{i}:5 - \u{1b}[31merror\u{1b}[39m TS2322: entry {i}"
                        )
                    })
                    .collect();
                self.server().handle().errors("", errors).to_string()
            }
            "ok" => self.server().handle().ok("").to_string(),
            "invalid" => self.server().handle().invalid().to_string(),
            "progress" => {
                let percent = args[0].as_u64().expect("percent") as u8;
                let msg = args[1].as_str().expect("message");
                self.server().handle().progress(percent, msg).to_string()
            }
            "errors" => self
                .server()
                .handle()
                .errors("", strings(&args))
                .to_string(),
            "warnings" => self
                .server()
                .handle()
                .warnings("", strings(&args))
                .to_string(),
            "big" => {
                let count = args[0].as_u64().expect("count");
                let size = args[1].as_u64().expect("size") as usize;
                let handle = self.server().handle();
                let mut told = 0;
                for i in 0..count {
                    let text = format!("{i}{}", "x".repeat(size));
                    told += handle.broadcast(Message::Error(text));
                }
                told.to_string()
            }
            "stop" => {
                let (server, runtime) = self.server.take().expect("running");
                let _ = runtime.spawn(server.shutdown()).await;
                runtime.shutdown_background();
                "stopped".into()
            }
            "start" => {
                let deadline = Instant::now() + WAIT;
                let server = loop {
                    match launch(self.config.clone()).await {
                        Ok(server) => break server,
                        Err(error) if Instant::now() < deadline => {
                            eprintln!("restart on {}: {error}; retrying", self.addr());
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        Err(error) => panic!("cannot restart on {}: {error}", self.addr()),
                    }
                };
                self.server = Some(server);
                "started".into()
            }
            "freeze" => {
                self.proxy.as_ref().expect("a proxy").freeze();
                "frozen".into()
            }
            other => panic!("unknown command {other:?}"),
        }
    }
}

fn shorten(text: &str) -> String {
    if text.len() <= 160 {
        return text.to_string();
    }
    let mut end = 160;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &text[..end], text.len())
}

/// A TCP proxy whose live-reload WebSocket connections can be frozen: from then on nothing is
/// forwarded either way and nothing is closed (a dead NAT mapping, a suspended laptop).
/// Connections opened later work normally.
struct FreezeProxy {
    addr: SocketAddr,
    next: Arc<AtomicU64>,
    frozen_below: watch::Sender<u64>,
}

impl FreezeProxy {
    async fn start(upstream: SocketAddr) -> FreezeProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let next = Arc::new(AtomicU64::new(0));
        let (frozen_below, marks) = watch::channel(0);
        let ids = next.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let id = ids.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(proxy_connection(id, client, upstream, marks.clone()));
            }
        });
        FreezeProxy {
            addr,
            next,
            frozen_below,
        }
    }

    fn freeze(&self) {
        self.frozen_below
            .send_replace(self.next.load(Ordering::SeqCst));
    }
}

async fn proxy_connection(
    id: u64,
    mut client: TcpStream,
    upstream: SocketAddr,
    marks: watch::Receiver<u64>,
) {
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    let mut first = vec![0u8; 16 * 1024];
    let Ok(n) = client.read(&mut first).await else {
        return;
    };
    let request_line = String::from_utf8_lossy(&first[..n])
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    // Only the live-reload WebSocket freezes; pooled HTTP connections keep working.
    let live = request_line.contains("/sockjs-node/") && request_line.contains("/websocket");
    if server.write_all(&first[..n]).await.is_err() {
        return;
    }
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let frozen = move |marks: &watch::Receiver<u64>| live && id < *marks.borrow();
    tokio::spawn(forward(client_read, server_write, marks.clone(), frozen));
    forward(server_read, client_write, marks, frozen).await;
}

async fn forward(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut marks: watch::Receiver<u64>,
    frozen: impl Fn(&watch::Receiver<u64>) -> bool,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if frozen(&marks) {
            // Hold both sockets open and silent until the test ends.
            std::future::pending::<()>().await;
        }
        let n = tokio::select! {
            read = from.read(&mut buf) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            },
            _ = marks.changed() => continue,
        };
        if frozen(&marks) {
            std::future::pending::<()>().await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// nginx in front of devserve, forwarding plain HTTP only (no Upgrade headers).
struct Nginx {
    _child: tokio::process::Child,
    _dir: tempfile::TempDir,
    addr: SocketAddr,
}

async fn start_nginx(binary: &Path, upstream: SocketAddr) -> Nginx {
    use std::os::unix::fs::MetadataExt;
    let dir = temp_dir();
    let d = dir.path().display();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let running_as_root = std::fs::metadata(dir.path()).expect("temp dir").uid() == 0;
    let user = if running_as_root { "user root;" } else { "" };
    let conf = format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\n{user}\npid {d}/nginx.pid;\n\
         error_log {d}/error.log warn;\nevents {{ worker_connections 256; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
         \x20 fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
         \x20 server {{\n    listen 127.0.0.1:{port};\n    location / {{\n\
         \x20     proxy_pass http://{upstream};\n      proxy_http_version 1.1;\n\
         \x20     proxy_buffering off;\n      proxy_set_header Host $http_host;\n    }}\n  }}\n}}\n"
    );
    let conf_path = write(dir.path(), "nginx.conf", &conf);
    let child = Command::new(binary)
        .arg("-p")
        .arg(dir.path())
        .arg("-e")
        .arg(dir.path().join("error.log"))
        .arg("-c")
        .arg(&conf_path)
        .kill_on_drop(true)
        .spawn()
        .expect("start nginx");
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
    let listening = eventually(WAIT, || std::net::TcpStream::connect(addr).is_ok()).await;
    let log = std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default();
    assert!(listening, "nginx did not start:\n{log}");
    Nginx {
        _child: child,
        _dir: dir,
        addr,
    }
}

fn browser_ready() -> bool {
    require("chromium and playwright-core", chromium_ready())
}

#[test]
fn client_is_small_and_self_contained() {
    let source = std::fs::read_to_string(repo().join("client/client.js")).expect("client.js");
    assert!(
        source.len() < 20 * 1024,
        "client.js is {} bytes; the budget is 20 KiB unminified",
        source.len()
    );
    // No modules, no loaders, no markup from strings: text only ever goes in as text.
    for forbidden in [
        "\nimport ",
        "import(",
        "require(",
        "eval(",
        "innerHTML",
        "document.write",
    ] {
        assert!(!source.contains(forbidden), "client.js uses {forbidden:?}");
    }
}

#[test]
fn served_client_is_small_and_self_contained() {
    // The served script is client.js plus the overlay (client/overlay.js).
    let overlay = std::fs::read_to_string(repo().join("client/overlay.js")).expect("overlay.js");
    let client = std::fs::read_to_string(repo().join("client/client.js")).expect("client.js");
    assert!(
        overlay.len() + client.len() < 32 * 1024,
        "the served client is {} bytes; the budget is 32 KiB unminified",
        overlay.len() + client.len()
    );
    for forbidden in [
        "\nimport ",
        "import(",
        "require(",
        "eval(",
        "innerHTML",
        "document.write",
    ] {
        assert!(
            !overlay.contains(forbidden),
            "overlay.js uses {forbidden:?}"
        );
    }
}

/// 1. Connects over WebSocket, stays quiet, works on pages without `</body>`; a change reloads.
#[tokio::test]
async fn connects_over_websocket_and_reloads_on_change() {
    if !browser_ready() {
        return;
    }
    let _one = BROWSER.lock().await;
    let mut driver = Driver::start(|_| {}).await;
    let base = format!("http://{}", driver.addr());
    driver.run("connect", &base).await;
}

/// 2. CSS changes are swapped in place (links and `@import`s) without losing page state.
#[tokio::test]
async fn css_changes_are_swapped_in_place() {
    if !browser_ready() {
        return;
    }
    let _one = BROWSER.lock().await;
    let mut driver = Driver::start(|_| {}).await;
    let base = format!("http://{}", driver.addr());
    driver.run("css", &base).await;
}

/// 3. The overlay: escaped text, all messages, ANSI colours; ok / invalid / Escape / × hide it.
#[tokio::test]
async fn overlay_shows_escaped_coloured_problems() {
    if !browser_ready() {
        return;
    }
    let _one = BROWSER.lock().await;
    let mut driver = Driver::start(|c| {
        c.client.overlay = Some(Overlay {
            errors: true,
            warnings: true,
        });
        c.client.progress = true;
    })
    .await;
    let base = format!("http://{}", driver.addr());
    driver.run("overlay", &base).await;
}

/// 4. Server stopped, then restarted on the same port: reconnect on schedule, reload.
#[tokio::test]
async fn reconnects_to_a_restarted_server_and_reloads() {
    if !browser_ready() {
        return;
    }
    let _one = BROWSER.lock().await;
    let mut driver = Driver::start(|_| {}).await;
    let base = format!("http://{}", driver.addr());
    driver.run("restart", &base).await;
}

/// 5. WebSocket off on the server: xhr-streaming, then xhr-polling when streaming is blocked.
#[tokio::test]
async fn falls_back_to_http_transports_without_websocket() {
    if !browser_ready() {
        return;
    }
    let _one = BROWSER.lock().await;
    let mut driver = Driver::start(|c| c.client.websocket = false).await;
    let base = format!("http://{}", driver.addr());
    driver.run("no-websocket", &base).await;
}

/// 6. Behind nginx that does not forward Upgrade: the client falls back and still reloads.
#[tokio::test]
async fn works_through_a_proxy_that_drops_upgrade() {
    if !browser_ready() {
        return;
    }
    let Some(binary) = nginx_binary() else {
        require("nginx", false);
        return;
    };
    let _one = BROWSER.lock().await;
    let mut driver = Driver::start(|_| {}).await;
    let nginx = start_nginx(&binary, driver.addr()).await;
    let base = format!("http://{}", nginx.addr);
    driver.run("proxy", &base).await;
}

/// 7. The backoff schedule (fake clock in the page), giving up after 10 attempts, retry button.
#[tokio::test]
async fn backoff_schedule_gives_up_after_ten_attempts() {
    if !browser_ready() {
        return;
    }
    let _one = BROWSER.lock().await;
    let mut driver = Driver::start(|_| {}).await;
    let base = format!("http://{}", driver.addr());
    driver.run("backoff", &base).await;
}

/// 8. A connection that goes silent without closing is detected by the heartbeat watchdog.
#[tokio::test]
async fn heartbeat_watchdog_replaces_a_dead_connection() {
    if !browser_ready() {
        return;
    }
    let _one = BROWSER.lock().await;
    let mut driver = Driver::start(|c| c.client.heartbeat = Duration::from_millis(300)).await;
    let proxy = FreezeProxy::start(driver.addr()).await;
    let base = format!("http://{}", proxy.addr);
    driver.proxy = Some(proxy);
    driver.run("heartbeat", &base).await;
}

/// A fake editor: a script that writes its arguments, one per line, then `END`, to `log`.
fn fake_editor(dir: &Path, log: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let script = write(
        dir,
        "fake-editor.sh",
        &format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > '{0}.tmp'\n\
             echo END >> '{0}.tmp'\nmv '{0}.tmp' '{0}'\n",
            log.display()
        ),
    );
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    script
}

/// 9. 80 build errors: 80 items, "80 errors" in the title, the hints; past the cap, the rest
/// is counted, not dropped silently.
#[tokio::test]
async fn overlay_shows_all_80_errors_and_counts_them() {
    if !browser_ready() {
        return;
    }
    let _one = BROWSER.lock().await;
    let mut driver = Driver::start(|_| {}).await;
    let base = format!("http://{}", driver.addr());
    driver.run("many-errors", &base).await;
}

/// 10. A click on `file:line:col` in the overlay starts the configured editor on that file
/// and line (a fake editor records its arguments); other origins and methods are refused.
#[tokio::test]
async fn overlay_location_click_opens_the_editor() {
    if !browser_ready() {
        return;
    }
    let _one = BROWSER.lock().await;
    let tools = temp_dir();
    let log = tools.path().join("editor-args.txt");
    let editor = fake_editor(tools.path(), &log);
    let mut driver = Driver::start(|c| c.editor = Some(editor.display().to_string())).await;
    write(
        driver.root.path(),
        "src/app.js",
        "let a = 1;\nlet b = 2;\nlet c = a +;\n",
    );
    driver.editor_log = Some(log);
    let base = format!("http://{}", driver.addr());
    driver.run("editor", &base).await;
}

/// 11. Uncaught errors and unhandled rejections appear in the overlay with their stack.
#[tokio::test]
async fn runtime_errors_appear_in_the_overlay() {
    if !browser_ready() {
        return;
    }
    let _one = BROWSER.lock().await;
    let mut driver = Driver::start(|_| {}).await;
    write(
        driver.root.path(),
        "boom.js",
        "function kaboom() { throw new TypeError('kaboom'); }\nsetTimeout(kaboom);\n\
         Promise.reject(new Error('nope'));\n",
    );
    let base = format!("http://{}", driver.addr());
    driver.run("runtime", &base).await;
}

/// 12. `runtime_errors: false` (`--no-runtime-errors`) keeps them out of the overlay.
#[tokio::test]
async fn runtime_errors_can_be_turned_off() {
    if !browser_ready() {
        return;
    }
    let _one = BROWSER.lock().await;
    let mut driver = Driver::start(|c| c.client.runtime_errors = false).await;
    let base = format!("http://{}", driver.addr());
    driver.run("runtime-off", &base).await;
}

/// 13. A 404 page and a listing carry the reload client: they recover when the file appears;
/// the listing sorts; the default favicon gives way to the folder's own.
#[tokio::test]
async fn missing_page_recovers_when_the_file_appears() {
    if !browser_ready() {
        return;
    }
    let _one = BROWSER.lock().await;
    let mut driver = Driver::start(|_| {}).await;
    write(driver.root.path(), "list/big.txt", &"x".repeat(5000));
    write(driver.root.path(), "list/small.txt", "x");
    let base = format!("http://{}", driver.addr());
    driver.run("missing", &base).await;
}

/// 14. The example site: a rule appended to `css/site.css` (as the README suggests) applies.
#[tokio::test]
async fn example_site_picks_up_an_appended_rule() {
    if !browser_ready() {
        return;
    }
    let _one = BROWSER.lock().await;
    let root = temp_dir();
    for file in ["index.html", "about/index.html", "css/site.css"] {
        let text =
            std::fs::read_to_string(repo().join("examples/site").join(file)).expect("example");
        write(root.path(), file, &text);
    }
    let mut driver = Driver::start_in(root, |_| {}).await;
    let base = format!("http://{}", driver.addr());
    driver.run("example", &base).await;
}
