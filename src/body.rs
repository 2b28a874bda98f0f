//! The one response body type the dev server uses, and small constructors for it.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};

/// Every response devserve produces carries this body type: boxed, so that
/// in-memory, streamed-file and pushed (SockJS) bodies can share one type.
/// It is the SockJS module's body type itself, so its responses pass
/// through unchanged.
pub type ResponseBody = crate::sockjs::Body;

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
