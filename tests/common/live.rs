//! A live-reload client for tests: SockJS over WebSocket against `/sockjs-node`.

use super::{session_id, WAIT};
use futures_util::StreamExt;
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// A live-reload client speaking SockJS over WebSocket.
pub struct LiveClient {
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    pending: std::collections::VecDeque<Value>,
}

impl LiveClient {
    pub async fn connect(addr: SocketAddr) -> LiveClient {
        LiveClient::try_connect(addr).await.expect("connect")
    }

    /// Connect, or `None` when the server is not (yet) there.
    pub async fn try_connect(addr: SocketAddr) -> Option<LiveClient> {
        let url = format!("ws://{addr}/sockjs-node/000/{}/websocket", session_id());
        let (ws, _) = tokio_tungstenite::connect_async(url).await.ok()?;
        let mut client = LiveClient {
            ws,
            pending: Default::default(),
        };
        (client.frame().await.as_deref() == Some("o")).then_some(client)
    }

    pub async fn frame(&mut self) -> Option<String> {
        loop {
            match tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("frame in time")
            {
                Some(Ok(WsMessage::Text(t))) => return Some(t.as_str().to_string()),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    }

    /// The next message (heartbeat frames skipped).
    pub async fn message(&mut self) -> Value {
        while self.pending.is_empty() {
            let frame = self.frame().await.expect("connection open");
            self.queue_frame(&frame);
        }
        self.pending.pop_front().expect("message")
    }

    /// Messages up to and including the next `ok`/`warnings`/`errors`.
    pub async fn until_status(&mut self) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let message = self.message().await;
            let done = matches!(message["type"].as_str(), Some("ok" | "warnings" | "errors"));
            out.push(message);
            if done {
                return out;
            }
        }
    }

    /// Parse a message frame into the pending queue (other frames are skipped).
    fn queue_frame(&mut self, frame: &str) {
        if let Some(array) = frame.strip_prefix('a') {
            let texts: Vec<String> = serde_json::from_str(array).expect("message frame");
            for text in texts {
                self.pending
                    .push_back(serde_json::from_str(&text).expect("json message"));
            }
        }
    }

    /// Whether anything arrives within `quiet`.
    pub async fn silent_for(&mut self, quiet: Duration) -> bool {
        if !self.pending.is_empty() {
            return false;
        }
        loop {
            match tokio::time::timeout(quiet, self.ws.next()).await {
                Err(_) => return true,
                Ok(Some(Ok(WsMessage::Text(t)))) if t.as_str() == "h" => continue,
                Ok(Some(Ok(WsMessage::Text(t)))) => {
                    // Keep what arrived for the next read.
                    self.queue_frame(t.as_str());
                    return false;
                }
                Ok(_) => return false,
            }
        }
    }
}

pub fn types(messages: &[Value]) -> Vec<&str> {
    messages
        .iter()
        .map(|m| m["type"].as_str().unwrap_or("?"))
        .collect()
}
