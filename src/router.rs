//! One typed dispatch for every request: the gates first, then a [`Route`]
//! chosen by a pure function, then the one handler of that route, then the
//! headers every response carries.
//!
//! The order is fixed: Host gate → Sec-Fetch gate → the live-reload
//! endpoints (`/sockjs-node/**`, `/ws`, `/ws/**`, behind the Origin gate) →
//! open-in-editor (its own gates, [`crate::editor`]) → the embedded client
//! assets (all of `/__devserve/`) → the proxy rules (upgrades behind the
//! Origin gate) → the
//! static files' outcome → the embedder's fallback for what the files do
//! not answer → the default `/favicon.ico`.

use crate::body::ResponseBody;
use crate::client_assets::{self, Asset, ClientScript};
use crate::compress::{self, Compressor, Encoding, Negotiated};
use crate::config::ProxyRule;
use crate::editor::{Editor, OPEN_EDITOR_PATH};
use crate::event::Event;
use crate::guard::{self, Authority, GuardPolicy, Rejection};
use crate::proxy::{self, Forwarded, Proxy};
use crate::response_headers::{self, CommonHeaders};
use crate::sockjs::SockJsServer;
use crate::static_files::{Outcome, StaticFiles};
use crate::wds5_socket::{self, Wds5Route, Wds5Socket};
use http::request::Parts;
use http::{header, HeaderValue, Request, Response};
use hyper::body::Incoming;
use std::collections::HashSet;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// Where the client assets are served.
const ASSET_PREFIX: &str = "/__devserve/";
/// Refused host names told to the embedder at most (a hostile page could
/// send endless names).
const MAX_REFUSED_HOSTS: usize = 64;
/// What the page of a refused host says (never the name itself).
const UNKNOWN_HOST_HINT: &str =
    "devserve answers requests for localhost, *.localhost, IP addresses \
and the names given with --allowed-host. To open it by this name, start devserve with \
--allowed-host NAME (the terminal says which name was refused).";

/// An embedder's handler for requests the static files do not answer.
pub(crate) type Fallback = Arc<
    dyn Fn(Request<Incoming>) -> Pin<Box<dyn Future<Output = Response<ResponseBody>> + Send>>
        + Send
        + Sync,
>;

/// Where a request goes, decided before anything is read or written.
#[derive(Debug)]
enum Route {
    /// A gate refused it.
    Refused(Rejection),
    /// One of the embedded client files.
    ClientAsset(Asset),
    /// A CORS preflight for the files, with `--cors`.
    Preflight,
    /// The served folder, then the fallback.
    Files,
    /// An endpoint that reads the request or waits.
    Endpoint(Endpoint),
}

/// The routes whose answers are awaited.
#[derive(Debug)]
enum Endpoint {
    /// The live-reload endpoint (`/sockjs-node/**`).
    LiveReload,
    /// webpack-dev-server 5's endpoint: `/ws` (plain WebSocket) or `/ws/**` (SockJS).
    Wds5(Wds5Route),
    /// Open in editor, for a request with this (validated) authority.
    OpenEditor(Authority),
    /// A proxy rule's backend.
    Proxy(ProxyRule),
}

/// The answer to a request, as [`Router::dispatch`] gives it.
pub(crate) enum Answer {
    /// Complete: nothing to wait for.
    Now(Response<ResponseBody>),
    /// After an await, boxed: what hyper keeps per connection stays small.
    Later(Pin<Box<dyn Future<Output = Response<ResponseBody>> + Send>>),
}

/// What a logged request was, for its event.
struct Logged {
    started: std::time::Instant,
    method: String,
    path: String,
}

/// What [`Router::ready_file`] found.
enum Ready {
    /// The complete answer.
    Done(Response<ResponseBody>),
    /// The answer, to be encoded by the compressor.
    Encode(Encoding, Response<ResponseBody>),
    /// Not a ready file: the static files decide.
    No,
}

/// Everything a request needs; shared by every connection.
pub(crate) struct Router {
    pub(crate) static_files: StaticFiles,
    pub(crate) sockjs: SockJsServer,
    pub(crate) wds5: Wds5Socket,
    pub(crate) policy: GuardPolicy,
    /// What every response carries (the static files build it in already).
    pub(crate) common: CommonHeaders,
    pub(crate) cors: bool,
    pub(crate) fallback: Option<Fallback>,
    pub(crate) proxy: Option<Proxy>,
    /// Compresses the files' answers; `None` with compression off.
    pub(crate) compress: Option<Compressor>,
    /// `http` or `https`: how browsers reach this server.
    pub(crate) scheme: &'static str,
    /// Where refused hosts are reported.
    pub(crate) events: broadcast::Sender<Event>,
    /// Hosts already reported.
    pub(crate) refused_hosts: Mutex<HashSet<String>>,
    /// Report every request as an event.
    pub(crate) log_requests: bool,
    /// The open-in-editor endpoint.
    pub(crate) editor: Editor,
    /// The assembled client script of this run.
    pub(crate) client: ClientScript,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("root", &self.static_files.root())
            .field("fallback", &self.fallback.is_some())
            .finish_non_exhaustive()
    }
}

