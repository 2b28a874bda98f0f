//! Several SockJS servers in front of an application's own handler.

use super::body::Body;
use super::server::SockJsServer;
use bytes::Bytes;
use http::{Request, Response};
use std::error::Error as StdError;

/// Several SockJS servers (different prefixes) in front of an application's
/// own handler: requests under a prefix go to its server, everything else
/// to `fallback`.
///
/// ```no_run
/// use devserve::sockjs::{Body, Mount, Options, SockJsServer};
/// use http::{Request, Response};
/// # async fn run() {
/// let (echo, _connections) = SockJsServer::new(Options::new("/echo"));
/// let mount = Mount::new(vec![echo], |_req: Request<hyper::body::Incoming>| async {
///     Response::builder().status(404).body(devserve::sockjs::empty_body())
/// });
/// // `mount.serve(req).await` answers each request.
/// # let _ = mount;
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Mount<F> {
    servers: Vec<SockJsServer>,
    fallback: F,
}

impl<F> Mount<F> {
    /// Mount `servers` in front of `fallback`.
    pub fn new(servers: Vec<SockJsServer>, fallback: F) -> Self {
        Mount { servers, fallback }
    }

    /// The mounted servers.
    pub fn servers(&self) -> &[SockJsServer] {
        &self.servers
    }

    /// Answer one request.
    pub async fn serve<B, Fut, E>(&self, req: Request<B>) -> Result<Response<Body>, E>
    where
        F: Fn(Request<B>) -> Fut,
        Fut: std::future::Future<Output = Result<Response<Body>, E>>,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn StdError + Send + Sync>>,
    {
        let path = req.uri().path();
        match self.servers.iter().find(|s| s.matches(path)) {
            Some(server) => Ok(server.handle(req).await),
            None => (self.fallback)(req).await,
        }
    }
}
