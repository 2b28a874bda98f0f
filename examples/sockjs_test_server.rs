//! The SockJS ecosystem's standard test server, built on devserve's SockJS module.
//!
//! Prefixes: `/echo` (echo; response limit 4096), `/disabled_websocket_echo`
//! (echo without WebSocket), `/cookie_needed_echo` (echo with JSESSIONID),
//! `/close` (closes each session at once with `3000 "Go away!"`), `/ticker`
//! (a message every second), `/amplify` (message n → 2^n bytes) and
//! `/broadcast` (each message to every open connection). `GET
//! /sockjs-client.js` serves a local sockjs-client build when one is found, so
//! iframe-based transports work offline. `GET /stats` reports the live
//! session count (for load tools).
//!
//! The accept loop backs off (1 ms doubling to 1 s, logged once per
//! episode) when accepting fails, e.g. out of file descriptors, and a
//! client has 10 s to send its request head.
//!
//! ```text
//! cargo run --example sockjs_test_server -- [--host 127.0.0.1] [--port 8081] [--client-script PATH]
//! ```

use clap::Parser;
use devserve::sockjs::{
    full_body, AcceptBackoff, Body, Connection, Connections, Group, Jsessionid, Mount, Options,
    SockJsServer,
};
use http::{header, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

/// How long a client may take to send its request head (slowloris guard),
/// as the dev server.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Command-line options of the test server.
#[derive(Parser, Debug)]
#[command(about = "SockJS protocol test server")]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on.
    #[arg(long, default_value_t = 8081)]
    pub port: u16,
    /// sockjs-client build served at /sockjs-client.js (default: node_modules/sockjs-client/dist/sockjs.min.js when present).
    #[arg(long)]
    pub client_script: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let listener = TcpListener::bind((args.host.as_str(), args.port)).await?;
    let script = args.client_script.or_else(default_client_script);
    println!("SockJS test server on http://{}", listener.local_addr()?);
    match &script {
        Some(path) => println!("serving {} at /sockjs-client.js", path.display()),
        None => println!("no sockjs-client build found: iframe-based transports will not work"),
    }
    serve(listener, script).await;
    Ok(())
}

/// `node_modules/sockjs-client/dist/sockjs.min.js` beside the crate, when installed.
pub fn default_client_script() -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("node_modules/sockjs-client/dist/sockjs.min.js");
    path.is_file().then_some(path)
}

/// The test server's SockJS servers, with their connection handlers running.
pub fn test_servers() -> Vec<SockJsServer> {
    let base = |prefix: &str| Options::new(prefix).sockjs_url("/sockjs-client.js");
    let mut servers = Vec::new();
    let mut add = |options: Options, handler: fn(Connections)| {
        let (server, connections) = SockJsServer::new(options);
        tokio::spawn(async move { handler(connections) });
        servers.push(server);
    };
    add(base("/echo").response_limit(4096), |c| spawn_each(c, echo));
    add(base("/disabled_websocket_echo").websocket(false), |c| {
        spawn_each(c, echo)
    });
    add(
        base("/cookie_needed_echo").jsessionid(Jsessionid::On),
        |c| spawn_each(c, echo),
    );
    add(base("/close"), |c| {
        spawn_each(c, |conn| async move {
            conn.close(3000, "Go away!");
        })
    });
    add(base("/ticker"), |c| spawn_each(c, ticker));
    add(base("/amplify"), |c| spawn_each(c, amplify));
    add(base("/broadcast"), broadcast);
    servers
}

/// Run `handler` on every accepted connection.
fn spawn_each<F, Fut>(mut connections: Connections, handler: F)
where
    F: Fn(Connection) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        while let Some(conn) = connections.accept().await {
            tokio::spawn(handler(conn));
        }
    });
}

async fn echo(mut conn: Connection) {
    while let Some(message) = conn.recv().await {
        let _ = conn.write(&message);
    }
}

async fn ticker(conn: Connection) {
    let mut interval = tokio::time::interval(Duration::from_secs(1));
    interval.tick().await;
    loop {
        tokio::select! {
            _ = conn.closed() => return,
            _ = interval.tick() => {
                if conn.write("tick").is_err() {
                    return;
                }
            }
        }
    }
}

async fn amplify(mut conn: Connection) {
    while let Some(message) = conn.recv().await {
        let n: u32 = message.trim().parse().unwrap_or(1).clamp(1, 19);
        let _ = conn.write(&"x".repeat(1 << n));
    }
}

/// Every message to every open connection of `/broadcast`, encoded once.
fn broadcast(mut connections: Connections) {
    let everyone = Group::new();
    tokio::spawn(async move {
        while let Some(mut conn) = connections.accept().await {
            everyone.join(&conn);
            let everyone = everyone.clone();
            tokio::spawn(async move {
                while let Some(message) = conn.recv().await {
                    everyone.send_all(&message);
                }
            });
        }
    });
}

/// Serve the test server on `listener` until the process ends.
pub async fn serve(listener: TcpListener, client_script: Option<PathBuf>) {
    serve_from(|| listener.accept(), client_script, HEADER_READ_TIMEOUT).await
}

/// Serve the connections `accept` yields. A failed accept (out of file
/// descriptors, typically) is retried after a growing delay, logged once
/// per episode, instead of spinning.
pub async fn serve_from<A, Fut>(
    mut accept: A,
    client_script: Option<PathBuf>,
    header_read_timeout: Duration,
) where
    A: FnMut() -> Fut,
    Fut: Future<Output = io::Result<(TcpStream, SocketAddr)>>,
{
    let script: Option<Arc<[u8]>> = client_script
        .and_then(|p| std::fs::read(p).ok())
        .map(Into::into);
    let servers = test_servers();
    let counted = servers.clone();
    let mount = Mount::new(servers, move |req: Request<Incoming>| {
        let script = script.clone();
        let live: usize = counted.iter().map(SockJsServer::live_sessions).sum();
        async move { Ok::<_, Infallible>(fallback(&req, script.as_deref(), live)) }
    });
    let mut backoff = AcceptBackoff::new();
    loop {
        let (tcp, addr) = match accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                let step = backoff.failed();
                if step.first {
                    eprintln!("accept failed ({error}); retrying with growing delays");
                }
                tokio::time::sleep(step.delay).await;
                continue;
            }
        };
        if let Some(failures) = backoff.succeeded() {
            eprintln!("accepting connections again after {failures} failed attempts");
        }
        let mount = mount.clone();
        tokio::spawn(async move {
            let service = service_fn(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert::<SocketAddr>(addr);
                let mount = mount.clone();
                async move { mount.serve(req).await }
            });
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout)
                .serve_connection(TokioIo::new(tcp), service)
                .with_upgrades()
                .await;
        });
    }
}

fn fallback(
    req: &Request<Incoming>,
    script: Option<&[u8]>,
    live_sessions: usize,
) -> Response<Body> {
    match (req.uri().path(), script) {
        ("/stats", _) => Response::new(full_body(format!("{{\"live_sessions\":{live_sessions}}}"))),
        ("/sockjs-client.js", Some(script)) => {
            let mut response = Response::new(full_body(script.to_vec()));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("application/javascript; charset=UTF-8"),
            );
            response
        }
        _ => {
            let mut response = Response::new(full_body("Not found.\n"));
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        }
    }
}
