//! Benchmark: static-file throughput beside nginx, change → browser latency,
//! and cold start.
//!
//! - requests/s for a 4 KB and a 100 KB file over keep-alive (wrk, 2 threads,
//!   32 connections, 10 s), devserve and nginx on the same machine;
//! - file write → `content-changed` at a connected client, p50/p99 over 100 writes;
//! - cold start: process spawn → first 200, median of 20.
//!
//! ```text
//! apt-get install wrk nginx-light      # once
//! cargo build --release --examples && cargo build --release
//! ./target/release/examples/bench_static
//! ```
//! Loopback only; every load is bounded in time. Run it on an otherwise idle machine.

use futures_util::StreamExt;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(18999)
}

fn wait_for_200(port: u16, deadline: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < deadline {
        if let Ok(mut tcp) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            let _ = tcp.write_all(
                format!(
                    "GET /4k.txt HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n"
                )
                .as_bytes(),
            );
            let mut head = [0u8; 12];
            if tcp.read_exact(&mut head).is_ok() && &head[9..12] == b"200" {
                return Some(start.elapsed());
            }
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    None
}

fn wrk(url: &str) -> String {
    let output = Command::new("wrk")
        .args(["-t2", "-c32", "-d10s", "-H", "Host: localhost", url])
        .output();
    match output {
        Ok(o) => String::from_utf8_lossy(&o.stdout)
            .lines()
            .find(|l| l.starts_with("Requests/sec"))
            .map(|l| l.split_whitespace().nth(1).unwrap_or("?").to_string())
            .unwrap_or_else(|| "?".into()),
        Err(_) => "wrk missing".into(),
    }
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        // SIGTERM first: nginx's master then takes its workers down with it.
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        if !matches!(self.0.try_wait(), Ok(Some(_))) {
            std::thread::sleep(Duration::from_millis(200));
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

fn start_nginx(root: &Path, port: u16, dir: &Path) -> Option<Killed> {
    let conf = dir.join("nginx.conf");
    let text = format!(
        "daemon off; worker_processes auto; pid {d}/nginx.pid; error_log {d}/error.log; user root;\n\
         events {{ worker_connections 1024; }}\n\
         http {{ access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;\n\
           client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d}; uwsgi_temp_path {d}; scgi_temp_path {d};\n\
           server {{ listen 127.0.0.1:{port}; root {r}; }} }}\n",
        d = dir.display(),
        r = root.display()
    );
    std::fs::write(&conf, text).ok()?;
    let child = Command::new("nginx")
        .arg("-c")
        .arg(&conf)
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    wait_for_200(port, Duration::from_secs(5))?;
    Some(Killed(child))
}

fn devserve_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    exe.parent()
        .and_then(Path::parent)
        .map(|p| p.join("devserve"))
        .unwrap_or_default()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("site");
    std::fs::create_dir(&root)?;
    std::fs::write(root.join("4k.txt"), vec![b'a'; 4096])?;
    std::fs::write(root.join("100k.txt"), vec![b'b'; 100 * 1024])?;
    std::fs::write(root.join("index.html"), "<html><body>hi</body></html>")?;

    // Throughput.
    let bin = devserve_bin();
    let port = free_port();
    let devserve = Killed(
        Command::new(&bin)
            .arg(&root)
            .args(["--port", &port.to_string(), "--strict-port", "--quiet"])
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start {}: {e} (cargo build --release)",
                    bin.display()
                )
            })?,
    );
    wait_for_200(port, Duration::from_secs(5)).ok_or("devserve did not start")?;
    let nginx_port = free_port();
    let nginx = start_nginx(&root, nginx_port, dir.path());
    for file in ["4k.txt", "100k.txt"] {
        let ours = wrk(&format!("http://127.0.0.1:{port}/{file}"));
        let theirs = match nginx {
            Some(_) => wrk(&format!("http://127.0.0.1:{nginx_port}/{file}")),
            None => "nginx missing".into(),
        };
        println!("{file:>9}: devserve {ours} req/s, nginx {theirs} req/s");
    }
    drop(nginx);
    drop(devserve);

    // Change → message latency, in process.
    let config = devserve::Config {
        root: root.clone(),
        addr: "127.0.0.1:0".parse()?,
        ..Default::default()
    };
    let server = devserve::Server::start(config).await?;
    let addr: SocketAddr = server.local_addr();
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/sockjs-node/0/bench/websocket"))
            .await?;
    // Skip `o` and the connect sequence.
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_millis(200), ws.next()).await {
            Ok(Some(Ok(_))) => continue,
            _ => break,
        }
    }
    let mut latencies = Vec::new();
    for i in 0..100 {
        let path = root.join("style.css");
        let t0 = Instant::now();
        std::fs::write(&path, format!("body {{ order: {i} }}"))?;
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(5), ws.next())
                .await?
                .ok_or("closed")??;
            if let Message::Text(text) = frame {
                if text.as_str().contains("content-changed") {
                    latencies.push(t0.elapsed());
                    break;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    latencies.sort();
    println!(
        "file write -> content-changed: p50 {:.2?}, p99 {:.2?}, max {:.2?} over {} writes",
        latencies[latencies.len() / 2],
        latencies[latencies.len() * 99 / 100],
        latencies[latencies.len() - 1],
        latencies.len()
    );
    server.shutdown().await;

    // Cold start.
    let mut starts = Vec::new();
    for _ in 0..20 {
        let port = free_port();
        let t0 = Instant::now();
        let child = Killed(
            Command::new(&bin)
                .arg(&root)
                .args(["--port", &port.to_string(), "--strict-port", "--quiet"])
                .spawn()?,
        );
        let ready = wait_for_200(port, Duration::from_secs(5)).ok_or("no 200")?;
        starts.push(ready.max(t0.elapsed().min(ready)));
        drop(child);
    }
    starts.sort();
    println!(
        "cold start to first 200: median {:.2?}, worst {:.2?} over 20 starts",
        starts[10], starts[19]
    );
    Ok(())
}
