//! Helpers shared by the integration tests: raw-TCP HTTP (so requests reach
//! the server exactly as written), a chunk-by-chunk streaming reader, temp
//! folders, polling for observable events, the devserve binary as a process,
//! and the gate for tests that need Node, Chromium or nginx.

mod live;
mod process;
mod tools;
pub use live::{types, LiveClient};
pub use process::*;
pub use tools::{chromium_ready, curl, nginx_binary, node_ready, require, run_node};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Generous bound for anything a test waits on.
pub const WAIT: Duration = Duration::from_secs(10);

/// How often [`eventually`] looks again.
const POLL: Duration = Duration::from_millis(10);

/// Whether `condition` holds within `timeout` (checked at once, then every
/// few milliseconds). Wait for an observable event with this, never a fixed sleep.
pub async fn eventually(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// A parsed response.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        last_header(&self.headers, name)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The last value of header `name` (case-insensitive).
fn last_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .rev()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A response whose body is read one HTTP chunk at a time.
pub struct Streaming {
    reader: BufReader<TcpStream>,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    chunked: bool,
}

impl Streaming {
    pub fn header(&self, name: &str) -> Option<&str> {
        last_header(&self.headers, name)
    }

    /// The next chunk as text; `None` at the end of the body.
    pub async fn chunk(&mut self) -> Option<String> {
        tokio::time::timeout(WAIT, self.read_chunk())
            .await
            .expect("chunk in time")
    }

    async fn read_chunk(&mut self) -> Option<String> {
        if !self.chunked {
            let mut buf = vec![0u8; 65536];
            let n = self.reader.read(&mut buf).await.ok()?;
            return (n > 0).then(|| String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        let mut line = String::new();
        self.reader.read_line(&mut line).await.ok()?;
        let size = usize::from_str_radix(line.trim(), 16).ok()?;
        if size == 0 {
            return None;
        }
        let mut data = vec![0u8; size + 2];
        self.reader.read_exact(&mut data).await.ok()?;
        data.truncate(size);
        Some(String::from_utf8_lossy(&data).into_owned())
    }
}

async fn read_head(reader: &mut BufReader<TcpStream>) -> (u16, Vec<(String, String)>) {
    let mut line = String::new();
    reader.read_line(&mut line).await.expect("status line");
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {line:?}"));
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).await.expect("header line");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    (status, headers)
}

/// Send `request` verbatim and start reading the response.
pub async fn stream_raw(addr: SocketAddr, request: &[u8]) -> Streaming {
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(request).await.expect("write request");
    let mut reader = BufReader::new(tcp);
    let (status, headers) = tokio::time::timeout(WAIT, read_head(&mut reader))
        .await
        .expect("response head in time");
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    Streaming {
        reader,
        status,
        headers,
        chunked,
    }
}

/// Send `request` verbatim and read the whole response.
pub async fn raw(addr: SocketAddr, request: &[u8]) -> RawResponse {
    let mut streaming = stream_raw(addr, request).await;
    let length: Option<usize> = streaming
        .header("content-length")
        .and_then(|v| v.parse().ok());
    let mut body = Vec::new();
    if request.starts_with(b"HEAD ") {
    } else if let Some(length) = length {
        body.resize(length, 0);
        tokio::time::timeout(WAIT, streaming.reader.read_exact(&mut body))
            .await
            .expect("body in time")
            .expect("body");
    } else if streaming.status == 101 || streaming.status == 204 || streaming.status == 304 {
    } else {
        while let Some(chunk) = streaming.chunk().await {
            body.extend_from_slice(chunk.as_bytes());
        }
    }
    RawResponse {
        status: streaming.status,
        headers: streaming.headers,
        body,
    }
}

/// Build a request: `Host` is the server's address unless given; `Connection: close`.
pub fn request(
    method: &str,
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\n");
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        out.push_str(&format!("Host: {addr}\r\n"));
    }
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// GET `path`.
pub async fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> RawResponse {
    raw(addr, &request("GET", addr, path, headers, b"")).await
}

/// POST `body` to `path`.
pub async fn post(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> RawResponse {
    raw(addr, &request("POST", addr, path, headers, body)).await
}

/// A fresh session id.
pub fn session_id() -> String {
    format!("{:016x}", fastrand::u64(..))
}

/// A temporary folder that is removed when dropped.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Write `content` to `root/relative`, creating folders.
pub fn write(root: &Path, relative: &str, content: &str) -> PathBuf {
    let path = root.join(relative);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create folders");
    }
    std::fs::write(&path, content).expect("write file");
    path
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A server for `root` on a free loopback port, with `adjust` applied to the defaults.
pub async fn start_server(
    root: &Path,
    adjust: impl FnOnce(&mut devserve::Config),
) -> devserve::Server {
    let mut config = devserve::Config {
        root: root.to_path_buf(),
        addr: "127.0.0.1:0".parse().expect("addr"),
        ..devserve::Config::default()
    };
    adjust(&mut config);
    devserve::Server::start(config)
        .await
        .expect("server starts")
}
