//! Request path → file-system decision.
//!
//! Layered defences, in this order (each layer alone would stop a traversal):
//!
//! 1. **Lexical** ([`parse_path`], pure): the raw `uri.path()` must start with `/`; every
//!    segment is percent-decoded exactly once; malformed escapes, invalid UTF-8, `.`/`..`
//!    (and any all-dots segment), and segments that decode to contain `/`, `\`, `:` or NUL are
//!    rejected (→ 400). `:` also rules out drive prefixes (`C:`) and NTFS streams; `\` rules
//!    out UNC paths. Empty segments (`//`) are dropped, so no segment is ever absolute and
//!    `PathBuf::join` can never replace the root.
//! 2. **Hidden** names: any segment starting with `.` → 404 unless `show_hidden`.
//! 3. **Containment**: the candidate is canonicalised and must lie inside the canonical root;
//!    a symlink leading out → 404 unless `follow_symlinks`. A symlink inside the root that
//!    points at a hidden name is hidden too.
//! 4. Only regular files and directories are served (FIFOs, sockets and devices → 404).
//!
//! [`resolve`] returns a [`Resolution`]; `mod.rs` turns it into an outcome and only
//! `render` builds HTTP.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::fs::Metadata;
use std::io;
use std::path::{Component, Path, PathBuf};

/// Characters percent-encoded in a URL path segment that devserve generates (redirect
/// `Location`s, listing links, [`super::StaticFiles::url_path_for`]): everything but the RFC 3986
/// unreserved set, so the output is unambiguous and can never contain `/`, `\`, `:`, `?`, `#`.
pub(crate) const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A lexically validated request path: decoded, non-empty, single-component segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RequestPath {
    /// Decoded segments; empty segments (`//`) have been dropped.
    pub(crate) segments: Vec<String>,
    /// The raw path ended with `/` (always true for `/`).
    pub(crate) trailing_slash: bool,
}

impl RequestPath {
    /// The decoded path for display, e.g. `/a b/c/` (not for use in URLs).
    pub(crate) fn display(&self) -> String {
        let mut s = String::from("/");
        s.push_str(&self.segments.join("/"));
        if self.trailing_slash && !self.segments.is_empty() {
            s.push('/');
        }
        s
    }

    /// The normalised, percent-encoded path (`/a%20b/c`), starting with exactly one `/`.
    pub(crate) fn encoded(&self) -> String {
        let mut s = String::new();
        for seg in &self.segments {
            s.push('/');
            s.extend(utf8_percent_encode(seg, SEGMENT));
        }
        if s.is_empty() {
            s.push('/');
        }
        s
    }
}

/// Why a raw path was refused before touching the file system (all → 400).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BadPath {
    /// The path does not start with `/` (e.g. `*` or an empty path).
    NotAbsolute,
    /// A `%` not followed by two hex digits.
    BadEscape,
    /// A segment decodes to bytes that are not UTF-8.
    InvalidUtf8,
    /// A `.`, `..` or other all-dots segment.
    DotSegment,
    /// A segment decodes to contain `/` or `\`.
    Separator,
    /// A segment contains `:` (drive prefix, URL scheme, NTFS stream).
    Colon,
    /// A segment contains NUL.
    Nul,
    /// A name Windows treats specially (device names, trailing dot or space).
    WindowsName,
}

impl BadPath {
    /// A short human-readable reason, safe to show (contains no request bytes).
    pub(crate) fn reason(self) -> &'static str {
        match self {
            BadPath::NotAbsolute => "the path must start with /",
            BadPath::BadEscape => "malformed percent-escape",
            BadPath::InvalidUtf8 => "the path is not valid UTF-8",
            BadPath::DotSegment => "dot segments are not allowed",
            BadPath::Separator => "encoded path separators are not allowed",
            BadPath::Colon => "':' is not allowed in a path segment",
            BadPath::Nul => "NUL is not allowed in a path",
            BadPath::WindowsName => "reserved file name",
        }
    }
}

