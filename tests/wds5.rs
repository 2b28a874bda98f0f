//! webpack-dev-server 5's endpoint at `/ws`, on the wire: the plain
//! WebSocket and the SockJS prefix, their connect sequences, static
//! changes, hot builds from an embedder, the Origin gate and the pings.

use crate::common::*;
use devserve::{Config, Server};
use futures_util::StreamExt;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::Path;
use tokio_tungstenite::tungstenite::Message as WsMessage;

async fn start(root: &Path, adjust: impl FnOnce(&mut Config)) -> Server {
    start_server(root, adjust).await
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A wds 5 client on the plain socket at `/ws`.
struct Wds5Client {
    ws: Socket,
    pings: usize,
}

impl Wds5Client {
    async fn connect(addr: SocketAddr) -> Wds5Client {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
            .await
            .expect("connect to /ws");
        Wds5Client { ws, pings: 0 }
    }

    /// The next message (pings counted, not returned).
    async fn message(&mut self) -> Value {
        loop {
            let next = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("message in time");
            match next {
                Some(Ok(WsMessage::Text(t))) => {
                    return serde_json::from_str(t.as_str()).expect("one JSON message per frame")
                }
                Some(Ok(WsMessage::Ping(_))) => self.pings += 1,
                Some(Ok(_)) => {}
                other => panic!("socket ended: {other:?}"),
            }
        }
    }

    /// Messages up to and including the first of type `last`.
    async fn until(&mut self, last: &str) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let message = self.message().await;
            let done = message["type"] == last;
            out.push(message);
            if done {
                return out;
            }
        }
    }
}

#[tokio::test]
async fn wds5_plain_socket_greets_then_sends_static_changed_with_absolute_paths() {
    let root = temp_dir();
    write(root.path(), "index.html", "<p>one</p>");
    let server = start(root.path(), |_| {}).await;
    let mut client = Wds5Client::connect(server.local_addr()).await;
    let greeting = client.until("overlay").await;
    assert_eq!(
        greeting,
        vec![
            serde_json::json!({"type": "liveReload"}),
            serde_json::json!({"type": "reconnect", "data": 10}),
            serde_json::json!({"type": "overlay", "data": {"errors": true, "warnings": false}}),
        ]
    );
    write(root.path(), "index.html", "<p>two</p>");
    let change = client.until("ok").await;
    assert_eq!(
        types(&change),
        vec!["invalid", "static-changed", "hash", "ok"]
    );
    let file = root.path().canonicalize().expect("root").join("index.html");
    assert_eq!(change[1]["data"], file.display().to_string());
    server.shutdown().await;
}

#[tokio::test]
async fn wds5_hot_builds_from_an_embedder_update_in_place() {
    let root = temp_dir();
    write(root.path(), "index.html", "<p>one</p>");
    let server = start(root.path(), |c| {
        c.client.hot = true;
        c.reload_on_change = false;
    })
    .await;
    let addr = server.local_addr();
    let mut wds5 = Wds5Client::connect(addr).await;
    assert_eq!(types(&wds5.until("overlay").await)[0], "hot");
    let mut wds3 = LiveClient::connect(addr).await;
    wds3.until_status().await;
    let handle = server.handle();
    handle.invalid();
    handle.ok("0123abcd");
    let update = wds5.until("ok").await;
    assert_eq!(types(&update), vec!["invalid", "hash", "ok"]);
    assert_eq!(update[1]["data"], "0123abcd");
    // devserve's own client at /sockjs-node must not reload over the update.
    let mut seen = Vec::new();
    while seen.last().map(|m: &Value| m["type"].clone()) != Some("still-ok".into()) {
        seen.push(wds3.message().await);
        assert!(seen.len() < 4, "{seen:?}");
    }
    assert_eq!(types(&seen), vec!["invalid", "hash", "still-ok"]);
    assert_eq!(seen[1]["data"], "0123abcd");
    // A page loaded from this build hears its hash on connect, so its
    // client knows it is up to date.
    let mut fresh = Wds5Client::connect(addr).await;
    let connect = fresh.until("ok").await;
    assert_eq!(
        types(&connect),
        vec!["hot", "liveReload", "reconnect", "overlay", "hash", "ok"]
    );
    assert_eq!(connect[4]["data"], "0123abcd");
    server.shutdown().await;
}

#[tokio::test]
async fn wds5_plain_socket_pings_every_second() {
    let root = temp_dir();
    let server = start(root.path(), |_| {}).await;
    let mut client = Wds5Client::connect(server.local_addr()).await;
    client.until("overlay").await;
    // A client that answers (tungstenite pongs as it reads) stays connected.
    while client.pings < 4 {
        let next = tokio::time::timeout(WAIT, client.ws.next())
            .await
            .expect("a ping in time");
        match next {
            Some(Ok(WsMessage::Ping(_))) => client.pings += 1,
            Some(Ok(_)) => {}
            other => panic!("socket ended: {other:?}"),
        }
    }
    server.shutdown().await;
}

