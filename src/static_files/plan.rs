//! The planner: what a file response will be, decided from a metadata snapshot and the
//! request alone. Pure: no I/O, so every branch is unit-tested without files.
//!
//! Order: preconditions (RFC 9110 §13.2.2), then injection (always a whole 200), then HEAD
//! (headers of a plain GET), then a single byte range honoured only if `If-Range` allows it.

use super::conditional::{self, EntityTag, Precondition};
use super::range::{self, RangeDecision};
use crate::inject::injected_len;
use http::{header, HeaderMap, Method};
use std::fs::Metadata;
use std::time::SystemTime;

/// Files up to this size are read into memory in one read (and may be cached); larger ones
/// are streamed.
pub(crate) const SMALL_FILE: u64 = 256 * 1024;
/// HTML larger than this is served like any other file: streamed, not injected.
pub(crate) const MAX_INJECT: u64 = 16 * 1024 * 1024;

/// What is known about a resolved file before any byte of it is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileFacts {
    /// Size from the stat snapshot.
    pub(crate) len: u64,
    /// Modification time, when representable as an HTTP-date.
    pub(crate) last_modified: Option<SystemTime>,
    /// The file's own strong ETag (what `If-Range` is compared with).
    pub(crate) file_etag: Option<EntityTag>,
    /// The ETag the response carries: the file ETag, or its weak injected variant.
    pub(crate) etag: Option<EntityTag>,
    /// The `Content-Type` value.
    pub(crate) content_type: String,
    /// The length of the document with the live-reload tag injected, when injection
    /// applies (HTML no larger than [`MAX_INJECT`], a tag configured).
    pub(crate) injected_len: Option<u64>,
}

/// The live-reload tag to inject and the version mixed into injected ETags.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Injection<'a> {
    /// The exact tag.
    pub(crate) tag: &'a str,
    /// Mixed into the weak ETag of injected responses.
    pub(crate) version: &'a str,
}

impl FileFacts {
    /// Facts of a file of `len` bytes modified at `modified`, served as `content_type`.
    pub(crate) fn new(
        len: u64,
        modified: Option<SystemTime>,
        content_type: String,
        injection: Option<Injection<'_>>,
    ) -> Self {
        let last_modified = modified.filter(|t| conditional::http_date(*t).is_some());
        let file_etag = last_modified.and_then(|m| EntityTag::for_file(len, m));
        let injection =
            injection.filter(|_| super::mime::is_html(&content_type) && len <= MAX_INJECT);
        let etag = match (injection, &file_etag) {
            (Some(i), Some(fe)) => Some(fe.injected(i.version, i.tag)),
            _ => file_etag.clone(),
        };
        FileFacts {
            len,
            last_modified,
            file_etag,
            etag,
            content_type,
            injected_len: injection.map(|i| injected_len(len, i.tag)),
        }
    }

    /// Facts from a stat snapshot.
    pub(crate) fn from_metadata(
        meta: &Metadata,
        content_type: String,
        injection: Option<Injection<'_>>,
    ) -> Self {
        FileFacts::new(meta.len(), meta.modified().ok(), content_type, injection)
    }

    /// Whether a GET reads the file into memory in one read (rather than streaming it).
    pub(crate) fn buffered(&self) -> bool {
        self.len <= SMALL_FILE
            || (super::mime::is_html(&self.content_type) && self.len <= MAX_INJECT)
    }
}

/// How to answer a request for a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plan {
    /// 304: the client's copy is current.
    NotModified,
    /// 412: `If-Match` or `If-Unmodified-Since` failed.
    PreconditionFailed,
    /// HEAD: the headers of the 200 a GET would get, no body.
    Head {
        /// The `Content-Length` the GET would carry.
        content_length: u64,
    },
    /// 200 with the whole document and the live-reload tag injected (never ranged).
    Injected,
    /// 200 with the whole file.
    Full,
    /// 206 with bytes `start..=end`.
    Partial {
        /// First byte offset.
        start: u64,
        /// Last byte offset, inclusive (`end < len`).
        end: u64,
    },
    /// 416 with `Content-Range: bytes */len`.
    Unsatisfiable,
}

impl Plan {
    /// Whether answering needs the file's bytes.
    pub(crate) fn reads_body(self) -> bool {
        matches!(self, Plan::Injected | Plan::Full | Plan::Partial { .. })
    }
}

