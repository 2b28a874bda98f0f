//! The terminal side of the `devserve` binary, spawned as a user runs it:
//! the banner's URLs, refused hosts, the request log, the settings file and
//! its precedence, a mistyped flag, keyboard shortcuts on a pseudo-terminal,
//! completions and the man page, and `-q`.

use crate::common::*;
use regex_automata::meta::Regex;
use rustix::process::Signal;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{ExitStatus, Output, Stdio};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// A folder with a page to serve.
fn site() -> tempfile::TempDir {
    let dir = temp_dir();
    write(dir.path(), "index.html", "<p>terminal</p>");
    dir
}

/// Drop the caller's `DEVSERVE_*` variables, so each test sets its own.
fn clean_env(command: &mut Command) {
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("DEVSERVE_") {
            command.env_remove(name);
        }
    }
}

/// devserve with `args` in `cwd` (no colours, stdin not a terminal).
fn devserve_in(cwd: &Path, args: &[&str]) -> Command {
    let mut command = devserve_command(cwd);
    clean_env(&mut command);
    command.args(args);
    command
}

/// devserve with `args` with its stdin and stdout on a pseudo-terminal:
/// util-linux `script` runs it on one and relays our stdin to it.
fn on_a_terminal(cwd: &Path, args: &[&str]) -> Command {
    let quote = |word: &str| format!("'{}'", word.replace('\'', r"'\''"));
    let line: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_devserve"))
        .chain(args.iter().copied())
        .map(quote)
        .collect();
    let mut command = Command::new("script");
    clean_env(&mut command);
    command
        .args(["-qfec", &line.join(" "), "/dev/null"])
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// Run `command` to its end (it must not serve).
async fn finished(command: &mut Command) -> Output {
    tokio::time::timeout(WAIT, command.output())
        .await
        .expect("devserve exits in time")
        .expect("run devserve")
}

/// The lines a stream prints, as they come; every line read is kept.
struct Lines {
    incoming: mpsc::UnboundedReceiver<String>,
    seen: Vec<String>,
}

impl Lines {
    fn follow(stream: impl AsyncRead + Unpin + Send + 'static) -> Lines {
        let (tx, incoming) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stream).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                // A pseudo-terminal ends its lines with \r\n.
                if tx.send(line.trim_end_matches('\r').to_string()).is_err() {
                    return;
                }
            }
        });
        Lines {
            incoming,
            seen: Vec::new(),
        }
    }

    /// The next line for which `wanted` holds.
    async fn until(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        loop {
            let next = tokio::time::timeout(WAIT, self.incoming.recv()).await;
            let Ok(Some(line)) = next else {
                panic!("no such line in time; so far: {:#?}", self.seen);
            };
            self.seen.push(line.clone());
            if wanted(&line) {
                return line;
            }
        }
    }

    /// Every line, once the stream has ended.
    async fn all(mut self) -> Vec<String> {
        while let Some(line) = tokio::time::timeout(WAIT, self.incoming.recv())
            .await
            .expect("the stream ends in time")
        {
            self.seen.push(line);
        }
        self.seen
    }
}

/// A running process whose stdout and stderr are followed.
struct Running {
    child: Child,
    out: Lines,
    err: Lines,
}

/// What a process printed, and how it ended.
#[derive(Debug)]
struct Ended {
    status: ExitStatus,
    out: Vec<String>,
    err: Vec<String>,
}

impl Running {
    fn start(mut command: Command) -> Running {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let out = Lines::follow(child.stdout.take().expect("stdout"));
        let err = Lines::follow(child.stderr.take().expect("stderr"));
        Running { child, out, err }
    }

    /// The `Local:` line.
    async fn local(&mut self) -> String {
        self.out
            .until(|l| l.trim_start().starts_with("Local:"))
            .await
    }

