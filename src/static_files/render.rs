//! The one place that builds static-file responses: a [`Plan`] for a file (doing the reads
//! and streams it needs), listings, redirects and the error pages. Every response carries
//! `X-Content-Type-Options: nosniff`.

use super::cache::Weigh;
use super::listing;
use super::plan::{FileFacts, Plan};
use super::range::RangeDecision;
use super::{Miss, Outcome, StaticOptions};
use crate::body::{self, ResponseBody};
use crate::inject::inject;
use bytes::Bytes;
use futures_util::TryStreamExt as _;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Response, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use percent_encoding::percent_decode_str;
use std::io::{self, Read as _, SeekFrom};
use std::path::{Path, PathBuf};
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};
use tokio_util::io::ReaderStream;

/// Bytes a header map entry takes beyond its value's bytes (name, value
/// handle, index slot), for the cache's weight.
const HEADER_ENTRY_COST: usize =
    std::mem::size_of::<http::HeaderName>() + std::mem::size_of::<HeaderValue>() + 16;

/// `X-Content-Type-Options: nosniff`, on every response.
const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");

/// Read size of streamed bodies.
const STREAM_CHUNK: usize = 64 * 1024;

/// A resolved file ready to be answered: its facts and their header values, computed once
/// (and kept in the cache, so a hit formats nothing).
#[derive(Debug, Clone)]
pub(crate) struct ServedFile {
    /// Canonical path, to read or stream from.
    pub(crate) path: PathBuf,
    /// What the planner decides on.
    pub(crate) facts: FileFacts,
    etag: Option<HeaderValue>,
    last_modified: Option<HeaderValue>,
    content_type: Option<HeaderValue>,
    /// Every header of a whole-file 200, built once: a cache hit clones
    /// this instead of inserting each header again.
    ok_headers: HeaderMap,
}

impl ServedFile {
    /// Header values for `facts` of the file at `path`. The ready 200 also
    /// has `opts`' headers and, when compression may encode it, `Vary`.
    pub(crate) fn new(path: PathBuf, facts: FileFacts, opts: &StaticOptions) -> Self {
        let etag = facts
            .etag
            .as_ref()
            .and_then(|t| HeaderValue::from_str(&t.to_header()).ok());
        let last_modified = facts
            .last_modified
            .and_then(super::conditional::http_date)
            .and_then(|d| HeaderValue::from_str(&d).ok());
        let content_type = HeaderValue::from_str(&facts.content_type).ok();
        let mut served = ServedFile {
            path,
            facts,
            etag,
            last_modified,
            content_type,
            ok_headers: HeaderMap::new(),
        };
        let mut ok_headers = served.content_headers();
        ok_headers.insert(header::CONTENT_LENGTH, HeaderValue::from(served.facts.len));
        ok_headers.insert(header::X_CONTENT_TYPE_OPTIONS, NOSNIFF);
        if opts.vary_encoding && crate::compress::worth_compressing(StatusCode::OK, &ok_headers) {
            ok_headers.insert(header::VARY, crate::compress::VARY_ENCODING);
        }
        crate::response_headers::apply(&mut ok_headers, &opts.headers);
        served.ok_headers = ok_headers;
        served
    }

    /// The validators and `Cache-Control` every file response carries.
    fn base_headers(&self) -> HeaderMap {
        // Room for every header a file response ends up with (these, the
        // content headers, compression's and the router's), so none regrows it.
        let mut headers = HeaderMap::with_capacity(16);
        if let Some(v) = &self.etag {
            headers.insert(header::ETAG, v.clone());
        }
        if let Some(v) = &self.last_modified {
            headers.insert(header::LAST_MODIFIED, v.clone());
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers
    }

    /// Base headers plus `Content-Type` and `Accept-Ranges`, for 200 and 206.
    fn content_headers(&self) -> HeaderMap {
        let mut headers = self.base_headers();
        if let Some(v) = &self.content_type {
            headers.insert(header::CONTENT_TYPE, v.clone());
        }
        let ranges = if self.facts.injected_len.is_some() {
            "none"
        } else {
            "bytes"
        };
        headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static(ranges));
        headers
    }
}

