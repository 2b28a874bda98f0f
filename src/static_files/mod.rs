//! Static files for the dev server: safe path resolution, validators and conditional
//! requests, single byte ranges, MIME types, directory listings, SPA fallback and live-reload
//! tag injection.
//!
//! Layout (decide → enum → render): `resolve` turns the raw request path into a
//! `Resolution`; `conditional`, `range` and `mime` are pure helpers; `listing` reads and
//! renders folders; this file is the only place that builds HTTP responses.
//!
//! Status codes for hostile or odd paths:
//!
//! | request path | status |
//! |---|---|
//! | `..`, `.`, any all-dots segment, raw or percent-encoded (`/%2e%2e/`) | 400 |
//! | a segment decoding to contain `/`, `\`, `:` or NUL (`/..%2f..`, `/%5c..`, `/C:/`, `/a%00.js`) | 400 |
//! | malformed `%` escape, invalid UTF-8 (`/%FF`), a path not starting with `/` | 400 |
//! | `//etc/passwd` | empty segments collapse → looked up as `<root>/etc/passwd` → 404 |
//! | hidden names (`/.env`, `/.git/config`, a symlink to one) without `show_hidden` | 404 |
//! | symlink leading out of the root without `follow_symlinks` | 404 |
//! | FIFO, socket, device | 404 |
//! | permission denied | 403 |
//! | other I/O errors | 500 |
//!
//! Known limits: HEAD only stats the file, so an unreadable file answers HEAD with 200 and
//! GET with 403. Resolution and open are not atomic (a local user who can rename folders
//! inside the root between the two could race them; remote pages cannot).

mod cache;
pub(crate) mod conditional;
mod listing;
mod mime;
pub(crate) mod range;
pub(crate) mod resolve;
#[cfg(test)]
mod tests;

use crate::body::{self, ResponseBody};
use crate::inject::{inject, injected_len};
use bytes::Bytes;
use conditional::{EntityTag, Precondition};
use futures_util::TryStreamExt as _;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Response, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use percent_encoding::{percent_decode_str, utf8_percent_encode};
use range::RangeDecision;
use resolve::{Policy, Resolution};
use std::fs::Metadata;
use std::io::{self, Read as _, SeekFrom};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};
use tokio_util::io::ReaderStream;

/// Files up to this size are read into memory in one read; larger ones are streamed.
const SMALL_FILE: u64 = 256 * 1024;
/// Read size of streamed bodies.
const STREAM_CHUNK: usize = 64 * 1024;
/// HTML larger than this is served like any other file: streamed, not injected.
const MAX_INJECT: u64 = 16 * 1024 * 1024;

/// Options of [`StaticFiles`]. Build with [`StaticOptions::new`] and adjust the fields.
///
/// ```
/// use devserve::static_files::StaticOptions;
/// let mut opts = StaticOptions::new("public");
/// opts.spa = true;
/// opts.inject = Some(r#"<script src="/__devserve/client.js"></script>"#.into());
/// ```
#[derive(Debug, Clone)]
pub struct StaticOptions {
    /// The served folder; canonicalised by [`StaticFiles::new`].
    pub root: PathBuf,
    /// History-API fallback: a missing path whose last segment has no extension (GET/HEAD,
    /// `Accept` not excluding HTML) serves `/index.html`. Defaults to `false`.
    pub spa: bool,
    /// Serve dotfiles and dot-folders (`.env`, `.git/`). Defaults to `false` (they answer 404).
    pub show_hidden: bool,
    /// Serve symlinks that lead outside the root. Defaults to `false` (they answer 404).
    pub follow_symlinks: bool,
    /// Render an HTML listing for folders without `index.html`. Defaults to `true`.
    pub listing: bool,
    /// The exact tag to inject into HTML responses (before the last `</body>`), e.g.
    /// `<script src="/__devserve/client.js"></script>`. Must be a server constant, never
    /// request data. Defaults to `None` (no injection).
    pub inject: Option<String>,
    /// Mixed into the (weak) ETag of injected responses, so a new client build invalidates
    /// cached pages. Defaults to `""`.
    pub injection_version: String,
}

impl StaticOptions {
    /// Options serving `root` with all defaults.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        StaticOptions {
            root: root.into(),
            spa: false,
            show_hidden: false,
            follow_symlinks: false,
            listing: true,
            inject: None,
            injection_version: String::new(),
        }
    }
}

impl Default for StaticOptions {
    /// Serves the current directory with all defaults.
    fn default() -> Self {
        StaticOptions::new(".")
    }
}