/// Lexical validation of a raw `uri.path()`; pure, no file-system access.
pub(crate) fn parse_path(raw: &str) -> Result<RequestPath, BadPath> {
    if !raw.starts_with('/') {
        return Err(BadPath::NotAbsolute);
    }
    let mut segments = Vec::new();
    for raw_seg in raw.split('/') {
        if raw_seg.is_empty() {
            continue;
        }
        segments.push(decode_segment(raw_seg)?);
    }
    Ok(RequestPath {
        segments,
        trailing_slash: raw.ends_with('/'),
    })
}

fn decode_segment(raw_seg: &str) -> Result<String, BadPath> {
    let bytes = raw_seg.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'%'
            && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return Err(BadPath::BadEscape);
        }
    }
    let decoded: Vec<u8> = percent_decode_str(raw_seg).collect();
    let seg = String::from_utf8(decoded).map_err(|_| BadPath::InvalidUtf8)?;
    check_segment(&seg)?;
    Ok(seg)
}

/// The rules a decoded segment (or a file name offered in a listing) must satisfy.
pub(crate) fn check_segment(seg: &str) -> Result<(), BadPath> {
    if seg.is_empty() || seg.bytes().all(|b| b == b'.') {
        return Err(BadPath::DotSegment);
    }
    if seg.contains(['/', '\\']) {
        return Err(BadPath::Separator);
    }
    if seg.contains(':') {
        return Err(BadPath::Colon);
    }
    if seg.contains('\0') {
        return Err(BadPath::Nul);
    }
    if cfg!(windows) && is_windows_special(seg) {
        return Err(BadPath::WindowsName);
    }
    // Belt and braces: the segment must be exactly one normal component on this platform.
    let mut comps = Path::new(seg).components();
    match (comps.next(), comps.next()) {
        (Some(Component::Normal(_)), None) => Ok(()),
        _ => Err(BadPath::Separator),
    }
}

