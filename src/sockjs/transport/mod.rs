//! Transports: how frames travel to and from the client over each kind of request.
//!
//! Every HTTP receiving transport (polling and streaming) shares one loop,
//! [`receive`]; they differ only in [`Framing`]. WebSocket has its own loop.

pub(crate) mod eventsource;
mod heartbeat;
pub(crate) mod htmlfile;
pub(crate) mod jsonp;
pub(crate) mod websocket;
pub(crate) mod xhr;

use super::body::{self, Body};
use super::cors;
use super::frame;
use super::info::ConnectionInfo;
use super::registry::Registry;
use super::response::{plain, Refusal};
use super::session::{Attach, Detach, Outgoing, Session};
use bytes::Bytes;
use heartbeat::Heartbeat;
use http::request::Parts;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use std::error::Error as StdError;
use std::sync::Arc;
use tokio::sync::mpsc;

/// How a receiving transport wraps frames.
#[derive(Debug, Clone)]
pub(crate) enum Framing {
    /// `frame\n`, one frame per response.
    XhrPolling,
    /// 2 KiB prelude, then `frame\n` per frame.
    XhrStreaming,
    /// `data: frame\r\n\r\n` per frame.
    EventSource,
    /// A script page calling `p("frame")` per frame.
    HtmlFile { callback: String },
    /// `/**/callback("frame");\r\n`, one frame per response.
    Jsonp { callback: String },
}

impl Framing {
    /// Whether the response stays open for more frames.
    fn streaming(&self) -> bool {
        !matches!(self, Framing::XhrPolling | Framing::Jsonp { .. })
    }

    /// Sent before anything else.
    fn prelude(&self) -> Option<Bytes> {
        match self {
            Framing::XhrStreaming => {
                let mut prelude = vec![b'h'; 2048];
                prelude.push(b'\n');
                Some(prelude.into())
            }
            Framing::EventSource => Some(Bytes::from_static(b"\r\n")),
            Framing::HtmlFile { callback } => Some(htmlfile::prelude(callback).into()),
            Framing::XhrPolling | Framing::Jsonp { .. } => None,
        }
    }

    /// One frame, wrapped.
    fn encode(&self, frame: &str) -> Bytes {
        match self {
            Framing::XhrPolling | Framing::XhrStreaming => format!("{frame}\n").into(),
            Framing::EventSource => format!("data: {frame}\r\n\r\n").into(),
            Framing::HtmlFile { .. } => {
                format!("<script>\np({});\n</script>\r\n", frame::json_string(frame)).into()
            }
            Framing::Jsonp { callback } => {
                format!("/**/{callback}({});\r\n", frame::json_string(frame)).into()
            }
        }
    }

    fn protocol(&self) -> &'static str {
        match self {
            Framing::XhrPolling => "xhr-polling",
            Framing::XhrStreaming => "xhr-streaming",
            Framing::EventSource => "eventsource",
            Framing::HtmlFile { .. } => "htmlfile",
            Framing::Jsonp { .. } => "jsonp-polling",
        }
    }
}

/// Answer a receiving request for session `id`: find or create the
/// session, attach a receiver that streams frames into the response body.
pub(crate) fn receive(
    shared: &Arc<Registry>,
    parts: &Parts,
    id: &str,
    framing: Framing,
    content_type: &'static str,
) -> Response<Body> {
    let protocol = framing.protocol();
    let opened = shared.session_or_create(id, || {
        ConnectionInfo::of_request(parts, &shared.options.prefix, Some(id), protocol)
    });
    let (session, inbox) = match opened {
        Ok(opened) => opened,
        Err(refusal) => return refusal.into_response(),
    };
    let (tx, body) = body::channel();
    tokio::spawn(run_receiver(shared.clone(), session, inbox, framing, tx));
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    cors::no_cache(headers);
    // Cross-origin pages read every receiving transport (EventSource too).
    cors::cors(headers, parts, &shared.options);
    cors::jsessionid(headers, parts, &shared.options);
    response
}

