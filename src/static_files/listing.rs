//! HTML directory listings: reading a folder (blocking) and rendering it (pure).
//!
//! Only entries a request could actually reach are listed: hidden names are omitted unless
//! `show_hidden`, symlinks leading outside the root unless `follow_symlinks`, and names the
//! path rules reject (`:`, `\`, non-UTF-8, all dots) never. Links are relative (`./name`)
//! and percent-encoded, names are HTML-escaped.

use super::resolve::{check_segment, is_hidden, Policy, SEGMENT};
use crate::util::escape_html;
use percent_encoding::utf8_percent_encode;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

/// At most this many entries are rendered; a note tells how many were left out.
const MAX_ENTRIES: usize = 10_000;

/// One listed entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The file name (UTF-8, passes the segment rules).
    pub(crate) name: String,
    /// A folder (after following an allowed symlink).
    pub(crate) is_dir: bool,
    /// Size in bytes (files only).
    pub(crate) size: u64,
}

/// Read `dir` (canonical, inside `root` or reached by an allowed symlink). Blocking.
pub(crate) fn read_entries(dir: &Path, root: &Path, policy: Policy) -> io::Result<Vec<Entry>> {
    let mut out = Vec::new();
    for item in std::fs::read_dir(dir)? {
        let Ok(item) = item else { continue };
        let Ok(name) = item.file_name().into_string() else {
            continue;
        };
        if check_segment(&name).is_err() || (!policy.show_hidden && is_hidden(&name)) {
            continue;
        }
        let path = item.path();
        let is_symlink = item.file_type().is_ok_and(|t| t.is_symlink());
        if is_symlink && !policy.follow_symlinks {
            match std::fs::canonicalize(&path) {
                Ok(target) if target.starts_with(root) => {
                    let hidden = target
                        .strip_prefix(root)
                        .map(|rel| {
                            rel.components()
                                .any(|c| c.as_os_str().to_str().is_none_or(is_hidden))
                        })
                        .unwrap_or(true);
                    if hidden && !policy.show_hidden {
                        continue;
                    }
                }
                _ => continue,
            }
        }
        // Follows symlinks; broken links and special files are left out.
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if !(meta.is_dir() || meta.is_file()) {
            continue;
        }
        out.push(Entry {
            name,
            is_dir: meta.is_dir(),
            size: if meta.is_file() { meta.len() } else { 0 },
        });
    }
    Ok(out)
}

/// [`read_entries`] on the blocking pool.
pub(crate) async fn read(dir: PathBuf, root: PathBuf, policy: Policy) -> io::Result<Vec<Entry>> {
    tokio::task::spawn_blocking(move || read_entries(&dir, &root, policy))
        .await
        .unwrap_or_else(|e| Err(io::Error::other(e)))
}

/// `1023 B`, `1.0 KiB`, `3.5 MiB`, …
pub(crate) fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS.get(unit).unwrap_or(&"EiB"))
}

/// Render the listing page for the decoded request path `display_path` (e.g. `/a b/`).
/// Folders first, then files, each group sorted case-insensitively.
pub(crate) fn render(display_path: &str, mut entries: Vec<Entry>, is_root: bool) -> String {
    entries.sort_by(|a, b| {
        b.is_dir
            .cmp(&a.is_dir)
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
            .then_with(|| a.name.cmp(&b.name))
    });
    let omitted = entries.len().saturating_sub(MAX_ENTRIES);
    entries.truncate(MAX_ENTRIES);

    let title = escape_html(display_path);
    let mut html = String::with_capacity(512 + entries.len() * 128);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Index of {title}</title>\n<style>\n\
         body{{font:14px/1.5 system-ui,sans-serif;margin:2em;color:#222}}\
         h1{{font-size:1.3em;word-break:break-all}}table{{border-collapse:collapse}}\
         td{{padding:.15em 1.5em .15em 0}}td.size{{text-align:right;color:#666}}\
         a{{text-decoration:none}}a:hover{{text-decoration:underline}}\n\
         </style>\n</head>\n<body>\n<h1>Index of {title}</h1>\n<table>\n"
    );
    if !is_root {
        html.push_str("<tr><td><a href=\"../\">../</a></td><td class=\"size\"></td></tr>\n");
    }
    for e in &entries {
        let href: String = utf8_percent_encode(&e.name, SEGMENT).collect();
        let slash = if e.is_dir { "/" } else { "" };
        let size = if e.is_dir {
            String::new()
        } else {
            human_size(e.size)
        };
        let _ = writeln!(
            html,
            "<tr><td><a href=\"./{}{slash}\">{}{slash}</a></td><td class=\"size\">{size}</td></tr>",
            escape_html(&href),
            escape_html(&e.name),
        );
    }
    html.push_str("</table>\n");
    if omitted > 0 {
        let _ = writeln!(html, "<p>… and {omitted} more entries not shown.</p>");
    }
    html.push_str("</body>\n</html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(name: &str, is_dir: bool, size: u64) -> Entry {
        Entry {
            name: name.into(),
            is_dir,
            size,
        }
    }

    #[test]
    fn escaping() {
        assert_eq!(
            escape_html("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1024), "1.0 KiB");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(1 << 20), "1.0 MiB");
        assert_eq!(human_size(5 << 30), "5.0 GiB");
    }

    #[test]
    fn render_orders_escapes_and_encodes() {
        let html = render(
            "/a <b>/",
            vec![
                e("zeta.txt", false, 10),
                e("<script>alert(1)</script>.html", false, 2048),
                e("Beta", true, 0),
                e("alpha", true, 0),
                e("a b#?.txt", false, 1),
                e("été.txt", false, 1),
            ],
            false,
        );
        assert!(html.contains("<title>Index of /a &lt;b&gt;/</title>"));
        assert!(!html.contains("<script>alert"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;.html"));
        assert!(html.contains("href=\"./%3Cscript%3Ealert%281%29%3C%2Fscript%3E.html\""));
        assert!(html.contains("href=\"./a%20b%23%3F.txt\""));
        assert!(html.contains("href=\"./%C3%A9t%C3%A9.txt\""));
        assert!(html.contains("href=\"../\""));
        assert!(html.contains("2.0 KiB"));
        let pos = |s: &str| html.find(s).expect(s);
        // folders first (case-insensitive), then files
        assert!(pos("./alpha/") < pos("./Beta/"));
        assert!(pos("./Beta/") < pos("./a%20b"));
        assert!(pos("./a%20b") < pos("./zeta.txt"));
    }

    #[test]
    fn root_has_no_parent_link() {
        let html = render("/", vec![], true);
        assert!(!html.contains("../"));
    }
}
