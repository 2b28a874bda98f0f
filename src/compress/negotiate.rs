//! The pure decisions of compression: which encoding a request accepts
//! best, which responses are worth compressing, and how entity tags name
//! the encoded variants.

use http::header::{self, HeaderMap};
use http::StatusCode;

/// Bodies smaller than this are sent as they are: the headers would eat the gain.
pub(crate) const MIN_SIZE: u64 = 1024;

/// A content coding devserve produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Encoding {
    /// Brotli (`br`).
    Brotli,
    /// gzip.
    Gzip,
}

impl Encoding {
    /// The `Content-Encoding` token.
    pub(crate) fn token(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Gzip => "gzip",
        }
    }

    /// What the variant's entity tag ends with, inside the quotes.
    fn tag_suffix(self) -> &'static str {
        match self {
            Encoding::Brotli => "-br",
            Encoding::Gzip => "-gz",
        }
    }

    /// Preference at equal q-value: brotli compresses text better.
    fn rank(self) -> u8 {
        match self {
            Encoding::Brotli => 2,
            Encoding::Gzip => 1,
        }
    }
}

/// The encoding `Accept-Encoding` prefers among those devserve has: the
/// highest q-value (`*` stands for any not named), brotli on ties; `None`
/// when none is acceptable or the header is absent.
pub(crate) fn negotiate(headers: &HeaderMap) -> Option<Encoding> {
    let mut named: Vec<(&str, u16)> = Vec::new();
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(text) = value.to_str() else { continue };
        for item in text.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1000), parse_q);
            if let (false, Some(q)) = (coding.is_empty(), q) {
                named.push((coding, q));
            }
        }
    }
    let q_of = |encoding: Encoding| {
        let exact = named
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(encoding.token()))
            .or_else(|| {
                (encoding == Encoding::Gzip)
                    .then(|| named.iter().find(|(c, _)| c.eq_ignore_ascii_case("x-gzip")))
                    .flatten()
            });
        exact
            .or_else(|| named.iter().find(|(c, _)| *c == "*"))
            .map_or(0, |(_, q)| *q)
    };
    [Encoding::Brotli, Encoding::Gzip]
        .into_iter()
        .map(|e| (q_of(e), e.rank(), e))
        .filter(|(q, _, _)| *q > 0)
        .max_by_key(|(q, rank, _)| (*q, *rank))
        .map(|(_, _, e)| e)
}

/// A q-value as thousandths (`0.5` → 500); malformed → `None` (the item is ignored).
fn parse_q(text: &str) -> Option<u16> {
    let value: f32 = text.trim().parse().ok()?;
    (0.0..=1.0)
        .contains(&value)
        .then(|| (value * 1000.0).round() as u16)
}

