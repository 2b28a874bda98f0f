//! Static files for the dev server: safe path resolution, validators and conditional
//! requests, single byte ranges, MIME types, directory listings, SPA fallback and live-reload
//! tag injection.
//!
//! Layout (decide → enum → render, in tower-http's manner): `resolve` turns the raw request
//! path into a `Resolution`; `plan` decides from a metadata snapshot and the request alone
//! what a file response will be (a `Plan`, no I/O); `render` is the only place that builds
//! responses, doing the reads and streams a plan needs; `conditional`, `range` and `mime` are
//! pure helpers; `listing` reads and renders folders; `cache` keeps small resolved files in
//! memory within a byte budget. This file holds the service: [`StaticFiles::lookup`] answers
//! with an [`Outcome`], a file's answer or a [`Miss`] someone else may answer.
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

#![deny(unreachable_pub, missing_debug_implementations)]

mod cache;
pub(crate) mod conditional;
mod listing;
mod mime;
mod plan;
pub(crate) mod range;
mod render;
pub(crate) mod resolve;
#[cfg(test)]
mod tests;

use crate::body::ResponseBody;
use bytes::Bytes;
use cache::{FileCache, FileKey};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::request::Parts;
use http::{Method, Response, StatusCode};
use plan::{FileFacts, Injection};
use render::{CachedFile, ServedFile};
use resolve::{Policy, Resolution};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

/// What static files make of a request: their answer, or a miss that another handler (an
/// embedder's fallback) may answer instead; [`StaticFiles::render_miss`] renders a miss.
#[derive(Debug)]
pub enum Outcome {
    /// The files' answer: 200/206/304/412/416, a redirect, a listing, 400 for a bad path,
    /// 403, 500 …
    Hit(Response<ResponseBody>),
    /// Nothing here for this request.
    Miss(Miss),
}

/// An answer before [`StaticOptions::headers`]: a cached file's ready 200
/// (built with them once), or one that still needs them.
enum Answer {
    /// Complete as it is.
    Ready(Response<ResponseBody>),
    /// Gets the headers on a hit.
    Built(Outcome),
}

/// Why static files have no answer for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Miss {
    /// No file for this GET or HEAD (404 when rendered).
    NotFound,
    /// A method static files do not serve: anything but GET and HEAD (405 when rendered).
    MethodNotAllowed,
}

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
    /// A compressing layer stands in front of the files: a whole-file 200 it
    /// may encode then already carries `Vary: Accept-Encoding`, built once per
    /// file instead of added per response. Defaults to `false`.
    pub vary_encoding: bool,
    /// Headers every answer of the files carries, set after their own (a
    /// server's security headers, the user's extra headers). Each cached
    /// file's ready 200 has them built in. Defaults to none.
    pub headers: Vec<(HeaderName, HeaderValue)>,
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
            vary_encoding: false,
            headers: Vec::new(),
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
    /// Canonical root; replaced when a symlinked root is re-pointed.
    root: RwLock<Arc<Path>>,
    /// The root as given (made absolute), for [`StaticFiles::url_path_for`].
    given_root: PathBuf,
    opts: StaticOptions,
    /// Small files answered from memory while the watcher vouches for them.
    cache: FileCache<CachedFile>,
}

