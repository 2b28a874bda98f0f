//! Host, Origin and Sec-Fetch gates: the first things every request meets
//! (README, "Safe by default").
//!
//! Pure functions over [`http::request::Parts`]; the router turns a
//! [`Rejection`] into a response with [`Rejection::status`] and
//! [`Rejection::message`]. hyper does not validate the request target or the
//! `Host` header, so everything is parsed here, strictly, from
//! raw header bytes, and nothing panics on any input.
//!
//! - [`host_gate`]: every request, WebSocket upgrades included. 400 for a
//!   missing, empty, duplicated or unparsable authority; 403 for a name that is
//!   not allowed (DNS rebinding).
//! - [`check_origin`]: the live-reload endpoint and every WebSocket upgrade,
//!   before the 101 (cross-site WebSocket hijacking).
//! - [`check_sec_fetch`]: every request; refuses `<script>`/`<img>` inclusion
//!   from another site (source theft).

mod authority;

use std::fmt;

pub(crate) use authority::{Authority, AuthorityRef, Host};

use http::header::{HeaderName, HOST, ORIGIN};
use http::request::Parts;
use http::StatusCode;

const INVALID_HOST: &str = "Invalid Host header";
const INVALID_ORIGIN: &str = "Invalid Origin header";
const CROSS_ORIGIN: &str = "Cross-origin request blocked";

const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");
const SEC_FETCH_MODE: HeaderName = HeaderName::from_static("sec-fetch-mode");

/// Which hosts and origins are let through besides the built-in ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct GuardPolicy {
    /// Extra allowed host names: `dev.example.com` (exactly that name) or
    /// `.example.com` (the domain and all its subdomains; `*.example.com` is
    /// read the same way). Case-insensitive, a trailing dot is tolerated.
    /// The single entry `all` disables the host gate (syntax is still checked).
    pub(crate) allowed_hosts: Vec<String>,
    /// The `--host` value when it is a name rather than an IP address.
    pub(crate) bound_host: Option<String>,
    /// Extra allowed origins, as full origins: `https://app.example.com`.
    pub(crate) allowed_origins: Vec<String>,
}

impl GuardPolicy {
    /// Whether `allowed_hosts` contains `all`.
    pub(crate) fn allows_all_hosts(&self) -> bool {
        self.allowed_hosts
            .iter()
            .any(|h| h.trim().eq_ignore_ascii_case("all"))
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejection {
    /// 400: the request is malformed (e.g. no usable Host).
    BadRequest(&'static str),
    /// 403: the request is well-formed but not allowed.
    Forbidden(&'static str),
}

impl Rejection {
    /// The HTTP status to answer with.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Rejection::BadRequest(_) => StatusCode::BAD_REQUEST,
            Rejection::Forbidden(_) => StatusCode::FORBIDDEN,
        }
    }

    /// The plain-text body to answer with. A constant: request bytes are never echoed.
    pub(crate) fn message(&self) -> &'static str {
        match self {
            Rejection::BadRequest(m) | Rejection::Forbidden(m) => m,
        }
    }
}

impl Rejection {
    /// Whether this refuses a well-formed Host whose name is not allowed
    /// (the case `--allowed-host` fixes).
    pub(crate) fn is_unknown_host(&self) -> bool {
        *self == Rejection::Forbidden(INVALID_HOST)
    }
}

/// The host name a request asks for (lowercase, no port), when its
/// authority parses: what to name when telling the user which host was refused.
pub(crate) fn requested_host(parts: &Parts) -> Option<String> {
    let bytes = match parts.uri.authority() {
        Some(target) => target.as_str().as_bytes().to_vec(),
        None => parts.headers.get(HOST)?.as_bytes().to_vec(),
    };
    parse_authority(&bytes).map(|a| a.host)
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status().as_u16(), self.message())
    }
}

impl std::error::Error for Rejection {}

