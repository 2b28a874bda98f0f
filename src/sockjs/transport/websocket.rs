//! WebSocket: the SockJS-framed transport (`/<server>/<session>/websocket`)
//! and raw WebSocket (`<base>/websocket`), sharing one handshake.

use super::deliver;
use crate::sockjs::body::{self, Body};
use crate::sockjs::frame::{self, DecodeError};
use crate::sockjs::options::LogLevel;
use crate::sockjs::server::{connection_info_of, Refusal, Shared};
use crate::sockjs::session::{Detach, Outgoing, Session};
use futures_util::{SinkExt, StreamExt};
use http::{header, HeaderMap, HeaderValue, Request, Response, StatusCode, Version};
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{sleep_until, Instant};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// Check an upgrade request; the error is the response to send instead.
fn validate(headers: &HeaderMap, version: Version) -> Result<HeaderValue, Refusal> {
    let has_token = |name: header::HeaderName, token: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    if !has_token(header::UPGRADE, "websocket") {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "Can \"Upgrade\" only to \"WebSocket\".",
        ));
    }
    if !has_token(header::CONNECTION, "upgrade") {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "\"Connection\" must be \"Upgrade\".",
        ));
    }
    if version < Version::HTTP_11 {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "WebSocket needs HTTP/1.1.",
        ));
    }
    let version_ok = headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| matches!(v.trim(), "13" | "8"));
    if !version_ok {
        return Err(Refusal::new(
            StatusCode::UPGRADE_REQUIRED,
            "Unsupported WebSocket version.",
        ));
    }
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| Refusal::new(StatusCode::BAD_REQUEST, "Missing Sec-WebSocket-Key."))?;
    HeaderValue::from_str(&derive_accept_key(key.as_bytes()))
        .map_err(|_| Refusal::new(StatusCode::BAD_REQUEST, "Bad Sec-WebSocket-Key."))
}

fn config(shared: &Shared) -> WebSocketConfig {
    let max = shared.options.max_message_size;
    WebSocketConfig::default()
        // Small buffers: thousands of idle connections must stay cheap.
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_write_buffer_size(max.saturating_mul(4).max(64 * 1024))
        .max_message_size(Some(max))
        .max_frame_size(Some(max))
}

/// Answer a WebSocket upgrade: 101, then a task runs the session.
/// `session_id` is `Some` for the SockJS-framed endpoint, `None` for raw.
pub(crate) fn upgrade<B>(
    shared: Arc<Shared>,
    mut req: Request<B>,
    session_id: Option<String>,
) -> Response<Body> {
    let accept = match validate(req.headers(), req.version()) {
        Ok(accept) => accept,
        Err(refusal) => {
            let mut response = refusal.into_response();
            if refusal.status == StatusCode::UPGRADE_REQUIRED {
                response.headers_mut().insert(
                    header::SEC_WEBSOCKET_VERSION,
                    HeaderValue::from_static("13"),
                );
            }
            return response;
        }
    };
    if let Err(refusal) = shared.admit() {
        return refusal.into_response();
    }
    let framed = session_id.is_some();
    let protocol = if framed { "websocket" } else { "rawwebsocket" };
    let info = connection_info_of(
        req.uri(),
        req.headers(),
        req.extensions(),
        &shared.options.prefix,
        session_id.as_deref(),
        protocol,
    );
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        let upgraded = match on_upgrade.await {
            Ok(upgraded) => upgraded,
            Err(error) => {
                shared.log(
                    LogLevel::Debug,
                    &format!("WebSocket upgrade failed: {error}"),
                );
                return;
            }
        };
        let ws = WebSocketStream::from_raw_socket(
            TokioIo::new(upgraded),
            Role::Server,
            Some(config(&shared)),
        )
        .await;
        let (session, inbox) = Session::new(shared.clone(), info, false);
        let (_, token) = session.attach(&mut Some(inbox));
        if framed {
            run_framed(&shared, &session, ws).await;
        } else {
            run_raw(&shared, &session, ws).await;
        }
        session.detach(token, Detach::Finished);
    });
    let mut response = Response::new(body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    response
}

/// What came in from the client.
enum Incoming {
    Text(String),
    Closed(u16, String),
    Other,
}

fn classify(message: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>) -> Incoming {
    match message {
        Some(Ok(Message::Text(text))) => Incoming::Text(text.as_str().to_string()),
        Some(Ok(Message::Close(frame))) => match frame {
            Some(frame) => {
                Incoming::Closed(u16::from(frame.code), frame.reason.as_str().to_string())
            }
            None => Incoming::Closed(1005, String::new()),
        },
        Some(Ok(_)) => Incoming::Other,
        Some(Err(_)) | None => Incoming::Closed(1006, "Connection lost".to_string()),
    }
}

