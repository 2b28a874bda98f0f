//! WebSocket: the SockJS-framed transport (`/<server>/<session>/websocket`)
//! and raw WebSocket (`<base>/websocket`), sharing one handshake and one
//! closing handshake.
//!
//! Closing follows RFC 6455: a client's Close is echoed with its status
//! code; a protocol error is answered with a Close carrying 1009 (message
//! too big), 1007 (invalid UTF-8) or 1002 (any other violation); the server
//! closes with its own code and waits briefly for the client's echo.
//!
//! Messages larger than 4 KiB go out as fragments (see `fragment`), so the
//! write buffer stays small whatever the application sends.

mod fragment;
mod handshake;
pub(crate) mod incoming;

use crate::sockjs::body::{self, Body};
use crate::sockjs::frame::{self, DecodeError};
use crate::sockjs::info::ConnectionInfo;
use crate::sockjs::options::{LogLevel, Options};
use crate::sockjs::registry::Registry;
use crate::sockjs::session::{Detach, Outgoing, Session};
use crate::sockjs::transport::heartbeat::Heartbeat;
use futures_util::{SinkExt, StreamExt};
use http::{header, HeaderValue, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use incoming::{classify, Incoming};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

/// Room in the write buffer beyond the largest frame, for control frames
/// (pong, close) queued while a frame is still going out.
const CONTROL_SLACK: usize = 4096;

/// The WebSocket settings for `options`.
///
/// Nothing is preallocated for writing (`write_buffer_size` 0 writes each
/// frame through), and the read buffer is 512 bytes: clients send little,
/// and a larger frame gets room for its whole length once its header is
/// read, so an idle connection holds well under 1 KiB of buffers.
/// The write limit is sized to the largest frame the server sends: every
/// message, up to `max_outgoing_message_size` and its escaping, is cut
/// into fragments of at most 4 KiB, so none can hit the limit.
fn config(options: &Options) -> WebSocketConfig {
    let incoming = options.max_message_size;
    WebSocketConfig::default()
        .read_buffer_size(512)
        .write_buffer_size(0)
        .max_write_buffer_size(fragment::MAX_FRAME + CONTROL_SLACK)
        .max_message_size(Some(incoming))
        .max_frame_size(Some(incoming))
}

/// Answer a WebSocket upgrade: 101, then a task runs the session.
/// `session_id` is `Some` for the SockJS-framed endpoint, `None` for raw.
pub(crate) fn upgrade<B>(
    shared: Arc<Registry>,
    mut req: Request<B>,
    session_id: Option<String>,
) -> Response<Body> {
    let accept = match handshake::validate(req.headers(), req.version()) {
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
    let info = ConnectionInfo::of_pieces(
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
            Some(config(&shared.options)),
        )
        .await;
        let (session, inbox) = shared.new_session(info, false);
        let (_, token) = session.attach(&mut Some(inbox));
        let mut socket = Socket {
            ws,
            timeout: shared.options.write_timeout,
        };
        if framed {
            run_framed(&shared.options, &session, &mut socket).await;
        } else {
            run_raw(&shared.options, &session, &mut socket).await;
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

/// A WebSocket whose every write must finish within `timeout` (a client
/// that stops reading must not hold its session forever).
struct Socket<S> {
    ws: WebSocketStream<S>,
    timeout: Duration,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Socket<S> {
    async fn send(&mut self, message: Message) -> bool {
        let timeout = self.timeout;
        matches!(
            tokio::time::timeout(timeout, self.ws.send(message)).await,
            Ok(Ok(()))
        )
    }

    /// Send text messages, each cut into fragments when large, then flush
    /// them together. Each frame must be taken within the write timeout.
    async fn send_texts(&mut self, messages: Vec<Utf8Bytes>) -> bool {
        let timeout = self.timeout;
        for message in messages {
            for piece in fragment::fragments(message) {
                let fed = tokio::time::timeout(timeout, self.ws.feed(piece)).await;
                if !matches!(fed, Ok(Ok(()))) {
                    return false;
                }
            }
        }
        let flushed = tokio::time::timeout(timeout, self.ws.flush()).await;
        matches!(flushed, Ok(Ok(())))
    }

    /// Send one text message (fragmented when large).
    async fn send_text(&mut self, message: Utf8Bytes) -> bool {
        self.send_texts(vec![message]).await
    }

    async fn next(&mut self) -> Incoming {
        classify(self.ws.next().await)
    }

    /// Close our side with `code` and wait briefly for the client's echo,
    /// so the TCP connection ends cleanly.
    async fn close(&mut self, code: u16, reason: &str) {
        let close = Message::Close(Some(CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        }));
        if self.send(close).await {
            let drain = async { while let Some(Ok(_)) = self.ws.next().await {} };
            let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
        }
    }

    /// The client closed: send the echo the WebSocket layer queued.
    async fn echo_close(&mut self) {
        let timeout = self.timeout;
        let _ = tokio::time::timeout(timeout, self.ws.flush()).await;
    }

    /// What the session learns from a read that ended the connection;
    /// answers the client as RFC 6455 asks first.
    async fn end(&mut self, session: &Session, incoming: Incoming) {
        match incoming {
            Incoming::Closed { code, reason } => {
                session.client_closed(code, &reason);
                self.echo_close().await;
            }
            Incoming::Violation { code, reason } => {
                session.client_closed(code, reason);
                self.close(code, reason).await;
            }
            Incoming::Lost | Incoming::Text(_) | Incoming::Other => {
                session.client_closed(1006, "Connection lost");
            }
        }
    }
}

/// SockJS framing over WebSocket: `o`, `a[...]`, `h`, `c[...]`.
async fn run_framed<S>(options: &Options, session: &Arc<Session>, socket: &mut Socket<S>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    if !socket.send(Message::text(frame::OPEN)).await {
        session.client_closed(1006, "Connection lost");
        return;
    }
    let mut heartbeat = Heartbeat::new(options.heartbeat_delay);
    loop {
        match session.next_frame() {
            Some(Outgoing::Messages(frame)) => {
                if !socket.send_text(frame).await {
                    session.client_closed(1006, "Connection lost");
                    return;
                }
                heartbeat.output();
                continue;
            }
            Some(Outgoing::Close(frame)) => {
                if socket.send(Message::text(frame)).await {
                    socket.close(1000, "Normal closure").await;
                }
                return;
            }
            None => {}
        }
        tokio::select! {
            _ = session.woken() => {}
            incoming = socket.next() => match incoming {
                Incoming::Text(text) => match frame::decode(text.as_bytes()) {
                    Ok(messages) => session.deliver(messages).await,
                    Err(DecodeError::Empty) => {}
                    Err(DecodeError::BrokenJson) => {
                        session.client_closed(3000, "Broken framing.");
                        socket.close(3000, "Broken framing.").await;
                        return;
                    }
                },
                Incoming::Other => {}
                ended => return socket.end(session, ended).await,
            },
            () = heartbeat.due() => {
                if !socket.send(Message::text(frame::HEARTBEAT)).await {
                    session.client_closed(1006, "Connection lost");
                    return;
                }
                heartbeat.output();
            }
        }
    }
}

/// Plain WebSocket: each message is one text frame; heartbeats are pings.
/// A client that has sent nothing (not even the pong) by the next
/// heartbeat after a ping is gone: the session ends, as webpack-dev-server
/// 5's server ends a client that missed its pong.
async fn run_raw<S>(options: &Options, session: &Arc<Session>, socket: &mut Socket<S>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut heartbeat = Heartbeat::new(options.heartbeat_delay);
    let mut awaiting_pong = false;
    loop {
        match session.next_raw() {
            Ok(messages) if !messages.is_empty() => {
                if !socket.send_texts(messages).await {
                    session.client_closed(1006, "Connection lost");
                    return;
                }
                heartbeat.output();
                continue;
            }
            Ok(_) => {}
            Err(event) => {
                socket.close(event.code, &event.reason).await;
                return;
            }
        }
        tokio::select! {
            _ = session.woken() => {}
            incoming = socket.next() => {
                awaiting_pong = false;
                match incoming {
                    Incoming::Text(text) => session.deliver(vec![text]).await,
                    Incoming::Other => {}
                    ended => return socket.end(session, ended).await,
                }
            }
            () = heartbeat.due() => {
                if awaiting_pong {
                    session.client_closed(1006, "No answer to ping");
                    return;
                }
                if !socket.send(Message::Ping(Default::default())).await {
                    session.client_closed(1006, "Connection lost");
                    return;
                }
                awaiting_pong = true;
                heartbeat.output();
            }
        }
    }
}
