//! Benchmark: SockJS memory per idle session and broadcast fan-out, devserve
//! beside sockjs-node 0.3.24, and the dev server's own `/sockjs-node`.
//!
//! Fan-out: the same load against devserve's SockJS test server
//! (`sockjs_test_server`, built beside this example) and against sockjs-node
//! 0.3.24 (`examples/support/sockjs_node_server.js`, the npm package, with a
//! broadcast connection set): `--sessions` idle WebSocket sessions (default
//! 10,000) on `/broadcast`, the server's resident memory per session, and the
//! time from one client's message until every session has it (median of
//! `--rounds`, the two servers taking turns round by round), with the
//! server's user and kernel CPU time per broadcast. Servers on CPU 0, this
//! client on CPU 1; the sessions are read by a lean hand-written reader
//! (`support/raw_ws.rs`) so the client does not time itself.
//!
//! Dev server: `--clients` clients (default 1,000; half WebSocket, half
//! xhr-streaming) on a release devserve's `/sockjs-node`: RSS per client,
//! RSS after they have all left (waiting up to `--leave-wait` seconds for it
//! to fall back), and RSS with a second wave (memory reused or lost).
//!
//! ```text
//! apt-get install -y nodejs npm util-linux && npm ci     # sockjs@0.3.24 is a dev dependency
//! cargo build --release --bins --examples
//! ./target/release/examples/bench_sockjs [--sessions 10000] [--rounds 5] [--clients 1000] [--leave-wait 35]
//!     [--server both|devserve|sockjs-node]
//! ```
//! Loopback only; bounded in count and time; every process it starts ends
//! with it. It raises its open-file limit to the hard limit, which must be
//! above the session count.

#[allow(dead_code)] // each benchmark uses a part of the shared helpers
#[path = "support/mod.rs"]
mod support;

