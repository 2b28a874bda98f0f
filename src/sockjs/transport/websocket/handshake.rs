//! The RFC 6455 opening handshake: checking an upgrade request.

use crate::sockjs::response::Refusal;
use http::{header, HeaderMap, HeaderValue, StatusCode, Version};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

/// Check an upgrade request; `Sec-WebSocket-Accept` for the 101, or the
/// refusal to send instead.
pub(super) fn validate(headers: &HeaderMap, version: Version) -> Result<HeaderValue, Refusal> {
    let has_token = |name: header::HeaderName, token: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    if !has_token(header::UPGRADE, "websocket") {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "Can \"Upgrade\" only to \"WebSocket\".",
        ));
    }
    if !has_token(header::CONNECTION, "upgrade") {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "\"Connection\" must be \"Upgrade\".",
        ));
    }
    if version < Version::HTTP_11 {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "WebSocket needs HTTP/1.1.",
        ));
    }
    let version_ok = headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| matches!(v.trim(), "13" | "8"));
    if !version_ok {
        return Err(Refusal::new(
            StatusCode::UPGRADE_REQUIRED,
            "Unsupported WebSocket version.",
        ));
    }
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| Refusal::new(StatusCode::BAD_REQUEST, "Missing Sec-WebSocket-Key."))?;
    HeaderValue::from_str(&derive_accept_key(key.as_bytes()))
        .map_err(|_| Refusal::new(StatusCode::BAD_REQUEST, "Bad Sec-WebSocket-Key."))
}