/// The static-file service. Cheap to clone (an `Arc` inside).
///
/// ```no_run
/// # async fn demo(parts: http::request::Parts) -> std::io::Result<()> {
/// use devserve::static_files::{StaticFiles, StaticOptions};
/// let files = StaticFiles::new(StaticOptions::new("public"))?;
/// let response = files.serve(&parts).await;
/// # drop(response); Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct StaticFiles {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Canonical root.
    root: PathBuf,
    /// The root as given (made absolute), for [`StaticFiles::url_path_for`].
    given_root: PathBuf,
    opts: StaticOptions,
    /// Small files answered from memory while the watcher vouches for them.
    cache: cache::FileCache,
}

impl Inner {
    fn policy(&self) -> Policy {
        Policy {
            show_hidden: self.opts.show_hidden,
            follow_symlinks: self.opts.follow_symlinks,
            listing: self.opts.listing,
        }
    }
}

impl StaticFiles {
    /// Canonicalise `opts.root` (which must be an existing folder) and build the service.
    pub fn new(opts: StaticOptions) -> io::Result<Self> {
        let root = std::fs::canonicalize(&opts.root)?;
        if !std::fs::metadata(&root)?.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{} is not a folder", opts.root.display()),
            ));
        }
        let given_root = std::path::absolute(&opts.root).unwrap_or_else(|_| opts.root.clone());
        Ok(StaticFiles {
            inner: Arc::new(Inner {
                root,
                given_root,
                opts,
                cache: cache::FileCache::default(),
            }),
        })
    }

    /// Answer small files from memory until [`StaticFiles::invalidate`].
    /// Only correct while a watcher reports every change under the root
    /// except the paths `ignore` matches (those are never cached).
    pub(crate) fn enable_cache(&self, ignore: crate::watch::filter::IgnoreMatcher) {
        if !self.inner.opts.follow_symlinks {
            self.inner.cache.enable(ignore);
        }
    }

    /// Something under the root changed: forget cached files.
    pub fn invalidate(&self) {
        self.inner.cache.clear();
    }

    /// The canonical root folder.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// Map a file-system path under the root (canonical or as given) back to its URL path,
    /// percent-encoded (`/css/site.css`, `/a%20b.txt`; the root itself is `/`, folders get
    /// no trailing slash). `None` when the path is outside the root, hidden (unless
    /// `show_hidden`), or has a name no request could reach. Lexical only: the path need not
    /// exist (useful for deleted files in watcher events).
    pub fn url_path_for(&self, path: &Path) -> Option<String> {
        let inner = &self.inner;
        let rel = path
            .strip_prefix(&inner.root)
            .or_else(|_| path.strip_prefix(&inner.given_root))
            .or_else(|_| path.strip_prefix(&inner.opts.root))
            .ok()?;
        let mut out = String::new();
        for comp in rel.components() {
            match comp {
                Component::CurDir => {}
                Component::Normal(name) => {
                    let name = name.to_str()?;
                    resolve::check_segment(name).ok()?;
                    if !inner.opts.show_hidden && resolve::is_hidden(name) {
                        return None;
                    }
                    out.push('/');
                    out.extend(utf8_percent_encode(name, resolve::SEGMENT));
                }
                _ => return None,
            }
        }
        if out.is_empty() {
            out.push('/');
        }
        Some(out)
    }

    /// Answer a GET or HEAD request for a static file, folder or listing. Never panics;
    /// every failure is a response (400/403/404/405/412/416/500).
    pub async fn serve(&self, req: &http::request::Parts) -> Response<ResponseBody> {
        self.serve_raw(&req.method, req.uri.path(), req.uri.query(), &req.headers)
            .await
    }

    /// [`Self::serve`] on the raw pieces (lets tests send targets `http::Uri` would refuse).
    async fn serve_raw(
        &self,
        method: &Method,
        raw_path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
    ) -> Response<ResponseBody> {
        let head = *method == Method::HEAD;
        if *method != Method::GET && !head {
            return method_not_allowed(head);
        }
        let spa = self.inner.opts.spa
            && resolve::accepts_html(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()));

        let key = (raw_path.to_owned(), spa);
        if let Some(hit) = self.inner.cache.get(&key) {
            let file = FileRef {
                path: hit.path.clone(),
                content: Some(hit.content.clone()),
                slot: None,
            };
            return self
                .serve_file(method, headers, file, &hit.mime_path, &hit.meta)
                .await;
        }
        let generation = self.inner.cache.generation();
        let inner = Arc::clone(&self.inner);
        let path = raw_path.to_owned();
        let q = query.map(str::to_owned);
        let resolution = tokio::task::spawn_blocking(move || {
            resolve::resolve(&inner.root, &path, q.as_deref(), inner.policy(), spa)
        })
        .await;
        let resolution = match resolution {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "path resolution task failed");
                return error_page(StatusCode::INTERNAL_SERVER_ERROR, "", head);
            }
        };

        match resolution {
            Resolution::File {
                path,
                mime_path,
                meta,
            } => {
                let file = FileRef {
                    path,
                    content: None,
                    slot: Some((key, generation)),
                };
                self.serve_file(method, headers, file, &mime_path, &meta)
                    .await
            }
            Resolution::Directory { dir, request } => {
                self.serve_listing(dir, request.display(), request.segments.is_empty(), head)
                    .await
            }
            Resolution::Redirect { location } => redirect(&location),
            Resolution::NotFound => not_found(raw_path, head),
            Resolution::Forbidden => error_page(StatusCode::FORBIDDEN, "Access denied.", head),
            Resolution::BadRequest(bad) => {
                tracing::debug!(path = raw_path, reason = bad.reason(), "rejected path");
                error_page(StatusCode::BAD_REQUEST, bad.reason(), head)
            }
        }
    }

    async fn serve_file(
        &self,
        method: &Method,
        req_headers: &HeaderMap,
        file: FileRef,
        mime_path: &Path,
        meta: &Metadata,
    ) -> Response<ResponseBody> {
        let path = file.path.clone();
        let opts = &self.inner.opts;
        let head = *method == Method::HEAD;
        let len = meta.len();
        let content_type = mime::content_type(mime_path);
        let html = mime::is_html(&content_type);
        let last_modified = meta.modified().ok().filter(|t| http_date(*t).is_some());
        let file_etag = last_modified.and_then(|m| EntityTag::for_file(len, m));
        let inject_tag = opts.inject.as_deref().filter(|_| html && len <= MAX_INJECT);
        let etag = match (inject_tag, &file_etag) {
            (Some(tag), Some(fe)) => Some(fe.injected(&opts.injection_version, tag)),
            _ => file_etag.clone(),
        };

        let mut headers = HeaderMap::new();
        if let Some(v) = etag
            .as_ref()
            .and_then(|t| HeaderValue::from_str(&t.to_header()).ok())
        {
            headers.insert(header::ETAG, v);
        }
        if let Some(v) = last_modified
            .and_then(http_date)
            .and_then(|d| HeaderValue::from_str(&d).ok())
        {
            headers.insert(header::LAST_MODIFIED, v);
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));

        match conditional::evaluate(method, req_headers, etag.as_ref(), last_modified) {
            Precondition::NotModified => {
                return respond(StatusCode::NOT_MODIFIED, headers, body::empty())
            }
            Precondition::Failed => {
                headers.insert(header::CONTENT_LENGTH, HeaderValue::from(0u64));
                return respond(StatusCode::PRECONDITION_FAILED, headers, body::empty());
            }
            Precondition::Proceed => {}
        }
        if let Ok(v) = HeaderValue::from_str(&content_type) {
            headers.insert(header::CONTENT_TYPE, v);
        }

        // Injected HTML: always a full 200, never ranged; HEAD announces the injected length.
        if let Some(tag) = inject_tag {
            headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("none"));
            if head {
                headers.insert(
                    header::CONTENT_LENGTH,
                    HeaderValue::from(injected_len(len, tag)),
                );
                return respond(StatusCode::OK, headers, body::empty());
            }
            return match self.read_small(file, len, mime_path, meta).await {
                Ok(bytes) => {
                    let out = inject(&bytes, tag);
                    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(out.len() as u64));
                    respond(StatusCode::OK, headers, body::full(out))
                }
                Err(e) => io_error_page(&e, &path, head),
            };
        }

        headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        if head {
            // Range is defined for GET only; HEAD mirrors a plain GET and never opens the file.
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
            return respond(StatusCode::OK, headers, body::empty());
        }
        let range_header = crate::util::single_header(req_headers, &header::RANGE).filter(|_| {
            conditional::if_range_allows(req_headers, file_etag.as_ref(), last_modified)
        });

        if len <= SMALL_FILE || (html && len <= MAX_INJECT) {
            // One read; decisions use the bytes actually read (never more than the stat said).
            let bytes = match self.read_small(file, len, mime_path, meta).await {
                Ok(b) => b,
                Err(e) => return io_error_page(&e, &path, head),
            };
            let actual = bytes.len() as u64;
            let decision =
                range_header.map_or(RangeDecision::Full, |r| range::parse_range(r, actual));
            return match decision {
                RangeDecision::Full => {
                    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(actual));
                    respond(StatusCode::OK, headers, body::full(bytes))
                }
                RangeDecision::Partial { start, end } => {
                    let (s, e) = (start as usize, end as usize);
                    let part = bytes.slice(s..=e);
                    partial(headers, start, end, actual, body::full(part))
                }
                RangeDecision::Unsatisfiable => unsatisfiable(headers, actual),
            };
        }

        let decision = range_header.map_or(RangeDecision::Full, |r| range::parse_range(r, len));
        let (start, count) = match decision {
            RangeDecision::Full => (0, len),
            RangeDecision::Partial { start, end } => {
                (start, RangeDecision::partial_len(start, end))
            }
            RangeDecision::Unsatisfiable => return unsatisfiable(headers, len),
        };
        let stream = match open_stream(&path, start, count).await {
            Ok(b) => b,
            Err(e) => return io_error_page(&e, &path, head),
        };
        match decision {
            RangeDecision::Partial { start, end } => partial(headers, start, end, len, stream),
            _ => {
                headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
                respond(StatusCode::OK, headers, stream)
            }
        }
    }

    /// The whole (small) file: from the cache, or read once and cached.
    async fn read_small(
        &self,
        file: FileRef,
        len: u64,
        mime_path: &Path,
        meta: &Metadata,
    ) -> io::Result<Bytes> {
        if let Some(content) = file.content {
            return Ok(content);
        }
        let content = Bytes::from(read_bounded(file.path.clone(), len).await?);
        if let Some((key, generation)) = file.slot {
            let entry = cache::CachedFile {
                path: file.path,
                mime_path: mime_path.to_path_buf(),
                meta: meta.clone(),
                content: content.clone(),
            };
            self.inner
                .cache
                .insert(key, entry, generation, &self.inner.root);
        }
        Ok(content)
    }

    async fn serve_listing(
        &self,
        dir: PathBuf,
        display_path: String,
        is_root: bool,
        head: bool,
    ) -> Response<ResponseBody> {
        let inner = Arc::clone(&self.inner);
        let dir_for_err = dir.clone();
        let entries = tokio::task::spawn_blocking(move || {
            listing::read_entries(&dir, &inner.root, inner.policy())
        })
        .await
        .unwrap_or_else(|e| Err(io::Error::other(e)));
        let entries = match entries {
            Ok(e) => e,
            Err(e) => return io_error_page(&e, &dir_for_err, head),
        };
        let html = listing::render(&display_path, entries, is_root);
        let bytes = match &self.inner.opts.inject {
            Some(tag) => inject(html.as_bytes(), tag),
            None => html.into_bytes(),
        };
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        with_body(StatusCode::OK, headers, bytes, head)
    }
}