impl Inner {
    /// The canonical root now.
    fn root(&self) -> Arc<Path> {
        Arc::clone(&self.root.read().unwrap_or_else(PoisonError::into_inner))
    }

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
        StaticFiles::with_cache_budget(opts, cache::DEFAULT_BUDGET)
    }

    /// [`Self::new`] with a cache holding at most `budget` bytes.
    pub(crate) fn with_cache_budget(opts: StaticOptions, budget: usize) -> io::Result<Self> {
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
                root: RwLock::new(Arc::from(root)),
                given_root,
                opts,
                cache: FileCache::new(budget),
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
    pub fn root(&self) -> Arc<Path> {
        self.inner.root()
    }

    /// The served folder (a symlink) now points at `target`: serve from there,
    /// with nothing cached from before.
    pub fn retarget(&self, target: &Path) {
        *self
            .inner
            .root
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::from(target);
        self.invalidate();
    }

    /// Map a file-system path under the root (canonical or as given) back to its URL path,
    /// percent-encoded (`/css/site.css`, `/a%20b.txt`; the root itself is `/`, folders get
    /// no trailing slash). `None` when the path is outside the root, hidden (unless
    /// `show_hidden`), or has a name no request could reach. Lexical only: the path need not
    /// exist (useful for deleted files in watcher events).
    pub fn url_path_for(&self, path: &Path) -> Option<String> {
        let inner = &self.inner;
        let root = inner.root();
        let rel = path
            .strip_prefix(&*root)
            .or_else(|_| path.strip_prefix(&inner.given_root))
            .or_else(|_| path.strip_prefix(&inner.opts.root))
            .ok()?;
        resolve::url_path(rel, inner.opts.show_hidden)
    }

    /// Answer a GET or HEAD request for a static file, folder or listing: [`Self::lookup`],
    /// with a miss rendered by [`Self::render_miss`]. Never panics; every failure is a
    /// response (400/403/404/405/412/416/500).
    pub async fn serve(&self, req: &Parts) -> Response<ResponseBody> {
        match self.lookup(req).await {
            Outcome::Hit(response) => response,
            Outcome::Miss(miss) => self.render_miss(miss, req),
        }
    }

    /// Decide what static files answer to `req`, without rendering a miss, so that a caller
    /// can hand misses to another handler.
    ///
    /// ```no_run
    /// # async fn demo(parts: http::request::Parts) -> std::io::Result<()> {
    /// use devserve::static_files::{Outcome, StaticFiles, StaticOptions};
    /// let files = StaticFiles::new(StaticOptions::new("public"))?;
    /// let response = match files.lookup(&parts).await {
    ///     Outcome::Hit(response) => response,
    ///     Outcome::Miss(miss) => files.render_miss(miss, &parts), // or another handler
    /// };
    /// # drop(response); Ok(()) }
    /// ```
    pub async fn lookup(&self, req: &Parts) -> Outcome {
        let answer = self
            .lookup_raw(&req.method, req.uri.path(), req.uri.query(), &req.headers)
            .await;
        self.complete(answer)
    }

    /// The outcome of `answer`, a hit with [`StaticOptions::headers`] set.
    fn complete(&self, answer: Answer) -> Outcome {
        match answer {
            Answer::Ready(response) => Outcome::Hit(response),
            Answer::Built(mut outcome) => {
                if let Outcome::Hit(response) = &mut outcome {
                    self.add_headers(response);
                }
                outcome
            }
        }
    }

    /// Set [`StaticOptions::headers`] on an answer.
    fn add_headers(&self, response: &mut Response<ResponseBody>) {
        crate::response_headers::apply(response.headers_mut(), &self.inner.opts.headers);
    }

    /// The page for a miss, exactly as [`Self::serve`] renders it: 404 naming the path, or
    /// 405 with `Allow: GET, HEAD` (HEAD gets the headers only).
    pub fn render_miss(&self, miss: Miss, req: &Parts) -> Response<ResponseBody> {
        let mut response = render::miss(
            miss,
            &req.method,
            req.uri.path(),
            self.inner.opts.inject.as_deref(),
        );
        self.add_headers(&mut response);
        response
    }

    /// A cached file's whole 200 for `req`, complete with
    /// [`StaticOptions::headers`], when that is the answer: a GET of a cached
    /// file with no precondition or range to honour. Nothing to wait for, so
    /// a caller can answer without an `async` step; `None`: ask [`Self::lookup`].
    pub(crate) fn ready(&self, req: &Parts) -> Option<Response<ResponseBody>> {
        if req.method != Method::GET {
            return None;
        }
        let route = cache::route_key(req.uri.path())?;
        let hit = self.inner.cache.get(&route, self.spa(&req.headers))?;
        let cached = &hit.value;
        let plan = plan::plan(&cached.served.facts, &req.method, &req.headers);
        whole_file(&cached.served, &plan, &cached.content)
    }

    /// Whether the history-API fallback applies to a request with `headers`.
    fn spa(&self, headers: &HeaderMap) -> bool {
        self.inner.opts.spa
            && resolve::accepts_html(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()))
    }

    /// [`Self::lookup`] on the raw pieces.
    async fn lookup_raw(
        &self,
        method: &Method,
        raw_path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
    ) -> Answer {
        let head = *method == Method::HEAD;
        if *method != Method::GET && !head {
            return Answer::Built(Outcome::Miss(Miss::MethodNotAllowed));
        }
        let spa = self.spa(headers);
        let route = cache::route_key(raw_path);
        if let Some(hit) = route.as_deref().and_then(|r| self.inner.cache.get(r, spa)) {
            let request = FileRequest {
                method,
                headers,
                query,
            };
            let cached = &hit.value;
            return self
                .answer_file(&request, &cached.served, Some(cached.content.clone()), None)
                .await;
        }
        Box::pin(self.resolve_and_answer(method, raw_path, query, headers, route, spa)).await
    }

    /// A cache miss: resolve the path on a blocking thread, answer, and
    /// cache what is worth it. Boxed by [`Self::lookup_raw`], so the hit
    /// path's future (which every connection keeps room for) stays small.
    async fn resolve_and_answer(
        &self,
        method: &Method,
        raw_path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
        route: Option<std::borrow::Cow<'_, [u8]>>,
        spa: bool,
    ) -> Answer {
        let head = *method == Method::HEAD;
        let generation = self.inner.cache.generation();
        let inner = Arc::clone(&self.inner);
        let path = raw_path.to_owned();
        let q = query.map(str::to_owned);
        let resolution = tokio::task::spawn_blocking(move || {
            resolve::resolve(&inner.root(), &path, q.as_deref(), inner.policy(), spa)
        })
        .await;
        let resolution = match resolution {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "path resolution task failed");
                let page = render::error_page(StatusCode::INTERNAL_SERVER_ERROR, "", head);
                return Answer::Built(Outcome::Hit(page));
            }
        };
        let request = FileRequest {
            method,
            headers,
            query,
        };
        let route = route
            .filter(|_| self.inner.cache.is_enabled())
            .map(|route| (route.into_owned(), generation));
        self.answer(resolution, &request, raw_path, route).await
    }

    /// Turn a fresh resolution into an outcome; `route` is the request path's cache key and
    /// the cache generation seen before resolving.
    async fn answer(
        &self,
        resolution: Resolution,
        request: &FileRequest<'_>,
        raw_path: &str,
        route: Option<(Vec<u8>, u64)>,
    ) -> Answer {
        let head = *request.method == Method::HEAD;
        let outcome = match resolution {
            Resolution::File {
                path,
                mime_path,
                meta,
                fallback,
            } => {
                let content_type = mime::content_type(&mime_path);
                let facts = FileFacts::from_metadata(&meta, content_type, self.injection());
                let served = ServedFile::new(path, facts, &self.inner.opts);
                let slot = route.map(|(route, generation)| Slot {
                    route,
                    generation,
                    fallback,
                    mime_path,
                });
                return self.answer_file(request, &served, None, slot).await;
            }
            Resolution::Directory { dir, request: path } => {
                let display = path.display();
                let sort = listing::Sort::from_query(request.query);
                self.listing(dir, &display, path.segments.is_empty(), sort, head)
                    .await
            }
            Resolution::Redirect { location } => Outcome::Hit(render::redirect(&location)),
            Resolution::NotFound => Outcome::Miss(Miss::NotFound),
            Resolution::Forbidden => Outcome::Hit(render::error_page(
                StatusCode::FORBIDDEN,
                "Access denied.",
                head,
            )),
            Resolution::BadRequest(bad) => {
                tracing::debug!(path = raw_path, reason = bad.reason(), "rejected path");
                Outcome::Hit(render::error_page(
                    StatusCode::BAD_REQUEST,
                    bad.reason(),
                    head,
                ))
            }
        };
        Answer::Built(outcome)
    }

    /// Plan and render a file. `content` is the cached body, if any; `slot` says where to
    /// cache what is read.
    async fn answer_file(
        &self,
        request: &FileRequest<'_>,
        served: &ServedFile,
        mut content: Option<Bytes>,
        slot: Option<Slot>,
    ) -> Answer {
        let facts = &served.facts;
        let head = *request.method == Method::HEAD;
        let mut plan = plan::plan(facts, request.method, request.headers);
        if content.is_none() && plan.reads_body() && facts.buffered() {
            let bytes = match render::read_small(served.path.clone(), facts.len).await {
                Ok(bytes) => bytes,
                Err(e) => return Answer::Built(render::io_outcome(&e, &served.path, head)),
            };
            if let Some(slot) = slot {
                self.remember(slot, served, bytes.clone());
            }
            content = Some(bytes);
        }
        if let Some(bytes) = &content {
            // Decisions use the bytes actually read (never more than the stat said).
            let actual = bytes.len() as u64;
            if actual != facts.len {
                plan = plan::plan_for_len(facts, actual, request.method, request.headers);
            }
        }
        if let Some(response) = content.as_ref().and_then(|b| whole_file(served, &plan, b)) {
            return Answer::Ready(response);
        }
        let tag = self.inner.opts.inject.as_deref();
        Answer::Built(match render::file(plan, served, content, tag).await {
            Ok(response) => Outcome::Hit(response),
            Err(e) => render::io_outcome(&e, &served.path, head),
        })
    }

    /// Cache a file that was just read.
    fn remember(&self, slot: Slot, served: &ServedFile, content: Bytes) {
        let key = FileKey {
            path: served.path.clone(),
            mime_path: slot.mime_path,
        };
        let value = CachedFile {
            served: served.clone(),
            content,
        };
        let inner = &self.inner;
        inner.cache.insert(
            &slot.route,
            slot.fallback,
            key,
            value,
            slot.generation,
            &inner.root(),
        );
    }

    fn injection(&self) -> Option<Injection<'_>> {
        let opts = &self.inner.opts;
        opts.inject.as_deref().map(|tag| Injection {
            tag,
            version: &opts.injection_version,
        })
    }

    async fn listing(
        &self,
        dir: PathBuf,
        display_path: &str,
        is_root: bool,
        sort: listing::Sort,
        head: bool,
    ) -> Outcome {
        let inner = &self.inner;
        match listing::read(dir.clone(), inner.root().to_path_buf(), inner.policy()).await {
            Ok(entries) => {
                let tag = self.inner.opts.inject.as_deref();
                Outcome::Hit(render::listing(
                    display_path,
                    entries,
                    is_root,
                    sort,
                    tag,
                    head,
                ))
            }
            Err(e) => render::io_outcome(&e, &dir, head),
        }
    }
}

/// The method and headers a file answer depends on.
struct FileRequest<'a> {
    method: &'a Method,
    headers: &'a HeaderMap,
    /// The raw query (a listing's sort order).
    query: Option<&'a str>,
}

/// Where to cache what a fresh resolution reads.
struct Slot {
    /// The request path's cache key ([`cache::route_key`]).
    route: Vec<u8>,
    /// The cache generation seen before resolving.
    generation: u64,
    /// The SPA fallback applied.
    fallback: bool,
    /// The path whose extension picked the MIME type.
    mime_path: PathBuf,
}

/// The complete 200 for `served`, when `plan` is the whole file and
/// `content` is all of it.
fn whole_file(
    served: &ServedFile,
    plan: &plan::Plan,
    content: &Bytes,
) -> Option<Response<ResponseBody>> {
    (*plan == plan::Plan::Full && content.len() as u64 == served.facts.len)
        .then(|| render::ready(served, content.clone()))
}
