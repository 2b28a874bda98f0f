//! One connection: TLS first when the server speaks HTTPS (a plain-HTTP
//! request there gets a 400 that says so, never a hang), then HTTP/1.1 or
//! HTTP/2 (by ALPN, or h2c with prior knowledge), with upgrades, until the
//! connection ends or the server stops.
//!
//! The protocol is settled before the HTTP server starts (see `sniff`), so
//! an HTTP/1 connection's first read is the whole request head, into one
//! buffer of hyper's initial size: a server that reads a few bytes first to
//! tell the protocols apart makes hyper's buffer grow to twice that, and a
//! streaming response keeps it for as long as it lasts.

use super::sniff::{self, Sniffed};
use crate::router::{Answer, Router};
use crate::tls::Tls;
use futures_util::future::{Either, FutureExt as _};
use http::Request;
use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::fmt::Display;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
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
    let mut stopped = stopped;
    match &shared.tls {
        None => {
            let sniffed = unless_stopped(first_bytes(&tcp, remote), &mut stopped).await;
            if let Some(sniffed) = sniffed.flatten() {
                serve_http(tcp, sniffed, remote, shared.router.clone(), stopped).await;
            }
        }
        // Boxed: TLS state is large, and a plain connection's task need
        // not keep room for it.
        Some(tls) => Box::pin(serve_tls(tcp, remote, tls, &shared.router, stopped)).await,
    }
}

/// What the first bytes of a plain connection say it speaks; `None` when
/// it closes or stays silent before sending any.
async fn first_bytes(tcp: &TcpStream, remote: SocketAddr) -> Option<Sniffed> {
    let mut first = [0u8; sniff::H2_PREFACE.len()];
    match tokio::time::timeout(HEADER_READ_TIMEOUT, tcp.peek(&mut first)).await {
        Ok(Ok(0)) => None,
        Ok(Ok(n)) => Some(sniff::by_first_bytes(&first[..n])),
        Ok(Err(error)) => {
            tracing::debug!("connection from {remote} failed: {error}");
            None
        }
        Err(_) => {
            tracing::debug!("connection from {remote} sent nothing in time");
            None
        }
    }
}

/// The TLS handshake, then HTTP over it.
async fn serve_tls(
    tcp: TcpStream,
    remote: SocketAddr,
    tls: &Tls,
    router: &Arc<Router>,
    mut stopped: watch::Receiver<bool>,
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
    let timed = tokio::time::timeout(HEADER_READ_TIMEOUT, handshake);
    let Some(handshake) = unless_stopped(timed, &mut stopped).await else {
        return;
    };
    match handshake {
        Ok(Some(Ok(stream))) => {
            let sniffed = sniff::by_alpn(stream.get_ref().1.alpn_protocol());
            serve_http(stream, sniffed, remote, router.clone(), stopped).await
        }
        Ok(Some(Err(error))) => tracing::debug!("TLS handshake from {remote} failed: {error}"),
        Ok(None) => {}
        Err(_) => tracing::debug!("TLS handshake from {remote} timed out"),
    }
}

/// Serve HTTP/1.1 or HTTP/2 on `io`, as `sniffed` says.
async fn serve_http<I>(
    io: I,
    sniffed: Sniffed,
    remote: SocketAddr,
    router: Arc<Router>,
    stopped: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // Whether a request came, for a connection whose protocol is not known.
    let asked = (sniffed == Sniffed::Unsure).then(|| Arc::new(AtomicBool::new(false)));
    let seen = asked.clone();
    let service = service_fn(move |req: Request<Incoming>| {
        if let Some(seen) = &seen {
            seen.store(true, Ordering::Relaxed);
        }
        match router.dispatch(req, remote) {
            Answer::Now(response) => {
                Either::Left(std::future::ready(Ok::<_, Infallible>(response)))
            }
            Answer::Later(future) => Either::Right(future.map(Ok::<_, Infallible>)),
        }
    });
    let io = TokioIo::new(io);
    match sniffed {
        Sniffed::Http1 => {
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(io, service)
                .with_upgrades();
            drive(connection, |c| c.graceful_shutdown(), remote, stopped).await;
        }
        // Boxed: the common plain HTTP/1 connection's task need not keep
        // room for these.
        Sniffed::Http2 => {
            let conn = http2::Builder::new(TokioExecutor::new())
                .timer(TokioTimer::new())
                .serve_connection(io, service);
            Box::pin(drive(conn, |c| c.graceful_shutdown(), remote, stopped)).await;
        }
        Sniffed::Unsure => {
            let builder = detecting();
            let conn = builder.serve_connection_with_upgrades(io, service);
            let asked = asked.unwrap_or_default();
            Box::pin(drive_asked(
                conn,
                |c| c.graceful_shutdown(),
                &asked,
                remote,
                stopped,
            ))
            .await;
        }
    }
}

/// A server that reads the start of the connection itself to tell HTTP/1
/// from HTTP/2 (waiting, without a limit of its own, for the rest of a
/// partial preface: [`drive_asked`] gives it one).
fn detecting() -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    builder.http2().timer(TokioTimer::new());
    builder
}

/// Run `connection` until it ends; on stop, in-flight responses get a
/// moment to finish (`shut_down` tells it to stop taking requests), then
/// the connection closes.
async fn drive<C, E>(
    connection: C,
    shut_down: impl FnOnce(Pin<&mut C>),
    remote: SocketAddr,
    mut stopped: watch::Receiver<bool>,
) where
    C: Future<Output = Result<(), E>>,
    E: Display,
{
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(error) = result {
                tracing::debug!("connection from {remote} ended: {error}");
            }
        }
        () = stop_requested(&mut stopped) => {
            shut_down(connection.as_mut());
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, connection).await;
        }
    }
}

/// [`drive`], but the connection is dropped when no request (`asked`) has
/// come within the header-read timeout.
async fn drive_asked<C, E>(
    connection: C,
    shut_down: impl FnOnce(Pin<&mut C>),
    asked: &AtomicBool,
    remote: SocketAddr,
    stopped: watch::Receiver<bool>,
) where
    C: Future<Output = Result<(), E>>,
    E: Display,
{
    let unasked = async {
        tokio::time::sleep(HEADER_READ_TIMEOUT).await;
        if asked.load(Ordering::Relaxed) {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        () = drive(connection, shut_down, remote, stopped) => {}
        () = unasked => tracing::debug!("connection from {remote} sent no request in time"),
    }
}

/// What `work` gives, or `None` when the server stops first.
async fn unless_stopped<T>(
    work: impl Future<Output = T>,
    stopped: &mut watch::Receiver<bool>,
) -> Option<T> {
    tokio::select! {
        done = work => Some(done),
        () = stop_requested(stopped) => None,
    }
}

/// Resolves once the server is stopping (or gone).
async fn stop_requested(stopped: &mut watch::Receiver<bool>) {
    if !*stopped.borrow_and_update() {
        let _ = stopped.changed().await;
    }
}
