//! The SockJS server over real sockets: every transport, the error answers,
//! the timing rules, session accounting, and the real sockjs-client.

use crate::common::*;
use crate::sockjs_test_server;
use devserve::sockjs::{Connections, Mount, Options, SockJsServer, WriteError};
use futures_util::{SinkExt, StreamExt};
use http::{Request, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

/// The standard test server on an ephemeral port.
async fn test_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(sockjs_test_server::serve(
        listener,
        sockjs_test_server::default_client_script(),
    ));
    addr
}

/// One SockJS server with `options` on an ephemeral port; its connections are returned to the test.
async fn custom_server(options: Options) -> (SocketAddr, SockJsServer, Connections) {
    let (server, connections) = SockJsServer::new(options);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mount = Mount::new(vec![server.clone()], |_req: Request<Incoming>| async {
        Ok::<_, Infallible>(Response::new(devserve::sockjs::full_body("app")))
    });
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let mount = mount.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let mount = mount.clone();
                    async move { mount.serve(req).await }
                });
                let _ = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .serve_connection(TokioIo::new(tcp), service)
                    .with_upgrades()
                    .await;
            });
        }
    });
    (addr, server, connections)
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn greeting_info_and_unknown_paths() {
    let addr = test_server().await;
    let r = get(addr, "/echo", &[]).await;
    assert_eq!((r.status, r.text().as_str()), (200, "Welcome to SockJS!\n"));
    let r = get(addr, "/echo/info", &[("Origin", "http://example.test")]).await;
    assert_eq!(r.status, 200);
    let info: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
    assert_eq!(info["websocket"], true);
    assert_eq!(info["origins"], serde_json::json!(["*:*"]));
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://example.test")
    );
    let r = get(addr, "/disabled_websocket_echo/info", &[]).await;
    let info: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
    assert_eq!(info["websocket"], false);
    for path in [
        "/echo/a",
        "/echo/a/a",
        "/echo//",
        "/echo/a./a/xhr",
        "/echo/000/abc/nope",
        "/nowhere",
    ] {
        assert_eq!(get(addr, path, &[]).await.status, 404, "{path}");
    }
}

#[tokio::test]
async fn xhr_polling_round_trip_and_errors() {
    let addr = test_server().await;
    let base = format!("/echo/000/{}", session_id());
    assert_eq!(
        post(addr, &format!("{base}/xhr"), &[], b"").await.text(),
        "o\n"
    );
    // Bad input: each gets the protocol's answer and the session survives.
    let r = post(addr, &format!("{base}/xhr_send"), &[], b"").await;
    assert_eq!((r.status, r.text().as_str()), (500, "Payload expected."));
    let r = post(addr, &format!("{base}/xhr_send"), &[], b"[\"x").await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (500, "Broken JSON encoding.")
    );
    let r = post(addr, &format!("{base}/xhr_send"), &[], b"[1,2]").await;
    assert_eq!(r.status, 500);
    let big = format!("[\"{}\"]", "x".repeat(70 * 1024));
    assert_eq!(
        post(addr, &format!("{base}/xhr_send"), &[], big.as_bytes())
            .await
            .status,
        413
    );
    let r = get(addr, &format!("{base}/xhr"), &[]).await;
    assert_eq!((r.status, r.header("allow")), (405, Some("OPTIONS, POST")));
    assert!(r.body.is_empty() && r.header("content-type").is_none());
    // Good input, in order, batched into one frame.
    assert_eq!(
        post(
            addr,
            &format!("{base}/xhr_send"),
            &[],
            b"[\"a\",\"\\u2028\"]"
        )
        .await
        .status,
        204
    );
    assert_eq!(
        post(addr, &format!("{base}/xhr_send"), &[], b"[\"b\"]")
            .await
            .status,
        204
    );
    eventually_frame(addr, &base, "a[\"a\",\"\\u2028\",\"b\"]\n").await;
    // Sending to an unknown session never creates one.
    assert_eq!(
        post(addr, "/echo/000/unknown-session/xhr_send", &[], b"[\"x\"]")
            .await
            .status,
        404
    );
}

