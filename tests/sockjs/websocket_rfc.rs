//! WebSocket behaviour RFC 6455 prescribes, on both WebSocket endpoints:
//! large messages, the closing handshake, and the status code of each
//! protocol error. Frames a client library refuses to send go over raw TCP.

use super::{custom_server, test_server};
use crate::common::*;
use devserve::sockjs::{Options, WriteError};
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

/// A WebSocket opened by hand, for frames no client library sends.
struct RawSocket {
    tcp: TcpStream,
}

impl RawSocket {
    async fn open(addr: SocketAddr, path: &str) -> RawSocket {
        let mut tcp = TcpStream::connect(addr).await.expect("connect");
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        );
        tcp.write_all(request.as_bytes()).await.expect("handshake");
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8];
            tokio::time::timeout(WAIT, tcp.read_exact(&mut byte))
                .await
                .expect("handshake answer in time")
                .expect("handshake answer");
            head.push(byte[0]);
        }
        assert!(
            head.starts_with(b"HTTP/1.1 101"),
            "{}",
            String::from_utf8_lossy(&head)
        );
        RawSocket { tcp }
    }

    /// Send one masked frame: `first` is the FIN/RSV/opcode byte.
    async fn send(&mut self, first: u8, payload: &[u8]) {
        let mask = [0x12, 0x34, 0x56, 0x78];
        let mut frame = vec![first];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n if n <= 0xffff => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.tcp.write_all(&frame).await.expect("send frame");
    }

    /// The next frame from the server: its first byte (FIN, RSV, opcode)
    /// and payload; `None` at EOF.
    async fn frame(&mut self) -> Option<(u8, Vec<u8>)> {
        tokio::time::timeout(WAIT, async {
            let mut head = [0u8; 2];
            self.tcp.read_exact(&mut head).await.ok()?;
            let len = match head[1] & 0x7f {
                126 => u64::from(self.tcp.read_u16().await.ok()?),
                127 => self.tcp.read_u64().await.ok()?,
                n => u64::from(n),
            };
            let mut payload = vec![0; usize::try_from(len).ok()?];
            self.tcp.read_exact(&mut payload).await.ok()?;
            Some((head[0], payload))
        })
        .await
        .expect("a frame or EOF in time")
    }

    /// The status code of the server's close frame, skipping data frames.
    async fn close_code(&mut self) -> Option<u16> {
        while let Some((first, payload)) = self.frame().await {
            if first & 0x0f == 0x8 {
                return (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
            }
        }
        panic!("connection ended without a close frame");
    }
}

