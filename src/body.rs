//! The one response body type the dev server uses, and small constructors for it.

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Empty, Full};
use std::io;

/// Every response devserve produces carries this body type: boxed, so that
/// in-memory, streamed-file and pushed (SockJS) bodies can share one type.
pub type ResponseBody = BoxBody<Bytes, io::Error>;

/// A body holding `bytes` in full.
pub fn full(bytes: impl Into<Bytes>) -> ResponseBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// An empty body.
pub fn empty() -> ResponseBody {
    Empty::new().map_err(|never| match never {}).boxed()
}