/// A cached file: what to answer with and its whole content.
#[derive(Debug)]
pub(crate) struct CachedFile {
    /// Facts and header values.
    pub(crate) served: ServedFile,
    /// The whole file, read once.
    pub(crate) content: Bytes,
}

impl Weigh for CachedFile {
    fn weight(&self) -> usize {
        let values = [
            &self.served.etag,
            &self.served.last_modified,
            &self.served.content_type,
        ];
        let facts = &self.served.facts;
        let tags = [&facts.etag, &facts.file_etag];
        self.content.len()
            + self.served.path.as_os_str().len()
            + facts.content_type.len()
            + tags
                .iter()
                .flat_map(|t| t.as_ref())
                .map(|t| t.opaque.len())
                .sum::<usize>()
            + values
                .iter()
                .flat_map(|v| v.as_ref())
                .map(HeaderValue::len)
                .sum::<usize>()
            // The ready header map shares those values; count its entries.
            + self.served.ok_headers.len() * HEADER_ENTRY_COST
    }
}

/// The whole-file 200 of `file` with all of `content`: its ready headers,
/// cloned.
pub(crate) fn ready(file: &ServedFile, content: Bytes) -> Response<ResponseBody> {
    let mut response = Response::new(body::full(content));
    *response.headers_mut() = file.ok_headers.clone();
    response
}

/// Answer `plan` for `file`. `content` is the whole file when the caller has it (from the
/// cache or a read); otherwise what the plan needs is read or streamed here. `tag` is the
/// live-reload tag for [`Plan::Injected`].
pub(crate) async fn file(
    plan: Plan,
    file: &ServedFile,
    content: Option<Bytes>,
    tag: Option<&str>,
) -> io::Result<Response<ResponseBody>> {
    let facts = &file.facts;
    match plan {
        Plan::NotModified => Ok(respond(
            StatusCode::NOT_MODIFIED,
            file.base_headers(),
            body::empty(),
        )),
        Plan::PreconditionFailed => {
            let mut headers = file.base_headers();
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(0u64));
            Ok(respond(
                StatusCode::PRECONDITION_FAILED,
                headers,
                body::empty(),
            ))
        }
        Plan::Head { content_length } => {
            let mut headers = file.content_headers();
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(content_length));
            Ok(respond(StatusCode::OK, headers, body::empty()))
        }
        Plan::Injected => {
            let bytes = whole(file, content).await?;
            let out = match tag {
                Some(tag) => Bytes::from(inject(&bytes, tag)),
                None => bytes,
            };
            Ok(full(file.content_headers(), out))
        }
        Plan::Full => match content {
            Some(bytes) => Ok(full(file.content_headers(), bytes)),
            None if facts.buffered() => Ok(full(file.content_headers(), whole(file, None).await?)),
            None => {
                let stream = open_stream(&file.path, 0, facts.len).await?;
                let mut headers = file.content_headers();
                headers.insert(header::CONTENT_LENGTH, HeaderValue::from(facts.len));
                Ok(respond(StatusCode::OK, headers, stream))
            }
        },
        Plan::Partial { start, end } => partial_file(file, content, start, end).await,
        Plan::Unsatisfiable => Ok(unsatisfiable(file.content_headers(), facts.len)),
    }
}

/// A 206 from memory or streamed; a range past what was read is a 416, never a panic.
async fn partial_file(
    file: &ServedFile,
    content: Option<Bytes>,
    start: u64,
    end: u64,
) -> io::Result<Response<ResponseBody>> {
    let headers = file.content_headers();
    let content = match content {
        Some(bytes) => Some(bytes),
        None if file.facts.buffered() => Some(whole(file, None).await?),
        None => None,
    };
    let Some(bytes) = content else {
        let stream = open_stream(&file.path, start, RangeDecision::partial_len(start, end)).await?;
        return Ok(partial(headers, start, end, file.facts.len, stream));
    };
    let len = bytes.len() as u64;
    match (usize::try_from(start), usize::try_from(end)) {
        (Ok(s), Ok(e)) if e < bytes.len() => {
            let part = bytes.slice(s..=e);
            Ok(partial(headers, start, end, len, body::full(part)))
        }
        _ => Ok(unsatisfiable(headers, len)),
    }
}

