//! The proxy against a real backend (a hyper server in the test): what the
//! backend receives, streaming both ways, redirects, WebSocket upgrades,
//! and a backend that is down or too slow.

use crate::common::*;
use bytes::Bytes;
use devserve::Server;
use futures_util::{SinkExt, StreamExt};
use http::{Request, Response, StatusCode};
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Notify};
use tokio_tungstenite::tungstenite::Message as WsMessage;

type Body = BoxBody<Bytes, Infallible>;

fn text(body: impl Into<String>) -> Body {
    Full::new(Bytes::from(body.into())).boxed()
}

/// What the backend does for each path.
async fn backend_answer(
    req: Request<Incoming>,
    addr: SocketAddr,
    release: Arc<Notify>,
) -> Response<Body> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_string()
    };
    let summary = format!(
        "{} {} host={} xff={} xfh={} xfp={} conn={} secret-hop={}",
        req.method(),
        req.uri(),
        header("host"),
        header("x-forwarded-for"),
        header("x-forwarded-host"),
        header("x-forwarded-proto"),
        header("connection"),
        header("x-secret-hop"),
    );
    match req.uri().path() {
        "/api/stream" => {
            let (tx, rx) = mpsc::channel::<Result<Frame<Bytes>, Infallible>>(4);
            tokio::spawn(async move {
                let _ = tx.send(Ok(Frame::data(Bytes::from("first;")))).await;
                release.notified().await;
                let _ = tx.send(Ok(Frame::data(Bytes::from("second")))).await;
            });
            let stream = tokio_stream_from(rx);
            Response::new(BodyExt::boxed(StreamBody::new(stream)))
        }
        "/api/upload" => {
            let mut body = req.into_body();
            let mut total = 0usize;
            while let Some(Ok(frame)) = body.frame().await {
                total += frame.data_ref().map_or(0, Bytes::len);
            }
            Response::new(text(format!("received {total} bytes")))
        }
        "/api/redirect" => Response::builder()
            .status(StatusCode::FOUND)
            .header("location", format!("http://{addr}/api/after?x=1"))
            .header("keep-alive", "timeout=5")
            .body(text(""))
            .expect("response"),
        "/api/slow" => {
            std::future::pending::<()>().await;
            unreachable!()
        }
        _ => Response::new(text(summary)),
    }
}

/// A receiver as a stream of frames.
fn tokio_stream_from(
    rx: mpsc::Receiver<Result<Frame<Bytes>, Infallible>>,
) -> impl futures_util::Stream<Item = Result<Frame<Bytes>, Infallible>> {
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|f| (f, rx)) })
}

/// A backend on a free port, and the notify that releases `/api/stream`'s second chunk.
async fn http_backend() -> (SocketAddr, Arc<Notify>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let release = Arc::new(Notify::new());
    let shared = release.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let release = shared.clone();
            let service = service_fn(move |req| {
                let release = release.clone();
                async move { Ok::<_, Infallible>(backend_answer(req, addr, release).await) }
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service),
            );
        }
    });
    (addr, release)
}

