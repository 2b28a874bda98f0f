//! One integration harness: every suite is a module here, so the tests link once.

mod browser_client;
mod cli;
mod common;
mod sockjs;

mod compression;
mod dev_server;
mod embedding;
mod faults;
mod hmr;
mod https;
mod page;
mod proxy;
mod routing;
#[allow(dead_code, unreachable_pub)]
#[path = "../examples/sockjs_test_server.rs"]
mod sockjs_test_server;
mod terminal;
mod wds5;