use futures_util::stream::FuturesUnordered;
use futures_util::{SinkExt, StreamExt};
use std::io::BufRead;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::flags::Flags;
use support::proc::{cpu_time, rss_kib};
use support::raw_ws::{self, Tally};
use support::report::{print_table, ratio, Row};
use support::spawn::{
    devserve_bin, free_port, pinned, raise_fd_limit, require_tool, run_pinned, sibling_bin,
    wait_for_port, BenchError, Guard, SERVER_CPU,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

/// How many connection attempts are in flight at once.
const CONNECTING: usize = 256;

fn main() -> std::process::ExitCode {
    run_pinned("bench_sockjs", run())
}

async fn run() -> Result<(), BenchError> {
    let flags = Flags::parse(&["sessions", "rounds", "clients", "leave-wait", "server"])?;
    let leave_wait = Duration::from_secs(flags.get("leave-wait", 35)?);
    let mut sessions: usize = flags.get("sessions", 10_000)?;
    let rounds: usize = flags.get("rounds", 5)?.max(1);
    let clients: usize = flags.get("clients", 1_000)?;
    let which = flags.text("server", "both");
    if !["both", "devserve", "sockjs-node"].contains(&which.as_str()) {
        return Err("--server must be both, devserve or sockjs-node".into());
    }
    let limit = raise_fd_limit();
    // Both servers keep their sessions open while they take turns; when
    // the open-file limit cannot hold both, each gets half of it.
    let servers = if which == "both" { 2 } else { 1 };
    let room = usize::try_from(limit)
        .unwrap_or(usize::MAX)
        .saturating_sub(200)
        / servers;
    if sessions > room && room >= 1000 {
        println!(
            "bench_sockjs: open-file limit {limit}: {room} sessions per server, so both stay open"
        );
        sessions = room;
    }
    if limit < ((sessions * servers).max(clients) + 100) as u64 {
        return Err(
            format!("open-file limit {limit} is below the session count (ulimit -n)").into(),
        );
    }
    let mut loaded = Vec::new();
    if sessions > 0 && which != "sockjs-node" {
        loaded.push(open_sessions(start_test_server()?, sessions).await?);
    }
    if sessions > 0 && which != "devserve" {
        loaded.push(open_sessions(start_sockjs_node()?, sessions).await?);
    }
    let mut results = alternate_rounds(loaded, rounds).await?.into_iter();
    let ours = (sessions > 0 && which != "sockjs-node")
        .then(|| results.next())
        .flatten();
    let theirs = results.next();
    let mut rows = match (&ours, &theirs) {
        (None, None) => Vec::new(),
        _ => fan_out_rows(ours.as_ref(), theirs.as_ref()),
    };
    if clients > 0 {
        rows.extend(dev_server_clients(clients, leave_wait).await?);
    }
    print_table("bench_sockjs", &rows);
    Ok(())
}

/// A SockJS server process and the address it listens on.
struct Target {
    name: &'static str,
    addr: SocketAddr,
    guard: Guard,
}

/// Starts `command` on the server CPU and reads its address from the first
/// line of its output that has `http://`.
async fn start_server(
    mut command: std::process::Command,
    name: &'static str,
) -> Result<Target, BenchError> {
    command.stdout(Stdio::piped());
    let mut guard = Guard::spawn(command, name)?;
    let stdout = guard.child_mut().stdout.take().ok_or("no stdout")?;
    let reading = tokio::task::spawn_blocking(move || {
        let mut lines = std::io::BufReader::new(stdout).lines();
        let addr = lines.by_ref().map_while(Result::ok).find_map(|line| {
            line.rsplit("http://")
                .next()
                .filter(|_| line.contains("http://"))?
                .trim()
                .parse()
                .ok()
        });
        // Keep draining, so later output never meets a closed pipe.
        std::thread::spawn(move || lines.for_each(drop));
        addr
    });
    let addr = tokio::time::timeout(Duration::from_secs(10), reading)
        .await
        .map_err(|_| format!("{name} printed no address within 10 s"))??
        .ok_or_else(|| format!("{name} exited without printing its address"))?;
    Ok(Target { name, addr, guard })
}

fn start_test_server(
) -> Result<impl std::future::Future<Output = Result<Target, BenchError>>, BenchError> {
    let mut command = pinned(SERVER_CPU, sibling_bin(Path::new("sockjs_test_server"))?);
    command.args(["--port", "0"]);
    Ok(start_server(command, "devserve sockjs_test_server"))
}

fn start_sockjs_node(
) -> Result<impl std::future::Future<Output = Result<Target, BenchError>>, BenchError> {
    let node = require_tool("node", "nodejs")?;
    let project = Path::new(env!("CARGO_MANIFEST_DIR"));
    let modules = project.join("node_modules");
    if !modules.join("sockjs").join("package.json").is_file() {
        return Err(
            "sockjs-node (npm sockjs@0.3.24) not installed: run `npm ci` in the project folder"
                .into(),
        );
    }
    let mut command = pinned(SERVER_CPU, node);
    command
        .arg(project.join("examples/support/sockjs_node_server.js"))
        .env("NODE_PATH", modules);
    Ok(start_server(command, "sockjs-node"))
}

/// What one server did under the fan-out load.
#[derive(Debug)]
struct FanOut {
    sessions: usize,
    kib_per_session: f64,
    broadcast_median: Duration,
    broadcast_worst: Duration,
    /// The server's CPU time per broadcast, user space and kernel.
    cpu_per_broadcast: (Duration, Duration),
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A server with its sessions open, ready for broadcast rounds.
struct Loaded {
    target: Target,
    sender: Ws,
    readers: Vec<JoinHandle<()>>,
    tally: Arc<Tally>,
    sessions: usize,
    kib_per_session: f64,
    times: Vec<Duration>,
    cpu: (Duration, Duration),
}

/// Opens `sessions` WebSocket sessions on `/broadcast` plus one sender,
/// and measures the server's memory per session.
async fn open_sessions(
    target: impl std::future::Future<Output = Result<Target, BenchError>>,
    sessions: usize,
) -> Result<Loaded, BenchError> {
    let mut target = target.await?;
    let addr = target.addr;
    let path = |i: usize| format!("/broadcast/000/s{i}/websocket");
    // Warm up: one session, so one-time allocations are not counted per session.
    let url = format!("ws://{addr}{}", path(usize::MAX));
    let (mut sender, _) = tokio_tungstenite::connect_async(url).await?;
    sender.next().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = target.guard.pid();
    let base = rss_kib(pid);

    let started = Instant::now();
    let tally = Arc::new(Tally::default());
    let mut readers = Vec::with_capacity(sessions);
    let mut connecting = FuturesUnordered::new();
    for i in 0..sessions {
        connecting.push(raw_ws::open(addr, path(i), tally.clone()));
        while connecting.len() >= CONNECTING || (i + 1 == sessions && !connecting.is_empty()) {
            if let Some(result) = connecting.next().await {
                readers.push(result?);
            }
        }
    }
    tokio::time::timeout(Duration::from_secs(60), tally.opened(sessions)).await?;
    println!(
        "{}: {sessions} sessions open in {:.2?}",
        target.name,
        started.elapsed()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    target.guard.check_alive()?;
    let loaded = rss_kib(pid);
    let kib_per_session = loaded.saturating_sub(base) as f64 / sessions.max(1) as f64;
    println!(
        "{}: RSS {base} KiB with 1 session, {loaded} KiB with {}; {kib_per_session:.1} KiB each",
        target.name,
        sessions + 1
    );
    Ok(Loaded {
        target,
        sender,
        readers,
        tally,
        sessions,
        kib_per_session,
        times: Vec::new(),
        cpu: (Duration::ZERO, Duration::ZERO),
    })
}

impl Loaded {
    /// One broadcast: the time until every session has it, and the
    /// server's CPU time for it.
    async fn round(&mut self, round: usize) -> Result<(), BenchError> {
        let pid = self.target.guard.pid();
        let seen = self.tally.messages();
        let before = cpu_time(pid);
        let t0 = Instant::now();
        self.sender
            .send(Message::text(format!("[\"round {round}\"]")))
            .await?;
        let last = tokio::time::timeout(
            Duration::from_secs(30),
            self.tally.until_messages(seen + self.sessions),
        )
        .await?;
        self.times.push(last - t0);
        // Let the server finish its side (writes queued behind the last
        // delivery) before reading its CPU time.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let after = cpu_time(pid);
        self.cpu.0 += after.user.saturating_sub(before.user);
        self.cpu.1 += after.system.saturating_sub(before.system);
        Ok(())
    }

    fn finish(mut self) -> FanOut {
        self.times.sort();
        let rounds = self.times.len().max(1) as u32;
        let fan = FanOut {
            sessions: self.sessions,
            kib_per_session: self.kib_per_session,
            broadcast_median: self.times[self.times.len() / 2],
            broadcast_worst: self.times[self.times.len() - 1],
            cpu_per_broadcast: (self.cpu.0 / rounds, self.cpu.1 / rounds),
        };
        println!(
            "{}: broadcast to {}: median {:.1?}, worst {:.1?}; server CPU per broadcast {:.1?} user + {:.1?} kernel",
            self.target.name,
            fan.sessions,
            fan.broadcast_median,
            fan.broadcast_worst,
            fan.cpu_per_broadcast.0,
            fan.cpu_per_broadcast.1
        );
        self.readers.iter().for_each(JoinHandle::abort);
        fan
    }
}

/// Broadcast rounds alternating between the loaded servers, so both see
/// the same machine; each one's results.
async fn alternate_rounds(
    mut loaded: Vec<Loaded>,
    rounds: usize,
) -> Result<Vec<FanOut>, BenchError> {
    for round in 0..rounds {
        for server in &mut loaded {
            server.round(round).await?;
        }
    }
    Ok(loaded.into_iter().map(Loaded::finish).collect())
}

fn fan_out_rows(ours: Option<&FanOut>, theirs: Option<&FanOut>) -> Vec<Row> {
    let kib = |f: Option<&FanOut>| f.map(|f| f.kib_per_session);
    let ms = |f: Option<&FanOut>| f.map(|f| f.broadcast_median.as_secs_f64() * 1000.0);
    let user = |f: Option<&FanOut>| f.map(|f| f.cpu_per_broadcast.0.as_secs_f64() * 1000.0);
    let system = |f: Option<&FanOut>| f.map(|f| f.cpu_per_broadcast.1.as_secs_f64() * 1000.0);
    let show =
        |v: Option<f64>, unit: &str| v.map_or("not run".to_string(), |v| format!("{v:.1} {unit}"));
    let sessions = ours.or(theirs).map_or(0, |f| f.sessions);
    vec![
        Row {
            what: format!("{sessions} idle SockJS WebSocket sessions, RSS each"),
            ours: show(kib(ours), "KiB"),
            anchor: format!("sockjs-node 0.3.24 {}", show(kib(theirs), "KiB")),
            ratio: ratio(kib(ours), kib(theirs)),
            goal: "≤ 8 KiB".into(),
        },
        Row {
            what: format!("one broadcast to all {sessions} (median)"),
            ours: show(ms(ours), "ms"),
            anchor: format!("sockjs-node 0.3.24 {}", show(ms(theirs), "ms")),
            ratio: ratio(ms(ours), ms(theirs)),
            goal: "≤ 0.33×".into(),
        },
        Row {
            what: "server CPU per broadcast, user space".into(),
            ours: show(user(ours), "ms"),
            anchor: format!("sockjs-node 0.3.24 {}", show(user(theirs), "ms")),
            ratio: ratio(user(ours), user(theirs)),
            goal: "—".into(),
        },
        Row {
            what: "server CPU per broadcast, kernel (send path)".into(),
            ours: show(system(ours), "ms"),
            anchor: format!("sockjs-node 0.3.24 {}", show(system(theirs), "ms")),
            ratio: ratio(system(ours), system(theirs)),
            goal: "—".into(),
        },
    ]
}

/// `clients` clients on a release devserve's `/sockjs-node`, half over
/// WebSocket and half over xhr-streaming: RSS per client; RSS once they
/// have left (up to `leave_wait`: an xhr-streaming session may only notice
/// its closed connection at the next heartbeat, 25 s, then waits out the 5 s
/// disconnect delay); and RSS with a second wave of as many clients, which
/// tells memory kept for reuse from memory lost.
async fn dev_server_clients(clients: usize, leave_wait: Duration) -> Result<Vec<Row>, BenchError> {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("index.html"), "<!doctype html><p>hi</p>\n")?;
    let port = free_port()?;
    let mut command = pinned(SERVER_CPU, devserve_bin()?);
    command
        .arg(dir.path())
        .args(["--port", &port.to_string(), "--strict-port", "--quiet"]);
    let mut server = Guard::spawn(command, "devserve")?;
    wait_for_port(port, Duration::from_secs(10))?;
    let (warm, _) = tokio_tungstenite::connect_async(format!(
        "ws://127.0.0.1:{port}/sockjs-node/000/warm/websocket"
    ))
    .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let base = rss_kib(server.pid());

    // WebSocket clients (even indices) first, then xhr-streaming (odd), so
    // each transport's cost shows on its own.
    let mut readers = open_wave(port, (0..clients).step_by(2), "a").await?;
    server.check_alive()?;
    let with_ws = rss_kib(server.pid());
    readers.extend(open_wave(port, (1..clients).step_by(2), "a").await?);
    server.check_alive()?;
    let loaded = rss_kib(server.pid());
    let each = loaded.saturating_sub(base) as f64 / clients.max(1) as f64;
    let halves = [
        clients.div_ceil(2).max(1) as f64,
        (clients / 2).max(1) as f64,
    ];
    let ws_each = with_ws.saturating_sub(base) as f64 / halves[0];
    let xhr_each = loaded.saturating_sub(with_ws) as f64 / halves[1];
    println!("devserve /sockjs-node: RSS {base} KiB with 1 client, {loaded} KiB with {}; {each:.1} KiB each (WebSocket {ws_each:.1}, xhr-streaming {xhr_each:.1})", clients + 1);

    readers.iter().for_each(JoinHandle::abort);
    drop(readers);
    let left = Instant::now();
    let mut after = loaded;
    while left.elapsed() < leave_wait && after > base + base / 10 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        after = rss_kib(server.pid());
    }
    let waited = left.elapsed();
    println!("devserve /sockjs-node: RSS {after} KiB {waited:.1?} after they left");
    let readers = open_wave(port, 0..clients, "b").await?;
    let again = rss_kib(server.pid());
    println!("devserve /sockjs-node: RSS {again} KiB with a second wave of {clients}");
    readers.iter().for_each(JoinHandle::abort);
    drop(warm);
    Ok(vec![
        Row {
            what: format!("{clients} clients on `/sockjs-node` (half WebSocket, half xhr-streaming), RSS each"),
            ours: format!("{each:.1} KiB (WebSocket {ws_each:.1}, xhr-streaming {xhr_each:.1})"),
            anchor: "—".into(),
            ratio: "—".into(),
            goal: "≤ 10 KiB".into(),
        },
        Row {
            what: format!("RSS after they leave ({:.0} s later)", waited.as_secs_f64()),
            ours: format!("{after} KiB (1 client {base} KiB, all {loaded} KiB)"),
            anchor: "vs 1 client".into(),
            ratio: ratio(Some(after as f64), Some(base as f64)),
            goal: "back to the 1-client figure".into(),
        },
        Row {
            what: format!("RSS with a second wave of {clients}"),
            ours: format!("{again} KiB"),
            anchor: format!("first wave {loaded} KiB"),
            ratio: ratio(Some(again as f64), Some(loaded as f64)),
            goal: "≈ 1.0× (memory reused, not lost)".into(),
        },
    ])
}

/// Opens the clients numbered `indices` (see [`open_dev_client`]; session
/// ids tagged `tag`) and waits for each one's `o` frame.
async fn open_wave(
    port: u16,
    indices: impl Iterator<Item = usize>,
    tag: &str,
) -> Result<Vec<JoinHandle<()>>, BenchError> {
    let indices: Vec<usize> = indices.collect();
    let clients = indices.len();
    let mut readers = Vec::with_capacity(clients);
    let (tx, mut rx) = mpsc::unbounded_channel::<Instant>();
    for batch in indices.chunks(CONNECTING) {
        let mut connecting = FuturesUnordered::new();
        for &i in batch {
            connecting.push(open_dev_client(port, i, format!("{tag}{i}"), tx.clone()));
        }
        while let Some(reader) = connecting.next().await {
            readers.push(reader?);
        }
    }
    for _ in 0..clients {
        tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await?
            .ok_or("closed")?; // `o`
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok(readers)
}

/// Client `i`: even ones over WebSocket, odd ones over xhr-streaming; each
/// reports its `o` frame on `tx`, then keeps reading until aborted.
async fn open_dev_client(
    port: u16,
    i: usize,
    session: String,
    tx: mpsc::UnboundedSender<Instant>,
) -> Result<JoinHandle<()>, BenchError> {
    if i % 2 == 0 {
        let url = format!("ws://127.0.0.1:{port}/sockjs-node/000/w{session}/websocket");
        let (ws, _) = tokio_tungstenite::connect_async(url).await?;
        return Ok(spawn_reader_once(ws, tx));
    }
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let request = format!(
        "POST /sockjs-node/000/x{session}/xhr_streaming HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await?;
    Ok(tokio::spawn(async move {
        let mut seen = Vec::new();
        let mut buf = vec![0u8; 4096];
        let mut opened = false;
        while let Ok(n) = tcp.read(&mut buf).await {
            if n == 0 {
                return;
            }
            if !opened {
                seen.extend_from_slice(&buf[..n]);
                let body = seen
                    .windows(4)
                    .position(|w| w == b"\r\n\r\n")
                    .map(|at| &seen[at..]);
                if body.is_some_and(|b| b.windows(2).any(|w| w == b"o\n")) {
                    opened = true;
                    seen = Vec::new();
                    let _ = tx.send(Instant::now());
                }
            }
        }
    }))
}

/// Like [`spawn_reader`], but reports only the first frame (`o`).
fn spawn_reader_once(mut ws: Ws, tx: mpsc::UnboundedSender<Instant>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut opened = false;
        while let Some(Ok(_)) = ws.next().await {
            if !opened {
                opened = true;
                let _ = tx.send(Instant::now());
            }
        }
    })
}
