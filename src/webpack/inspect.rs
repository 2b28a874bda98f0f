//! What a file in a change set is, as far as webpack is concerned: read
//! from disk, decided by plain functions over its name and text.

use crate::hub::BuildStatus;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Where webpack 5 (development mode) writes the compilation hash in its runtime.
const FULL_HASH_MARKER: &str = "__webpack_require__.h = () => (\"";
/// Where an HMR runtime names its update manifests (`"<prefix>" + hash + ".hot-update.json"`).
const MANIFEST_MARKER: &str = "__webpack_require__.hmrF = () => (\"";
/// How much of a JavaScript file's head is read to recognise a webpack bundle.
const HEAD: usize = 4096;
/// The file a webpack build is told to write its stats to (`hash`, `errors`, `warnings`).
pub(crate) const STATS_FILE: &str = "stats.json";

/// What one path holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Look {
    /// Not webpack output.
    Other,
    /// An empty script: webpack truncates a file before writing it, so it
    /// may be a bundle being written.
    Empty,
    /// A bundle or chunk (`webpackBootstrap`/`webpackChunk` in its head).
    Bundle(Script),
    /// A hot-update chunk (`*.hot-update.js`).
    HotChunk(Script),
    /// A hot-update manifest (`<runtime>.<previous hash>.hot-update.json`):
    /// the hot-update chunks it names, `None` while it does not parse.
    HotManifest(Option<Vec<PathBuf>>),
    /// webpack's stats file; `None` while it does not parse.
    Stats(Option<Stats>),
}

impl Look {
    /// Whether this is webpack output at all.
    pub(crate) fn is_webpack(&self) -> bool {
        !matches!(self, Look::Other)
    }
}

/// A script webpack wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Script {
    /// The compilation hash its runtime carries, if it carries the runtime.
    pub(crate) hash: Option<String>,
    /// Whether it ends the way webpack ends the file (not cut short).
    pub(crate) complete: bool,
    /// With an HMR runtime: the manifest name before the hash (`main.`).
    pub(crate) manifest_prefix: Option<String>,
}

/// A build as webpack's stats file reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stats {
    /// The compilation hash.
    pub(crate) hash: String,
    /// The result.
    pub(crate) status: BuildStatus,
}

/// Reads what the holding logic needs; tests give their own.
pub(crate) trait Files {
    /// What `path` holds now.
    fn look(&self, path: &Path) -> Look;
    /// Whether `path` exists now.
    fn exists(&self, path: &Path) -> bool;
}

/// The real file system.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Disk;

impl Files for Disk {
    fn look(&self, path: &Path) -> Look {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let kind = kind_of(name);
        if kind == Kind::Other {
            return Look::Other;
        }
        if kind == Kind::Script && std::fs::metadata(path).is_ok_and(|m| m.len() == 0) {
            return Look::Empty;
        }
        if kind == Kind::Script && !head_is_webpack(path) {
            // Most scripts are not webpack's: their head is all that is read.
            return Look::Other;
        }
        match std::fs::read_to_string(path) {
            Ok(text) => look_at(path, kind, &text),
            // Gone, or not text: not a build file worth waiting for.
            Err(_) => Look::Other,
        }
    }

    fn exists(&self, path: &Path) -> bool {
        path.is_file()
    }
}

/// Whether the first bytes of the script at `path` are a webpack bundle's.
fn head_is_webpack(path: &Path) -> bool {
    use std::io::Read;
    let mut head = Vec::with_capacity(HEAD);
    let read = std::fs::File::open(path).and_then(|f| f.take(HEAD as u64).read_to_end(&mut head));
    read.is_ok() && is_webpack_head(&String::from_utf8_lossy(&head))
}

/// What a file name says before its content is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Script,
    HotChunk,
    HotManifest,
    Stats,
    Other,
}

/// The kind a file `name` may be.
pub(crate) fn kind_of(name: &str) -> Kind {
    if name.ends_with(".hot-update.json") {
        Kind::HotManifest
    } else if name.ends_with(".hot-update.js") {
        Kind::HotChunk
    } else if name == STATS_FILE {
        Kind::Stats
    } else if name.ends_with(".js") {
        Kind::Script
    } else {
        Kind::Other
    }
}

