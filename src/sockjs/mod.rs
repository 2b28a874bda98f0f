//! A self-contained SockJS server (protocol 0.3.x) for hyper 1.
//!
//! SockJS gives browsers a WebSocket-like, message-oriented connection that
//! falls back to HTTP streaming and polling where WebSocket is unavailable.
//! This module implements every server transport — WebSocket (framed and
//! raw), XHR streaming and polling, EventSource, HtmlFile and JSONP — plus
//! the `/info` endpoint and the iframe page the cross-domain transports use.
//!
//! It depends on nothing else in devserve: create a [`SockJsServer`] per
//! prefix, accept [`Connection`]s from its [`Connections`] stream, and route
//! requests under the prefix to [`SockJsServer::handle`] (or put several
//! servers in front of your own handler with [`Mount`]).
//!
//! ```no_run
//! use devserve::sockjs::{Options, SockJsServer};
//! # async fn run() {
//! let (server, mut connections) = SockJsServer::new(Options::new("/echo"));
//! while let Some(mut conn) = connections.accept().await {
//!     tokio::spawn(async move {
//!         while let Some(message) = conn.recv().await {
//!             let _ = conn.write(&message);
//!         }
//!     });
//! }
//! # let _ = server;
//! # }
//! ```
//!
//! A [`Group`] sends one message to many connections, encoded once.
//!
//! Inside, each file has one job and the imports run one way: `mount` →
//! `server` (dispatch) → `transport` (how frames travel) → `registry` (the
//! shared state) → `session` (one session's state) → `frame`, `info`,
//! `options`, `route`, `response`, `body`, `util`; `group` sits beside
//! `server`, above `session`. A session reports back
//! to the registry through the `session::Owner` trait, never by name.

#![deny(unreachable_pub, missing_debug_implementations)]

mod backoff;
mod body;
mod cors;
pub(crate) mod frame;
mod group;
mod info;
mod mount;
mod options;
mod pages;
mod registry;
mod response;
mod route;
mod server;
mod session;
mod transport;
mod util;

pub use backoff::{AcceptBackoff, BackoffStep};
pub use body::Body;
pub use group::{Group, Member, WhenFull};
pub use info::ConnectionInfo;
pub use mount::Mount;
pub use options::{CookieFn, Jsessionid, LogFn, LogLevel, Options, OriginPolicy, Transports};
pub use server::{Connections, SockJsServer};
pub use session::{CloseEvent, Connection, ConnectionHandle, ReadyState, WriteError};

#[cfg(feature = "fuzzing")]
pub(crate) use transport::websocket::incoming::{decode_client_bytes, Incoming};

/// An empty response body, for fallback handlers of a [`Mount`].
pub fn empty_body() -> Body {
    body::empty()
}

/// A response body holding `bytes`, for fallback handlers of a [`Mount`].
pub fn full_body(bytes: impl Into<bytes::Bytes>) -> Body {
    body::full(bytes)
}
