//! Validators (ETag, Last-Modified) and conditional requests, in RFC 9110 §13.2.2 order.
//!
//! Pure: everything here works on header values and a metadata snapshot.

use http::{header, HeaderMap, Method};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// An entity tag: `"opaque"` (strong) or `W/"opaque"` (weak).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntityTag {
    /// Marked `W/`.
    pub(crate) weak: bool,
    /// The characters between the quotes.
    pub(crate) opaque: String,
}

impl EntityTag {
    /// The strong file ETag: `"<hex size>-<hex mtime secs><8 hex nanos>"`.
    pub(crate) fn for_file(len: u64, mtime: SystemTime) -> Option<Self> {
        let d = mtime.duration_since(UNIX_EPOCH).ok()?;
        Some(EntityTag {
            weak: false,
            opaque: format!("{len:x}-{:x}{:08x}", d.as_secs(), d.subsec_nanos()),
        })
    }

    /// The weak ETag of an injected response: the file ETag plus a hash of the injection
    /// version and tag, so a new client build (or tag) invalidates cached pages.
    pub(crate) fn injected(&self, version: &str, tag: &str) -> Self {
        let h = crate::util::fnv1a(&[version.as_bytes(), tag.as_bytes()]);
        EntityTag {
            weak: true,
            opaque: format!("{}-i{h:016x}", self.opaque),
        }
    }

    /// The header form.
    pub(crate) fn to_header(&self) -> String {
        if self.weak {
            format!("W/\"{}\"", self.opaque)
        } else {
            format!("\"{}\"", self.opaque)
        }
    }

    /// Strong comparison: both strong and equal.
    pub(crate) fn strong_eq(&self, other: &EntityTag) -> bool {
        !self.weak && !other.weak && self.opaque == other.opaque
    }

    /// Weak comparison: opaque parts equal.
    pub(crate) fn weak_eq(&self, other: &EntityTag) -> bool {
        self.opaque == other.opaque
    }
}

/// A parsed `If-Match` / `If-None-Match` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TagList {
    /// `*`
    Any,
    /// A comma list of entity tags.
    Tags(Vec<EntityTag>),
}

/// Parse one entity tag at the start of `s`; returns it and the rest.
fn parse_one(s: &str) -> Option<(EntityTag, &str)> {
    let (weak, s) = match s.strip_prefix("W/") {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let s = s.strip_prefix('"')?;
    let end = s.find('"')?;
    let opaque = &s[..end];
    // etagc = %x21 / %x23-7E / obs-text (obs-text never survives HeaderValue::to_str)
    if !opaque
        .bytes()
        .all(|b| b == 0x21 || (0x23..=0x7e).contains(&b))
    {
        return None;
    }
    Some((
        EntityTag {
            weak,
            opaque: opaque.to_owned(),
        },
        &s[end + 1..],
    ))
}

/// Parse `*` or `#entity-tag`. Malformed values yield `None` (the header is then ignored).
pub(crate) fn parse_tag_list(value: &str) -> Option<TagList> {
    let v = value.trim();
    if v == "*" {
        return Some(TagList::Any);
    }
    let mut tags = Vec::new();
    let mut rest = v;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            break;
        }
        let (tag, after) = parse_one(rest)?;
        tags.push(tag);
        let after = after.trim_start_matches([' ', '\t']);
        if !(after.is_empty() || after.starts_with(',')) {
            return None;
        }
        rest = after;
    }
    if tags.is_empty() {
        None
    } else {
        Some(TagList::Tags(tags))
    }
}

/// All values of a list header joined (several header lines form one list).
fn joined(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    let mut out: Option<String> = None;
    for v in headers.get_all(name) {
        let s = v.to_str().ok()?;
        match &mut out {
            Some(o) => {
                o.push(',');
                o.push_str(s);
            }
            None => out = Some(s.to_owned()),
        }
    }
    out
}

/// A single HTTP-date header, parsed; absent, repeated or invalid → `None`.
fn date(headers: &HeaderMap, name: header::HeaderName) -> Option<SystemTime> {
    let mut all = headers.get_all(name).iter();
    let v = all.next()?;
    if all.next().is_some() {
        return None;
    }
    httpdate::parse_http_date(v.to_str().ok()?.trim()).ok()
}

