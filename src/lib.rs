//! devserve: a development web server — static files, live reload over
//! SockJS, an error overlay, and an API for build tools.
//!
//! ```no_run
//! # async fn run() -> Result<(), devserve::Error> {
//! let config = devserve::Config { root: "dist".into(), ..Default::default() };
//! let server = devserve::Server::start(config).await?;
//! println!("listening on http://{}", server.local_addr());
//! server.handle().ok("");
//! server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # How it is built
//!
//! A request: `server` (bind, accept; TLS, HTTP/1.1 or HTTP/2) → `router`
//! (the Host, Sec-Fetch and Origin gates, then one typed route) → the
//! live-reload endpoints ([`sockjs`] at `/sockjs-node`, webpack-dev-server 5's
//! `/ws`), open-in-editor, the embedded [`client_assets`], the proxy rules,
//! the [`static_files`] (compressed when worthwhile), or the embedder's
//! fallback.
//!
//! A file change: [`watch`] (native events or polling, coalesced into one
//! change set per save or build) → `reload` (build output held until it is
//! complete) → [`hub`] (every client and the latest build state, rendered per
//! endpoint by [`protocol`]) → every session. Build tools push into the hub
//! through a [`Handle`] instead.
//!
//! [`Config`] holds every setting with its default and is validated by
//! [`Config::validate`] before anything starts.
#![deny(missing_docs, unsafe_code)]
#![deny(unreachable_pub, missing_debug_implementations)]

pub mod body;
mod builder;
pub mod client_assets;
mod compress;
pub mod config;
mod editor;
mod error;
pub mod event;
mod guard;
mod handle;
pub mod hub;
pub mod inject;
pub mod protocol;
mod proxy;
mod reload;
mod response_headers;
mod router;
mod server;
pub mod sockjs;
pub mod static_files;
pub mod tls;
mod util;
pub mod watch;
mod wds5_socket;
mod webpack;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use builder::ServerBuilder;
pub use config::{Config, WatchConfig};
pub use error::Error;
pub use event::Event;
pub use handle::Handle;
pub use protocol::{Message, Overlay};
pub use server::Server;