    /// The port of the `Local:` URL, on 127.0.0.1.
    async fn local_addr(&mut self) -> SocketAddr {
        let line = self.local().await;
        SocketAddr::from(([127, 0, 0, 1], port_of(&line)))
    }

    /// Ctrl-C, then what was printed.
    async fn interrupt(self) -> Ended {
        send_signal(&self.child, Signal::INT);
        self.ended().await
    }

    /// Wait for the exit, then what was printed.
    async fn ended(mut self) -> Ended {
        let status = exit_status(&mut self.child).await;
        Ended {
            status,
            out: self.out.all().await,
            err: self.err.all().await,
        }
    }
}

/// The port of the URL ending `line` (`  Local:   http://localhost:PORT/`).
fn port_of(line: &str) -> u16 {
    line.trim()
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"))
}

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("a valid pattern")
}

#[tokio::test]
async fn the_wildcard_host_lists_this_machines_addresses_never_0_0_0_0() {
    let dir = site();
    let mut devserve = Running::start(devserve_in(
        dir.path(),
        &["--host", "0.0.0.0", "--port", "0", "-v"],
    ));
    let addr = devserve.local_addr().await;
    assert_eq!(get(addr, "/index.html", &[]).await.status, 200);
    // The request's line comes after the whole banner.
    devserve
        .out
        .until(|l| l.starts_with("GET /index.html"))
        .await;
    let ended = devserve.interrupt().await;
    assert!(ended.status.success(), "{ended:#?}");

    let port = addr.port();
    let listed: BTreeSet<String> = ended
        .out
        .iter()
        .filter_map(|l| l.trim().strip_prefix("Network:"))
        .map(|url| url.trim().to_string())
        .collect();
    let expected: BTreeSet<String> = if_addrs::get_if_addrs()
        .expect("this machine's interfaces")
        .iter()
        .map(|interface| interface.ip())
        .filter(|ip| ip.is_ipv4() && !ip.is_loopback())
        .map(|ip| format!("http://{ip}:{port}/"))
        .collect();
    assert_eq!(listed, expected, "{:#?}", ended.out);
    assert!(
        ended.out.iter().all(|l| !l.contains("0.0.0.0")),
        "{:#?}",
        ended.out
    );
    assert!(
        ended
            .err
            .iter()
            .any(|l| l.contains("other machines can reach this server")),
        "{:#?}",
        ended.err
    );
}

#[tokio::test]
async fn another_loopback_host_prints_its_own_url_and_that_url_answers() {
    let dir = site();
    let mut devserve = Running::start(devserve_in(
        dir.path(),
        &["--host", "127.0.0.2", "--port", "0"],
    ));
    let local = devserve.local().await;
    let port = port_of(&local);
    assert_eq!(local.trim(), format!("Local:   http://127.0.0.2:{port}/"));
    let page = get(SocketAddr::from(([127, 0, 0, 2], port)), "/", &[]).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("<p>terminal</p>"), "{}", page.text());
    let ended = devserve.interrupt().await;
    assert!(ended.status.success(), "{ended:#?}");
}

#[tokio::test]
async fn a_refused_host_is_told_once_with_the_flag_that_allows_it() {
    let dir = site();
    let mut devserve = Running::start(devserve_in(dir.path(), &["--port", "0"]));
    let addr = devserve.local_addr().await;
    for _ in 0..3 {
        let refused = get(addr, "/index.html", &[("Host", "dev.example.test")]).await;
        assert_eq!(refused.status, 403);
        assert!(
            refused
                .text()
                .contains("start devserve with --allowed-host"),
            "{}",
            refused.text()
        );
    }
    // Lines are printed in order: once this one is out, so is any the
    // first host could have caused.
    get(addr, "/", &[("Host", "other.example.test")]).await;
    devserve
        .err
        .until(|l| l.contains("other.example.test"))
        .await;
    let ended = devserve.interrupt().await;
    let told: Vec<&String> = ended
        .err
        .iter()
        .filter(|l| l.contains("dev.example.test"))
        .collect();
    assert_eq!(told.len(), 1, "{:#?}", ended.err);
    assert!(
        told[0].contains("\"dev.example.test\"")
            && told[0].contains("--allowed-host dev.example.test"),
        "{}",
        told[0]
    );

    // The flag it names lets the host in.
    let mut allowed = Running::start(devserve_in(
        dir.path(),
        &["--port", "0", "--allowed-host", "dev.example.test"],
    ));
    let addr = allowed.local_addr().await;
    let page = get(addr, "/index.html", &[("Host", "dev.example.test")]).await;
    assert_eq!(page.status, 200);
    let ended = allowed.interrupt().await;
    assert!(
        ended.err.iter().all(|l| !l.contains("refused")),
        "{ended:#?}"
    );
}