/// A WebSocket echo backend.
async fn websocket_backend() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                while let Some(Ok(message)) = ws.next().await {
                    if message.is_text() {
                        let reply = format!("echo: {}", message.to_text().unwrap_or(""));
                        if ws.send(WsMessage::text(reply)).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

async fn devserve_with(rules: &[String], timeout: Duration) -> (Server, tempfile::TempDir) {
    let root = temp_dir();
    write(root.path(), "index.html", "<p>static</p>");
    write(
        root.path(),
        "api-note.txt",
        "a static file beside the prefix",
    );
    let mut builder = Server::builder()
        .root(root.path())
        .bind("127.0.0.1:0".parse().expect("addr"))
        .proxy_timeout(timeout);
    for rule in rules {
        builder = builder.proxy(rule.parse().expect("rule"));
    }
    (builder.start().await.expect("start"), root)
}

#[tokio::test]
async fn the_backend_gets_method_path_query_and_who_asked() {
    let (backend, _) = http_backend().await;
    let (server, _root) = devserve_with(&[format!("/api=http://{backend}")], WAIT).await;
    let addr = server.local_addr();

    let response = raw(
        addr,
        &request(
            "DELETE",
            addr,
            "/api/items/7?force=1",
            &[("Connection", "close, x-secret-hop"), ("X-Secret-Hop", "1")],
            b"",
        ),
    )
    .await;
    assert_eq!(response.status, 200);
    let seen = response.text();
    assert!(seen.starts_with("DELETE /api/items/7?force=1 "), "{seen}");
    assert!(seen.contains(&format!("host={backend}")), "{seen}");
    assert!(seen.contains("xff=127.0.0.1"), "{seen}");
    assert!(seen.contains(&format!("xfh={addr}")), "{seen}");
    assert!(seen.contains("xfp=http"), "{seen}");
    assert!(
        seen.contains("secret-hop=-"),
        "hop-by-hop header forwarded: {seen}"
    );
    // Paths beside the prefix are still static files.
    assert_eq!(
        get(addr, "/api-note.txt", &[]).await.text(),
        "a static file beside the prefix"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn bodies_stream_both_ways_without_buffering() {
    let (backend, release) = http_backend().await;
    let (server, _root) = devserve_with(&[format!("/api=http://{backend}")], WAIT).await;
    let addr = server.local_addr();

    // The first chunk arrives while the backend still holds the second.
    let mut stream = stream_raw(addr, &request("GET", addr, "/api/stream", &[], b"")).await;
    assert_eq!(stream.status, 200);
    assert_eq!(stream.chunk().await.as_deref(), Some("first;"));
    release.notify_one();
    assert_eq!(stream.chunk().await.as_deref(), Some("second"));

    let upload = vec![b'x'; 8 * 1024 * 1024];
    let response = post(addr, "/api/upload", &[], &upload).await;
    assert_eq!(response.text(), format!("received {} bytes", upload.len()));
    server.shutdown().await;
}

#[tokio::test]
async fn redirects_to_the_backend_point_back_at_devserve() {
    let (backend, _) = http_backend().await;
    let (server, _root) = devserve_with(&[format!("/api=http://{backend}")], WAIT).await;
    let addr = server.local_addr();
    let response = get(addr, "/api/redirect", &[]).await;
    assert_eq!(response.status, 302);
    assert_eq!(
        response.header("location"),
        Some(format!("http://{addr}/api/after?x=1").as_str())
    );
    assert_eq!(response.header("keep-alive"), None);
    server.shutdown().await;
}

#[tokio::test]
async fn websocket_upgrades_are_tunnelled_behind_the_origin_gate() {
    let ws_backend = websocket_backend().await;
    let (server, _root) = devserve_with(&[format!("/live=http://{ws_backend}")], WAIT).await;
    let addr = server.local_addr();

    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/live/socket"))
        .await
        .expect("upgrade through the proxy");
    ws.send(WsMessage::text("hello")).await.expect("send");
    let reply = tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("reply in time")
        .expect("a message")
        .expect("no error");
    assert_eq!(reply.to_text().expect("text"), "echo: hello");
    drop(ws);

    let cross_site = get(
        addr,
        "/live/socket",
        &[
            ("Origin", "http://evil.test"),
            ("Connection", "Upgrade"),
            ("Upgrade", "websocket"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ],
    )
    .await;
    assert_eq!(cross_site.status, 403);
    server.shutdown().await;
}

#[tokio::test]
async fn devserve_routes_are_never_proxied() {
    let (backend, _) = http_backend().await;
    let (server, _root) = devserve_with(&[format!("/=http://{backend}")], WAIT).await;
    let addr = server.local_addr();
    assert!(get(addr, "/index.html", &[])
        .await
        .text()
        .starts_with("GET /index.html "));
    let client = get(addr, "/__devserve/client.js", &[]).await;
    assert_eq!(client.status, 200);
    assert!(!client.text().starts_with("GET "));
    let unknown = get(addr, "/__devserve/nothing-here", &[]).await;
    assert!(!unknown.text().starts_with("GET "), "{}", unknown.text());
    let info = get(addr, "/sockjs-node/info", &[]).await;
    assert!(info.text().contains("\"websocket\""), "{}", info.text());
    server.shutdown().await;
}

#[tokio::test]
async fn a_backend_that_is_down_or_slow_gets_502_or_504_and_devserve_keeps_serving() {
    let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let down = closed.local_addr().expect("addr");
    drop(closed);
    let (slow, _) = http_backend().await;
    let (server, _root) = devserve_with(
        &[
            format!("/down=http://{down}"),
            format!("/api=http://{slow}"),
        ],
        Duration::from_millis(300),
    )
    .await;
    let addr = server.local_addr();
    let mut events = server.events();

    let refused = get(addr, "/down/x", &[]).await;
    assert_eq!(refused.status, 502);
    assert!(
        refused.text().contains(&format!("http://{down}/")),
        "{}",
        refused.text()
    );
    let timed_out = get(addr, "/api/slow", &[]).await;
    assert_eq!(timed_out.status, 504);
    assert!(
        timed_out.text().contains("no response in time"),
        "{}",
        timed_out.text()
    );

    let mut failed = Vec::new();
    while failed.len() < 2 {
        let event = tokio::time::timeout(WAIT, events.recv())
            .await
            .expect("event in time")
            .expect("event");
        if let devserve::Event::ProxyFailed { path, .. } = event {
            failed.push(path);
        }
    }
    assert_eq!(failed, ["/down/x", "/api/slow"]);
    assert!(get(addr, "/", &[]).await.text().contains("<p>static</p>"));
    server.shutdown().await;
}

/// A raw backend: on each connection it reads once (the request head),
/// writes `answer` as it is, and closes without reading more.
async fn scripted_backend(answer: &'static [u8]) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut head = [0u8; 4096];
                let _ = tcp.read(&mut head).await;
                let _ = tcp.write_all(answer).await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn a_backend_that_closes_mid_response_ends_only_that_response() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A head, part of the body, then the connection closes.
    let backend =
        scripted_backend(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly part").await;
    let (server, _root) = devserve_with(&[format!("/api=http://{backend}")], WAIT).await;
    let addr = server.local_addr();

    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(&request("GET", addr, "/api/x", &[], b""))
        .await
        .expect("send");
    let mut seen = Vec::new();
    tokio::time::timeout(WAIT, tcp.read_to_end(&mut seen))
        .await
        .expect("the connection ends instead of hanging")
        .ok();
    let text = String::from_utf8_lossy(&seen);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        !text.contains(&"x".repeat(1000)),
        "a truncated body is never padded"
    );
    // devserve keeps serving, proxied and static requests alike.
    assert_eq!(get(addr, "/", &[]).await.status, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn a_large_upload_to_a_backend_that_stops_reading_gets_an_answer() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // The backend answers 413 after the head and closes without reading the body.
    let backend = scripted_backend(
        b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    .await;
    let (server, _root) = devserve_with(&[format!("/api=http://{backend}")], WAIT).await;
    let addr = server.local_addr();
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut reader, mut writer) = tcp.into_split();
    let head = format!(
        "POST /api/upload HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n\r\n",
        1u64 << 30
    );
    writer.write_all(head.as_bytes()).await.expect("head");
    // Keep sending until devserve answers or closes; never the whole gigabyte.
    let chunk = vec![b'x'; 64 * 1024];
    let mut answer = Vec::new();
    let mut reset = false;
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut buf = [0u8; 4096];
    let mut sending = true;
    loop {
        tokio::select! {
            biased;
            read = reader.read(&mut buf) => match read {
                Ok(0) => break,
                Err(_) => { reset = true; break }
                Ok(n) => {
                    answer.extend_from_slice(&buf[..n]);
                    if answer.windows(4).any(|w| w == b"\r\n\r\n") { break; }
                }
            },
            // Once devserve stops reading, keep only reading what it said.
            written = writer.write_all(&chunk), if sending => sending = written.is_ok(),
            _ = tokio::time::sleep_until(deadline) => panic!("no answer to the upload"),
        }
    }
    // devserve answers with the backend's 413 (or 502). Closing a socket with
    // unread upload data makes the kernel reset it; a read that fails on that
    // reset before the answer is read is the one other acceptable end. Never
    // a hang, never a buffered gigabyte.
    let text = String::from_utf8_lossy(&answer);
    assert!(
        (reset && answer.is_empty())
            || text.starts_with("HTTP/1.1 413")
            || text.starts_with("HTTP/1.1 502"),
        "{text}"
    );
    assert_eq!(get(addr, "/", &[]).await.status, 200);
    server.shutdown().await;
}
