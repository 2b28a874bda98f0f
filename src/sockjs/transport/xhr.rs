//! XHR polling (`xhr`), XHR streaming (`xhr_streaming`) and sending (`xhr_send`).

use super::{payload_error, read_body, receive, send_headers, Framing};
use crate::sockjs::body::{self, Body};
use crate::sockjs::cors;
use crate::sockjs::frame;
use crate::sockjs::registry::Registry;
use crate::sockjs::response::plain;
use bytes::Bytes;
use http::request::Parts;
use http::{Request, Response, StatusCode};
use std::error::Error as StdError;
use std::sync::Arc;

const CONTENT_TYPE: &str = "application/javascript; charset=UTF-8";

/// `POST …/xhr`: one frame per response.
pub(crate) fn polling(shared: &Arc<Registry>, parts: Parts, id: &str) -> Response<Body> {
    receive(shared, &parts, id, Framing::XhrPolling, CONTENT_TYPE)
}

/// `POST …/xhr_streaming`: frames as they come, until the response limit.
pub(crate) fn streaming(shared: &Arc<Registry>, parts: Parts, id: &str) -> Response<Body> {
    receive(shared, &parts, id, Framing::XhrStreaming, CONTENT_TYPE)
}

/// `POST …/xhr_send`: messages from the client; 204 when taken. Every
/// answer, errors included, carries CORS headers so the page can read it.
pub(crate) async fn send<B>(shared: &Arc<Registry>, req: Request<B>, id: &str) -> Response<Body>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let (parts, body) = req.into_parts();
    let mut response = take_messages(shared, &parts, body, id).await;
    cors::cors(response.headers_mut(), &parts, &shared.options);
    response
}

async fn take_messages<B>(shared: &Registry, parts: &Parts, body: B, id: &str) -> Response<Body>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let Some(session) = shared.session(id) else {
        return plain(StatusCode::NOT_FOUND, "Session not found.");
    };
    let payload = match read_body(body, shared.options.max_message_size).await {
        Ok(payload) => payload,
        Err(error) => return payload_error(error),
    };
    let messages = match frame::decode(&payload) {
        Ok(messages) => messages,
        Err(error) => return super::decode_error(error),
    };
    session.deliver(messages).await;
    let mut response = Response::new(body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    send_headers(&mut response, parts, shared);
    response
}