#[tokio::test]
async fn the_request_log_prints_one_line_per_request() {
    let page = regex(r"^GET /page\.html 200 1\.[0-9] KiB [0-9]+\.[0-9] ms$");
    let missing = regex(r"^GET /missing\.txt 404 ([0-9]+ B|[0-9]+\.[0-9] KiB|-) [0-9]+\.[0-9] ms$");
    let dir = site();
    // A little over 1 KiB with the injected client.
    write(
        dir.path(),
        "page.html",
        &format!("<p>{}</p>", "x".repeat(1200)),
    );
    for flags in [&["--log", "requests"][..], &["-v"][..]] {
        let mut devserve =
            Running::start(devserve_in(dir.path(), &[flags, &["--port", "0"]].concat()));
        let addr = devserve.local_addr().await;
        for _ in 0..2 {
            assert_eq!(get(addr, "/page.html", &[]).await.status, 200);
        }
        assert_eq!(get(addr, "/missing.txt", &[]).await.status, 404);
        devserve.out.until(|l| l.contains("/missing.txt")).await;
        let ended = devserve.interrupt().await;
        let logged: Vec<&String> = ended.out.iter().filter(|l| l.starts_with("GET ")).collect();
        assert_eq!(logged.len(), 3, "{flags:?}: {:#?}", ended.out);
        for line in &logged[..2] {
            assert!(page.is_match(line.as_str()), "{flags:?}: {line:?}");
        }
        assert!(
            missing.is_match(logged[2].as_str()),
            "{flags:?}: {:?}",
            logged[2]
        );
    }

    // Without either flag, requests are not printed.
    let mut devserve = Running::start(devserve_in(dir.path(), &["--port", "0"]));
    let addr = devserve.local_addr().await;
    assert_eq!(get(addr, "/index.html", &[]).await.status, 200);
    // A refused host is always printed, after any line the page caused.
    get(addr, "/", &[("Host", "marker.example.test")]).await;
    devserve
        .err
        .until(|l| l.contains("marker.example.test"))
        .await;
    let ended = devserve.interrupt().await;
    assert!(
        ended.out.iter().all(|l| !l.contains("/index.html")),
        "{:#?}",
        ended.out
    );
}

/// The merged settings `--print-config` shows, as `key = value` lines.
async fn printed_settings(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Vec<String> {
    let output = finished(
        devserve_in(cwd, args)
            .arg("--print-config")
            .envs(env.iter().copied()),
    )
    .await;
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// The value of `key` in `--print-config`'s `lines`.
fn setting<'a>(lines: &'a [String], key: &str) -> &'a str {
    lines
        .iter()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(" = "))
        .unwrap_or_else(|| panic!("no {key} in {lines:#?}"))
}

/// What a start really did.
#[derive(Debug, PartialEq, Eq)]
struct Effect {
    /// The port asked for (said when it was taken and another was used).
    asked: u16,
    /// The port devserve listened on.
    bound: u16,
    /// The status of a deep link: 200 only in SPA mode.
    deep_link: u16,
}

