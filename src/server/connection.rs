//! One connection: TLS first when the server speaks HTTPS (a plain-HTTP
//! request there gets a 400 that says so, never a hang), then HTTP/1.1 or
//! HTTP/2 (by ALPN, or h2c with prior knowledge), with upgrades, until the
//! connection ends or the server stops.

use crate::router::{Answer, Router};
use crate::tls::Tls;
use futures_util::future::{Either, FutureExt as _};
use http::Request;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

/// Time a client gets to finish the TLS handshake and to send its request headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long open connections get to finish when the server stops.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);
/// The first byte of every TLS handshake (a handshake record).
const TLS_HANDSHAKE: u8 = 0x16;
/// What a plain-HTTP request to the HTTPS port is told.
const PLAIN_HTTP_ON_TLS: &[u8] = b"HTTP/1.1 400 Bad Request\r\n\
Content-Type: text/plain; charset=utf-8\r\nContent-Length: 62\r\nConnection: close\r\n\r\n\
This port speaks HTTPS: open it with https:// instead of http://\n";

/// What every connection needs.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) router: Arc<Router>,
    pub(crate) tls: Option<Tls>,
}

/// Serve `tcp` until it ends or the server stops.
pub(super) async fn serve(
    tcp: TcpStream,
    remote: SocketAddr,
    shared: Arc<Shared>,
    stopped: watch::Receiver<bool>,
) {
    match &shared.tls {
        None => serve_http(tcp, remote, shared.router.clone(), stopped).await,
        // Boxed: TLS state is large, and a plain connection's task need
        // not keep room for it.
        Some(tls) => Box::pin(serve_tls(tcp, remote, tls, &shared.router, stopped)).await,
    }
}

/// The TLS handshake, then HTTP over it.
async fn serve_tls(
    tcp: TcpStream,
    remote: SocketAddr,
    tls: &Tls,
    router: &Arc<Router>,
    stopped: watch::Receiver<bool>,
) {
    let handshake = async {
        let mut first = [0u8; 1];
        match tcp.peek(&mut first).await {
            Ok(1) if first[0] == TLS_HANDSHAKE => Some(tls.acceptor.accept(tcp).await),
            Ok(1) => {
                let mut tcp = tcp;
                let _ = tcp.write_all(PLAIN_HTTP_ON_TLS).await;
                let _ = tcp.shutdown().await;
                None
            }
            _ => None,
        }
    };
    match tokio::time::timeout(HEADER_READ_TIMEOUT, handshake).await {
        Ok(Some(Ok(stream))) => serve_http(stream, remote, router.clone(), stopped).await,
        Ok(Some(Err(error))) => tracing::debug!("TLS handshake from {remote} failed: {error}"),
        Ok(None) => {}
        Err(_) => tracing::debug!("TLS handshake from {remote} timed out"),
    }
}

/// Serve HTTP/1.1 or HTTP/2 on `io`; on stop, in-flight responses get a
/// moment to finish, then the connection closes.
async fn serve_http<I>(
    io: I,
    remote: SocketAddr,
    router: Arc<Router>,
    mut stopped: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(
        move |req: Request<Incoming>| match router.dispatch(req, remote) {
            Answer::Now(response) => {
                Either::Left(std::future::ready(Ok::<_, Infallible>(response)))
            }
            Answer::Later(future) => Either::Right(future.map(Ok::<_, Infallible>)),
        },
    );
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    builder.http2().timer(TokioTimer::new());
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
    tokio::pin!(connection);
    let stopping = async {
        if !*stopped.borrow_and_update() {
            let _ = stopped.changed().await;
        }
    };
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(error) = result {
                tracing::debug!("connection from {remote} ended: {error}");
            }
        }
        _ = stopping => {
            connection.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, connection).await;
        }
    }
}
