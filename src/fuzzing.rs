//! Entry points into devserve's parsers for the fuzz targets in `fuzz/`
//! (feature `fuzzing`). Not a stable API.

use crate::static_files::conditional::{evaluate, if_range_allows, EntityTag};
use crate::static_files::range::{parse_range, RangeDecision};
use crate::static_files::resolve::{resolve, Policy, Resolution};
use http::request::Parts;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// What a request path resolved to, reduced to what the invariants need.
#[derive(Debug)]
pub enum Resolved {
    /// A file or folder at this canonical path.
    Inside(PathBuf),
    /// A redirect to this location.
    Redirect(String),
    /// Refused or missing.
    Refused,
}

/// Resolve `raw` under the canonical `root` with the default (safe) policy.
pub fn resolve_path(root: &Path, raw: &str) -> Resolved {
    let policy = Policy {
        show_hidden: false,
        follow_symlinks: false,
        listing: true,
    };
    match resolve(root, raw, None, policy, true) {
        Resolution::File { path, .. } => Resolved::Inside(path),
        Resolution::Directory { dir, .. } => Resolved::Inside(dir),
        Resolution::Redirect { location } => Resolved::Redirect(location),
        Resolution::NotFound | Resolution::Forbidden | Resolution::BadRequest(_) => {
            Resolved::Refused
        }
    }
}

/// Decode a SockJS client payload.
pub fn sockjs_decode(payload: &[u8]) -> Option<Vec<String>> {
    crate::sockjs::frame::decode(payload).ok()
}

/// Encode messages as a SockJS `a[...]` frame.
pub fn sockjs_encode(messages: &[String]) -> String {
    crate::sockjs::frame::messages(messages)
}

/// A partial range `(start, end)` for a representation of `len` bytes, if one applies.
pub fn range(value: &str, len: u64) -> Option<(u64, u64)> {
    match parse_range(value, len) {
        RangeDecision::Partial { start, end } => Some((start, end)),
        RangeDecision::Full | RangeDecision::Unsatisfiable => None,
    }
}

/// Run the conditional-request logic over `parts`' headers.
pub fn conditional(parts: &Parts) {
    let now = SystemTime::now();
    let tag = EntityTag::for_file(4096, now);
    let _ = evaluate(&parts.method, &parts.headers, tag.as_ref(), Some(now));
    let _ = if_range_allows(&parts.headers, tag.as_ref(), Some(now));
}

/// Run the Host, Origin and Sec-Fetch gates over `parts` with the default
/// policy; returns the accepted host name, if any.
pub fn gates(parts: &Parts) -> Option<String> {
    let policy = crate::guard::GuardPolicy::default();
    let _ = crate::guard::check_sec_fetch(parts);
    let authority = crate::guard::check_host(parts, &policy).ok()?;
    let _ = crate::guard::check_origin(parts, &authority, &policy);
    Some(authority.host)
}

/// What one read from a client's WebSocket byte stream meant to the SockJS server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebSocketRead {
    /// A text message.
    Text(String),
    /// The client's Close with this code (1005: none given); the server echoes it.
    Closed(u16),
    /// A protocol error; the server closes with this code.
    Violation(u16),
    /// The connection ended without a closing handshake.
    Lost,
    /// Binary, ping or pong.
    Other,
}

/// Decode `bytes` as the byte stream a client sent on a SockJS WebSocket
/// (incoming messages capped at `max_message` bytes), read by read, until
/// the connection would end.
pub fn sockjs_websocket_reads(bytes: &[u8], max_message: usize) -> Vec<WebSocketRead> {
    use crate::sockjs::Incoming;
    crate::sockjs::decode_client_bytes(bytes, max_message)
        .into_iter()
        .map(|read| match read {
            Incoming::Text(text) => WebSocketRead::Text(text),
            Incoming::Closed { code, .. } => WebSocketRead::Closed(code),
            Incoming::Violation { code, .. } => WebSocketRead::Violation(code),
            Incoming::Lost => WebSocketRead::Lost,
            Incoming::Other => WebSocketRead::Other,
        })
        .collect()
}