/// Poll until the echoed frame arrives (the echo task may run after the first poll starts).
async fn eventually_frame(addr: SocketAddr, base: &str, expected: &str) {
    let mut seen = String::new();
    for _ in 0..5 {
        let r = post(addr, &format!("{base}/xhr"), &[], b"").await;
        seen = r.text();
        if seen != "h\n" {
            break;
        }
    }
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn xhr_streaming_frames_are_separate_chunks() {
    let addr = test_server().await;
    let base = format!("/echo/000/{}", session_id());
    let mut stream = stream_raw(
        addr,
        &request("POST", addr, &format!("{base}/xhr_streaming"), &[], b""),
    )
    .await;
    assert_eq!(stream.status, 200);
    assert_eq!(
        stream.header("content-type"),
        Some("application/javascript; charset=UTF-8")
    );
    assert_eq!(
        stream.chunk().await.as_deref(),
        Some(format!("{}\n", "h".repeat(2048)).as_str())
    );
    assert_eq!(stream.chunk().await.as_deref(), Some("o\n"));
    // A second receiver is refused; the first keeps working.
    let r = post(addr, &format!("{base}/xhr_streaming"), &[], b"").await;
    assert!(r
        .text()
        .ends_with("c[2010,\"Another connection still open\"]\n"));
    post(addr, &format!("{base}/xhr_send"), &[], b"[\"x\"]").await;
    assert_eq!(stream.chunk().await.as_deref(), Some("a[\"x\"]\n"));
}

#[tokio::test]
async fn eventsource_htmlfile_and_jsonp() {
    let addr = test_server().await;
    let base = format!("/echo/000/{}", session_id());
    let mut es = stream_raw(
        addr,
        &request("GET", addr, &format!("{base}/eventsource"), &[], b""),
    )
    .await;
    assert_eq!(es.header("content-type"), Some("text/event-stream"));
    assert_eq!(es.chunk().await.as_deref(), Some("\r\n"));
    assert_eq!(es.chunk().await.as_deref(), Some("data: o\r\n\r\n"));
    post(
        addr,
        &format!("{base}/xhr_send"),
        &[],
        b"[\"  \\u0000\\n\"]",
    )
    .await;
    assert_eq!(
        es.chunk().await.as_deref(),
        Some("data: a[\"  \\u0000\\n\"]\r\n\r\n")
    );

    let base = format!("/echo/000/{}", session_id());
    let mut html = stream_raw(
        addr,
        &request(
            "GET",
            addr,
            &format!("{base}/htmlfile?c=%63allback"),
            &[],
            b"",
        ),
    )
    .await;
    let first = html.chunk().await.expect("page head");
    assert!(first.contains("var c = parent.callback;") && first.len() > 1024);
    assert_eq!(
        html.chunk().await.as_deref(),
        Some("<script>\np(\"o\");\n</script>\r\n")
    );
    let r = get(addr, &format!("/echo/000/{}/htmlfile", session_id()), &[]).await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (500, "\"callback\" parameter required")
    );
    let r = get(
        addr,
        &format!("/echo/000/{}/htmlfile?c=alert(1)", session_id()),
        &[],
    )
    .await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (500, "invalid \"callback\" parameter")
    );
    assert!(
        !r.text().contains("alert"),
        "a rejected callback is never echoed"
    );

    let base = format!("/echo/000/{}", session_id());
    let r = get(addr, &format!("{base}/jsonp?c=cb"), &[]).await;
    assert_eq!(r.text(), "/**/cb(\"o\");\r\n");
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let r = post(
        addr,
        &format!("{base}/jsonp_send"),
        &form,
        b"d=%5B%22x%22%5D",
    )
    .await;
    assert_eq!((r.status, r.text().as_str()), (200, "ok"));
    let r = post(addr, &format!("{base}/jsonp_send"), &form, b"p=p").await;
    assert_eq!((r.status, r.text().as_str()), (500, "Payload expected."));
    let r = get(addr, &format!("{base}/jsonp?c=cb"), &[]).await;
    assert_eq!(r.text(), "/**/cb(\"a[\\\"x\\\"]\");\r\n");
}

