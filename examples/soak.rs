//! Soak / load tool: many SockJS clients over every dev-relevant transport,
//! a steady broadcast, and the server's memory over time.
//!
//! Starts the SockJS test server (`sockjs_test_server`, built beside this
//! example) as its own process, connects N clients to `/broadcast` — a mix
//! of websocket, xhr-streaming and xhr-polling — and one sender that
//! broadcasts sequence-numbered messages at a steady rate for T seconds.
//! Reports, per transport: messages sent vs received (every client must get
//! every message sent after it joined, in order), p50/p99 delivery latency;
//! the server's RSS at start, middle and end; and its live sessions after
//! every client has left (zero within the disconnect delay).
//!
//! ```text
//! cargo build --release --examples
//! ./target/release/examples/soak [CLIENTS=2000] [SECONDS=60] [RATE_PER_SEC=5]
//! ```
//! Loopback only; bounded in clients, time and rate. Exits non-zero on loss.

#[allow(dead_code)] // the soak reads memory only, not CPU time
#[path = "support/proc.rs"]
mod proc;
use futures_util::{SinkExt, StreamExt};
use proc::rss_kib;
use std::collections::HashMap;
use std::io::BufRead;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Transport {
    WebSocket,
    XhrStreaming,
    XhrPolling,
}

/// What one client saw.
#[derive(Default)]
struct Tally {
    first: Option<u64>,
    last: Option<u64>,
    received: u64,
    out_of_order: u64,
    latencies_us: Vec<u64>,
}

impl Tally {
    /// Take message `seq` sent `sent_us` after the start.
    fn take(&mut self, seq: u64, sent_us: u64, now_us: u64) {
        if let Some(last) = self.last {
            if seq != last + 1 {
                self.out_of_order += 1;
            }
        } else {
            self.first = Some(seq);
        }
        self.last = Some(seq);
        self.received += 1;
        self.latencies_us.push(now_us.saturating_sub(sent_us));
    }
}

type Shared = Arc<Mutex<Tally>>;

fn parse(message: &str) -> Option<(u64, u64)> {
    let mut parts = message.strip_prefix("seq:")?.split(':');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// Feed every message of a frame (`a[...]`) to the tally.
fn take_frame(frame: &str, tally: &Shared, start: Instant) {
    if let Some(array) = frame.strip_prefix('a') {
        if let Ok(messages) = serde_json::from_str::<Vec<String>>(array) {
            let now = start.elapsed().as_micros() as u64;
            let mut t = tally.lock().unwrap_or_else(|p| p.into_inner());
            for m in messages {
                if let Some((seq, sent)) = parse(&m) {
                    t.take(seq, sent, now);
                }
            }
        }
    }
}

async fn websocket_client(
    addr: SocketAddr,
    id: usize,
    tally: Shared,
    start: Instant,
    stop: Arc<AtomicBool>,
) {
    let url = format!("ws://{addr}/broadcast/000/ws{id}/websocket");
    let Ok((mut ws, _)) = tokio_tungstenite::connect_async(url).await else {
        return;
    };
    while !stop.load(Ordering::Relaxed) {
        match tokio::time::timeout(Duration::from_millis(500), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => take_frame(t.as_str(), &tally, start),
            Ok(Some(Ok(_))) | Err(_) => {}
            Ok(_) => return,
        }
    }
    let _ = ws.close(None).await;
}

/// POST `path`; returns the response body reader positioned after the headers.
async fn post(addr: SocketAddr, path: &str) -> Option<BufReader<TcpStream>> {
    let mut tcp = TcpStream::connect(addr).await.ok()?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.ok()?;
    let mut reader = BufReader::new(tcp);
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line).await.ok()?;
        if line == "\r\n" || line.is_empty() {
            return Some(reader);
        }
    }
}

/// Read one HTTP chunk's data; `None` at the end.
async fn chunk(reader: &mut BufReader<TcpStream>) -> Option<String> {
    let mut size = String::new();
    reader.read_line(&mut size).await.ok()?;
    let size = usize::from_str_radix(size.trim(), 16).ok()?;
    if size == 0 {
        return None;
    }
    let mut data = vec![0; size + 2];
    reader.read_exact(&mut data).await.ok()?;
    data.truncate(size);
    String::from_utf8(data).ok()
}

async fn streaming_client(
    addr: SocketAddr,
    id: usize,
    tally: Shared,
    start: Instant,
    stop: Arc<AtomicBool>,
) {
    let path = format!("/broadcast/000/xs{id}/xhr_streaming");
    while !stop.load(Ordering::Relaxed) {
        let Some(mut reader) = post(addr, &path).await else {
            return;
        };
        loop {
            let next = tokio::time::timeout(Duration::from_millis(500), chunk(&mut reader)).await;
            match next {
                Ok(Some(data)) => {
                    for frame in data.lines() {
                        take_frame(frame, &tally, start);
                    }
                }
                Ok(None) => break, // response limit reached: reconnect to the same session
                Err(_) if stop.load(Ordering::Relaxed) => return,
                Err(_) => {}
            }
        }
    }
}

async fn polling_client(
    addr: SocketAddr,
    id: usize,
    tally: Shared,
    start: Instant,
    stop: Arc<AtomicBool>,
) {
    let path = format!("/broadcast/000/xp{id}/xhr");
    while !stop.load(Ordering::Relaxed) {
        let Some(mut reader) = post(addr, &path).await else {
            return;
        };
        let mut body = Vec::new();
        if tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(data) = chunk(&mut reader).await {
                body.extend_from_slice(data.as_bytes());
            }
        })
        .await
        .is_err()
        {
            continue;
        }
        take_frame(String::from_utf8_lossy(&body).trim_end(), &tally, start);
    }
}

