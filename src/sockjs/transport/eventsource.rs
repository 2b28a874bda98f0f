//! EventSource (`eventsource`): server-sent events carrying frames.

use super::{receive as open_receiver, Framing};
use crate::sockjs::body::Body;
use crate::sockjs::registry::Registry;
use http::request::Parts;
use http::Response;
use std::sync::Arc;

/// `GET …/eventsource`.
pub(crate) fn receive(shared: &Arc<Registry>, parts: Parts, id: &str) -> Response<Body> {
    open_receiver(
        shared,
        &parts,
        id,
        Framing::EventSource,
        "text/event-stream",
    )
}