/// A resolved file on its way to a response.
struct FileRef {
    /// Canonical path.
    path: PathBuf,
    /// Its content, when it came from the cache.
    content: Option<Bytes>,
    /// Where to cache what is read: the key and the generation seen before resolving.
    slot: Option<(cache::Key, u64)>,
}

/// Read at most `limit` bytes of the file in one blocking hop.
async fn read_bounded(path: PathBuf, limit: u64) -> io::Result<Vec<u8>> {
    tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&path)?;
        let mut buf = Vec::with_capacity(usize::try_from(limit).unwrap_or(0));
        file.take(limit).read_to_end(&mut buf)?;
        Ok(buf)
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

/// `Last-Modified` text, or `None` when the time is not representable as an HTTP-date
/// (before 1970 or after 9999; `httpdate` would panic on those).
fn http_date(t: SystemTime) -> Option<String> {
    const MAX: Duration = Duration::from_secs(253_402_300_799);
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) if d <= MAX => Some(httpdate::fmt_http_date(t)),
        _ => None,
    }
}

fn respond(status: StatusCode, headers: HeaderMap, body: ResponseBody) -> Response<ResponseBody> {
    let mut res = Response::new(body);
    *res.status_mut() = status;
    *res.headers_mut() = headers;
    res.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
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

fn redirect(location: &str) -> Response<ResponseBody> {
    // `location` is built from re-encoded segments: it starts with `/` followed by an
    // encoded segment or the end, so never `//` or `/\`. A query http can't carry is dropped.
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

fn not_found(raw_path: &str, head: bool) -> Response<ResponseBody> {
    let shown: String = percent_decode_str(raw_path)
        .decode_utf8_lossy()
        .chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect();
    let detail = format!("<code>{}</code>", listing::escape_html(&shown));
    error_page(StatusCode::NOT_FOUND, &detail, head)
}

fn io_error_page(e: &io::Error, path: &Path, head: bool) -> Response<ResponseBody> {
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

/// A small HTML error page; `detail_html` must already be escaped.
fn error_page(status: StatusCode, detail_html: &str, head: bool) -> Response<ResponseBody> {
    let title = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>{title}</title></head>\n\
         <body style=\"font:15px/1.5 system-ui,sans-serif;margin:2em\">\n<h1>{title}</h1>\n<p>{detail_html}</p>\n\
         </body>\n</html>\n"
    );
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    with_body(status, headers, html.into_bytes(), head)
}
