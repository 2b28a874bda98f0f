//! WebSocket (and any other `Upgrade`) through the proxy: the handshake is
//! forwarded on a connection of its own, and once the backend answers 101
//! both upgraded connections are spliced together until either side closes.

use super::{describe, headers, Failure, Forwarded};
use crate::body::{self, ResponseBody};
use http::request::Parts;
use http::{header, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use std::time::Duration;
use tokio::net::TcpStream;

/// Whether the request asks to switch protocols.
pub(crate) fn is_upgrade(parts: &Parts) -> bool {
    parts.headers.contains_key(header::UPGRADE)
        && parts
            .headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|token| token.trim().eq_ignore_ascii_case("upgrade"))
}

/// Forward an upgrade handshake to `backend` and, on 101, splice the two
/// connections. Any other answer is relayed as it is.
pub(super) async fn open(
    parts: Parts,
    body: Incoming,
    backend: &Uri,
    who: &Forwarded,
    timeout: Duration,
) -> Result<Response<ResponseBody>, Failure> {
    let mut browser_side = Request::from_parts(parts, body);
    let browser_upgrade = hyper::upgrade::on(&mut browser_side);
    let (parts, _) = browser_side.into_parts();
    let address = backend.authority().map_or("", |a| a.as_str()).to_string();
    let handshake = async {
        let tcp = TcpStream::connect(&address)
            .await
            .map_err(|e| Failure::Unreachable(format!("cannot connect to {address}: {e}")))?;
        let _ = tcp.set_nodelay(true);
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .map_err(|e| Failure::Unreachable(describe(&e)))?;
        tokio::spawn(connection.with_upgrades());
        let request = Request::from_parts(parts, Empty::<Bytes>::new());
        sender
            .send_request(request)
            .await
            .map_err(|e| Failure::Unreachable(describe(&e)))
    };
    let mut response = tokio::time::timeout(timeout, handshake)
        .await
        .map_err(|_| Failure::TimedOut)??;
    if response.status() != StatusCode::SWITCHING_PROTOCOLS {
        let (mut parts, body) = response.into_parts();
        headers::to_browser(&mut parts.headers, backend, who, false);
        return Ok(Response::from_parts(
            parts,
            body.map_err(std::io::Error::other).boxed(),
        ));
    }
    let backend_upgrade = hyper::upgrade::on(&mut response);
    tokio::spawn(splice(browser_upgrade, backend_upgrade));
    let (mut parts, _) = response.into_parts();
    headers::to_browser(&mut parts.headers, backend, who, true);
    Ok(Response::from_parts(parts, body::empty()))
}

/// Copy bytes both ways between the upgraded connections until one closes.
async fn splice(browser: hyper::upgrade::OnUpgrade, backend: hyper::upgrade::OnUpgrade) {
    let (browser, backend) = match tokio::try_join!(browser, backend) {
        Ok(pair) => pair,
        Err(error) => {
            tracing::debug!("proxied upgrade did not complete: {error}");
            return;
        }
    };
    let mut browser = TokioIo::new(browser);
    let mut backend = TokioIo::new(backend);
    if let Err(error) = tokio::io::copy_bidirectional(&mut browser, &mut backend).await {
        tracing::debug!("proxied upgrade ended: {error}");
    }
}