/// The whole file: `content` if given, else one bounded read.
async fn whole(file: &ServedFile, content: Option<Bytes>) -> io::Result<Bytes> {
    match content {
        Some(bytes) => Ok(bytes),
        None => read_small(file.path.clone(), file.facts.len).await,
    }
}

/// Read at most `limit` bytes of the file in one blocking hop.
pub(crate) async fn read_small(path: PathBuf, limit: u64) -> io::Result<Bytes> {
    tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&path)?;
        let mut buf = Vec::with_capacity(usize::try_from(limit).unwrap_or(0));
        file.take(limit).read_to_end(&mut buf)?;
        Ok(Bytes::from(buf))
    })
    .await
    .unwrap_or_else(|e| Err(io::Error::other(e)))
}

/// A streamed body of `count` bytes from `start`; memory stays bounded by the chunk size and
/// the body never exceeds `count` even if the file grows meanwhile.
async fn open_stream(path: &Path, start: u64, count: u64) -> io::Result<ResponseBody> {
    let mut file = tokio::fs::File::open(path).await?;
    if start > 0 {
        file.seek(SeekFrom::Start(start)).await?;
    }
    let stream = ReaderStream::with_capacity(file.take(count), STREAM_CHUNK).map_ok(Frame::data);
    Ok(BodyExt::boxed(StreamBody::new(stream)))
}

/// A folder listing page, with the live-reload tag when one is configured.
pub(crate) fn listing(
    display_path: &str,
    entries: Vec<listing::Entry>,
    is_root: bool,
    sort: listing::Sort,
    tag: Option<&str>,
    head: bool,
) -> Response<ResponseBody> {
    let html = listing::render(display_path, entries, is_root, sort);
    let bytes = match tag {
        Some(tag) => inject(html.as_bytes(), tag),
        None => html.into_bytes(),
    };
    with_body(StatusCode::OK, html_headers(), bytes, head)
}

fn respond(status: StatusCode, headers: HeaderMap, body: ResponseBody) -> Response<ResponseBody> {
    let mut res = Response::new(body);
    *res.status_mut() = status;
    *res.headers_mut() = headers;
    res.headers_mut()
        .insert(header::X_CONTENT_TYPE_OPTIONS, NOSNIFF);
    res
}

/// A 200 carrying `bytes` with their `Content-Length`.
fn full(mut headers: HeaderMap, bytes: Bytes) -> Response<ResponseBody> {
    headers.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(bytes.len() as u64),
    );
    respond(StatusCode::OK, headers, body::full(bytes))
}

/// An in-memory response with `Content-Length`; HEAD drops the body, keeps the length.
fn with_body(
    status: StatusCode,
    mut headers: HeaderMap,
    bytes: Vec<u8>,
    head: bool,
) -> Response<ResponseBody> {
    headers.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(bytes.len() as u64),
    );
    let body = if head {
        body::empty()
    } else {
        body::full(bytes)
    };
    respond(status, headers, body)
}

fn partial(
    mut headers: HeaderMap,
    start: u64,
    end: u64,
    len: u64,
    body: ResponseBody,
) -> Response<ResponseBody> {
    if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{end}/{len}")) {
        headers.insert(header::CONTENT_RANGE, v);
    }
    headers.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(RangeDecision::partial_len(start, end)),
    );
    respond(StatusCode::PARTIAL_CONTENT, headers, body)
}

