//! Insertion of the live-reload tag into HTML documents.
//!
//! The rule is deliberately simple and predictable: the tag goes right before the
//! **last** `</body>` (matched ASCII case-insensitively, optional whitespace before the
//! `>`), and when the document has no `</body>` at all it is appended at the end.
//! Browsers accept a script after `</html>`, so appending always works.
//!
//! The result is always exactly `html.len() + tag.len()` bytes long, which lets a HEAD
//! response announce the injected `Content-Length` without reading the file
//! (see [`injected_len`]).

/// Returns `html` with `tag` inserted before the last `</body>` (ASCII
/// case-insensitive), or with `tag` appended when there is no `</body>`.
///
/// ```
/// use devserve::inject::inject;
/// let out = inject(b"<html><body>hi</BODY></html>", "<script></script>");
/// assert_eq!(out, b"<html><body>hi<script></script></BODY></html>");
/// assert_eq!(inject(b"plain", "<x>"), b"plain<x>");
/// ```
pub fn inject(html: &[u8], tag: &str) -> Vec<u8> {
    let at = find_last_body_close(html).unwrap_or(html.len());
    let mut out = Vec::with_capacity(injected_len(html.len() as u64, tag) as usize);
    out.extend_from_slice(&html[..at]);
    out.extend_from_slice(tag.as_bytes());
    out.extend_from_slice(&html[at..]);
    out
}

/// The length of [`inject`]'s output for a document of `html_len` bytes: injection
/// always adds exactly the tag, wherever it lands.
///
/// ```
/// assert_eq!(devserve::inject::injected_len(10, "<x>"), 13);
/// ```
pub fn injected_len(html_len: u64, tag: &str) -> u64 {
    html_len.saturating_add(tag.len() as u64)
}

/// Byte offset of the `<` of the last `</body\s*>` in `html`.
fn find_last_body_close(html: &[u8]) -> Option<usize> {
    const NEEDLE: &[u8] = b"</body";
    if html.len() < NEEDLE.len() {
        return None;
    }
    (0..=html.len() - NEEDLE.len()).rev().find(|&i| {
        html[i..i + NEEDLE.len()].eq_ignore_ascii_case(NEEDLE) && {
            let rest = &html[i + NEEDLE.len()..];
            let ws = rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
            rest.get(ws) == Some(&b'>')
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAG: &str = "<script src=\"/__devserve/client.js\"></script>";

    fn inj(s: &str) -> String {
        String::from_utf8(inject(s.as_bytes(), TAG)).expect("utf8 in, utf8 out")
    }

    #[test]
    fn inserts_before_body_close() {
        assert_eq!(
            inj("<html><body><p>x</p></body></html>"),
            format!("<html><body><p>x</p>{TAG}</body></html>")
        );
    }

    #[test]
    fn case_insensitive_and_whitespace_before_gt() {
        assert_eq!(inj("a</BoDy>b"), format!("a{TAG}</BoDy>b"));
        assert_eq!(inj("a</body \n>b"), format!("a{TAG}</body \n>b"));
    }

    #[test]
    fn uses_the_last_body_close() {
        let doc = "<body><script>s='</body>'</script></body></html>";
        assert_eq!(
            inj(doc),
            format!("<body><script>s='</body>'</script>{TAG}</body></html>")
        );
    }

    #[test]
    fn appends_without_body_close() {
        assert_eq!(inj("<p>fragment"), format!("<p>fragment{TAG}"));
        assert_eq!(inj(""), TAG);
        // `</bodyx>` and an unterminated `</body` are not body-closing tags.
        assert_eq!(inj("</bodyx>"), format!("</bodyx>{TAG}"));
        assert_eq!(inj("x</body"), format!("x</body{TAG}"));
    }

    #[test]
    fn length_is_predictable() {
        for doc in ["", "</body>", "<html></html>", "</BODY></body>"] {
            assert_eq!(
                inject(doc.as_bytes(), TAG).len() as u64,
                injected_len(doc.len() as u64, TAG)
            );
        }
    }

    #[test]
    fn non_utf8_documents_are_fine() {
        let doc = b"\xff\xfe</body>\x80";
        let out = inject(doc, "T");
        assert_eq!(out, b"\xff\xfeT</body>\x80");
    }
}
