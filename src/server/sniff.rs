//! Which HTTP a connection speaks: from ALPN over TLS, else from the first
//! bytes the client sent (peeked, so the HTTP server still reads them all
//! at once into its own buffer).

/// What every HTTP/2 connection with prior knowledge (h2c) opens with.
pub(super) const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The protocol of a connection, as far as its start tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sniffed {
    /// HTTP/1.x.
    Http1,
    /// HTTP/2.
    Http2,
    /// Not known yet (only part of the HTTP/2 preface has arrived, or TLS
    /// without ALPN): the server reads on and decides itself.
    Unsure,
}

/// The protocol from the first bytes of a plain connection: HTTP/1 as soon
/// as they differ from the HTTP/2 preface, HTTP/2 once all of it is there.
pub(super) fn by_first_bytes(first: &[u8]) -> Sniffed {
    let n = first.len().min(H2_PREFACE.len());
    if first[..n] != H2_PREFACE[..n] {
        Sniffed::Http1
    } else if n == H2_PREFACE.len() {
        Sniffed::Http2
    } else {
        Sniffed::Unsure
    }
}

/// The protocol the TLS handshake agreed on.
pub(super) fn by_alpn(protocol: Option<&[u8]>) -> Sniffed {
    match protocol {
        Some(b"h2") => Sniffed::Http2,
        Some(b"http/1.1") | Some(b"http/1.0") => Sniffed::Http1,
        _ => Sniffed::Unsure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_line_is_http1_from_its_first_differing_byte() {
        assert_eq!(by_first_bytes(b"G"), Sniffed::Http1);
        assert_eq!(by_first_bytes(b"GET / HTTP/1.1\r\n"), Sniffed::Http1);
        // POST and PUT share the preface's first letter only.
        assert_eq!(by_first_bytes(b"PO"), Sniffed::Http1);
        assert_eq!(by_first_bytes(b"PUT /x HTTP/1.1\r\n"), Sniffed::Http1);
    }

    #[test]
    fn the_whole_preface_is_http2() {
        assert_eq!(by_first_bytes(H2_PREFACE), Sniffed::Http2);
        let mut more = H2_PREFACE.to_vec();
        more.extend_from_slice(&[0, 0, 0, 4]);
        assert_eq!(by_first_bytes(&more), Sniffed::Http2);
    }

    #[test]
    fn part_of_the_preface_is_not_decided() {
        assert_eq!(by_first_bytes(b""), Sniffed::Unsure);
        assert_eq!(by_first_bytes(b"P"), Sniffed::Unsure);
        assert_eq!(by_first_bytes(&H2_PREFACE[..23]), Sniffed::Unsure);
        assert_eq!(by_first_bytes(b"PRI * HTTP/2.0\r\n\r\nSX"), Sniffed::Http1);
    }

    #[test]
    fn alpn_decides_over_tls() {
        assert_eq!(by_alpn(Some(b"h2")), Sniffed::Http2);
        assert_eq!(by_alpn(Some(b"http/1.1")), Sniffed::Http1);
        assert_eq!(by_alpn(None), Sniffed::Unsure);
        assert_eq!(by_alpn(Some(b"spdy/3")), Sniffed::Unsure);
    }
}