async fn live_sessions(addr: SocketAddr) -> Option<u64> {
    let mut tcp = TcpStream::connect(addr).await.ok()?;
    tcp.write_all(
        format!("GET /stats HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .ok()?;
    let mut text = String::new();
    tcp.read_to_string(&mut text).await.ok()?;
    let body = text.split("\r\n\r\n").nth(1)?;
    let json = body.lines().find(|l| l.starts_with('{'))?;
    serde_json::from_str::<serde_json::Value>(json).ok()?["live_sessions"].as_u64()
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p) as usize] as f64 / 1000.0
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>());
    let clients = args.next().and_then(Result::ok).unwrap_or(2000).min(8000) as usize;
    let seconds = args
        .next()
        .and_then(Result::ok)
        .unwrap_or(60)
        .clamp(1, 3600);
    let rate = args.next().and_then(Result::ok).unwrap_or(5).clamp(1, 100);

    let server_bin = std::env::current_exe()?.with_file_name("sockjs_test_server");
    let mut server = Command::new(&server_bin)
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .spawn()?;
    let mut first = String::new();
    std::io::BufReader::new(server.stdout.take().ok_or("no stdout")?).read_line(&mut first)?;
    let addr: SocketAddr = first
        .trim()
        .rsplit("http://")
        .next()
        .ok_or("no address")?
        .parse()?;
    let pid = server.id();
    let rss_idle = rss_kib(pid);

    let start = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let mut tallies: Vec<(Transport, Shared)> = Vec::new();
    let mut tasks = Vec::new();
    for id in 0..clients {
        let transport = match id % 3 {
            0 => Transport::WebSocket,
            1 => Transport::XhrStreaming,
            _ => Transport::XhrPolling,
        };
        let tally: Shared = Arc::default();
        tallies.push((transport, tally.clone()));
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            match transport {
                Transport::WebSocket => websocket_client(addr, id, tally, start, stop).await,
                Transport::XhrStreaming => streaming_client(addr, id, tally, start, stop).await,
                Transport::XhrPolling => polling_client(addr, id, tally, start, stop).await,
            }
        }));
        if id % 100 == 99 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_start = rss_kib(pid);
    println!("{clients} clients connected in {:.1?}; server RSS {rss_idle} KiB idle, {rss_start} KiB loaded", start.elapsed());

    // The sender: one WebSocket on /broadcast.
    let (mut sender, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/broadcast/000/sender/websocket"))
            .await?;
    sender.next().await;
    let interval = Duration::from_micros(1_000_000 / rate);
    let total = seconds * rate;
    let mut rss_middle = 0;
    let mut ticker = tokio::time::interval(interval);
    for seq in 0..total {
        ticker.tick().await;
        let sent = start.elapsed().as_micros() as u64;
        sender
            .send(Message::text(format!("[\"seq:{seq}:{sent}\"]")))
            .await?;
        if seq == total / 2 {
            rss_middle = rss_kib(pid);
        }
        // The sender is a member too: drain what it gets back.
        while let Ok(Some(_)) = tokio::time::timeout(Duration::ZERO, sender.next()).await {}
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_end = rss_kib(pid);
    stop.store(true, Ordering::Relaxed);
    let _ = sender.close(None).await;
    for task in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(35), task).await;
    }

    let mut by_transport: HashMap<Transport, (usize, u64, u64, u64, Vec<u64>)> = HashMap::new();
    let mut lossy = 0;
    for (transport, tally) in &tallies {
        let t = tally.lock().unwrap_or_else(|p| p.into_inner());
        let expected = t.first.map_or(0, |f| total - f);
        let entry = by_transport.entry(*transport).or_default();
        entry.0 += 1;
        entry.1 += expected;
        entry.2 += t.received;
        entry.3 += t.out_of_order;
        entry.4.extend_from_slice(&t.latencies_us);
        if t.received != expected || t.out_of_order > 0 || t.first.is_none() {
            lossy += 1;
        }
    }
    println!("{total} messages broadcast at {rate}/s for {seconds} s to {clients} clients");
    for transport in [
        Transport::WebSocket,
        Transport::XhrStreaming,
        Transport::XhrPolling,
    ] {
        if let Some((n, expected, received, disorder, mut lat)) = by_transport.remove(&transport) {
            lat.sort_unstable();
            println!(
                "  {transport:?}: {n} clients, {received}/{expected} messages received, {disorder} out of order, latency p50 {:.2} ms, p99 {:.2} ms",
                percentile(&lat, 0.5),
                percentile(&lat, 0.99)
            );
        }
    }
    println!("server RSS: start {rss_start} KiB, middle {rss_middle} KiB, end {rss_end} KiB");
    let left = Instant::now();
    let mut live = live_sessions(addr).await.unwrap_or(u64::MAX);
    while live > 0 && left.elapsed() < Duration::from_secs(15) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        live = live_sessions(addr).await.unwrap_or(u64::MAX);
    }
    println!(
        "live sessions after every client left: {live} (after {:.1?})",
        left.elapsed()
    );
    let _ = server.kill();
    let _ = server.wait();
    if lossy > 0 || live > 0 {
        return Err(
            format!("{lossy} clients lost or reordered messages; {live} sessions left").into(),
        );
    }
    println!("no loss, no reordering, no leaked session");
    Ok(())
}
