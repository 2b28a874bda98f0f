//! HtmlFile (`htmlfile?c=callback`): a never-ending HTML page whose scripts
//! hand each frame to a callback in the parent window.

use super::{callback, receive as open_receiver, Framing};
use crate::sockjs::body::Body;
use crate::sockjs::registry::Registry;
use http::request::Parts;
use http::Response;
use std::sync::Arc;

const TEMPLATE: &str = include_str!("../../../assets/sockjs/htmlfile.html");

/// The page's first chunk, padded past 1 KiB so browsers start rendering it.
pub(crate) fn prelude(callback: &str) -> String {
    let mut page = TEMPLATE.trim_end().replace("{{ callback }}", callback);
    if page.len() < 1024 {
        page.push_str(&" ".repeat(1024 - page.len()));
    }
    page.push_str("\r\n\r\n");
    page
}

/// `GET …/htmlfile?c=callback`.
pub(crate) fn receive(shared: &Arc<Registry>, parts: Parts, id: &str) -> Response<Body> {
    match callback(&parts) {
        Ok(callback) => open_receiver(
            shared,
            &parts,
            id,
            Framing::HtmlFile { callback },
            "text/html; charset=UTF-8",
        ),
        Err(refusal) => refusal.into_response(),
    }
}