/// [`host_gate`] with the authority in its owned form.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn check_host(parts: &Parts, policy: &GuardPolicy) -> Result<Authority, Rejection> {
    host_gate(parts, policy).map(AuthorityRef::to_authority)
}

/// Host gate (rule 2). Returns the request's validated authority, borrowed
/// from the request: the gate allocates nothing for an allowed host.
///
/// The authority comes from an absolute-form request target if there is one
/// (RFC 9112 §3.2.2), else from the single `Host` header. A `Host` header
/// that is duplicated or unparsable is refused even then (RFC 9112 §3.2).
///
/// Allowed: `localhost`, `*.localhost`, IP literals, [`GuardPolicy::bound_host`]
/// and [`GuardPolicy::allowed_hosts`].
pub(crate) fn host_gate<'a>(
    parts: &'a Parts,
    policy: &GuardPolicy,
) -> Result<AuthorityRef<'a>, Rejection> {
    let bad = Rejection::BadRequest(INVALID_HOST);
    let mut values = parts.headers.get_all(HOST).iter();
    let header = values.next();
    if values.next().is_some() {
        return Err(bad);
    }
    let from_header = match header {
        Some(value) => Some(authority::parse(value.as_bytes()).ok_or(bad)?),
        None => None,
    };
    let authority = match parts.uri.authority() {
        Some(target) => authority::parse(target.as_str().as_bytes()).ok_or(bad)?,
        None => from_header.ok_or(bad)?,
    };
    let allowed = match authority.host {
        Host::Ipv4(_) | Host::Ipv6(_) => true,
        Host::Name(name) => policy.allows_all_hosts() || name_allowed(name, policy),
    };
    if allowed {
        Ok(authority)
    } else {
        Err(Rejection::Forbidden(INVALID_HOST))
    }
}

/// Origin gate (rule 3), for the live-reload endpoint and WebSocket upgrades.
/// `host` is what [`host_gate`] returned, owned.
///
/// No `Origin` header passes (a non-browser client). `Origin: null`, a
/// malformed or duplicated header, and any other site are refused. Allowed:
/// the same host and effective port as the request (`localhost`, `127.0.0.1`
/// and `[::1]` count as one host), the bound host on the same port, an entry
/// of [`GuardPolicy::allowed_origins`], or a host name that
/// [`GuardPolicy::allowed_hosts`] names (`all` does not count here). IP-literal
/// origins get no special treatment.
pub(crate) fn check_origin(
    parts: &Parts,
    host: &Authority,
    policy: &GuardPolicy,
) -> Result<(), Rejection> {
    let refuse = Rejection::Forbidden(INVALID_ORIGIN);
    let mut values = parts.headers.get_all(ORIGIN).iter();
    let Some(value) = values.next() else {
        return Ok(());
    };
    if values.next().is_some() {
        return Err(refuse);
    }
    let origin = parse_origin(value.as_bytes()).ok_or(refuse)?;
    let origin_port = origin.effective_port();
    let request_port = host
        .port
        .or_else(|| parts.uri.scheme_str().and_then(default_port))
        .or_else(|| default_port(&origin.scheme));
    let same_port = origin_port.is_some() && origin_port == request_port;

    if same_port && same_host(&origin.host, &host.host) {
        return Ok(());
    }
    if same_port
        && policy
            .bound_host
            .as_deref()
            .and_then(normalize_name)
            .is_some_and(|bound| bound == origin.host)
    {
        return Ok(());
    }
    if policy
        .allowed_origins
        .iter()
        .filter_map(|entry| parse_origin(entry.trim().trim_end_matches('/').as_bytes()))
        .any(|allowed| allowed.same_origin(&origin))
    {
        return Ok(());
    }
    if matches_allowed_hosts(&origin.host, &policy.allowed_hosts) {
        return Ok(());
    }
    Err(refuse)
}

