//! devserve: a development web server — static files, live reload over
//! SockJS, an error overlay, and an API for build tools.
#![deny(missing_docs, unsafe_code)]
#![warn(unreachable_pub)]

pub mod sockjs;