/// The receiving loop shared by every HTTP transport.
async fn run_receiver(
    shared: Arc<Registry>,
    session: Arc<Session>,
    inbox: Option<mpsc::Receiver<String>>,
    framing: Framing,
    tx: mpsc::Sender<Bytes>,
) {
    let timeout = shared.options.write_timeout;
    if let Some(prelude) = framing.prelude() {
        if !push(&tx, prelude, timeout).await {
            return;
        }
    }
    let mut inbox = inbox;
    let (attach, token) = session.attach(&mut inbox);
    let mut sent = 0usize;
    match attach {
        Attach::Busy => {
            let refusal = framing.encode(&frame::close(2010, "Another connection still open"));
            push(&tx, refusal, timeout).await;
            return;
        }
        Attach::Closed(close) => {
            push(&tx, framing.encode(&close), timeout).await;
            return;
        }
        Attach::Opened => {
            let open = framing.encode(frame::OPEN);
            sent += open.len();
            if !push(&tx, open, timeout).await {
                session.detach(token, Detach::Aborted);
                return;
            }
            if !framing.streaming() {
                session.detach(token, Detach::Finished);
                return;
            }
        }
        Attach::Resumed => {}
    }
    let limit = shared.options.response_limit;
    let mut heartbeat = Heartbeat::new(shared.options.heartbeat_delay);
    loop {
        let (chunk, last) = match session.next_frame() {
            Some(Outgoing::Messages(frame)) => {
                (framing.encode(frame.as_str()), !framing.streaming())
            }
            Some(Outgoing::Close(frame)) => (framing.encode(&frame), true),
            None => {
                tokio::select! {
                    _ = session.woken() => continue,
                    _ = tx.closed() => {
                        session.detach(token, Detach::Aborted);
                        return;
                    }
                    () = heartbeat.due() => (framing.encode(frame::HEARTBEAT), !framing.streaming()),
                }
            }
        };
        sent += chunk.len();
        heartbeat.output();
        if !push(&tx, chunk, timeout).await {
            session.detach(token, Detach::Aborted);
            return;
        }
        if last || sent >= limit {
            session.detach(token, Detach::Finished);
            return;
        }
    }
}

/// Hand `chunk` to the response body; false when the client went away or
/// did not take it within `timeout` (it stopped reading).
async fn push(tx: &mpsc::Sender<Bytes>, chunk: Bytes, timeout: std::time::Duration) -> bool {
    matches!(
        tokio::time::timeout(timeout, tx.send(chunk)).await,
        Ok(Ok(()))
    )
}

/// Why a client payload could not be read.
pub(crate) enum ReadError {
    TooLarge,
    Broken,
}

/// Read a request body of at most `limit` bytes.
pub(crate) async fn read_body<B>(body: B, limit: usize) -> Result<Bytes, ReadError>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(ReadError::TooLarge)
        }
        Err(_) => Err(ReadError::Broken),
    }
}

/// The error answer for an unreadable payload.
pub(crate) fn payload_error(error: ReadError) -> Response<Body> {
    match error {
        ReadError::TooLarge => plain(StatusCode::PAYLOAD_TOO_LARGE, "Payload too large."),
        ReadError::Broken => plain(StatusCode::BAD_REQUEST, "Broken request body."),
    }
}

/// The error answer for a payload that did not decode.
pub(crate) fn decode_error(error: frame::DecodeError) -> Response<Body> {
    plain(StatusCode::INTERNAL_SERVER_ERROR, error.message())
}

/// The `c` or `callback` query parameter, validated.
pub(crate) fn callback(parts: &Parts) -> Result<String, Refusal> {
    let query = parts.uri.query().unwrap_or("");
    let raw = query
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(key, _)| *key == "c" || *key == "callback")
        .map(|(_, value)| value);
    let Some(raw) = raw.filter(|v| !v.is_empty()) else {
        return Err(Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "\"callback\" parameter required",
        ));
    };
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map(|c| c.into_owned());
    match decoded {
        Ok(name) if valid_callback(&name) => Ok(name),
        _ => Err(Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "invalid \"callback\" parameter",
        )),
    }
}

/// `^[A-Za-z0-9_.-]{1,32}$`: safe to put into a script.
fn valid_callback(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Headers of a sending endpoint's answer.
pub(crate) fn send_headers(response: &mut Response<Body>, parts: &Parts, shared: &Registry) {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=UTF-8"),
    );
    cors::no_cache(headers);
    cors::jsessionid(headers, parts, &shared.options);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_names() {
        assert!(valid_callback("_jp.a1b2c3"));
        assert!(valid_callback("a-b_c.d"));
        assert!(!valid_callback(""));
        assert!(!valid_callback("%20"));
        assert!(!valid_callback("a b"));
        assert!(!valid_callback("alert(1)"));
        assert!(!valid_callback(&"a".repeat(33)));
    }

    #[test]
    fn framings() {
        assert_eq!(Framing::XhrPolling.encode("o"), "o\n");
        assert_eq!(Framing::EventSource.encode("o"), "data: o\r\n\r\n");
        assert_eq!(
            Framing::Jsonp {
                callback: "cb".into()
            }
            .encode("a[\"x\"]"),
            "/**/cb(\"a[\\\"x\\\"]\");\r\n"
        );
        assert_eq!(
            Framing::HtmlFile {
                callback: "cb".into()
            }
            .encode("o"),
            "<script>\np(\"o\");\n</script>\r\n"
        );
    }
}