/// Start devserve with `args` and `env` in `cwd`, and see what it does.
async fn started(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Effect {
    let mut command = devserve_in(cwd, args);
    command.envs(env.iter().copied());
    let mut devserve = Running::start(command);
    let addr = devserve.local_addr().await;
    let deep_link = get(addr, "/app/settings", &[]).await.status;
    let ended = devserve.interrupt().await;
    assert!(ended.status.success(), "{ended:#?}");
    let asked = ended
        .out
        .iter()
        .find_map(|l| {
            l.strip_prefix("devserve: port ")?
                .split(' ')
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(addr.port());
    Effect {
        asked,
        bound: addr.port(),
        deep_link,
    }
}

/// The effect of a start on the strict `port`, with a deep link answered `deep_link`.
fn on(port: u16, deep_link: u16) -> Effect {
    Effect {
        asked: port,
        bound: port,
        deep_link,
    }
}

/// `count` ports, different from each other, that were free a moment ago.
fn free_ports(count: usize) -> Vec<u16> {
    let held: Vec<std::net::TcpListener> = (0..count)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("a free port"))
        .collect();
    held.iter()
        .map(|l| l.local_addr().expect("its address").port())
        .collect()
}

#[tokio::test]
async fn settings_come_from_flags_then_environment_then_file_then_defaults() {
    let dir = site();
    let cwd = dir.path();
    let ports = free_ports(3);
    let (file_port, env_port, flag_port) = (ports[0], ports[1], ports[2]);

    // Defaults: no devserve.toml yet.
    let printed = printed_settings(cwd, &[], &[]).await;
    assert_eq!(
        (setting(&printed, "port"), setting(&printed, "spa")),
        ("8080", "false")
    );
    let default = started(cwd, &[], &[]).await;
    assert_eq!(
        (default.asked, default.deep_link),
        (8080, 404),
        "{default:?}"
    );

    write(
        cwd,
        "devserve.toml",
        &format!("port = {file_port}\nstrict-port = true\nspa = true\n"),
    );
    let printed = printed_settings(cwd, &[], &[]).await;
    let file = file_port.to_string();
    assert_eq!(
        (setting(&printed, "port"), setting(&printed, "spa")),
        (file.as_str(), "true")
    );
    assert_eq!(started(cwd, &[], &[]).await, on(file_port, 200));

    let env_text = env_port.to_string();
    let env = [
        ("DEVSERVE_PORT", env_text.as_str()),
        ("DEVSERVE_SPA", "false"),
    ];
    let printed = printed_settings(cwd, &[], &env).await;
    assert_eq!(
        (setting(&printed, "port"), setting(&printed, "spa")),
        (env_text.as_str(), "false")
    );
    assert_eq!(
        setting(&printed, "strict-port"),
        "true",
        "the file still counts"
    );
    assert_eq!(started(cwd, &[], &env).await, on(env_port, 404));

    let flag = flag_port.to_string();
    let flags = ["--port", flag.as_str(), "--spa"];
    let printed = printed_settings(cwd, &flags, &env).await;
    assert_eq!(
        (setting(&printed, "port"), setting(&printed, "spa")),
        (flag.as_str(), "true")
    );
    assert_eq!(started(cwd, &flags, &env).await, on(flag_port, 200));
}

#[tokio::test]
async fn an_explicit_config_file_replaces_the_working_folders() {
    let dir = site();
    let cwd = dir.path();
    let port = free_ports(1)[0];
    // Read, this one would stop the start.
    write(cwd, "devserve.toml", "prot = 1\n");
    write(
        cwd,
        "conf/team.toml",
        &format!("# shared settings\nport = {port}\nstrict-port = true\nspa = true\n"),
    );
    let flags = ["--config", "conf/team.toml"];
    let printed = printed_settings(cwd, &flags, &[]).await;
    assert_eq!(setting(&printed, "port"), port.to_string());
    assert_eq!(started(cwd, &flags, &[]).await, on(port, 200));
}

#[tokio::test]
async fn mistakes_in_a_config_file_stop_the_start_on_one_line_naming_file_line_and_key() {
    let cases = [
        ("port = 9000\n\nprot = 1\n", "3: prot: ", "unknown key"),
        ("# settings\nport = \"many\"\n", "2: port: ", "'many'"),
        ("strict-port = 1\n", "1: strict-port: ", "true or false"),
        (
            "spa = true\nlog-level = \"loud\"\n",
            "2: log-level: ",
            "loud",
        ),
        ("debounce = 99999\n", "1: debounce: ", "99999 ms"),
        ("\nheader = [\"nocolon\"]\n", "2: header: ", "nocolon"),
        ("watch = [\"not-there\"]\n", "1: watch: ", "no such file"),
    ];
    for (text, at, why) in cases {
        let dir = site();
        for (file, flags) in [
            ("devserve.toml", &[][..]),
            ("conf/dev.toml", &["--config", "conf/dev.toml"][..]),
        ] {
            write(dir.path(), file, text);
            let output = finished(&mut devserve_in(dir.path(), flags)).await;
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(!output.status.success(), "{text:?} in {file}: {output:?}");
            assert_eq!(stderr.lines().count(), 1, "{text:?} in {file}: {stderr}");
            assert!(
                stderr.starts_with(&format!("devserve: {file}:{at}")) && stderr.contains(why),
                "{text:?} in {file}: {stderr}"
            );
            assert!(output.stdout.is_empty(), "{text:?} in {file}: {output:?}");
        }
    }
}

#[tokio::test]
async fn a_mistyped_flag_names_the_similar_one_on_one_line() {
    let dir = site();
    let output = finished(&mut devserve_in(dir.path(), &["--sap"])).await;
    assert!(!output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("a similar argument exists: '--spa'"),
        "{stderr}"
    );
    assert!(stderr.contains("--help"), "{stderr}");
    assert!(output.stdout.is_empty(), "{output:?}");
}

#[tokio::test]
async fn a_bad_header_flag_is_named_as_the_flag() {
    let dir = site();
    let output = finished(&mut devserve_in(
        dir.path(),
        &["--header", "nocolon", "--port", "0"],
    ))
    .await;
    assert!(!output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("devserve: invalid --header: "),
        "{stderr}"
    );
}

/// The first message to `client` of type `wanted` (earlier ones skipped).
async fn message_of_type(client: &mut LiveClient, wanted: &str) -> serde_json::Value {
    tokio::time::timeout(WAIT, async {
        loop {
            let message = client.message().await;
            if message["type"] == wanted {
                return message;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {wanted} message in time"))
}

#[tokio::test]
async fn keyboard_shortcuts_work_on_a_terminal() {
    let dir = site();
    let mut devserve = Running::start(on_a_terminal(dir.path(), &["--port", "0"]));
    let mut keys = devserve.child.stdin.take().expect("the terminal's input");
    let addr = devserve.local_addr().await;
    devserve.out.until(|l| l.contains("press h + enter")).await;

    keys.write_all(b"h\n").await.expect("type h");
    devserve
        .out
        .until(|l| l.contains("Shortcuts (type the letter, then Enter)"))
        .await;
    devserve
        .out
        .until(|l| l.trim() == "r  reload every open page")
        .await;
    devserve.out.until(|l| l.trim() == "q  stop devserve").await;

    let mut client = LiveClient::connect(addr).await;
    client.until_status().await;
    keys.write_all(b"r\n").await.expect("type r");
    devserve
        .out
        .until(|l| l == "devserve: reloading 1 page(s)")
        .await;
    let reload = message_of_type(&mut client, "content-changed").await;
    assert_eq!(reload["data"], serde_json::json!(["/"]), "{reload}");

    keys.write_all(b"q\n").await.expect("type q");
    devserve.out.until(|l| l == "devserve: shutting down").await;
    let closing = loop {
        match client.frame().await {
            Some(frame) if frame.starts_with('c') => break frame,
            Some(_) => continue,
            None => panic!("the session ended without a close frame"),
        }
    };
    assert!(closing.starts_with("c[1001,"), "{closing}");
    let ended = devserve.ended().await;
    assert!(ended.status.success(), "q exits 0: {ended:#?}");
}

#[tokio::test]
async fn without_a_terminal_no_shortcuts_are_offered() {
    let dir = site();
    let mut devserve = Running::start(devserve_in(dir.path(), &["--port", "0"]));
    devserve.local().await;
    let ended = devserve.interrupt().await;
    assert!(ended.status.success(), "{ended:#?}");
    // The offer would come before this, the last line.
    assert_eq!(
        ended.out.last().map(String::as_str),
        Some("devserve: shutting down")
    );
    assert!(
        ended.out.iter().all(|l| !l.contains("press h")),
        "{:#?}",
        ended.out
    );
}

#[tokio::test]
async fn completions_and_the_man_page_print_and_exit_0() {
    let dir = site();
    let bash = finished(&mut devserve_in(dir.path(), &["--completions", "bash"])).await;
    assert!(bash.status.success(), "{bash:?}");
    let script = String::from_utf8_lossy(&bash.stdout);
    assert!(script.contains("_devserve()"), "{script}");
    assert!(script.contains("complete -F _devserve"), "{script}");
    assert!(script.contains("--spa"), "{script}");

    let man = finished(&mut devserve_in(dir.path(), &["--man"])).await;
    assert!(man.status.success(), "{man:?}");
    let page = String::from_utf8_lossy(&man.stdout);
    assert!(page.starts_with(".TH") || page.starts_with(".ie"), "{page}");
    assert!(page.contains(".TH devserve 1"), "{page}");
}

#[tokio::test]
async fn completions_into_a_closed_pipe_fail_without_a_panic() {
    let (writer, reader) = tokio::net::unix::pipe::pipe().expect("a pipe");
    drop(reader);
    let stdout = writer.into_blocking_fd().expect("the pipe's writing end");
    let child = devserve_in(temp_dir().path(), &["--completions", "bash"])
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn devserve");
    let output = tokio::time::timeout(WAIT, child.wait_with_output())
        .await
        .expect("exits in time")
        .expect("wait");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
}

#[tokio::test]
async fn quiet_prints_nothing_on_a_normal_start() {
    let dir = site();
    let port = free_port();
    let devserve = Running::start(devserve_in(
        dir.path(),
        &["-q", "--port", &port.to_string(), "--strict-port"],
    ));
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    assert!(
        eventually(WAIT, || std::net::TcpStream::connect(addr).is_ok()).await,
        "devserve answers"
    );
    assert_eq!(get(addr, "/index.html", &[]).await.status, 200);
    let ended = devserve.interrupt().await;
    assert!(ended.status.success(), "{ended:#?}");
    assert!(ended.out.is_empty() && ended.err.is_empty(), "{ended:#?}");
}

#[tokio::test]
async fn quiet_still_prints_the_local_url_when_the_port_moved() {
    let dir = site();
    let held = std::net::TcpListener::bind("127.0.0.1:0").expect("hold a port");
    let port = held.local_addr().expect("its address").port();
    let mut devserve = Running::start(devserve_in(
        dir.path(),
        &["-q", "--port", &port.to_string()],
    ));
    let moved = port_of(&devserve.local().await);
    assert_ne!(moved, port);
    let addr = SocketAddr::from(([127, 0, 0, 1], moved));
    assert_eq!(get(addr, "/index.html", &[]).await.status, 200);
    let ended = devserve.interrupt().await;
    drop(held);
    assert!(ended.status.success(), "{ended:#?}");
    assert_eq!(
        ended.out,
        [
            format!("devserve: port {port} is in use, using {moved} instead"),
            format!("  Local:   http://localhost:{moved}/"),
        ]
    );
}