/// Types whose bytes compress: text, scripts, data, SVG and wasm; never
/// formats that are compressed already (images, fonts, archives, media).
pub(crate) fn compressible(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    let starts = |prefix: &str| {
        essence
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    let ends = |suffix: &str| {
        essence
            .len()
            .checked_sub(suffix.len())
            .and_then(|at| essence.get(at..))
            .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
    };
    const WHOLE: [&str; 7] = [
        "application/javascript",
        "application/json",
        "application/manifest+json",
        "application/xml",
        "application/wasm",
        "image/svg+xml",
        "image/x-icon",
    ];
    starts("text/")
        || WHOLE.iter().any(|t| essence.eq_ignore_ascii_case(t))
        || ends("+json")
        || ends("+xml")
}

/// Whether a response may be compressed: a whole 200 of a compressible type
/// and worthwhile size, not encoded already and not a range.
pub(crate) fn worth_compressing(status: StatusCode, headers: &HeaderMap) -> bool {
    let len = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    status == StatusCode::OK
        && !headers.contains_key(header::CONTENT_ENCODING)
        && !headers.contains_key(header::CONTENT_RANGE)
        && len.is_none_or(|len| len >= MIN_SIZE)
        && headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(compressible)
}

/// The entity tag of the `encoding` variant: `"x"` → `"x-br"`, `W/"x"` → `W/"x-br"`.
pub(crate) fn variant_tag(tag: &str, encoding: Encoding) -> Option<String> {
    let inner = tag.strip_suffix('"')?;
    Some(format!("{inner}{}\"", encoding.tag_suffix()))
}

/// `If-None-Match` with variant tags of `encoding` mapped back to the
/// file's own tags, so the files' preconditions recognise them; `None` when
/// nothing changes.
pub(crate) fn base_tags(if_none_match: &str, encoding: Encoding) -> Option<String> {
    let suffix = format!("{}\"", encoding.tag_suffix());
    if !if_none_match.contains(&suffix) {
        return None;
    }
    Some(if_none_match.replace(&suffix, "\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn accept(value: &str) -> Option<Encoding> {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).expect("value"),
        );
        negotiate(&headers)
    }

    #[test]
    fn q_values_choose_the_encoding() {
        assert_eq!(accept("gzip, deflate, br, zstd"), Some(Encoding::Brotli));
        assert_eq!(accept("gzip"), Some(Encoding::Gzip));
        assert_eq!(accept("x-gzip"), Some(Encoding::Gzip));
        assert_eq!(accept("br;q=0.5, gzip;q=0.8"), Some(Encoding::Gzip));
        assert_eq!(accept("br;q=0, gzip;q=0"), None);
        assert_eq!(accept("identity"), None);
        assert_eq!(accept("*"), Some(Encoding::Brotli));
        assert_eq!(accept("*;q=0.3, br;q=0"), Some(Encoding::Gzip));
        assert_eq!(accept("br;q=bogus, gzip"), Some(Encoding::Gzip));
        assert_eq!(accept("deflate, zstd"), None);
        assert_eq!(negotiate(&HeaderMap::new()), None);
    }

    #[test]
    fn only_compressible_types_of_worthwhile_size_are_compressed() {
        for ct in [
            "text/html; charset=utf-8",
            "text/javascript",
            "application/json",
            "image/svg+xml",
            "application/wasm",
            "application/ld+json",
        ] {
            assert!(compressible(ct), "{ct}");
        }
        for ct in [
            "image/png",
            "font/woff2",
            "application/zip",
            "application/octet-stream",
            "video/mp4",
        ] {
            assert!(!compressible(ct), "{ct}");
        }
        let headers = |pairs: &[(header::HeaderName, &str)]| {
            let mut h = HeaderMap::new();
            for (n, v) in pairs {
                h.insert(n.clone(), HeaderValue::from_str(v).expect("value"));
            }
            h
        };
        let js = [
            (header::CONTENT_TYPE, "text/javascript"),
            (header::CONTENT_LENGTH, "4096"),
        ];
        assert!(worth_compressing(StatusCode::OK, &headers(&js)));
        assert!(!worth_compressing(
            StatusCode::PARTIAL_CONTENT,
            &headers(&js)
        ));
        assert!(!worth_compressing(StatusCode::NOT_MODIFIED, &headers(&js)));
        let small = [
            (header::CONTENT_TYPE, "text/javascript"),
            (header::CONTENT_LENGTH, "1023"),
        ];
        assert!(!worth_compressing(StatusCode::OK, &headers(&small)));
        let encoded = [
            (header::CONTENT_TYPE, "text/javascript"),
            (header::CONTENT_ENCODING, "gzip"),
        ];
        assert!(!worth_compressing(StatusCode::OK, &headers(&encoded)));
        let streamed = [(header::CONTENT_TYPE, "application/json")];
        assert!(worth_compressing(StatusCode::OK, &headers(&streamed)));
    }

    #[test]
    fn variant_tags_round_trip() {
        assert_eq!(
            variant_tag("\"1f-abc\"", Encoding::Brotli).as_deref(),
            Some("\"1f-abc-br\"")
        );
        assert_eq!(
            variant_tag("W/\"x\"", Encoding::Gzip).as_deref(),
            Some("W/\"x-gz\"")
        );
        assert_eq!(
            base_tags("\"1f-abc-br\", \"z\"", Encoding::Brotli).as_deref(),
            Some("\"1f-abc\", \"z\"")
        );
        assert_eq!(base_tags("\"1f-abc-br\"", Encoding::Gzip), None);
        assert_eq!(base_tags("*", Encoding::Brotli), None);
    }
}