/// What `text`, the content of `path` of kind `kind`, is.
pub(crate) fn look_at(path: &Path, kind: Kind, text: &str) -> Look {
    match kind {
        Kind::Other => Look::Other,
        Kind::Script if text.is_empty() => Look::Empty,
        Kind::Script if !is_webpack_head(text) => Look::Other,
        Kind::Script => Look::Bundle(script(text, bundle_ends)),
        Kind::HotChunk => Look::HotChunk(script(text, |t| t.ends_with("\n);"))),
        Kind::HotManifest => Look::HotManifest(manifest_chunks(path, text)),
        Kind::Stats => Look::Stats(parse_stats(text)),
    }
}

fn is_webpack_head(text: &str) -> bool {
    let mut end = text.len().min(HEAD);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = &text[..end];
    head.contains("webpackBootstrap") || head.contains("webpackChunk")
}

fn script(text: &str, ends: fn(&str) -> bool) -> Script {
    Script {
        hash: full_hash(text),
        complete: ends(text.trim_end()),
        manifest_prefix: quoted_after(text, MANIFEST_MARKER).map(str::to_string),
    }
}

/// A development bundle ends its IIFE with `})()` and `;`, or a source map comment.
fn bundle_ends(text: &str) -> bool {
    let last_line = text.rsplit('\n').next().unwrap_or("");
    text.ends_with("})()\n;")
        || text.ends_with("})();")
        || last_line.starts_with("//# sourceMappingURL=")
}

/// The compilation hash in webpack's `getFullHash` runtime module.
pub(crate) fn full_hash(text: &str) -> Option<String> {
    let hash = quoted_after(text, FULL_HASH_MARKER)?;
    (!hash.is_empty() && hash.bytes().all(|b| b.is_ascii_alphanumeric())).then(|| hash.to_string())
}

/// The text between `marker` and the next `"`.
fn quoted_after<'a>(text: &'a str, marker: &str) -> Option<&'a str> {
    let start = text.find(marker)? + marker.len();
    let rest = &text[start..];
    Some(&rest[..rest.find('"')?])
}

/// The runtime part of a manifest's name, as HMR bundles name it:
/// `main.` for `main.<previous hash>.hot-update.json`.
pub(crate) fn manifest_prefix(path: &Path) -> Option<String> {
    let name = path
        .file_name()?
        .to_str()?
        .strip_suffix(".hot-update.json")?;
    let (runtime, _previous) = name.rsplit_once('.')?;
    Some(format!("{runtime}."))
}

#[derive(Deserialize)]
struct Manifest {
    c: Vec<String>,
}

/// The hot-update chunks `<runtime>.<previous>.hot-update.json` names:
/// `<chunk>.<previous>.hot-update.js` beside it.
fn manifest_chunks(path: &Path, text: &str) -> Option<Vec<PathBuf>> {
    let manifest: Manifest = serde_json::from_str(text).ok()?;
    let name = path
        .file_name()?
        .to_str()?
        .strip_suffix(".hot-update.json")?;
    let previous = name.rsplit('.').next()?;
    let dir = path.parent()?;
    Some(
        manifest
            .c
            .iter()
            .map(|chunk| dir.join(format!("{chunk}.{previous}.hot-update.js")))
            .collect(),
    )
}

#[derive(Deserialize)]
struct RawStats {
    hash: String,
    #[serde(default)]
    errors: Vec<serde_json::Value>,
    #[serde(default)]
    warnings: Vec<serde_json::Value>,
}

/// `{"hash", "errors", "warnings"}`, problems as strings or as webpack's
/// objects (`message`, `moduleName`).
pub(crate) fn parse_stats(text: &str) -> Option<Stats> {
    let raw: RawStats = serde_json::from_str(text).ok()?;
    let texts = |list: &[serde_json::Value]| -> Vec<String> { list.iter().map(problem).collect() };
    let (errors, warnings) = (texts(&raw.errors), texts(&raw.warnings));
    let status = match (errors.is_empty(), warnings.is_empty()) {
        (true, true) => BuildStatus::Ok,
        (true, false) => BuildStatus::Warnings(warnings),
        (false, true) => BuildStatus::Errors(errors),
        (false, false) => BuildStatus::Failed { errors, warnings },
    };
    Some(Stats {
        hash: raw.hash,
        status,
    })
}

fn problem(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => {
            let field = |name: &str| other.get(name).and_then(|v| v.as_str()).unwrap_or("");
            match (field("moduleName"), field("message")) {
                ("", message) => message.to_string(),
                (module, message) => format!("{module}\n{message}"),
            }
        }
    }
}
