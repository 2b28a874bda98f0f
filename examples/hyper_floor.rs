//! The floor of devserve's HTTP stack, for `bench_static`: hyper 1 (through
//! hyper-util's HTTP/1 + HTTP/2 auto builder, as devserve serves) on tokio,
//! answering every request with one file held in memory and the same
//! header set devserve sends for it — no routing, no gates, no cache lookup,
//! no file checks. What this reaches is the most devserve could reach on
//! the same stack; the gap between the two is devserve's own work.
//!
//! ```text
//! hyper_floor PORT FILE
//! ```
//! Listens on 127.0.0.1:PORT until killed.

use bytes::Bytes;
use http::{header, HeaderValue, Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::time::Duration;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(port), Some(file)) = (args.next(), args.next()) else {
        eprintln!("usage: hyper_floor PORT FILE");
        std::process::exit(2);
    };
    let port: u16 = port.parse().map_err(std::io::Error::other)?;
    let body = Bytes::from(std::fs::read(file)?);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve(port, body))
}

async fn serve(port: u16, body: Bytes) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    loop {
        let (tcp, _) = listener.accept().await?;
        let _ = tcp.set_nodelay(true);
        let body = body.clone();
        tokio::spawn(async move {
            let service = service_fn(move |_req: Request<Incoming>| {
                let body = body.clone();
                async move { Ok::<_, Infallible>(respond(body)) }
            });
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10));
            let _ = builder
                .serve_connection_with_upgrades(TokioIo::new(tcp), service)
                .await;
        });
    }
}

/// The file with the headers devserve sends for a static text file.
fn respond(body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    let headers = response.headers_mut();
    let fixed = [
        (header::ETAG, "\"1000-6b0f65a832672db9\""),
        (header::LAST_MODIFIED, "Wed, 02 Dec 2026 00:26:16 GMT"),
        (header::CACHE_CONTROL, "no-cache"),
        (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
        (header::ACCEPT_RANGES, "bytes"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::VARY, "accept-encoding"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    response
}
