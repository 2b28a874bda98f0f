//! JSONP polling (`jsonp?c=callback`) and its sending side (`jsonp_send`).

use super::{callback, payload_error, read_body, receive as open_receiver, send_headers, Framing};
use crate::sockjs::body::{self, Body};
use crate::sockjs::frame;
use crate::sockjs::registry::Registry;
use crate::sockjs::response::plain;
use bytes::Bytes;
use http::request::Parts;
use http::{header, Request, Response, StatusCode};
use std::error::Error as StdError;
use std::sync::Arc;

/// `GET …/jsonp?c=callback`: one frame per response, as a script.
pub(crate) fn receive(shared: &Arc<Registry>, parts: Parts, id: &str) -> Response<Body> {
    match callback(&parts) {
        Ok(callback) => open_receiver(
            shared,
            &parts,
            id,
            Framing::Jsonp { callback },
            "application/javascript; charset=UTF-8",
        ),
        Err(refusal) => refusal.into_response(),
    }
}

/// `POST …/jsonp_send`: a form with field `d`, or the raw payload.
pub(crate) async fn send<B>(shared: &Arc<Registry>, req: Request<B>, id: &str) -> Response<Body>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let (parts, body) = req.into_parts();
    let Some(session) = shared.session(id) else {
        return plain(StatusCode::NOT_FOUND, "Session not found.");
    };
    let raw = match read_body(body, shared.options.max_message_size).await {
        Ok(raw) => raw,
        Err(error) => return payload_error(error),
    };
    let payload = if is_form(&parts) {
        form_field(&raw, "d").unwrap_or_default()
    } else {
        raw.to_vec()
    };
    let messages = match frame::decode(&payload) {
        Ok(messages) => messages,
        Err(error) => return super::decode_error(error),
    };
    session.deliver(messages).await;
    let mut response = Response::new(body::full("ok"));
    send_headers(&mut response, &parts, shared);
    response
}

fn is_form(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
}

/// The decoded value of form field `name`.
fn form_field(body: &[u8], name: &str) -> Option<Vec<u8>> {
    body.split(|b| *b == b'&').find_map(|pair| {
        let mut kv = pair.splitn(2, |b| *b == b'=');
        let key = kv.next()?;
        let value = kv.next().unwrap_or_default();
        (key == name.as_bytes()).then(|| {
            let plus_as_space: Vec<u8> = value
                .iter()
                .map(|b| if *b == b'+' { b' ' } else { *b })
                .collect();
            percent_encoding::percent_decode(&plus_as_space).collect()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_form_fields() {
        assert_eq!(
            form_field(b"d=%5B%22x%20y%22%5D", "d"),
            Some(b"[\"x y\"]".to_vec())
        );
        assert_eq!(form_field(b"p=p", "d"), None);
        assert_eq!(form_field(b"d=", "d"), Some(vec![]));
        assert_eq!(form_field(b"d=a+b", "d"), Some(b"a b".to_vec()));
    }
}