impl Router {
    /// Answer one request from `remote`, and report it when the request
    /// log is on.
    pub(crate) fn dispatch(self: &Arc<Self>, req: Request<Incoming>, remote: SocketAddr) -> Answer {
        if !self.log_requests {
            return self.decide(req, remote);
        }
        let logged = Logged {
            started: std::time::Instant::now(),
            method: req.method().to_string(),
            path: req.uri().path().to_string(),
        };
        match self.decide(req, remote) {
            Answer::Now(response) => {
                self.log(logged, &response);
                Answer::Now(response)
            }
            Answer::Later(future) => {
                let this = Arc::clone(self);
                Answer::Later(Box::pin(async move {
                    let response = future.await;
                    this.log(logged, &response);
                    response
                }))
            }
        }
    }

    /// Report an answered request.
    fn log(&self, logged: Logged, response: &Response<ResponseBody>) {
        let bytes = response
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .or_else(|| http_body::Body::size_hint(response.body()).exact());
        let _ = self.events.send(Event::Request {
            method: logged.method,
            path: logged.path,
            status: response.status().as_u16(),
            bytes,
            elapsed: logged.started.elapsed(),
        });
    }

    /// The response to one request: at once when nothing needs waiting for
    /// (a refusal, an embedded asset, a preflight, a cached file's 200),
    /// else a boxed future. Every handler but the static files' finds the
    /// client's address in the request's extensions.
    fn decide(self: &Arc<Self>, req: Request<Incoming>, remote: SocketAddr) -> Answer {
        let (mut parts, body) = req.into_parts();
        let route = self.route(&parts);
        match route {
            Route::Refused(rejection) => {
                Answer::Now(self.finish(self.refusal(rejection, &parts), false))
            }
            Route::ClientAsset(asset) => {
                Answer::Now(self.finish(asset.respond(&parts.headers, &self.client), false))
            }
            Route::Preflight => Answer::Now(self.finish(preflight(&parts), true)),
            Route::Files => {
                let negotiated = self.compress.as_ref().map(|c| c.prepare(&mut parts));
                match self.ready_file(&parts, negotiated) {
                    Ready::Done(response) => Answer::Now(response),
                    Ready::Encode(encoding, response) => {
                        let this = Arc::clone(self);
                        Answer::Later(Box::pin(
                            async move { this.encode(encoding, response).await },
                        ))
                    }
                    Ready::No => {
                        let this = Arc::clone(self);
                        Answer::Later(Box::pin(async move {
                            this.files(parts, body, remote, negotiated).await
                        }))
                    }
                }
            }
            Route::Endpoint(endpoint) => {
                parts.extensions.insert(remote);
                let req = Request::from_parts(parts, body);
                let this = Arc::clone(self);
                Answer::Later(Box::pin(async move { this.endpoint(endpoint, req).await }))
            }
        }
    }

    /// The answer of an endpoint that reads the request or waits.
    async fn endpoint(&self, endpoint: Endpoint, req: Request<Incoming>) -> Response<ResponseBody> {
        let response = match endpoint {
            Endpoint::LiveReload => self.sockjs.handle(req).await,
            Endpoint::Wds5(route) => self.wds5.handle(route, req).await,
            Endpoint::OpenEditor(authority) => {
                let (parts, body) = req.into_parts();
                self.editor
                    .handle(&parts, body, &authority, self.scheme)
                    .await
            }
            Endpoint::Proxy(rule) => self.proxied(&rule, req).await,
        };
        self.finish(response, false)
    }

    /// A file's body encoded by the compressor; when reading it fails, a
    /// 500 with the headers every response carries.
    async fn encode(
        &self,
        encoding: Encoding,
        response: Response<ResponseBody>,
    ) -> Response<ResponseBody> {
        let Some(compressor) = &self.compress else {
            return response;
        };
        match compressor.encode(encoding, response).await {
            Ok(response) => response,
            Err(failed) => self.finish(failed.response(), self.cors),
        }
    }

    /// A cached file's whole 200, when that is the answer: settled at once,
    /// so the common case neither waits nor keeps a large future.
    fn ready_file(&self, parts: &Parts, negotiated: Option<Negotiated>) -> Ready {
        let Some(mut response) = self.static_files.ready(parts) else {
            return Ready::No;
        };
        // `negotiated` is there exactly when compression is on.
        match negotiated.and_then(|n| compress::settle(n, &mut response)) {
            Some(encoding) => Ready::Encode(encoding, response),
            None => Ready::Done(response),
        }
    }

