//! HTML directory listings: reading a folder (blocking) and rendering it (pure).
//!
//! Only entries a request could actually reach are listed: hidden names are omitted unless
//! `show_hidden`, symlinks leading outside the root unless `follow_symlinks`, and names the
//! path rules reject (`:`, `\`, non-UTF-8, all dots) never. Links are relative (`./name`)
//! and percent-encoded, names are HTML-escaped. Each file shows its size and modification
//! time (UTC); `?sort=name|size|date` and `&order=asc|desc` sort the table (folders stay
//! first), and the column headings link to those orders.

use super::resolve::{check_segment, is_hidden, Policy, SEGMENT};
use crate::util::escape_html;
use percent_encoding::utf8_percent_encode;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

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
    /// Last modification, when the platform reports it.
    pub(crate) modified: Option<SystemTime>,
}

/// What a listing is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum SortKey {
    /// Case-insensitive name (the default).
    #[default]
    Name,
    /// Size in bytes.
    Size,
    /// Modification time.
    Date,
}

/// A listing's order: a key and a direction; folders always come first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Sort {
    /// What to sort by.
    pub(crate) key: SortKey,
    /// Largest, newest or last name first.
    pub(crate) descending: bool,
}

impl Sort {
    /// The order a query string asks for (`sort=size&order=desc`); anything unknown is the
    /// default (by name, ascending).
    pub(crate) fn from_query(query: Option<&str>) -> Sort {
        let mut sort = Sort::default();
        for pair in query.unwrap_or("").split('&') {
            match pair.split_once('=').unwrap_or((pair, "")) {
                ("sort", "name") => sort.key = SortKey::Name,
                ("sort", "size") => sort.key = SortKey::Size,
                ("sort", "date") => sort.key = SortKey::Date,
                ("order", "desc") => sort.descending = true,
                ("order", "asc") => sort.descending = false,
                _ => {}
            }
        }
        sort
    }

    fn compare(self, a: &Entry, b: &Entry) -> std::cmp::Ordering {
        let by_name = || {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then_with(|| a.name.cmp(&b.name))
        };
        let order = match self.key {
            SortKey::Name => by_name(),
            SortKey::Size => a.size.cmp(&b.size).then_with(by_name),
            SortKey::Date => a.modified.cmp(&b.modified).then_with(by_name),
        };
        let order = if self.descending {
            order.reverse()
        } else {
            order
        };
        b.is_dir.cmp(&a.is_dir).then(order)
    }

    /// The query of the heading link for `key`: the opposite direction if already sorted by it.
    fn link(self, key: SortKey) -> String {
        let name = match key {
            SortKey::Name => "name",
            SortKey::Size => "size",
            SortKey::Date => "date",
        };
        let order = if self.key == key && !self.descending {
            "desc"
        } else {
            "asc"
        };
        format!("?sort={name}&amp;order={order}")
    }
}

/// `2026-12-01 21:51` (UTC) for a time after 1970; empty otherwise.
pub(crate) fn format_time(time: Option<SystemTime>) -> String {
    let Some(secs) = time
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
    else {
        return String::new();
    };
    // Days since 1970-01-01 to a civil date (proleptic Gregorian).
    let days = i64::try_from(secs / 86_400).unwrap_or(0) + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let minutes = secs % 86_400 / 60;
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        minutes / 60,
        minutes % 60
    )
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
            modified: meta.modified().ok(),
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
/// Folders first, then files, each group in `sort` order.
pub(crate) fn render(
    display_path: &str,
    mut entries: Vec<Entry>,
    is_root: bool,
    sort: Sort,
) -> String {
    entries.sort_by(|a, b| sort.compare(a, b));
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
         td,th{{padding:.15em 1.5em .15em 0;text-align:left}}td.size{{text-align:right;color:#666}}\
         td.date{{color:#666}}a{{text-decoration:none}}a:hover{{text-decoration:underline}}\n\
         </style>\n</head>\n<body>\n<h1>Index of {title}</h1>\n<table>\n\
         <tr><th><a href=\"{}\">Name</a></th><th><a href=\"{}\">Size</a></th>\
         <th><a href=\"{}\">Modified (UTC)</a></th></tr>\n",
        sort.link(SortKey::Name),
        sort.link(SortKey::Size),
        sort.link(SortKey::Date),
    );
    if !is_root {
        html.push_str(
            "<tr><td><a href=\"../\">../</a></td><td class=\"size\"></td><td></td></tr>\n",
        );
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
            "<tr><td><a href=\"./{}{slash}\">{}{slash}</a></td><td class=\"size\">{size}</td>\
             <td class=\"date\">{}</td></tr>",
            escape_html(&href),
            escape_html(&e.name),
            format_time(e.modified),
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
            modified: None,
        }
    }

    fn at(name: &str, size: u64, secs: u64) -> Entry {
        Entry {
            modified: Some(UNIX_EPOCH + std::time::Duration::from_secs(secs)),
            ..e(name, false, size)
        }
    }

    #[test]
    fn times_are_utc_minutes() {
        assert_eq!(format_time(None), "");
        assert_eq!(format_time(Some(UNIX_EPOCH)), "1970-01-01 00:00");
        assert_eq!(
            format_time(Some(
                UNIX_EPOCH + std::time::Duration::from_secs(951_827_696)
            )),
            "2000-02-29 12:34"
        );
        assert_eq!(
            format_time(Some(
                UNIX_EPOCH + std::time::Duration::from_secs(1_796_161_877)
            )),
            "2026-12-01 21:51"
        );
    }

    #[test]
    fn the_query_picks_the_order_and_folders_stay_first() {
        let entries = || {
            vec![
                at("b.txt", 300, 10),
                at("a.txt", 200, 30),
                at("c.txt", 100, 20),
                e("zdir", true, 0),
            ]
        };
        let order = |query: &str| {
            let html = render("/", entries(), true, Sort::from_query(Some(query)));
            let mut names = ["zdir/", "a.txt", "b.txt", "c.txt"];
            names.sort_by_key(|n| html.find(&format!("\">{n}<")).expect(n));
            names.join(" ")
        };
        assert_eq!(order(""), "zdir/ a.txt b.txt c.txt");
        assert_eq!(order("sort=name&order=desc"), "zdir/ c.txt b.txt a.txt");
        assert_eq!(order("sort=size"), "zdir/ c.txt a.txt b.txt");
        assert_eq!(order("sort=size&order=desc"), "zdir/ b.txt a.txt c.txt");
        assert_eq!(order("sort=date"), "zdir/ b.txt c.txt a.txt");
        assert_eq!(order("sort=date&order=desc"), "zdir/ a.txt c.txt b.txt");
        assert_eq!(order("sort=%3Cx%3E&order=sideways"), order(""));
        let html = render("/", entries(), true, Sort::from_query(Some("sort=size")));
        assert!(
            html.contains("href=\"?sort=size&amp;order=desc\""),
            "{html}"
        );
        assert!(html.contains("href=\"?sort=name&amp;order=asc\""));
        assert!(html.contains("<td class=\"date\">1970-01-01 00:00</td>"));
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
            Sort::default(),
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
        let html = render("/", vec![], true, Sort::default());
        assert!(!html.contains("../"));
    }
}