#[tokio::test]
async fn websocket_framed_and_raw() {
    let addr = test_server().await;
    let url = format!("ws://{addr}/echo/000/{}/websocket", session_id());
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connect");
    assert_eq!(
        ws.next().await.expect("frame").expect("ok"),
        Message::text("o")
    );
    ws.send(Message::text("[\"a\",\"ü\\uffff\"]"))
        .await
        .expect("send");
    ws.send(Message::text("")).await.expect("send");
    ws.send(Message::text("[]")).await.expect("send");
    ws.send(Message::text("[\"b\"]")).await.expect("send");
    let mut got = String::new();
    while got.matches('"').count() < 6 {
        let Message::Text(t) = ws.next().await.expect("frame").expect("ok") else {
            continue;
        };
        got.push_str(t.as_str());
    }
    assert!(
        got.contains("\"a\"") && got.contains("ü\\uffff") && got.contains("\"b\""),
        "{got}"
    );
    // Broken framing ends the connection.
    ws.send(Message::text("[\"x")).await.expect("send");
    let end = tokio::time::timeout(WAIT, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await
    .expect("closed in time");
    assert_eq!(end, Some(3000));

    let (mut raw, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/echo/websocket"))
        .await
        .expect("raw");
    raw.send(Message::text("Hello world!\u{ffff}"))
        .await
        .expect("send");
    assert_eq!(
        raw.next().await.expect("frame").expect("ok"),
        Message::text("Hello world!\u{ffff}")
    );
    let (mut closing, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/close/websocket"))
        .await
        .expect("raw");
    match closing.next().await.expect("frame").expect("ok") {
        Message::Close(Some(frame)) => assert_eq!(
            (u16::from(frame.code), frame.reason.as_str()),
            (3000, "Go away!")
        ),
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[tokio::test]
async fn websocket_handshake_errors() {
    let addr = test_server().await;
    let path = format!("/echo/000/{}/websocket", session_id());
    assert_eq!(get(addr, &path, &[]).await.status, 400);
    let r = get(
        addr,
        &path,
        &[("Upgrade", "websocket"), ("Connection", "close")],
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(post(addr, &path, &[], b"").await.status, 405);
    let r = get(
        addr,
        &path,
        &[
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Version", "7"),
            ("Sec-WebSocket-Key", "x3JJHMbDL1EzLkh9GBhXDw=="),
        ],
    )
    .await;
    assert_eq!(
        (r.status, r.header("sec-websocket-version")),
        (426, Some("13"))
    );
    let disabled = format!("/disabled_websocket_echo/000/{}/websocket", session_id());
    assert_eq!(get(addr, &disabled, &[]).await.status, 404);
}

#[tokio::test]
async fn oversized_websocket_messages_close_the_session_only() {
    let (addr, server, mut connections) =
        custom_server(Options::new("/t").max_message_size(1024)).await;
    tokio::spawn(async move {
        while let Some(mut c) = connections.accept().await {
            tokio::spawn(async move { while c.recv().await.is_some() {} });
        }
    });
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/t/0/a/websocket"))
        .await
        .expect("ws");
    ws.next().await.expect("o").expect("ok");
    let _ = ws
        .send(Message::text(format!("[\"{}\"]", "x".repeat(4096))))
        .await;
    let closed = tokio::time::timeout(WAIT, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "oversized message closes the connection");
    eventually("the session to be released", || server.live_sessions() == 0).await;
    // The server keeps serving.
    assert_eq!(get(addr, "/t", &[]).await.status, 200);
    assert_eq!(get(addr, "/elsewhere", &[]).await.text(), "app");
}

#[tokio::test]
async fn heartbeat_and_disconnect_delay() {
    let options = Options::new("/t")
        .heartbeat_delay(Duration::from_millis(100))
        .disconnect_delay(Duration::from_millis(200));
    let (addr, server, mut connections) = custom_server(options).await;
    let (closed_tx, mut closed_rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(mut c) = connections.accept().await {
            let closed_tx = closed_tx.clone();
            tokio::spawn(async move {
                while c.recv().await.is_some() {}
                let _ = closed_tx.send(c.closed().await);
            });
        }
    });
    let base = format!("/t/000/{}", session_id());
    let mut stream = stream_raw(
        addr,
        &request("POST", addr, &format!("{base}/xhr_streaming"), &[], b""),
    )
    .await;
    stream.chunk().await;
    assert_eq!(stream.chunk().await.as_deref(), Some("o\n"));
    assert_eq!(
        stream.chunk().await.as_deref(),
        Some("h\n"),
        "heartbeat after the shortened delay"
    );
    drop(stream);
    // The client went away: the app hears of it once; the session is forgotten.
    let event = tokio::time::timeout(WAIT, closed_rx.recv())
        .await
        .expect("close in time")
        .expect("event");
    assert_eq!(event.code, 1002);
    eventually("the session to be forgotten", || {
        server.live_sessions() == 0
    })
    .await;

    // A polling client that vanishes: the session expires after the disconnect delay.
    let base = format!("/t/000/{}", session_id());
    assert_eq!(
        post(addr, &format!("{base}/xhr"), &[], b"").await.text(),
        "o\n"
    );
    assert_eq!(server.live_sessions(), 1);
    let event = tokio::time::timeout(WAIT, closed_rx.recv())
        .await
        .expect("expiry in time")
        .expect("event");
    assert_eq!(event.code, 1006);
    eventually("the session to expire", || server.live_sessions() == 0).await;
    assert_eq!(
        post(addr, &format!("{base}/xhr_send"), &[], b"[\"x\"]")
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn application_close_and_write_errors() {
    let (addr, server, mut connections) =
        custom_server(Options::new("/t").max_queued_messages(8)).await;
    let base = format!("/t/000/{}", session_id());
    let opened = tokio::spawn(async move { connections.accept().await.expect("connection") });
    assert_eq!(
        post(addr, &format!("{base}/xhr"), &[], b"").await.text(),
        "o\n"
    );
    let conn = opened.await.expect("accepted");
    assert_eq!(conn.protocol(), "xhr-polling");
    assert!(conn.info().headers.get("cookie").is_none());
    assert_eq!(conn.write(""), Err(WriteError::Empty));
    // Nobody is polling: the queue fills and says so instead of growing.
    for i in 0..8 {
        conn.write(&format!("m{i}")).expect("room in the queue");
    }
    assert_eq!(conn.write("one too many"), Err(WriteError::QueueFull));
    assert!(conn.close(3000, "Go away!"));
    assert_eq!(conn.write("late"), Err(WriteError::Closed));
    let r = post(addr, &format!("{base}/xhr"), &[], b"").await;
    assert!(
        r.text().starts_with("a[\"m0\""),
        "queued messages are delivered before the close"
    );
    for _ in 0..2 {
        assert_eq!(
            post(addr, &format!("{base}/xhr"), &[], b"").await.text(),
            "c[3000,\"Go away!\"]\n"
        );
    }
    drop(conn);
    assert!(server.live_sessions() <= 1);
}

#[tokio::test]
async fn many_websocket_sessions_come_and_go() {
    let (addr, server, mut connections) = custom_server(Options::new("/t")).await;
    tokio::spawn(async move {
        while let Some(mut c) = connections.accept().await {
            tokio::spawn(async move {
                while let Some(m) = c.recv().await {
                    let _ = c.write(&m);
                }
            });
        }
    });
    let mut clients = Vec::new();
    for i in 0..50 {
        let (mut ws, _) =
            tokio_tungstenite::connect_async(format!("ws://{addr}/t/0/s{i}/websocket"))
                .await
                .expect("ws");
        ws.next().await.expect("o").expect("ok");
        clients.push(ws);
    }
    assert_eq!(server.live_sessions(), 50);
    for mut ws in clients {
        ws.close(None).await.expect("close");
    }
    eventually("every session to be released", || {
        server.live_sessions() == 0
    })
    .await;
}

#[tokio::test]
async fn real_sockjs_client_in_node() {
    if !require("node with npm test dependencies", node_ready()) {
        return;
    }
    let addr = test_server().await;
    let (ok, output) = run_node(
        "sockjs_client_node.mjs",
        &[("SOCKJS_BASE_URL", format!("http://{addr}"))],
        Duration::from_secs(120),
    )
    .await;
    println!("{output}");
    assert!(ok, "sockjs-client in Node failed:\n{output}");
}

#[tokio::test]
async fn real_sockjs_client_in_chromium() {
    if !require("chromium and playwright-core", chromium_ready()) {
        return;
    }
    let addr = test_server().await;
    let (ok, output) = run_node(
        "sockjs_client_browser.mjs",
        &[("SOCKJS_BASE_URL", format!("http://{addr}"))],
        Duration::from_secs(240),
    )
    .await;
    println!("{output}");
    assert!(ok, "sockjs-client in Chromium failed:\n{output}");
}

#[tokio::test]
async fn a_client_that_stops_reading_is_bounded_then_dropped() {
    let options = Options::new("/t")
        .max_queued_messages(8)
        .write_timeout(Duration::from_millis(300));
    let (addr, server, mut connections) = custom_server(options).await;
    // A WebSocket client that reads nothing after connecting.
    let (_ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/t/0/slow/websocket"))
        .await
        .expect("ws");
    let conn = tokio::time::timeout(WAIT, connections.accept())
        .await
        .expect("accepted")
        .expect("connection");
    let chunk = "x".repeat(16 * 1024);
    let mut refused = None;
    for i in 0..100_000 {
        match conn.write(&chunk) {
            Ok(()) => tokio::task::yield_now().await,
            Err(error) => {
                refused = Some((i, error));
                break;
            }
        }
    }
    let (written, error) = refused.expect("the queue never filled: memory is unbounded");
    assert!(
        error == WriteError::QueueFull || error == WriteError::Closed,
        "{error:?}"
    );
    assert!(
        written < 10_000,
        "{written} messages buffered for a client that reads nothing"
    );
    let event = tokio::time::timeout(WAIT, conn.closed())
        .await
        .expect("dropped in time");
    assert_eq!(event.code, 1006);
    eventually("the stalled session to be released", || {
        server.live_sessions() == 0
    })
    .await;
}

mod websocket_rfc;

#[tokio::test]
async fn session_ids_over_128_bytes_and_long_headers_are_not_kept() {
    let (addr, server, mut connections) = custom_server(Options::new("/t")).await;
    let long_id = "a".repeat(129);
    let r = post(addr, &format!("/t/0/{long_id}/xhr"), &[], b"").await;
    assert_eq!(r.status, 404, "a 129-byte session id matches nothing");
    let r = post(addr, &format!("/t/{long_id}/a/xhr"), &[], b"").await;
    assert_eq!(r.status, 404, "a 129-byte server id matches nothing");
    assert_eq!(server.live_sessions(), 0);

    let id = "b".repeat(128);
    let agent = "u".repeat(64 * 1024);
    let referer = format!("http://x/{}", "r".repeat(1000));
    let r = post(
        addr,
        &format!("/t/0/{id}/xhr"),
        &[
            ("User-Agent", agent.as_str()),
            ("Referer", referer.as_str()),
            ("Cookie", "secret=1"),
        ],
        b"",
    )
    .await;
    assert_eq!((r.status, r.text().as_str()), (200, "o\n"));
    let conn = tokio::time::timeout(WAIT, connections.accept())
        .await
        .expect("accepted")
        .expect("connection");
    let info = conn.info();
    assert_eq!(info.session_id.as_deref(), Some(id.as_str()));
    assert!(
        info.headers.get("user-agent").is_none(),
        "64 KiB value dropped"
    );
    assert!(info.headers.get("cookie").is_none());
    assert_eq!(
        info.headers.get("referer").and_then(|v| v.to_str().ok()),
        Some(referer.as_str())
    );
}

#[tokio::test]
async fn test_server_accept_loop_backs_off_at_emfile_and_recovers() {
    use std::sync::{Arc, Mutex};
    let listener = Arc::new(TcpListener::bind("127.0.0.1:0").await.expect("bind"));
    let addr = listener.local_addr().expect("addr");
    let calls: Arc<Mutex<Vec<tokio::time::Instant>>> = Arc::default();
    let seen = calls.clone();
    const FAILURES: usize = 8;
    tokio::spawn(sockjs_test_server::serve_from(
        move || {
            let listener = listener.clone();
            let n = {
                let mut calls = seen.lock().expect("calls");
                calls.push(tokio::time::Instant::now());
                calls.len()
            };
            Box::pin(async move {
                if n <= FAILURES {
                    // EMFILE: too many open files.
                    Err(std::io::Error::from_raw_os_error(24))
                } else {
                    listener.accept().await
                }
            })
        },
        None,
        sockjs_test_server::HEADER_READ_TIMEOUT,
    ));
    // Recovers by itself: the next connection is served.
    assert_eq!(get(addr, "/echo", &[]).await.status, 200);
    let calls = calls.lock().expect("calls").clone();
    assert!(calls.len() > FAILURES, "{} accept calls", calls.len());
    for (i, pair) in calls[..=FAILURES].windows(2).enumerate() {
        let waited = pair[1] - pair[0];
        assert!(
            waited >= Duration::from_millis(1 << i),
            "retry {i} came after {waited:?}: the loop spins instead of backing off"
        );
    }
}

#[tokio::test]
async fn test_server_drops_a_client_that_never_finishes_its_request_head() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        sockjs_test_server::serve_from(|| listener.accept(), None, Duration::from_millis(200)).await
    });
    let mut slow = tokio::net::TcpStream::connect(addr).await.expect("connect");
    slow.write_all(b"GET /echo HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("partial head");
    let mut rest = Vec::new();
    let ended = tokio::time::timeout(WAIT, slow.read_to_end(&mut rest)).await;
    assert!(
        ended.is_ok(),
        "the server kept a half-sent request head open"
    );
    assert!(!String::from_utf8_lossy(&rest).contains("Welcome"));
    assert_eq!(get(addr, "/echo", &[]).await.status, 200);
}

#[tokio::test]
async fn broadcast_group_reaches_websocket_and_xhr_members_once_each() {
    let addr = test_server().await;
    let url = format!("ws://{addr}/broadcast/000/{}/websocket", session_id());
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("ws");
    assert_eq!(
        ws.next().await.expect("frame").expect("ok"),
        Message::text("o")
    );
    let xhr = format!("/broadcast/000/{}", session_id());
    let mut stream = stream_raw(
        addr,
        &request("POST", addr, &format!("{xhr}/xhr_streaming"), &[], b""),
    )
    .await;
    stream.chunk().await.expect("prelude");
    assert_eq!(stream.chunk().await.as_deref(), Some("o\n"));
    let text = format!("hello {}", session_id());
    ws.send(Message::text(format!("[\"{text}\"]")))
        .await
        .expect("send");
    let expected = format!("a[\"{text}\"]");
    let got = loop {
        match ws.next().await.expect("frame").expect("ok") {
            Message::Text(t) if t.as_str() != "h" => break t.as_str().to_string(),
            _ => continue,
        }
    };
    assert_eq!(got, expected);
    assert_eq!(stream.chunk().await, Some(format!("{expected}\n")));
    ws.send(Message::text("[\"second\"]")).await.expect("send");
    assert_eq!(stream.chunk().await.as_deref(), Some("a[\"second\"]\n"));
}