    /// The static files' answer (compressed when worthwhile), or the
    /// fallback's for what they do not serve.
    async fn files(
        &self,
        mut parts: Parts,
        body: Incoming,
        remote: SocketAddr,
        negotiated: Option<Negotiated>,
    ) -> Response<ResponseBody> {
        match self.static_files.lookup(&parts).await {
            // The files' answers carry the common headers already.
            Outcome::Hit(mut response) => {
                match negotiated.and_then(|n| compress::settle(n, &mut response)) {
                    Some(encoding) => self.encode(encoding, response).await,
                    None => response,
                }
            }
            Outcome::Miss(miss) => match &self.fallback {
                Some(fallback) => {
                    parts.extensions.insert(remote);
                    let response = fallback(Request::from_parts(parts, body)).await;
                    self.finish(response, false)
                }
                None if client_assets::is_favicon_request(&parts) => {
                    self.finish(client_assets::favicon(&parts), self.cors)
                }
                None => self.static_files.render_miss(miss, &parts),
            },
        }
    }

    /// The answer to a refused request. An unknown host is also told to the
    /// embedder (once per host), and its page says how to allow it.
    fn refusal(&self, rejection: Rejection, parts: &Parts) -> Response<ResponseBody> {
        if !rejection.is_unknown_host() {
            return crate::util::plain_text(rejection.status(), rejection.message());
        }
        if let Some(host) = guard::requested_host(parts) {
            let mut told = crate::util::lock(&self.refused_hosts);
            if told.len() < MAX_REFUSED_HOSTS && told.insert(host.clone()) {
                let _ = self.events.send(Event::HostRefused { host });
            }
        }
        let hint = format!("{}\n\n{UNKNOWN_HOST_HINT}", rejection.message());
        crate::util::plain_text(rejection.status(), &hint)
    }

    /// Forward to `rule`'s backend, saying who asked.
    async fn proxied(&self, rule: &ProxyRule, req: Request<Incoming>) -> Response<ResponseBody> {
        let who = Forwarded {
            client_ip: req.extensions().get::<SocketAddr>().map(|a| a.ip()),
            host: req.headers().get(header::HOST).cloned(),
            proto: self.scheme,
        };
        match &self.proxy {
            Some(proxy) => proxy.forward(rule, req, &who).await,
            None => crate::util::plain_text(http::StatusCode::NOT_FOUND, "Not Found"),
        }
    }

    /// Decide where `parts` goes: the gates, then the path.
    fn route(&self, parts: &Parts) -> Route {
        let gated = match guard::host_gate(parts, &self.policy) {
            Ok(gated) => gated,
            Err(rejection) => return Route::Refused(rejection),
        };
        if let Err(rejection) = guard::check_sec_fetch(parts) {
            return Route::Refused(rejection);
        }
        let origin_gate = |endpoint: Endpoint| match guard::check_origin(
            parts,
            &gated.to_authority(),
            &self.policy,
        ) {
            Ok(()) => Route::Endpoint(endpoint),
            Err(rejection) => Route::Refused(rejection),
        };
        let path = parts.uri.path();
        if self.sockjs.matches(path) {
            return origin_gate(Endpoint::LiveReload);
        }
        if let Some(route) = wds5_socket::route(path) {
            return origin_gate(Endpoint::Wds5(route));
        }
        if path == OPEN_EDITOR_PATH {
            return Route::Endpoint(Endpoint::OpenEditor(gated.to_authority()));
        }
        if let Some(name) = path.strip_prefix(ASSET_PREFIX) {
            return client_assets::lookup(name).map_or(Route::Files, Route::ClientAsset);
        }
        match self.proxy.as_ref().and_then(|p| p.rule_for(path)) {
            Some(rule) if proxy::is_upgrade(parts) => origin_gate(Endpoint::Proxy(rule.clone())),
            Some(rule) => Route::Endpoint(Endpoint::Proxy(rule.clone())),
            None if self.cors && is_preflight(parts) => Route::Preflight,
            None => Route::Files,
        }
    }

    /// Headers every response carries.
    fn finish(&self, mut response: Response<ResponseBody>, cors: bool) -> Response<ResponseBody> {
        response_headers::apply(response.headers_mut(), self.common.get(cors));
        response
    }
}

/// `OPTIONS` with `Access-Control-Request-Method`: a browser asking before a
/// cross-origin request.
fn is_preflight(parts: &Parts) -> bool {
    parts.method == http::Method::OPTIONS
        && parts
            .headers
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// The answer to a preflight: the methods the files serve, and the request
/// headers asked for (validated by hyper as header values already).
fn preflight(parts: &Parts) -> Response<ResponseBody> {
    let mut response = Response::new(crate::body::empty());
    *response.status_mut() = http::StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, HEAD, OPTIONS"),
    );
    if let Some(asked) = parts.headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
    }
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    headers.insert(
        header::VARY,
        HeaderValue::from_static("Origin, Access-Control-Request-Headers"),
    );
    response
}
