//! Small helpers shared across the dev server (outside `sockjs`, which keeps its own).

use crate::body::{self, ResponseBody};
use http::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use http::{Response, StatusCode};
use std::hash::Hasher;
use std::sync::{Mutex, MutexGuard};

/// Lock `mutex`, carrying on with the data when a holder panicked: every
/// value devserve keeps behind a mutex stays consistent between statements.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// 64-bit FNV-1a over `parts`, each followed by a NUL separator: a small,
/// stable, non-cryptographic hash for ETags and cache keys.
pub(crate) fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut hasher = Fnv::default();
    for part in parts {
        hasher.write(part);
        hasher.write(&[0]);
    }
    hasher.finish()
}

/// The FNV-1a state behind [`fnv1a`].
#[derive(Debug, Clone, Copy)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The one value of a header that must not repeat; absent, repeated or
/// non-ASCII → `None`.
pub(crate) fn single_header<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    let mut all = headers.get_all(name).iter();
    let value = all.next()?;
    if all.next().is_some() {
        return None;
    }
    value.to_str().ok()
}

/// A short `text/plain` response: `message` and a newline.
pub(crate) fn plain_text(status: StatusCode, message: &str) -> Response<ResponseBody> {
    let mut response = Response::new(body::full(format!("{message}\n")));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// `text` with `& < > " '` escaped, safe inside HTML text and quoted attributes.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_separates_parts() {
        assert_ne!(fnv1a(&[b"ab", b"c"]), fnv1a(&[b"a", b"bc"]));
        assert_eq!(fnv1a(&[b"x"]), fnv1a(&[b"x"]));
    }

    #[test]
    fn single_header_refuses_repeats() {
        let mut headers = HeaderMap::new();
        assert_eq!(single_header(&headers, &CONTENT_TYPE), None);
        headers.append(CONTENT_TYPE, HeaderValue::from_static("a"));
        assert_eq!(single_header(&headers, &CONTENT_TYPE), Some("a"));
        headers.append(CONTENT_TYPE, HeaderValue::from_static("b"));
        assert_eq!(single_header(&headers, &CONTENT_TYPE), None);
    }

    #[test]
    fn escape_html_escapes_markup() {
        assert_eq!(
            escape_html(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn lock_survives_a_poisoned_mutex() {
        let mutex = std::sync::Arc::new(Mutex::new(1));
        let clone = mutex.clone();
        let _ = std::thread::spawn(move || {
            let _guard = clone.lock().unwrap();
            panic!("poison it");
        })
        .join();
        assert_eq!(*lock(&mutex), 1);
    }
}
