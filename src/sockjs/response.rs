//! The plain answers every endpoint shares: refusals, 404 and 405.

use super::body::{self, Body};
use http::{header, HeaderValue, Response, StatusCode};

/// `text/plain` response with `status`.
pub(crate) fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut response = Response::new(body::full(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=UTF-8"),
    );
    response
}

/// A refused request: its status and the protocol's text for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) message: &'static str,
}

impl Refusal {
    /// A refusal with `status` and `message`.
    pub(crate) const fn new(status: StatusCode, message: &'static str) -> Self {
        Refusal { status, message }
    }

    /// The `text/plain` response.
    pub(crate) fn into_response(self) -> Response<Body> {
        plain(self.status, self.message)
    }
}

/// 404 for paths nothing answers.
pub(crate) fn not_found() -> Response<Body> {
    plain(StatusCode::NOT_FOUND, "Not found.\n")
}

/// 405 with `Allow`, no body and no content type.
pub(crate) fn method_not_allowed(allow: &'static str) -> Response<Body> {
    let mut response = Response::new(body::empty());
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}