fn close_frame(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    }))
}

/// Close our side and wait briefly for the client's close reply, so the
/// TCP connection ends cleanly.
async fn finish<S>(ws: &mut WebSocketStream<S>, timeout: Duration, code: u16, reason: &str)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    if send_within(ws, close_frame(code, reason), timeout).await {
        let drain = async { while let Some(Ok(_)) = ws.next().await {} };
        let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
    }
}

/// Whether `operation` succeeded within `timeout` (a client that stops
/// reading must not hold its session forever).
async fn within<E>(
    timeout: Duration,
    operation: impl std::future::Future<Output = Result<(), E>>,
) -> bool {
    matches!(tokio::time::timeout(timeout, operation).await, Ok(Ok(())))
}

async fn send_within<S>(ws: &mut WebSocketStream<S>, message: Message, timeout: Duration) -> bool
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    within(timeout, ws.send(message)).await
}

/// SockJS framing over WebSocket: `o`, `a[...]`, `h`, `c[...]`.
async fn run_framed<S>(shared: &Shared, session: &Arc<Session>, mut ws: WebSocketStream<S>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let heartbeat = shared.options.heartbeat_delay;
    let timeout = shared.options.write_timeout;
    if !send_within(&mut ws, Message::text(frame::OPEN), timeout).await {
        session.client_closed(1006, "Connection lost");
        return;
    }
    let mut next_heartbeat = Instant::now() + heartbeat;
    loop {
        match session.next_frame() {
            Some(Outgoing::Messages(frame)) => {
                if !send_within(&mut ws, Message::text(frame), timeout).await {
                    session.client_closed(1006, "Connection lost");
                    return;
                }
                next_heartbeat = Instant::now() + heartbeat;
                continue;
            }
            Some(Outgoing::Close(frame)) => {
                if send_within(&mut ws, Message::text(frame), timeout).await {
                    finish(&mut ws, timeout, 1000, "Normal closure").await;
                }
                return;
            }
            None => {}
        }
        tokio::select! {
            _ = session.woken() => {}
            incoming = ws.next() => match classify(incoming) {
                Incoming::Text(text) => match frame::decode(text.as_bytes()) {
                    Ok(messages) => deliver(session, messages).await,
                    Err(DecodeError::Empty) => {}
                    Err(DecodeError::BrokenJson) => {
                        session.client_closed(3000, "Broken framing.");
                        finish(&mut ws, timeout, 3000, "Broken framing.").await;
                        return;
                    }
                },
                Incoming::Closed(code, reason) => {
                    session.client_closed(code, &reason);
                    let _ = ws.close(None).await;
                    return;
                }
                Incoming::Other => {}
            },
            _ = sleep_until(next_heartbeat) => {
                if !send_within(&mut ws, Message::text(frame::HEARTBEAT), timeout).await {
                    session.client_closed(1006, "Connection lost");
                    return;
                }
                next_heartbeat = Instant::now() + heartbeat;
            }
        }
    }
}

/// Plain WebSocket: each message is one text frame; heartbeats are pings.
async fn run_raw<S>(shared: &Shared, session: &Arc<Session>, mut ws: WebSocketStream<S>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let heartbeat = shared.options.heartbeat_delay;
    let timeout = shared.options.write_timeout;
    let mut next_heartbeat = Instant::now() + heartbeat;
    loop {
        match session.next_raw() {
            Ok(messages) if !messages.is_empty() => {
                for message in messages {
                    if !within(timeout, ws.feed(Message::text(message))).await {
                        session.client_closed(1006, "Connection lost");
                        return;
                    }
                }
                if !within(timeout, ws.flush()).await {
                    session.client_closed(1006, "Connection lost");
                    return;
                }
                next_heartbeat = Instant::now() + heartbeat;
                continue;
            }
            Ok(_) => {}
            Err(event) => {
                finish(&mut ws, timeout, event.code, &event.reason).await;
                return;
            }
        }
        tokio::select! {
            _ = session.woken() => {}
            incoming = ws.next() => match classify(incoming) {
                Incoming::Text(text) => deliver(session, vec![text]).await,
                Incoming::Closed(code, reason) => {
                    session.client_closed(code, &reason);
                    let _ = ws.close(None).await;
                    return;
                }
                Incoming::Other => {}
            },
            _ = sleep_until(next_heartbeat) => {
                if !send_within(&mut ws, Message::Ping(Default::default()), timeout).await {
                    session.client_closed(1006, "Connection lost");
                    return;
                }
                next_heartbeat = Instant::now() + heartbeat;
            }
        }
    }
}