/// Sec-Fetch gate (rule 4): `Sec-Fetch-Site: cross-site` together with
/// `Sec-Fetch-Mode: no-cors` (a `<script>` or `<img>` on another site) is
/// refused. Everything else passes, including requests without the headers.
pub(crate) fn check_sec_fetch(parts: &Parts) -> Result<(), Rejection> {
    let has = |name: &HeaderName, want: &[u8]| {
        parts
            .headers
            .get_all(name)
            .iter()
            .any(|v| v.as_bytes().trim_ascii().eq_ignore_ascii_case(want))
    };
    if has(&SEC_FETCH_SITE, b"cross-site") && has(&SEC_FETCH_MODE, b"no-cors") {
        Err(Rejection::Forbidden(CROSS_ORIGIN))
    } else {
        Ok(())
    }
}

/// Whether a validated host name as written (any case) is allowed by the
/// host gate; `localhost` and its subdomains without allocating.
fn name_allowed(name: &str, policy: &GuardPolicy) -> bool {
    if is_localhost(name) {
        return true;
    }
    let host = name.to_ascii_lowercase();
    policy
        .bound_host
        .as_deref()
        .and_then(normalize_name)
        .is_some_and(|bound| bound == host)
        || matches_allowed_hosts(&host, &policy.allowed_hosts)
}

/// `localhost` or a name under it, in any case.
fn is_localhost(host: &str) -> bool {
    let bytes = host.as_bytes();
    let suffix = b".localhost";
    bytes.eq_ignore_ascii_case(b"localhost")
        || (bytes.len() > suffix.len()
            && bytes[bytes.len() - suffix.len()..].eq_ignore_ascii_case(suffix))
}

/// `localhost`, `127.0.0.1` and `::1` name the same (loopback) host.
fn same_host(a: &str, b: &str) -> bool {
    let loopback = |h: &str| matches!(h, "localhost" | "127.0.0.1" | "::1");
    a == b || (loopback(a) && loopback(b))
}

/// Whether `host` matches an `allowed_hosts` entry (`all` excluded).
fn matches_allowed_hosts(host: &str, entries: &[String]) -> bool {
    entries.iter().any(|entry| {
        let entry = entry.trim();
        let domain = entry.strip_prefix("*.").or_else(|| entry.strip_prefix('.'));
        match domain {
            Some(domain) => normalize_name(domain).is_some_and(|d| {
                host == d
                    || (host.len() > d.len()
                        && host.ends_with(d.as_str())
                        && host.as_bytes()[host.len() - d.len() - 1] == b'.')
            }),
            None => normalize_name(entry).is_some_and(|e| e == host),
        }
    })
}

/// Normalise a configured host name (or IP) the way request hosts are.
fn normalize_name(name: &str) -> Option<String> {
    parse_authority(name.trim().as_bytes()).map(|a| a.host)
}

/// Parse `host[:port]` strictly into its owned, normalised form.
fn parse_authority(bytes: &[u8]) -> Option<Authority> {
    authority::parse(bytes).map(AuthorityRef::to_authority)
}

/// A parsed `Origin` (or `allowed_origins` entry): `scheme://host[:port]`.
#[derive(Debug, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl Origin {
    fn effective_port(&self) -> Option<u16> {
        self.port.or_else(|| default_port(&self.scheme))
    }

    fn same_origin(&self, other: &Origin) -> bool {
        self.scheme == other.scheme
            && self.host == other.host
            && self.effective_port() == other.effective_port()
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

/// Parse a serialised origin. `null`, paths, user info, queries and fragments
/// are refused.
fn parse_origin(bytes: &[u8]) -> Option<Origin> {
    if bytes.eq_ignore_ascii_case(b"null") {
        return None;
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let (scheme, rest) = text.split_once("://")?;
    let mut chars = scheme.bytes();
    let first_ok = chars.next().is_some_and(|b| b.is_ascii_alphabetic());
    if !first_ok || !chars.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')) {
        return None;
    }
    let authority = parse_authority(rest.as_bytes())?;
    Some(Origin {
        scheme: scheme.to_ascii_lowercase(),
        host: authority.host,
        port: authority.port,
    })
}

#[cfg(test)]
mod tests;