/// Plan the answer to `method` with `headers` for the file `facts` describe.
pub(crate) fn plan(facts: &FileFacts, method: &Method, headers: &HeaderMap) -> Plan {
    plan_for_len(facts, facts.len, method, headers)
}

/// Which of the headers the plan depends on a request has at all, found in
/// one pass over its headers: most requests carry none, and then nothing
/// is parsed or looked up by name.
struct Asks {
    preconditions: bool,
    range: bool,
}

impl Asks {
    fn of(headers: &HeaderMap) -> Asks {
        let mut asks = Asks {
            preconditions: false,
            range: false,
        };
        for name in headers.keys() {
            if [
                header::IF_MATCH,
                header::IF_NONE_MATCH,
                header::IF_MODIFIED_SINCE,
                header::IF_UNMODIFIED_SINCE,
            ]
            .contains(name)
            {
                asks.preconditions = true;
            } else if name == header::RANGE {
                asks.range = true;
            }
        }
        asks
    }
}

/// [`plan`] for a body of `len` bytes, which may differ from the stat snapshot when a file
/// shrank between stat and read (validators stay those of the snapshot).
pub(crate) fn plan_for_len(
    facts: &FileFacts,
    len: u64,
    method: &Method,
    headers: &HeaderMap,
) -> Plan {
    let asks = Asks::of(headers);
    let precondition = if asks.preconditions {
        conditional::evaluate(method, headers, facts.etag.as_ref(), facts.last_modified)
    } else {
        Precondition::Proceed
    };
    match precondition {
        Precondition::NotModified => return Plan::NotModified,
        Precondition::Failed => return Plan::PreconditionFailed,
        Precondition::Proceed => {}
    }
    let head = *method == Method::HEAD;
    if let Some(injected) = facts.injected_len {
        return if head {
            Plan::Head {
                content_length: injected,
            }
        } else {
            Plan::Injected
        };
    }
    if head {
        // Range is defined for GET only; HEAD mirrors a plain GET.
        return Plan::Head {
            content_length: len,
        };
    }
    let range = asks
        .range
        .then(|| crate::util::single_header(headers, &header::RANGE))
        .flatten()
        .filter(|_| {
            conditional::if_range_allows(headers, facts.file_etag.as_ref(), facts.last_modified)
        });
    match range.map_or(RangeDecision::Full, |r| range::parse_range(r, len)) {
        RangeDecision::Full => Plan::Full,
        RangeDecision::Partial { start, end } => Plan::Partial { start, end },
        RangeDecision::Unsatisfiable => Plan::Unsatisfiable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use std::time::{Duration, UNIX_EPOCH};

    const TAG: &str = "<script></script>";

    fn mtime() -> SystemTime {
        UNIX_EPOCH + Duration::new(1_700_000_000, 5)
    }

    fn js(len: u64) -> FileFacts {
        FileFacts::new(len, Some(mtime()), "text/javascript".into(), None)
    }

    fn html(len: u64) -> FileFacts {
        let injection = Injection {
            tag: TAG,
            version: "v1",
        };
        FileFacts::new(
            len,
            Some(mtime()),
            "text/html; charset=utf-8".into(),
            Some(injection),
        )
    }

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k.clone(), HeaderValue::from_str(v).expect("test header"));
        }
        h
    }

    fn etag_of(facts: &FileFacts) -> String {
        facts.etag.as_ref().expect("an ETag").to_header()
    }

    #[test]
    fn plain_get_and_head() {
        let f = js(100);
        assert_eq!(plan(&f, &Method::GET, &HeaderMap::new()), Plan::Full);
        assert_eq!(
            plan(&f, &Method::HEAD, &HeaderMap::new()),
            Plan::Head {
                content_length: 100
            }
        );
    }

    #[test]
    fn preconditions_come_first() {
        let f = js(100);
        let inm = headers(&[
            (header::IF_NONE_MATCH, &etag_of(&f)),
            (header::RANGE, "bytes=0-1"),
        ]);
        assert_eq!(plan(&f, &Method::GET, &inm), Plan::NotModified);
        assert_eq!(plan(&f, &Method::HEAD, &inm), Plan::NotModified);
        let im = headers(&[(header::IF_MATCH, "\"other\"")]);
        assert_eq!(plan(&f, &Method::GET, &im), Plan::PreconditionFailed);
    }

    #[test]
    fn ranges_on_plain_files() {
        let f = js(100);
        let r = |v: &str| plan(&f, &Method::GET, &headers(&[(header::RANGE, v)]));
        assert_eq!(r("bytes=0-9"), Plan::Partial { start: 0, end: 9 });
        assert_eq!(r("bytes=100-"), Plan::Unsatisfiable);
        assert_eq!(r("bytes=0-1,5-6"), Plan::Full);
        // HEAD ignores Range.
        let h = headers(&[(header::RANGE, "bytes=0-9")]);
        assert_eq!(
            plan(&f, &Method::HEAD, &h),
            Plan::Head {
                content_length: 100
            }
        );
        // Two Range lines are no usable range.
        let twice = headers(&[(header::RANGE, "bytes=0-1"), (header::RANGE, "bytes=2-3")]);
        assert_eq!(plan(&f, &Method::GET, &twice), Plan::Full);
    }

    #[test]
    fn if_range_gates_the_range() {
        let f = js(100);
        let matching = headers(&[
            (header::RANGE, "bytes=0-9"),
            (header::IF_RANGE, &etag_of(&f)),
        ]);
        assert_eq!(
            plan(&f, &Method::GET, &matching),
            Plan::Partial { start: 0, end: 9 }
        );
        let stale = headers(&[(header::RANGE, "bytes=0-9"), (header::IF_RANGE, "\"old\"")]);
        assert_eq!(plan(&f, &Method::GET, &stale), Plan::Full);
    }

    #[test]
    fn injected_html_is_whole_and_weakly_tagged() {
        let f = html(50);
        assert!(f.etag.as_ref().is_some_and(|t| t.weak));
        assert_eq!(f.injected_len, Some(50 + TAG.len() as u64));
        let ranged = headers(&[(header::RANGE, "bytes=0-9")]);
        assert_eq!(plan(&f, &Method::GET, &ranged), Plan::Injected);
        assert_eq!(
            plan(&f, &Method::HEAD, &ranged),
            Plan::Head {
                content_length: 50 + TAG.len() as u64
            }
        );
        let inm = headers(&[(header::IF_NONE_MATCH, &etag_of(&f))]);
        assert_eq!(plan(&f, &Method::GET, &inm), Plan::NotModified);
        // The file's own ETag no longer matches an injected page.
        let file_tag = f.file_etag.as_ref().expect("file ETag").to_header();
        let old = headers(&[(header::IF_NONE_MATCH, &file_tag)]);
        assert_eq!(plan(&f, &Method::GET, &old), Plan::Injected);
    }

    #[test]
    fn huge_html_is_not_injected() {
        let f = html(MAX_INJECT + 1);
        assert_eq!(f.injected_len, None);
        assert!(!f.buffered());
        assert_eq!(
            plan(&f, &Method::GET, &headers(&[(header::RANGE, "bytes=0-0")])),
            Plan::Partial { start: 0, end: 0 }
        );
    }

    #[test]
    fn unrepresentable_mtime_has_no_validators() {
        let f = FileFacts::new(
            10,
            UNIX_EPOCH.checked_sub(Duration::from_secs(1)),
            "a/b".into(),
            None,
        );
        assert_eq!((f.last_modified, &f.etag), (None, &None));
        let inm = headers(&[(header::IF_NONE_MATCH, "*")]);
        assert_eq!(plan(&f, &Method::GET, &inm), Plan::NotModified);
        assert_eq!(plan(&f, &Method::GET, &HeaderMap::new()), Plan::Full);
    }

    #[test]
    fn a_shrunk_body_is_planned_on_its_real_length() {
        let f = js(100);
        let h = headers(&[(header::RANGE, "bytes=50-")]);
        assert_eq!(plan_for_len(&f, 40, &Method::GET, &h), Plan::Unsatisfiable);
        assert_eq!(
            plan_for_len(&f, 60, &Method::GET, &h),
            Plan::Partial { start: 50, end: 59 }
        );
    }

    #[test]
    fn buffered_files() {
        assert!(js(SMALL_FILE).buffered());
        assert!(!js(SMALL_FILE + 1).buffered());
        assert!(html(SMALL_FILE + 1).buffered());
        assert!(Plan::Full.reads_body() && Plan::Injected.reads_body());
        assert!(!Plan::NotModified.reads_body() && !Plan::Unsatisfiable.reads_body());
    }
}