#[tokio::test]
async fn wds5_plain_socket_drops_a_client_that_never_answers_pings() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let root = temp_dir();
    let server = start(root.path(), |_| {}).await;
    let addr = server.local_addr();
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let handshake = format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    tcp.write_all(handshake.as_bytes())
        .await
        .expect("handshake");
    // Read everything (the 101, the greeting, pings) and never answer.
    let mut seen = Vec::new();
    tokio::time::timeout(WAIT, tcp.read_to_end(&mut seen))
        .await
        .expect("devserve ends a client that never pongs")
        .ok();
    assert!(
        seen.starts_with(b"HTTP/1.1 101"),
        "{:?}",
        String::from_utf8_lossy(&seen[..seen.len().min(80)])
    );
    assert!(
        seen.windows(2).any(|w| w == [0x89, 0x00]),
        "it was pinged first"
    );
    assert!(
        eventually(WAIT, || server.client_count() == 0).await,
        "its session is gone"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn wds5_sockjs_prefix_serves_info_websocket_and_xhr_streaming() {
    let root = temp_dir();
    let server = start(root.path(), |_| {}).await;
    let addr = server.local_addr();
    let info = get(addr, "/ws/info", &[]).await;
    assert_eq!(info.status, 200);
    let body: Value = serde_json::from_str(&info.text()).expect("info JSON");
    assert_eq!(body["websocket"], true);
    assert!(info.header("access-control-allow-origin").is_none());
    let url = format!("ws://{addr}/ws/000/{}/websocket", session_id());
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("framed websocket");
    let mut frames = Vec::new();
    while frames.len() < 2 {
        let next = tokio::time::timeout(WAIT, ws.next()).await.expect("frame");
        if let Some(Ok(WsMessage::Text(t))) = next {
            frames.push(t.as_str().to_string());
        }
    }
    assert_eq!(frames[0], "o");
    assert!(frames[1].starts_with("a[") && frames[1].contains("liveReload"));
    let path = format!("/ws/000/{}/xhr_streaming", session_id());
    let mut streaming = stream_raw(addr, &request("POST", addr, &path, &[], b"")).await;
    assert_eq!(streaming.status, 200);
    let mut seen = String::new();
    while !seen.contains("reconnect") {
        seen.push_str(&streaming.chunk().await.expect("chunk"));
    }
    assert!(seen.contains("\no\n"), "{seen:?}");
    // Hardened like /sockjs-node: no JSONP, no iframe page.
    assert_eq!(get(addr, "/ws/000/abc/jsonp?c=x", &[]).await.status, 404);
    assert_eq!(get(addr, "/ws/iframe.html", &[]).await.status, 404);
    server.shutdown().await;
}

#[tokio::test]
async fn wds5_endpoints_refuse_cross_site_origins_before_the_101() {
    let root = temp_dir();
    let server = start(root.path(), |_| {}).await;
    let addr = server.local_addr();
    let port = addr.port();
    let upgrade = |origin: &'static str| {
        [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Origin", origin),
        ]
    };
    for origin in ["http://evil.example", "http://192.168.1.5", "null"] {
        assert_eq!(
            get(addr, "/ws", &upgrade(origin)).await.status,
            403,
            "{origin}"
        );
        let framed = get(addr, "/ws/000/abc/websocket", &upgrade(origin)).await;
        assert_eq!(framed.status, 403, "{origin}");
        assert_eq!(
            get(addr, "/ws/info", &[("Origin", origin)]).await.status,
            403
        );
    }
    let same = format!("http://localhost:{port}");
    assert_eq!(
        get(addr, "/ws/info", &[("Origin", &same)]).await.status,
        200
    );
    assert_eq!(
        get(addr, "/ws", &[("Host", "evil.example")]).await.status,
        403
    );
    server.shutdown().await;
}

#[tokio::test]
async fn wds5_client_on_a_static_site_reloads_two_tabs_and_reconnects() {
    if !require("chromium and playwright-core", chromium_ready())
        || !require(
            "webpack (npm ci --no-audit --no-fund)",
            repo().join("node_modules/.bin/webpack").exists(),
        )
    {
        return;
    }
    let (ok, output) = run_node(
        "wds5_client.mjs",
        &[("DEVSERVE_BIN", env!("CARGO_BIN_EXE_devserve").to_string())],
        std::time::Duration::from_secs(200),
    )
    .await;
    println!("{output}");
    assert!(
        ok,
        "webpack-dev-server 5's client against devserve failed:\n{output}"
    );
}
