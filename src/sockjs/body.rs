//! Response bodies: in-memory ones, and the pushed body streaming transports write into.

use bytes::Bytes;
use http_body::Frame;
use http_body_util::{combinators::BoxBody, BodyExt, Empty, Full};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// The one response body type: every SockJS response has it, and an
/// application serving SockJS beside its own endpoints (a [`crate::sockjs::Mount`]
/// fallback, a dev server) uses it for all its responses, so one hyper
/// service answers both. Build in-memory ones with
/// [`crate::sockjs::full_body`] and [`crate::sockjs::empty_body`].
pub type Body = BoxBody<Bytes, io::Error>;

/// A body holding `bytes` in full.
pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// An empty body.
pub(crate) fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed()
}

/// A body fed chunk by chunk through a channel. Each chunk becomes one
/// HTTP chunk; dropping the sender ends the body. When the client goes
/// away, the server drops the body and the sender sees the channel closed.
struct ChannelBody {
    rx: mpsc::Receiver<Bytes>,
}

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        self.rx
            .poll_recv(cx)
            .map(|chunk| chunk.map(|bytes| Ok(Frame::data(bytes))))
    }
}

/// A pushed body and the sender that feeds it.
pub(crate) fn channel() -> (mpsc::Sender<Bytes>, Body) {
    // A small buffer: writes wait while the client is not reading, so a
    // slow client holds back its session rather than filling memory.
    let (tx, rx) = mpsc::channel(2);
    (tx, BodyExt::boxed(ChannelBody { rx }))
}