/// `mtime` truncated to whole seconds, the precision of HTTP dates.
pub(crate) fn to_http_precision(mtime: SystemTime) -> SystemTime {
    match mtime.duration_since(UNIX_EPOCH) {
        Ok(d) => UNIX_EPOCH + Duration::from_secs(d.as_secs()),
        Err(_) => mtime,
    }
}

/// Outcome of the precondition checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Precondition {
    /// Serve normally (Range may still apply).
    Proceed,
    /// 304 Not Modified.
    NotModified,
    /// 412 Precondition Failed.
    Failed,
}

/// Evaluate If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since in RFC 9110
/// §13.2.2 order against the current validators.
pub(crate) fn evaluate(
    method: &Method,
    headers: &HeaderMap,
    etag: Option<&EntityTag>,
    last_modified: Option<SystemTime>,
) -> Precondition {
    let get_or_head = method == Method::GET || method == Method::HEAD;
    let lm = last_modified.map(to_http_precision);

    // 1. If-Match (strong comparison)
    if let Some(list) = joined(headers, header::IF_MATCH).and_then(|v| parse_tag_list(&v)) {
        let ok = match (&list, etag) {
            (TagList::Any, _) => true,
            (TagList::Tags(tags), Some(cur)) => tags.iter().any(|t| t.strong_eq(cur)),
            (TagList::Tags(_), None) => false,
        };
        if !ok {
            return Precondition::Failed;
        }
    } else if let (Some(since), Some(lm)) = (date(headers, header::IF_UNMODIFIED_SINCE), lm) {
        // 2. If-Unmodified-Since (only without If-Match)
        if lm > since {
            return Precondition::Failed;
        }
    }

    // 3. If-None-Match (weak comparison)
    if let Some(matched) = if_none_match(headers, etag) {
        if matched {
            return if get_or_head {
                Precondition::NotModified
            } else {
                Precondition::Failed
            };
        }
        return Precondition::Proceed;
    }

    // 4. If-Modified-Since (only without If-None-Match, GET/HEAD only)
    if get_or_head {
        if let (Some(since), Some(lm)) = (date(headers, header::IF_MODIFIED_SINCE), lm) {
            if lm <= since {
                return Precondition::NotModified;
            }
        }
    }
    Precondition::Proceed
}

/// Does this request's `If-None-Match` match `etag`? Weak comparison, `*` matches anything
/// (even no ETag), several header lines form one list. `None` when there is no usable
/// `If-None-Match` (absent or malformed: the header is then ignored); `Some(true)` means the
/// client's copy is current (304 for GET/HEAD). The one implementation for every handler
/// that answers conditional requests.
pub(crate) fn if_none_match(headers: &HeaderMap, etag: Option<&EntityTag>) -> Option<bool> {
    let list = joined(headers, header::IF_NONE_MATCH).and_then(|v| parse_tag_list(&v))?;
    Some(match (&list, etag) {
        (TagList::Any, _) => true,
        (TagList::Tags(tags), Some(cur)) => tags.iter().any(|t| t.weak_eq(cur)),
        (TagList::Tags(_), None) => false,
    })
}

/// `Last-Modified` text, or `None` when the time is not representable as an HTTP-date
/// (before 1970 or after 9999; `httpdate` would panic on those).
pub(crate) fn http_date(t: SystemTime) -> Option<String> {
    const MAX: Duration = Duration::from_secs(253_402_300_799);
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) if d <= MAX => Some(httpdate::fmt_http_date(t)),
        _ => None,
    }
}