/// Windows device names (`CON`, `nul.txt`, `COM1`…) and names Windows silently rewrites
/// (trailing `.` or space). Checked on Windows only; exposed for tests everywhere.
pub(crate) fn is_windows_special(seg: &str) -> bool {
    if seg.ends_with(['.', ' ']) {
        return true;
    }
    let stem = seg.split('.').next().unwrap_or(seg).trim_end();
    let upper = stem.to_ascii_uppercase();
    matches!(
        upper.as_str(),
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$"
    ) || ((upper.starts_with("COM") || upper.starts_with("LPT"))
        && upper.len() == 4
        && upper.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
}

/// A segment name that is hidden by default.
pub(crate) fn is_hidden(name: &str) -> bool {
    name.starts_with('.')
}

/// The percent-encoded URL path of `rel`, a path relative to the root (`/` for the root
/// itself); `None` when a component is hidden (unless `show_hidden`), not a plain name, or
/// a name no request could reach. Lexical only.
pub(crate) fn url_path(rel: &Path, show_hidden: bool) -> Option<String> {
    let mut out = String::new();
    for comp in rel.components() {
        match comp {
            Component::CurDir => {}
            Component::Normal(name) => {
                let name = name.to_str()?;
                check_segment(name).ok()?;
                if !show_hidden && is_hidden(name) {
                    return None;
                }
                out.push('/');
                out.extend(utf8_percent_encode(name, SEGMENT));
            }
            _ => return None,
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    Some(out)
}

/// Whether a request's `Accept` header leaves room for HTML (absent → yes). Used to keep the
/// SPA fallback away from `fetch("/api/x", {headers: {accept: "application/json"}})`.
pub(crate) fn accepts_html(accept: Option<&str>) -> bool {
    let Some(accept) = accept else { return true };
    if accept.trim().is_empty() {
        return true;
    }
    accept.split(',').any(|range| {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q_zero = parts.any(|p| {
            let p = p.trim();
            p.get(..2).is_some_and(|k| k.eq_ignore_ascii_case("q="))
                && p.get(2..)
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
        });
        !q_zero && matches!(media.as_str(), "text/html" | "text/*" | "*/*")
    })
}

/// The access policy that resolution applies.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    /// Serve names starting with `.`.
    pub(crate) show_hidden: bool,
    /// Allow symlinks that lead outside the root.
    pub(crate) follow_symlinks: bool,
    /// Render a listing for folders without `index.html`.
    pub(crate) listing: bool,
}

/// What a request path resolves to. Rendering is `render`'s job.
#[derive(Debug)]
pub(crate) enum Resolution {
    /// A regular file to serve.
    File {
        /// Canonical path to open.
        path: PathBuf,
        /// The path as requested (or `index.html`), whose extension picks the MIME type.
        mime_path: PathBuf,
        /// The stat snapshot used for validators and `Content-Length`.
        meta: Metadata,
        /// Served by the SPA fallback (the path itself matched nothing).
        fallback: bool,
    },
    /// A folder without `index.html`, listing enabled.
    Directory {
        /// Canonical folder path.
        dir: PathBuf,
        /// The validated request path (for the title and parent link).
        request: RequestPath,
    },
    /// A folder requested without its trailing slash; `location` is safe to send.
    Redirect {
        /// `/dir/` (percent-encoded, never `//` or `/\`), plus the original query.
        location: String,
    },
    /// Nothing to serve (also: hidden, outside the root, not a regular file).
    NotFound,
    /// The file system refused access (permission denied).
    Forbidden,
    /// The path was lexically invalid.
    BadRequest(BadPath),
}

/// Why [`locate`] did not produce a servable entry.
#[derive(Debug)]
enum Miss {
    /// Nothing there (or unresolvable: ENOTDIR, ELOOP, ENAMETOOLONG…).
    Absent,
    /// Exists but is hidden, escapes the root, or is not a file/folder.
    Denied,
    /// Permission denied.
    Forbidden,
}

/// Resolve `raw_path` under the canonical `root`. Blocking (stats the file system); call it
/// from `spawn_blocking`. `spa` enables the history fallback to `/index.html` for missing
/// extension-less paths (the caller has checked method and `Accept`).
pub(crate) fn resolve(
    root: &Path,
    raw_path: &str,
    query: Option<&str>,
    policy: Policy,
    spa: bool,
) -> Resolution {
    let request = match parse_path(raw_path) {
        Ok(r) => r,
        Err(bad) => return Resolution::BadRequest(bad),
    };
    if !policy.show_hidden && request.segments.iter().any(|s| is_hidden(s)) {
        return Resolution::NotFound;
    }
    let mut candidate = root.to_path_buf();
    for seg in &request.segments {
        candidate.push(seg);
    }
    match locate(root, &candidate, policy) {
        Ok((path, meta)) if meta.is_file() => {
            if request.trailing_slash {
                // `/file.txt/`: a file is not a folder.
                Resolution::NotFound
            } else {
                Resolution::File {
                    path,
                    mime_path: candidate,
                    meta,
                    fallback: false,
                }
            }
        }
        Ok((dir, _)) => {
            if !request.trailing_slash {
                let mut location = request.encoded();
                location.push('/');
                if let Some(q) = query {
                    location.push('?');
                    location.push_str(q);
                }
                return Resolution::Redirect { location };
            }
            let index = dir.join("index.html");
            match locate(root, &index, policy) {
                Ok((path, meta)) if meta.is_file() => Resolution::File {
                    path,
                    mime_path: index,
                    meta,
                    fallback: false,
                },
                Err(Miss::Forbidden) => Resolution::Forbidden,
                _ if policy.listing => Resolution::Directory { dir, request },
                _ => Resolution::NotFound,
            }
        }
        Err(Miss::Forbidden) => Resolution::Forbidden,
        Err(Miss::Denied) => Resolution::NotFound,
        Err(Miss::Absent) if spa => spa_fallback(root, &request, policy),
        Err(Miss::Absent) => Resolution::NotFound,
    }
}

/// The history fallback for a missing path: `/index.html` when the last segment has no
/// extension and the root has one, else nothing.
fn spa_fallback(root: &Path, request: &RequestPath, policy: Policy) -> Resolution {
    let extensionless = request
        .segments
        .last()
        .is_none_or(|s| Path::new(s).extension().is_none());
    if extensionless {
        let index = root.join("index.html");
        if let Ok((path, meta)) = locate(root, &index, policy) {
            if meta.is_file() {
                return Resolution::File {
                    path,
                    mime_path: index,
                    meta,
                    fallback: true,
                };
            }
        }
    }
    Resolution::NotFound
}

/// Canonicalise `candidate`, enforce containment and the hidden rule on the real path,
/// and stat it. Only regular files and folders are returned.
fn locate(root: &Path, candidate: &Path, policy: Policy) -> Result<(PathBuf, Metadata), Miss> {
    let canonical = std::fs::canonicalize(candidate).map_err(io_miss)?;
    match canonical.strip_prefix(root) {
        Ok(rel) => {
            if !policy.show_hidden
                && rel
                    .components()
                    .any(|c| c.as_os_str().to_str().is_none_or(is_hidden))
            {
                tracing::debug!(path = %candidate.display(), "resolves to a hidden name");
                return Err(Miss::Denied);
            }
        }
        Err(_) => {
            if !policy.follow_symlinks {
                tracing::debug!(path = %candidate.display(), "symlink leads outside the root");
                return Err(Miss::Denied);
            }
            let hidden_target = canonical
                .file_name()
                .is_some_and(|n| n.to_str().is_none_or(is_hidden));
            if !policy.show_hidden && hidden_target {
                return Err(Miss::Denied);
            }
        }
    }
    let meta = std::fs::metadata(&canonical).map_err(io_miss)?;
    if meta.is_file() || meta.is_dir() {
        Ok((canonical, meta))
    } else {
        Err(Miss::Denied)
    }
}

fn io_miss(e: io::Error) -> Miss {
    if e.kind() == io::ErrorKind::PermissionDenied {
        Miss::Forbidden
    } else {
        Miss::Absent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(raw: &str) -> Vec<String> {
        parse_path(raw).expect("valid path").segments
    }

    #[test]
    fn plain_paths() {
        assert_eq!(segs("/"), Vec::<String>::new());
        assert!(parse_path("/").expect("root").trailing_slash);
        assert_eq!(segs("/css/site.css"), ["css", "site.css"]);
        assert!(!parse_path("/css").expect("css").trailing_slash);
        assert!(parse_path("/css/").expect("css/").trailing_slash);
    }

    #[test]
    fn decoding_happens_once() {
        assert_eq!(segs("/a%20b.txt"), ["a b.txt"]);
        assert_eq!(segs("/%C3%A9t%C3%A9.txt"), ["été.txt"]);
        assert_eq!(segs("/été.txt"), ["été.txt"]);
        // `%252e%252e` decodes once to the literal name `%2e%2e`, which is harmless.
        assert_eq!(segs("/%252e%252e/x"), ["%2e%2e", "x"]);
    }

    #[test]
    fn empty_segments_collapse_never_absolute() {
        assert_eq!(segs("//etc/passwd"), ["etc", "passwd"]);
        assert_eq!(segs("///a//b"), ["a", "b"]);
        let p = parse_path("//etc/").expect("collapsed");
        assert_eq!(p.encoded(), "/etc");
    }

    #[test]
    fn traversal_is_rejected() {
        for raw in [
            "/../etc/passwd",
            "/a/../../x",
            "/%2e%2e/x",
            "/%2E%2e/x",
            "/.%2e/x",
            "/a/./b",
            "/.",
            "/...",
            "/.env/.",
        ] {
            assert_eq!(parse_path(raw), Err(BadPath::DotSegment), "{raw}");
        }
    }

    #[test]
    fn encoded_separators_are_rejected() {
        for raw in [
            "/..%2f..%2fetc/passwd",
            "/a%2Fb",
            "/..\\..\\etc",
            "/%5c../x",
            "/a%5Cb",
            "/\\\\server\\share",
        ] {
            assert_eq!(parse_path(raw), Err(BadPath::Separator), "{raw}");
        }
    }

    #[test]
    fn drive_nul_utf8_escapes() {
        assert_eq!(parse_path("/C:/Windows"), Err(BadPath::Colon));
        assert_eq!(parse_path("/c%3a/x"), Err(BadPath::Colon));
        assert_eq!(parse_path("/index.html::$DATA"), Err(BadPath::Colon));
        assert_eq!(parse_path("/a%00.js"), Err(BadPath::Nul));
        assert_eq!(parse_path("/%FF"), Err(BadPath::InvalidUtf8));
        assert_eq!(parse_path("/%C3"), Err(BadPath::InvalidUtf8));
        assert_eq!(parse_path("/%zz"), Err(BadPath::BadEscape));
        assert_eq!(parse_path("/100%"), Err(BadPath::BadEscape));
        assert_eq!(parse_path("/a%2"), Err(BadPath::BadEscape));
        assert_eq!(parse_path("etc/passwd"), Err(BadPath::NotAbsolute));
        assert_eq!(parse_path("*"), Err(BadPath::NotAbsolute));
        assert_eq!(parse_path(""), Err(BadPath::NotAbsolute));
    }

    #[test]
    fn windows_names() {
        for n in ["CON", "con.txt", "Nul", "COM1", "lpt9.log", "a.", "a "] {
            assert!(is_windows_special(n), "{n}");
        }
        for n in ["console.txt", "COM", "COMX", "index.html", "con-x"] {
            assert!(!is_windows_special(n), "{n}");
        }
    }

    #[test]
    fn encoded_form_is_safe_for_location() {
        let p = parse_path("/a%20b/%C3%A9/x%3Fy%23z").expect("valid");
        assert_eq!(p.encoded(), "/a%20b/%C3%A9/x%3Fy%23z");
        assert_eq!(p.display(), "/a b/é/x?y#z");
        assert_eq!(parse_path("/").expect("root").encoded(), "/");
    }

    #[test]
    fn hidden_names() {
        assert!(is_hidden(".env"));
        assert!(is_hidden(".git"));
        assert!(!is_hidden("a.env"));
    }

    #[test]
    fn accept_negotiation() {
        assert!(accepts_html(None));
        assert!(accepts_html(Some("")));
        assert!(accepts_html(Some(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        )));
        assert!(accepts_html(Some("*/*")));
        assert!(accepts_html(Some("text/*")));
        assert!(!accepts_html(Some("application/json")));
        assert!(!accepts_html(Some("image/avif,image/webp")));
        assert!(!accepts_html(Some("text/html;q=0, application/json")));
        assert!(accepts_html(Some("TEXT/HTML; q=0.5")));
    }

    fn policy() -> Policy {
        Policy {
            show_hidden: false,
            follow_symlinks: false,
            listing: true,
        }
    }

    #[test]
    fn resolves_against_a_real_tree() -> io::Result<()> {
        let tmp = tempfile::tempdir()?;
        let root = tmp.path().join("root");
        std::fs::create_dir_all(root.join("sub"))?;
        std::fs::create_dir_all(root.join("site"))?;
        std::fs::write(root.join("index.html"), "<h1>home</h1>")?;
        std::fs::write(root.join("site/index.html"), "site")?;
        std::fs::write(root.join("a.txt"), "a")?;
        std::fs::write(root.join(".env"), "SECRET")?;
        let root = std::fs::canonicalize(&root)?;
        let r = |raw: &str, q: Option<&str>, spa: bool| resolve(&root, raw, q, policy(), spa);

        assert!(matches!(r("/a.txt", None, false), Resolution::File { .. }));
        assert!(matches!(r("/a.txt/", None, false), Resolution::NotFound));
        assert!(matches!(r("/.env", None, false), Resolution::NotFound));
        assert!(matches!(r("/../x", None, false), Resolution::BadRequest(_)));
        assert!(matches!(
            r("/sub/", None, false),
            Resolution::Directory { .. }
        ));
        match r("/site/", None, false) {
            Resolution::File { path, .. } => assert!(path.ends_with("site/index.html")),
            other => panic!("unexpected {other:?}"),
        }
        match r("//sub", Some("a=1&b"), false) {
            Resolution::Redirect { location } => assert_eq!(location, "/sub/?a=1&b"),
            other => panic!("unexpected {other:?}"),
        }
        // SPA: only extension-less misses, never hidden ones.
        assert!(matches!(
            r("/app/route", None, true),
            Resolution::File { .. }
        ));
        assert!(matches!(r("/missing.js", None, true), Resolution::NotFound));
        assert!(matches!(r("/.env2", None, true), Resolution::NotFound));
        assert!(matches!(r("/app/route", None, false), Resolution::NotFound));

        let no_listing = Policy {
            listing: false,
            ..policy()
        };
        assert!(matches!(
            resolve(&root, "/sub/", None, no_listing, false),
            Resolution::NotFound
        ));
        Ok(())
    }
}

#[cfg(test)]
mod properties {
    //! Whatever the request path, resolution never leaves the root.
    use super::*;
    use proptest::prelude::*;

    /// Pieces hostile paths are made of.
    fn piece() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "/",
            "//",
            ".",
            "..",
            "%2e",
            "%2E%2e",
            "%2f",
            "%2F",
            "%5c",
            "\\",
            "%00",
            ":",
            "C:",
            "a",
            "dir",
            "index.html",
            "link",
            ".env",
            "%",
            "%zz",
            "%ff",
            "~",
            "é",
            "%c3%a9",
            "?",
            "#",
            "out",
        ])
    }

    /// One fixture for every case: a root with a dotfile and a symlink out.
    fn fixture() -> &'static (tempfile::TempDir, PathBuf) {
        static FIXTURE: std::sync::OnceLock<(tempfile::TempDir, PathBuf)> =
            std::sync::OnceLock::new();
        FIXTURE.get_or_init(make_fixture)
    }

    fn make_fixture() -> (tempfile::TempDir, PathBuf) {
        let outer = tempfile::tempdir().expect("temp dir");
        let root = outer.path().join("root");
        std::fs::create_dir_all(root.join("dir")).expect("dir");
        std::fs::write(root.join("index.html"), "home").expect("file");
        std::fs::write(root.join("dir/a"), "a").expect("file");
        std::fs::write(root.join(".env"), "secret").expect("file");
        std::fs::write(outer.path().join("out"), "secret").expect("file");
        #[cfg(unix)]
        std::os::unix::fs::symlink(outer.path().join("out"), root.join("link")).expect("symlink");
        let root = root.canonicalize().expect("canonical root");
        (outer, root)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn resolved_paths_stay_inside_the_root(pieces in prop::collection::vec(piece(), 0..10)) {
            let (_, root) = fixture();
            let raw = format!("/{}", pieces.concat());
            let policy = Policy { show_hidden: false, follow_symlinks: false, listing: true };
            match resolve(root, &raw, None, policy, false) {
                Resolution::File { path, .. } => {
                    prop_assert!(path.starts_with(root), "{raw} -> {}", path.display());
                    prop_assert!(!path.ends_with(".env"), "{raw} served a dotfile");
                }
                Resolution::Directory { dir, .. } => prop_assert!(dir.starts_with(root), "{raw}"),
                Resolution::Redirect { location } => {
                    prop_assert!(location.starts_with('/'), "{location}");
                    prop_assert!(!location.starts_with("//") && !location.starts_with("/\\"), "{raw} -> {location}");
                }
                Resolution::NotFound | Resolution::Forbidden | Resolution::BadRequest(_) => {}
            }
        }

        #[test]
        fn equal_route_keys_mean_equal_parses(a in "/[a/%2fF5.]{0,10}", b in "/[a/%2fF5.]{0,10}") {
            if let (Some(ka), Some(kb)) = (crate::static_files::cache::route_key(&a), crate::static_files::cache::route_key(&b)) {
                if ka == kb {
                    prop_assert_eq!(parse_path(&a), parse_path(&b), "{} vs {}", a, b);
                }
            }
            if crate::static_files::cache::route_key(&a).is_none() {
                prop_assert!(parse_path(&a).is_err(), "{} has no key but parses", a);
            }
        }

        #[test]
        fn parsed_paths_have_only_plain_segments(raw in "/[a-z%./\\\\:0-9A-F]{0,24}") {
            if let Ok(request) = parse_path(&raw) {
                for segment in &request.segments {
                    prop_assert!(!segment.is_empty() && segment != "." && segment != "..", "{raw}: {segment:?}");
                    prop_assert!(!segment.contains(['/', '\\', ':', '\0']), "{raw}: {segment:?}");
                }
                prop_assert!(!request.encoded().starts_with("//"));
            }
        }
    }
}