/// Both endpoints of the echo server: framed (sends `o` first) and raw.
fn endpoints() -> [(&'static str, String); 2] {
    [
        ("framed", format!("/echo/000/{}/websocket", session_id())),
        ("raw", "/echo/websocket".to_string()),
    ]
}

/// The next text message from a client socket, skipping control frames.
async fn next_text<S>(ws: &mut S) -> String
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("in time")
        {
            Some(Ok(Message::Text(text))) => return text.as_str().to_string(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn websocket_messages_over_64_kib_are_delivered() {
    let addr = test_server().await;
    let url = format!("ws://{addr}/amplify/000/{}/websocket", session_id());
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connect");
    assert_eq!(next_text(&mut ws).await, "o");
    for n in [17u32, 18, 19] {
        ws.send(Message::text(format!("[\"{n}\"]")))
            .await
            .expect("send");
        let frame = next_text(&mut ws).await;
        assert_eq!(frame.len(), (1 << n) + 5, "a[\"x…\"] of 2^{n} bytes");
    }
    // Still the same, working connection.
    ws.send(Message::text("[\"1\"]")).await.expect("send");
    assert_eq!(next_text(&mut ws).await, "a[\"xx\"]");
}

#[tokio::test]
async fn websocket_large_messages_go_out_in_fragments_of_at_most_4_kib() {
    let addr = test_server().await;
    for path in [
        format!("/amplify/000/{}/websocket", session_id()),
        "/amplify/websocket".to_string(),
    ] {
        let mut ws = RawSocket::open(addr, &path).await;
        let framed = path.contains("/000/");
        if framed {
            assert_eq!(ws.frame().await, Some((0x81, b"o".to_vec())));
        }
        let request: &[u8] = if framed { b"[\"16\"]" } else { b"16" };
        ws.send(0x81, request).await;
        let mut message = Vec::new();
        let mut frames = 0;
        loop {
            let (first, payload) = ws.frame().await.expect("a fragment");
            let opcode = if frames == 0 { 0x1 } else { 0x0 };
            assert_eq!(first & 0x0f, opcode, "{path}: fragment {frames}");
            assert!(payload.len() <= 4096, "{path}: {} bytes", payload.len());
            message.extend_from_slice(&payload);
            frames += 1;
            if first & 0x80 != 0 {
                break;
            }
        }
        let expected = if framed { (1 << 16) + 5 } else { 1 << 16 };
        assert_eq!(message.len(), expected, "{path}");
        assert!(frames >= 16, "{path}: {frames} frames");
    }
}

#[tokio::test]
async fn websocket_messages_above_the_outgoing_cap_are_refused_not_dropped() {
    let options = Options::new("/t").max_outgoing_message_size(256 * 1024);
    let (addr, server, mut connections) = custom_server(options).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/t/0/big/websocket"))
        .await
        .expect("ws");
    assert_eq!(next_text(&mut ws).await, "o");
    let conn = tokio::time::timeout(WAIT, connections.accept())
        .await
        .expect("accepted")
        .expect("connection");
    assert_eq!(
        conn.write(&"x".repeat(256 * 1024 + 1)),
        Err(WriteError::TooLarge {
            len: 256 * 1024 + 1,
            max: 256 * 1024
        })
    );
    // Exactly at the cap, with escaping that grows it sixfold on the wire.
    let escaped = "\u{1}".repeat(256 * 1024);
    conn.write(&escaped).expect("a message at the cap is sent");
    let frame = next_text(&mut ws).await;
    assert_eq!(frame.len(), 256 * 1024 * 6 + 5);
    conn.write("after").expect("write");
    assert_eq!(next_text(&mut ws).await, "a[\"after\"]");
    assert_eq!(server.live_sessions(), 1);
}

#[tokio::test]
async fn websocket_client_close_is_echoed_with_its_code() {
    let addr = test_server().await;
    for (name, path) in endpoints() {
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}{path}"))
            .await
            .expect("connect");
        if name == "framed" {
            assert_eq!(next_text(&mut ws).await, "o");
        }
        ws.send(Message::Close(Some(CloseFrame {
            code: CloseCode::from(4001),
            reason: "bye".into(),
        })))
        .await
        .expect("send close");
        let echoed = loop {
            match tokio::time::timeout(WAIT, ws.next())
                .await
                .expect("in time")
            {
                Some(Ok(Message::Close(frame))) => break frame,
                Some(Ok(_)) => continue,
                other => panic!("{name}: expected the close echo, got {other:?}"),
            }
        };
        let code = echoed.map(|f| u16::from(f.code));
        assert_eq!(
            code,
            Some(4001),
            "{name}: close echoed with the client's code"
        );
    }
}

#[tokio::test]
async fn websocket_close_without_status_is_echoed_on_raw_tcp() {
    let addr = test_server().await;
    for (name, path) in endpoints() {
        let mut ws = RawSocket::open(addr, &path).await;
        ws.send(0x88, b"").await;
        let frame = loop {
            match ws.frame().await {
                Some((first, payload)) if first & 0x0f == 0x8 => break payload,
                Some(_) => continue,
                None => panic!("{name}: EOF without a close echo"),
            }
        };
        assert!(frame.is_empty(), "{name}: an empty close is echoed empty");
    }
}

#[tokio::test]
async fn websocket_message_too_big_closes_with_1009() {
    let (addr, _server, mut connections) =
        custom_server(Options::new("/t").max_message_size(1024)).await;
    tokio::spawn(async move {
        while let Some(mut c) = connections.accept().await {
            tokio::spawn(async move { while c.recv().await.is_some() {} });
        }
    });
    for path in ["/t/0/big/websocket", "/t/websocket"] {
        let mut ws = RawSocket::open(addr, path).await;
        ws.send(0x81, format!("[\"{}\"]", "x".repeat(4096)).as_bytes())
            .await;
        assert_eq!(ws.close_code().await, Some(1009), "{path}");
    }
}

#[tokio::test]
async fn websocket_invalid_utf8_closes_with_1007() {
    let addr = test_server().await;
    for (name, path) in endpoints() {
        let mut ws = RawSocket::open(addr, &path).await;
        ws.send(0x81, b"[\"\xff\xfe\"]").await;
        assert_eq!(ws.close_code().await, Some(1007), "{name}");
    }
}

#[tokio::test]
async fn websocket_protocol_errors_close_with_1002() {
    let addr = test_server().await;
    // Reserved bit set; reserved opcode; continuation without a start.
    for first in [0xc1u8, 0x83, 0x80] {
        for (name, path) in endpoints() {
            let mut ws = RawSocket::open(addr, &path).await;
            ws.send(first, b"[\"x\"]").await;
            assert_eq!(ws.close_code().await, Some(1002), "{name} {first:#x}");
        }
    }
}