/// `If-Range`: true when the Range header may be honoured. An entity tag must match the
/// current (strong) ETag by strong comparison; a date must equal Last-Modified exactly.
pub(crate) fn if_range_allows(
    headers: &HeaderMap,
    etag: Option<&EntityTag>,
    last_modified: Option<SystemTime>,
) -> bool {
    let mut all = headers.get_all(header::IF_RANGE).iter();
    let Some(v) = all.next() else { return true };
    if all.next().is_some() {
        return false;
    }
    let Ok(v) = v.to_str() else { return false };
    let v = v.trim();
    if v.starts_with('"') || v.starts_with("W/") {
        match (parse_one(v), etag) {
            (Some((tag, rest)), Some(cur)) if rest.trim().is_empty() => tag.strong_eq(cur),
            _ => false,
        }
    } else {
        match (httpdate::parse_http_date(v), last_modified) {
            (Ok(d), Some(lm)) => to_http_precision(lm) == d,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn tag(s: &str) -> EntityTag {
        EntityTag {
            weak: false,
            opaque: s.into(),
        }
    }

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k.clone(), HeaderValue::from_str(v).expect("test header"));
        }
        h
    }

    const T0: u64 = 1_700_000_000;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn etag_format() {
        let mtime = UNIX_EPOCH + Duration::new(0x10, 5);
        let t = EntityTag::for_file(255, mtime).expect("after epoch");
        assert_eq!(t.to_header(), "\"ff-1000000005\"");
        let i = t.injected("v1", "<script>");
        assert!(i.weak);
        assert!(i.to_header().starts_with("W/\"ff-1000000005-i"));
        assert_ne!(i, t.injected("v2", "<script>"));
        assert_ne!(i, t.injected("v1", "<script async>"));
        assert_eq!(i, t.injected("v1", "<script>"));
    }

    #[test]
    fn tag_list_parsing() {
        assert_eq!(parse_tag_list("*"), Some(TagList::Any));
        assert_eq!(
            parse_tag_list("\"a\", W/\"b\",\"c,d\""),
            Some(TagList::Tags(vec![
                tag("a"),
                EntityTag {
                    weak: true,
                    opaque: "b".into()
                },
                tag("c,d"),
            ]))
        );
        assert_eq!(parse_tag_list("abc"), None);
        assert_eq!(parse_tag_list("\"a"), None);
        assert_eq!(parse_tag_list("\"a\" x"), None);
        assert_eq!(parse_tag_list(""), None);
    }

    #[test]
    fn if_none_match_weak_and_list() {
        let cur = tag("x");
        let h = headers(&[(header::IF_NONE_MATCH, "\"y\", W/\"x\"")]);
        assert_eq!(
            evaluate(&Method::GET, &h, Some(&cur), None),
            Precondition::NotModified
        );
        let h = headers(&[(header::IF_NONE_MATCH, "*")]);
        assert_eq!(
            evaluate(&Method::HEAD, &h, Some(&cur), None),
            Precondition::NotModified
        );
        let h = headers(&[(header::IF_NONE_MATCH, "\"y\"")]);
        assert_eq!(
            evaluate(&Method::GET, &h, Some(&cur), None),
            Precondition::Proceed
        );
        // Two header lines form one list.
        let h = headers(&[
            (header::IF_NONE_MATCH, "\"y\""),
            (header::IF_NONE_MATCH, "\"x\""),
        ]);
        assert_eq!(
            evaluate(&Method::GET, &h, Some(&cur), None),
            Precondition::NotModified
        );
    }

    #[test]
    fn if_none_match_answers_for_any_handler() {
        let cur = tag("v1");
        let ask = |v: &str| if_none_match(&headers(&[(header::IF_NONE_MATCH, v)]), Some(&cur));
        assert_eq!(ask("\"v1\""), Some(true));
        assert_eq!(ask("W/\"v1\""), Some(true));
        assert_eq!(ask("\"v0\", \"v1\""), Some(true));
        assert_eq!(ask("*"), Some(true));
        assert_eq!(ask("\"v2\""), Some(false));
        assert_eq!(ask("v1"), None);
        assert_eq!(if_none_match(&HeaderMap::new(), Some(&cur)), None);
        let any = headers(&[(header::IF_NONE_MATCH, "*")]);
        assert_eq!(if_none_match(&any, None), Some(true));
    }

    #[test]
    fn http_date_refuses_unrepresentable_times() {
        assert!(http_date(at(T0)).is_some());
        assert_eq!(http_date(UNIX_EPOCH - Duration::from_secs(1)), None);
        assert_eq!(http_date(at(253_402_300_800)), None);
    }

    #[test]
    fn if_none_match_wins_over_if_modified_since() {
        let cur = tag("x");
        let h = headers(&[
            (header::IF_NONE_MATCH, "\"old\""),
            (
                header::IF_MODIFIED_SINCE,
                &httpdate::fmt_http_date(at(T0 + 10)),
            ),
        ]);
        assert_eq!(
            evaluate(&Method::GET, &h, Some(&cur), Some(at(T0))),
            Precondition::Proceed
        );
    }

    #[test]
    fn if_modified_since() {
        let lm = at(T0) + Duration::from_millis(700); // sub-second part ignored
        let same = headers(&[(header::IF_MODIFIED_SINCE, &httpdate::fmt_http_date(at(T0)))]);
        assert_eq!(
            evaluate(&Method::GET, &same, None, Some(lm)),
            Precondition::NotModified
        );
        let older = headers(&[(
            header::IF_MODIFIED_SINCE,
            &httpdate::fmt_http_date(at(T0 - 1)),
        )]);
        assert_eq!(
            evaluate(&Method::GET, &older, None, Some(lm)),
            Precondition::Proceed
        );
        let garbage = headers(&[(header::IF_MODIFIED_SINCE, "yesterday")]);
        assert_eq!(
            evaluate(&Method::GET, &garbage, None, Some(lm)),
            Precondition::Proceed
        );
    }

    #[test]
    fn if_match_and_if_unmodified_since() {
        let cur = tag("x");
        let h = headers(&[(header::IF_MATCH, "\"y\"")]);
        assert_eq!(
            evaluate(&Method::GET, &h, Some(&cur), None),
            Precondition::Failed
        );
        let h = headers(&[(header::IF_MATCH, "\"x\"")]);
        assert_eq!(
            evaluate(&Method::GET, &h, Some(&cur), None),
            Precondition::Proceed
        );
        // Weak tags never match If-Match.
        let weak = EntityTag {
            weak: true,
            opaque: "x".into(),
        };
        let h = headers(&[(header::IF_MATCH, "W/\"x\"")]);
        assert_eq!(
            evaluate(&Method::GET, &h, Some(&weak), None),
            Precondition::Failed
        );
        let h = headers(&[(
            header::IF_UNMODIFIED_SINCE,
            &httpdate::fmt_http_date(at(T0 - 5)),
        )]);
        assert_eq!(
            evaluate(&Method::GET, &h, None, Some(at(T0))),
            Precondition::Failed
        );
    }

    #[test]
    fn if_range() {
        let cur = tag("x");
        let lm = at(T0);
        assert!(if_range_allows(&HeaderMap::new(), Some(&cur), Some(lm)));
        let h = headers(&[(header::IF_RANGE, "\"x\"")]);
        assert!(if_range_allows(&h, Some(&cur), Some(lm)));
        let h = headers(&[(header::IF_RANGE, "W/\"x\"")]);
        assert!(!if_range_allows(&h, Some(&cur), Some(lm)));
        let h = headers(&[(header::IF_RANGE, "\"y\"")]);
        assert!(!if_range_allows(&h, Some(&cur), Some(lm)));
        let h = headers(&[(header::IF_RANGE, &httpdate::fmt_http_date(lm))]);
        assert!(if_range_allows(&h, Some(&cur), Some(lm)));
        let h = headers(&[(header::IF_RANGE, &httpdate::fmt_http_date(at(T0 - 1)))]);
        assert!(!if_range_allows(&h, Some(&cur), Some(lm)));
        let h = headers(&[(header::IF_RANGE, "nonsense")]);
        assert!(!if_range_allows(&h, Some(&cur), Some(lm)));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn conditional_headers_never_panic(
            inm in "[ -~]{0,40}", ims in "[ -~]{0,40}", im in "[ -~]{0,40}", ius in "[ -~]{0,40}", ir in "[ -~]{0,40}",
        ) {
            let mut headers = HeaderMap::new();
            for (name, value) in [
                (header::IF_NONE_MATCH, &inm), (header::IF_MODIFIED_SINCE, &ims), (header::IF_MATCH, &im),
                (header::IF_UNMODIFIED_SINCE, &ius), (header::IF_RANGE, &ir),
            ] {
                if let Ok(v) = http::HeaderValue::from_str(value) {
                    headers.insert(name, v);
                }
            }
            let now = SystemTime::now();
            let tag = EntityTag::for_file(1234, now);
            let _ = evaluate(&Method::GET, &headers, tag.as_ref(), Some(now));
            let _ = if_range_allows(&headers, tag.as_ref(), Some(now));
            let _ = parse_tag_list(&inm);
        }
    }
}
