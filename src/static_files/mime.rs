//! `Content-Type` selection: `mime_guess` plus an override table for web-dev files.
//!
//! Decisions:
//! * `.js .mjs .cjs` → `text/javascript` (the HTML spec's one true JS type).
//! * `.ts .tsx .mts .cts .jsx` → `text/plain`: browsers cannot run them, and a module script
//!   served as `text/plain` fails with a clear "strict MIME type" console error instead of a
//!   confusing syntax error; viewing the file in a tab still shows the source.
//!   (`mime_guess` says `video/vnd.dlna.mpeg-tts` for `.ts`.)
//! * `.map` → `application/json`, `.wasm` → `application/wasm` (needed by
//!   `WebAssembly.instantiateStreaming`), `.webmanifest` → `application/manifest+json`.
//! * Unknown extensions (and `.vue`) → `application/octet-stream`.
//! * `; charset=utf-8` is added to `text/*`, JavaScript, JSON, XML and SVG (`+json`, `+xml`).

use std::path::Path;

/// The override table, checked before `mime_guess` (extensions lower-cased).
fn override_for(ext: &str) -> Option<&'static str> {
    Some(match ext {
        "js" | "mjs" | "cjs" => "text/javascript",
        "ts" | "tsx" | "mts" | "cts" | "jsx" => "text/plain",
        "map" | "json" => "application/json",
        "wasm" => "application/wasm",
        "webmanifest" => "application/manifest+json",
        "html" | "htm" => "text/html",
        "css" => "text/css",
        "svg" => "image/svg+xml",
        "vue" => "application/octet-stream",
        _ => return None,
    })
}

fn wants_charset(essence: &str) -> bool {
    essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || matches!(
            essence,
            "application/javascript" | "application/json" | "application/xml"
        )
}

/// The full `Content-Type` value for a file path, e.g. `text/css; charset=utf-8`.
pub(crate) fn content_type(path: &Path) -> String {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let essence: String = match ext.as_deref().and_then(override_for) {
        Some(m) => m.to_owned(),
        None => match ext.as_deref().and_then(|e| mime_guess::from_ext(e).first()) {
            Some(m) if m.params().next().is_none() => m.essence_str().to_owned(),
            Some(m) => return m.to_string(),
            None => "application/octet-stream".to_owned(),
        },
    };
    if wants_charset(&essence) {
        format!("{essence}; charset=utf-8")
    } else {
        essence
    }
}

/// Whether a `Content-Type` value is HTML (the injection target).
pub(crate) fn is_html(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|e| e.trim().eq_ignore_ascii_case("text/html"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ct(name: &str) -> String {
        content_type(Path::new(name))
    }

    #[test]
    fn overrides() {
        assert_eq!(ct("a.js"), "text/javascript; charset=utf-8");
        assert_eq!(ct("a.MJS"), "text/javascript; charset=utf-8");
        assert_eq!(ct("a.cjs"), "text/javascript; charset=utf-8");
        assert_eq!(ct("a.ts"), "text/plain; charset=utf-8");
        assert_eq!(ct("a.tsx"), "text/plain; charset=utf-8");
        assert_eq!(ct("a.mts"), "text/plain; charset=utf-8");
        assert_eq!(ct("a.js.map"), "application/json; charset=utf-8");
        assert_eq!(ct("a.json"), "application/json; charset=utf-8");
        assert_eq!(ct("a.wasm"), "application/wasm");
        assert_eq!(
            ct("site.webmanifest"),
            "application/manifest+json; charset=utf-8"
        );
        assert_eq!(ct("App.vue"), "application/octet-stream");
    }

    #[test]
    fn guessed_and_fallback() {
        assert_eq!(ct("index.html"), "text/html; charset=utf-8");
        assert_eq!(ct("INDEX.HTM"), "text/html; charset=utf-8");
        assert_eq!(ct("s.css"), "text/css; charset=utf-8");
        assert_eq!(ct("i.svg"), "image/svg+xml; charset=utf-8");
        assert_eq!(ct("d.xml"), "text/xml; charset=utf-8");
        assert_eq!(ct("p.png"), "image/png");
        assert_eq!(ct("f.woff2"), "font/woff2");
        assert_eq!(ct("README"), "application/octet-stream");
        assert_eq!(ct("x.unknownext"), "application/octet-stream");
        assert_eq!(ct(".env"), "application/octet-stream");
    }

    #[test]
    fn html_detection() {
        assert!(is_html("text/html; charset=utf-8"));
        assert!(is_html("TEXT/HTML"));
        assert!(!is_html("application/xhtml+xml"));
        assert!(!is_html("text/plain"));
    }
}