fn unsatisfiable(mut headers: HeaderMap, len: u64) -> Response<ResponseBody> {
    headers.remove(header::CONTENT_TYPE);
    if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
        headers.insert(header::CONTENT_RANGE, v);
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(0u64));
    respond(StatusCode::RANGE_NOT_SATISFIABLE, headers, body::empty())
}

/// A 308 to `location`, which resolution built from re-encoded segments: it starts with `/`
/// followed by an encoded segment or the end, so never `//` or `/\`.
pub(crate) fn redirect(location: &str) -> Response<ResponseBody> {
    // A query `http` can't carry is dropped.
    let value = HeaderValue::from_str(location).or_else(|_| {
        let path = location.split('?').next().unwrap_or("/");
        HeaderValue::from_str(path)
    });
    let mut headers = HeaderMap::new();
    if let Ok(v) = value {
        headers.insert(header::LOCATION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(0u64));
    respond(StatusCode::PERMANENT_REDIRECT, headers, body::empty())
}

/// 405 with `Allow: GET, HEAD`.
fn method_not_allowed(head: bool) -> Response<ResponseBody> {
    let mut res = error_page(
        StatusCode::METHOD_NOT_ALLOWED,
        "Only GET and HEAD are supported here.",
        head,
    );
    res.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    res
}

/// 404 naming the (decoded, escaped) path, with the live-reload tag when one is configured,
/// so a page opened before its file exists reloads when the file appears.
fn not_found(raw_path: &str, head: bool, tag: Option<&str>) -> Response<ResponseBody> {
    let shown: String = percent_decode_str(raw_path)
        .decode_utf8_lossy()
        .chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect();
    let detail = format!("<code>{}</code>", crate::util::escape_html(&shown));
    let html = error_html(StatusCode::NOT_FOUND, &detail);
    let bytes = match tag {
        Some(tag) => inject(html.as_bytes(), tag),
        None => html.into_bytes(),
    };
    with_body(StatusCode::NOT_FOUND, html_headers(), bytes, head)
}

/// The page for an I/O error while answering: 403, 404 or 500.
pub(crate) fn io_error_page(e: &io::Error, path: &Path, head: bool) -> Response<ResponseBody> {
    match e.kind() {
        io::ErrorKind::PermissionDenied => {
            error_page(StatusCode::FORBIDDEN, "Permission denied.", head)
        }
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => {
            error_page(StatusCode::NOT_FOUND, "", head)
        }
        _ => {
            tracing::warn!(path = %path.display(), error = %e, "I/O error serving a file");
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The file could not be read.",
                head,
            )
        }
    }
}

fn html_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers
}

/// A small HTML error page; `detail_html` must already be escaped.
pub(crate) fn error_page(
    status: StatusCode,
    detail_html: &str,
    head: bool,
) -> Response<ResponseBody> {
    let html = error_html(status, detail_html);
    with_body(status, html_headers(), html.into_bytes(), head)
}

/// The document of [`error_page`].
fn error_html(status: StatusCode, detail_html: &str) -> String {
    let title = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>{title}</title></head>\n\
         <body style=\"font:15px/1.5 system-ui,sans-serif;margin:2em\">\n<h1>{title}</h1>\n<p>{detail_html}</p>\n\
         </body>\n</html>\n"
    )
}

/// An I/O error while answering: a file that vanished is a miss, anything else the files'
/// own error page.
pub(crate) fn io_outcome(e: &io::Error, path: &Path, head: bool) -> Outcome {
    match e.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => Outcome::Miss(Miss::NotFound),
        _ => Outcome::Hit(io_error_page(e, path, head)),
    }
}

/// The page for a miss: 404 naming the path (with the live-reload `tag`), or 405.
pub(crate) fn miss(
    miss: Miss,
    method: &Method,
    raw_path: &str,
    tag: Option<&str>,
) -> Response<ResponseBody> {
    let head = *method == Method::HEAD;
    match miss {
        Miss::NotFound => not_found(raw_path, head, tag),
        Miss::MethodNotAllowed => method_not_allowed(head),
    }
}
