//! A lean WebSocket reader for the fan-out benchmark: a hand-written
//! handshake and a frame scanner, no message objects, no channel per frame.
//!
//! The client runs on one CPU and must read a broadcast from every one of
//! thousands of sessions; a full WebSocket stack with a channel send per
//! message costs more per frame than the servers under test do, so it would
//! time itself. This reader costs one read per wake-up and a counter bump
//! per SockJS frame.

use super::spawn::BenchError;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// SockJS frames seen across all readers: opens (`o`) and message frames
/// (`a[...]`); heartbeats are ignored. One waiter at a time learns when a
/// count is reached and when the frame that reached it arrived; readers
/// wake it only then, so counting costs the client almost nothing.
#[derive(Debug, Default)]
pub struct Tally {
    opens: AtomicUsize,
    messages: AtomicUsize,
    /// The count a waiter waits for: readers wake it only then.
    wanted: AtomicUsize,
    reached: Notify,
    last: Mutex<Option<Instant>>,
}

impl Tally {
    /// Message frames seen so far.
    pub fn messages(&self) -> usize {
        self.messages.load(Ordering::Acquire)
    }

    fn count(&self, counter: &AtomicUsize) {
        let now = counter.fetch_add(1, Ordering::AcqRel) + 1;
        if now >= self.wanted.load(Ordering::Acquire) {
            *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
            self.reached.notify_waiters();
        }
    }

    /// Waits until `opens` sessions have opened.
    pub async fn opened(&self, opens: usize) {
        self.wait(&self.opens, opens).await;
    }

    /// Waits until `messages` message frames have arrived in all; returns
    /// when the last of them arrived.
    pub async fn until_messages(&self, messages: usize) -> Instant {
        self.wait(&self.messages, messages).await
    }

    async fn wait(&self, counter: &AtomicUsize, target: usize) -> Instant {
        loop {
            let notified = self.reached.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            self.wanted.store(target, Ordering::Release);
            if counter.load(Ordering::Acquire) >= target {
                return self
                    .last
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .unwrap_or_else(Instant::now);
            }
            notified.await;
        }
    }
}

/// Opens a WebSocket to `path` on `addr` and spawns its reader.
pub async fn open(
    addr: SocketAddr,
    path: String,
    tally: Arc<Tally>,
) -> Result<JoinHandle<()>, BenchError> {
    let mut tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await?;
    let mut buf = Vec::with_capacity(512);
    let body_at = loop {
        let mut chunk = [0u8; 512];
        let n = tcp.read(&mut chunk).await?;
        if n == 0 {
            return Err(format!("{path}: closed during the handshake").into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    if !buf.starts_with(b"HTTP/1.1 101") {
        let line = String::from_utf8_lossy(&buf[..buf.len().min(80)]).into_owned();
        return Err(format!("{path}: no upgrade: {line}").into());
    }
    buf.drain(..body_at);
    Ok(tokio::spawn(read_frames(tcp, buf, tally)))
}

/// Reads server frames (unmasked, as a server sends them) until the
/// connection ends, counting SockJS `o` and `a` frames.
async fn read_frames(mut tcp: TcpStream, mut buf: Vec<u8>, tally: Arc<Tally>) {
    loop {
        while let Some((payload, used)) = next_frame(&buf) {
            match payload.first() {
                Some(b'o') => tally.count(&tally.opens),
                Some(b'a') => tally.count(&tally.messages),
                _ => {}
            }
            buf.drain(..used);
        }
        let mut chunk = [0u8; 1024];
        match tcp.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// The payload of the first whole frame in `buf` and the bytes it took.
fn next_frame(buf: &[u8]) -> Option<(&[u8], usize)> {
    let short = usize::from(*buf.get(1)? & 0x7f);
    let (len, header): (usize, usize) = match short {
        126 => (
            usize::from(u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?])),
            4,
        ),
        127 => {
            let bytes: [u8; 8] = buf.get(2..10)?.try_into().ok()?;
            (usize::try_from(u64::from_be_bytes(bytes)).ok()?, 10)
        }
        n => (n, 2),
    };
    let end = header.checked_add(len)?;
    Some((buf.get(header..end)?, end))
}
