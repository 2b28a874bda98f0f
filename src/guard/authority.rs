//! Strict parsing of `host[:port]`, for the Host header, absolute-form
//! request targets, origins and configured names.
//!
//! [`parse`] borrows from the request and allocates nothing, so the host
//! gate costs no allocation per request; [`Authority`] is the owned,
//! normalised form the rarer checks (Origin, open-in-editor) work with.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Longest authority accepted: a 253-byte name plus `:65535`, with room for brackets.
const MAX_AUTHORITY_LEN: usize = 270;
/// Longest host name (RFC 1035), without a trailing dot.
const MAX_NAME_LEN: usize = 253;
/// Longest label of a host name.
const MAX_LABEL_LEN: usize = 63;

/// The validated authority of a request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Authority {
    /// Lowercase host name without a trailing dot, or an IP address in its
    /// canonical text form (IPv6 without brackets, e.g. `::1`).
    pub(crate) host: String,
    /// The explicit port, if any.
    pub(crate) port: Option<u16>,
}

impl fmt::Display for Authority {
    /// `host[:port]`, with brackets around an IPv6 address.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]", self.host)?;
        } else {
            f.write_str(&self.host)?;
        }
        match self.port {
            Some(port) => write!(f, ":{port}"),
            None => Ok(()),
        }
    }
}

/// A validated authority borrowed from the bytes it was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AuthorityRef<'a> {
    /// What the host is.
    pub(crate) host: Host<'a>,
    /// The explicit port, if any.
    pub(crate) port: Option<u16>,
}

/// The host part of an [`AuthorityRef`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Host<'a> {
    /// A host name as written (any case), without its trailing dot.
    Name(&'a str),
    /// A dotted IPv4 address, already in canonical form.
    Ipv4(&'a str),
    /// A bracketed IPv6 address.
    Ipv6(Ipv6Addr),
}

impl AuthorityRef<'_> {
    /// The owned, normalised form: lowercase name, canonical IPv6 text.
    pub(crate) fn to_authority(self) -> Authority {
        let host = match self.host {
            Host::Name(name) => name.to_ascii_lowercase(),
            Host::Ipv4(ip) => ip.to_owned(),
            Host::Ipv6(ip) => ip.to_string(),
        };
        Authority {
            host,
            port: self.port,
        }
    }
}

/// Parse `host[:port]` strictly: a DNS-style name, an IPv4 address or a
/// bracketed IPv6 address (no zone), and an optional port of 1 to 65535.
pub(crate) fn parse(bytes: &[u8]) -> Option<AuthorityRef<'_>> {
    if bytes.is_empty() || bytes.len() > MAX_AUTHORITY_LEN {
        return None;
    }
    // Visible ASCII only: no spaces, controls or non-ASCII bytes.
    if !bytes.iter().all(u8::is_ascii_graphic) {
        return None;
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (inner, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?),
        };
        (Host::Ipv6(inner.parse().ok()?), port)
    } else {
        let (name, port) = match text.bytes().position(|b| b == b':') {
            Some(colon) => (&text[..colon], Some(&text[colon + 1..])),
            None => (text, None),
        };
        (parse_host_name(name)?, port)
    };
    let port = match port {
        None => None,
        Some(p) => Some(parse_port(p)?),
    };
    Some(AuthorityRef { host, port })
}

/// 1 to 5 ASCII digits, 1..=65535.
fn parse_port(p: &str) -> Option<u16> {
    if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    p.parse::<u16>().ok().filter(|&n| n != 0)
}

/// A DNS-style name (letters, digits, `-`, `_`; labels of 1 to 63 bytes; at
/// most 253 bytes; one trailing dot tolerated and removed) or a dotted IPv4
/// address. A name whose last label is numeric must be a valid IPv4 address,
/// so `127.1`, `0x7f.1` or `1.2.3.4.5` are refused rather than treated as names.
fn parse_host_name(name: &str) -> Option<Host<'_>> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return None;
    }
    let last = last_label(name)?;
    let hex = last.len() >= 2
        && last[..2].eq_ignore_ascii_case("0x")
        && last[2..].bytes().all(|b| b.is_ascii_hexdigit());
    if hex || last.bytes().all(|b| b.is_ascii_digit()) {
        // The parser takes only the canonical dotted form (no leading
        // zeros, four parts), so what parses is already canonical.
        name.parse::<Ipv4Addr>().ok()?;
        return Some(Host::Ipv4(name));
    }
    Some(Host::Name(name))
}

/// The last label of `name` when every label is 1 to 63 bytes of letters,
/// digits, `-` and `_`.
fn last_label(name: &str) -> Option<&str> {
    let mut label_start = 0;
    for (i, b) in name.bytes().enumerate() {
        let label_len = i - label_start;
        if b == b'.' {
            if label_len == 0 {
                return None;
            }
            label_start = i + 1;
        } else if !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            || label_len >= MAX_LABEL_LEN
        {
            return None;
        }
    }
    let last = &name[label_start..];
    (!last.is_empty()).then_some(last)
}
