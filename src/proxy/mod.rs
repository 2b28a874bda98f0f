//! The proxy: requests under a configured prefix go to that rule's
//! backend, bodies streamed both ways, WebSocket upgrades tunnelled.
//!
//! Only configured prefixes are forwarded, always to the rule's backend: the
//! request's own authority (an absolute-form target such as
//! `GET http://other/ HTTP/1.1`) is never used. The router has run the Host,
//! Sec-Fetch and (for upgrades) Origin gates before a request gets here.
//! A backend that is down answers 502, one that is too slow 504, each with a
//! short page naming the backend and the error, and an [`Event::ProxyFailed`].

mod headers;
mod tunnel;

pub(crate) use headers::Forwarded;
pub(crate) use tunnel::is_upgrade;

use crate::body::ResponseBody;
use crate::config::{ProxyConfig, ProxyRule};
use crate::event::Event;
use crate::util::escape_html;
use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode, Uri};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::fmt;
use tokio::sync::broadcast;

/// Why a request could not be forwarded.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The backend could not be reached, or broke the exchange (502).
    Unreachable(String),
    /// The backend took longer than the timeout for its response head (504).
    TimedOut,
}

impl Failure {
    fn status(&self) -> StatusCode {
        match self {
            Failure::Unreachable(_) => StatusCode::BAD_GATEWAY,
            Failure::TimedOut => StatusCode::GATEWAY_TIMEOUT,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Unreachable(error) => f.write_str(error),
            Failure::TimedOut => f.write_str("no response in time"),
        }
    }
}

/// The configured rules and one pooled HTTP/1.1 client for all backends.
pub(crate) struct Proxy {
    config: ProxyConfig,
    client: Client<HttpConnector, Incoming>,
    events: broadcast::Sender<Event>,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("rules", &self.config.rules)
            .finish_non_exhaustive()
    }
}

impl Proxy {
    /// A proxy for `config`'s rules; `None` when there are none.
    pub(crate) fn new(config: &ProxyConfig, events: broadcast::Sender<Event>) -> Option<Proxy> {
        if config.rules.is_empty() {
            return None;
        }
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(config.timeout));
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .build(connector);
        Some(Proxy {
            config: config.clone(),
            client,
            events,
        })
    }

    /// The rule that covers `path`, if any.
    pub(crate) fn rule_for(&self, path: &str) -> Option<&ProxyRule> {
        self.config.rule_for(path)
    }

    /// Forward `req` to `rule`'s backend and relay its answer.
    pub(crate) async fn forward(
        &self,
        rule: &ProxyRule,
        req: Request<Incoming>,
        who: &Forwarded,
    ) -> Response<ResponseBody> {
        let path = req.uri().path().to_string();
        let result = self.exchange(rule, req, who).await;
        match result {
            Ok(response) => response,
            Err(failure) => {
                let _ = self.events.send(Event::ProxyFailed {
                    path,
                    backend: rule.target().to_string(),
                    error: failure.to_string(),
                });
                failure_page(rule, &failure)
            }
        }
    }

    async fn exchange(
        &self,
        rule: &ProxyRule,
        req: Request<Incoming>,
        who: &Forwarded,
    ) -> Result<Response<ResponseBody>, Failure> {
        let uri = backend_uri(rule.target(), req.uri())?;
        let (mut parts, body) = req.into_parts();
        let upgrade = tunnel::is_upgrade(&parts);
        parts.uri = uri;
        headers::to_backend(
            &mut parts.headers,
            rule.target(),
            rule.change_origin,
            who,
            upgrade,
        );
        if upgrade {
            return tunnel::open(parts, body, rule.target(), who, self.config.timeout).await;
        }
        let request = Request::from_parts(parts, body);
        let response = tokio::time::timeout(self.config.timeout, self.client.request(request))
            .await
            .map_err(|_| Failure::TimedOut)?
            .map_err(|error| Failure::Unreachable(describe(&error)))?;
        let (mut parts, body) = response.into_parts();
        headers::to_browser(&mut parts.headers, rule.target(), who, false);
        Ok(Response::from_parts(
            parts,
            body.map_err(std::io::Error::other).boxed(),
        ))
    }
}

/// The backend URL for a request: the target's scheme and authority, its
/// path (as a base) and the request's path and query.
fn backend_uri(target: &Uri, request: &Uri) -> Result<Uri, Failure> {
    let base = target.path().trim_end_matches('/');
    let path_and_query = request.path_and_query().map_or("/", |pq| pq.as_str());
    let authority = target.authority().map_or("", |a| a.as_str());
    format!("http://{authority}{base}{path_and_query}")
        .parse()
        .map_err(|_| Failure::Unreachable("the forwarded URL is not valid".to_string()))
}

/// The error and its causes, as one line: hyper's outer errors say little.
fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The short page a browser gets when the backend failed.
fn failure_page(rule: &ProxyRule, failure: &Failure) -> Response<ResponseBody> {
    let status = failure.status();
    let html = format!(
        "<!doctype html><meta charset=utf-8><title>{code} {reason}</title>\
         <h1>{code} {reason}</h1><p>devserve could not get an answer from the backend \
         <code>{backend}</code> (proxy rule <code>{prefix}</code>): {error}.</p>\n",
        code = status.as_u16(),
        reason = status.canonical_reason().unwrap_or(""),
        backend = escape_html(&rule.target().to_string()),
        prefix = escape_html(rule.prefix()),
        error = escape_html(&failure.to_string()),
    );
    let mut response = Response::new(crate::body::full(html));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_urls_keep_path_and_query_under_the_target_base() {
        let cases = [
            (
                "http://127.0.0.1:3000",
                "/api/items?page=2",
                "http://127.0.0.1:3000/api/items?page=2",
            ),
            (
                "http://127.0.0.1:3000/v1/",
                "/api/x",
                "http://127.0.0.1:3000/v1/api/x",
            ),
            // An absolute-form target's authority is never used.
            (
                "http://127.0.0.1:3000",
                "http://other.test/api",
                "http://127.0.0.1:3000/api",
            ),
        ];
        for (target, request, expected) in cases {
            let target: Uri = target.parse().expect("target");
            let request: Uri = request.parse().expect("request");
            let uri = backend_uri(&target, &request).expect("valid");
            assert_eq!(uri.to_string(), expected);
        }
    }

    #[test]
    fn failure_pages_name_the_backend_and_escape_the_error() {
        let rule: ProxyRule = "/api=http://127.0.0.1:9".parse().expect("rule");
        let page = failure_page(&rule, &Failure::Unreachable("<refused>".into()));
        assert_eq!(page.status(), 502);
        assert_eq!(failure_page(&rule, &Failure::TimedOut).status(), 504);
    }
}
