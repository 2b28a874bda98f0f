//! Benchmark: memory per idle WebSocket session and broadcast latency.
//!
//! Starts the SockJS test server (`sockjs_test_server`, built beside this
//! example) as a separate process, opens N WebSocket sessions to its
//! `/broadcast` prefix (default 10,000), and reports
//! - the server's resident memory per idle session, and
//! - the time from one client sending a message until every client has it.
//!
//! ```text
//! cargo build --release --examples
//! ./target/release/examples/bench_sockjs [SESSIONS] [ROUNDS]
//! ```
//! Loopback only; bounded in count and time. Needs a file-descriptor limit
//! above SESSIONS (`ulimit -n`).

#[path = "support/proc.rs"]
mod proc;
use futures_util::stream::FuturesUnordered;
use futures_util::{SinkExt, StreamExt};
use proc::rss_kib;
use std::io::BufRead;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let sessions: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let server_bin = std::env::current_exe()?.with_file_name("sockjs_test_server");
    let mut server = Command::new(&server_bin)
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!(
                "cannot start {}: {e} (build with --examples)",
                server_bin.display()
            )
        })?;
    let stdout = server.stdout.take().ok_or("no stdout")?;
    let mut first = String::new();
    std::io::BufReader::new(stdout).read_line(&mut first)?;
    let addr: SocketAddr = first
        .trim()
        .rsplit("http://")
        .next()
        .ok_or("no address")?
        .parse()?;
    let pid = server.id();

    // Warm up: one session, so one-time allocations are not counted per session.
    let url = |i: usize| format!("ws://{addr}/broadcast/000/s{i}/websocket");
    let (mut warm, _) = tokio_tungstenite::connect_async(url(usize::MAX)).await?;
    warm.next().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let base = rss_kib(pid);

    let started = Instant::now();
    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, Instant)>();
    let mut writers = Vec::with_capacity(sessions);
    let mut connecting = FuturesUnordered::new();
    let mut opened = 0;
    for i in 0..sessions {
        connecting.push(async move { (i, tokio_tungstenite::connect_async(url(i)).await) });
        while connecting.len() >= 256 {
            if let Some((i, result)) = connecting.next().await {
                let (ws, _) = result?;
                writers.push(spawn_reader(i, ws, tx.clone()));
                opened += 1;
            }
        }
    }
    while let Some((i, result)) = connecting.next().await {
        let (ws, _) = result?;
        writers.push(spawn_reader(i, ws, tx.clone()));
        opened += 1;
    }
    // Wait for every `o` frame.
    let mut open_frames = 0;
    while open_frames < opened {
        tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await?
            .ok_or("closed")?;
        open_frames += 1;
    }
    println!("{opened} sessions open in {:.2?}", started.elapsed());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let loaded = rss_kib(pid);
    let per_session = (loaded.saturating_sub(base) as f64 * 1024.0) / opened as f64;
    println!(
        "server RSS: {base} KiB with 1 session, {loaded} KiB with {}; {:.1} KiB per idle session",
        opened + 1,
        per_session / 1024.0
    );

    let mut times = Vec::new();
    for round in 0..rounds {
        let t0 = Instant::now();
        warm.send(Message::text(format!("[\"round {round}\"]")))
            .await?;
        let mut got = 0;
        let mut last = t0;
        while got < opened {
            let (_, at) = tokio::time::timeout(Duration::from_secs(30), rx.recv())
                .await?
                .ok_or("closed")?;
            last = last.max(at);
            got += 1;
        }
        times.push(last - t0);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    times.sort();
    println!(
        "broadcast to {opened} sessions: median {:.1?}, worst {:.1?} over {rounds} rounds",
        times[times.len() / 2],
        times[times.len() - 1]
    );
    drop(writers);
    let _ = server.kill();
    let _ = server.wait();
    Ok(())
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Read frames; report each non-heartbeat frame's arrival time.
fn spawn_reader(
    i: usize,
    mut ws: Ws,
    tx: mpsc::UnboundedSender<(usize, Instant)>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(Ok(message)) = ws.next().await {
            if let Message::Text(text) = message {
                if text.as_str() != "h" && tx.send((i, Instant::now())).is_err() {
                    return;
                }
            }
        }
    })
}
