//! Which notify events count as changes, and which paths are ignored.
//!
//! Both parts are pure and unit-tested here; the watcher thread applies them.

use std::path::{Component, Path};

use globset::{Glob, GlobSet, GlobSetBuilder};
use notify::event::{AccessKind, AccessMode, EventKind, MetadataKind, ModifyKind, RenameMode};

use super::ChangeKind;

/// Patterns that are always ignored. Each is matched against every path
/// component below a watch root (so `.git` ignores `.git/` and everything in
/// it, at any depth) and against each root-relative prefix.
pub(crate) const DEFAULT_IGNORES: &[&str] = &[
    // Folders.
    ".git",
    "node_modules",
    "target",
    // Editor temp and backup files.
    "*~",
    ".*.swp",
    ".*.swx",
    "4913",
    ".#*",
    "*___jb_tmp___",
    "*___jb_old___",
    "*.tmp",
    ".DS_Store",
];

/// What to do with an event of a given kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Relevance {
    /// The event's paths changed.
    Change,
    /// Metadata-only event of an unknown flavour: it counts only when the file's
    /// mtime is recent (this is how `touch file` shows up on inotify: `IN_ATTRIB`).
    IfRecentlyWritten,
    /// Noise: reads, opens, permission or ownership changes.
    Drop,
}

/// Classify an event kind.
///
/// Changes are Create, Remove, Modify(Data | Name | Any | Metadata(WriteTime)),
/// `Access(Close(Write))`, and `Any` (a backend that cannot say what happened).
pub(crate) fn classify(kind: &EventKind) -> Relevance {
    match kind {
        EventKind::Any | EventKind::Create(_) | EventKind::Remove(_) => Relevance::Change,
        EventKind::Modify(m) => match m {
            ModifyKind::Any | ModifyKind::Data(_) | ModifyKind::Name(_) => Relevance::Change,
            ModifyKind::Metadata(MetadataKind::WriteTime) => Relevance::Change,
            ModifyKind::Metadata(MetadataKind::Any) => Relevance::IfRecentlyWritten,
            ModifyKind::Metadata(_) | ModifyKind::Other => Relevance::Drop,
        },
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => Relevance::Change,
        EventKind::Access(_) | EventKind::Other => Relevance::Drop,
    }
}

/// What a counted event means for its path number `idx` (a rename's `Both`
/// event names the source first, then the target).
///
/// Writes and creations are marked `awaits_close: true`; the watcher thread
/// clears that when the backend does not report closes or the entry is no
/// regular file.
pub(crate) fn kind_of(kind: &EventKind, idx: usize) -> ChangeKind {
    match kind {
        EventKind::Create(notify::event::CreateKind::Folder) => ChangeKind::CreatedFolder,
        EventKind::Create(_) => ChangeKind::Created { awaits_close: true },
        EventKind::Remove(_) => ChangeKind::Removed,
        EventKind::Modify(ModifyKind::Data(_) | ModifyKind::Any) => {
            ChangeKind::Written { awaits_close: true }
        }
        EventKind::Modify(ModifyKind::Name(RenameMode::From)) => ChangeKind::RenamedFrom,
        EventKind::Modify(ModifyKind::Name(RenameMode::To)) => ChangeKind::RenamedTo,
        EventKind::Modify(ModifyKind::Name(RenameMode::Both)) if idx == 0 => {
            ChangeKind::RenamedFrom
        }
        EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => ChangeKind::RenamedTo,
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => ChangeKind::Closed,
        _ => ChangeKind::Touched,
    }
}

/// Glob-based ignore rules: the defaults plus the user's patterns.
#[derive(Debug, Clone)]
pub(crate) struct IgnoreMatcher {
    set: GlobSet,
}

impl IgnoreMatcher {
    /// Build the matcher. On a bad user pattern, returns it with globset's error.
    pub(crate) fn new(extra: &[String]) -> Result<Self, (String, globset::Error)> {
        let mut builder = GlobSetBuilder::new();
        for pattern in DEFAULT_IGNORES {
            let glob = Glob::new(pattern).map_err(|e| ((*pattern).to_owned(), e))?;
            builder.add(glob);
        }
        for pattern in extra {
            let glob = Glob::new(pattern).map_err(|e| (pattern.clone(), e))?;
            builder.add(glob);
        }
        let set = builder.build().map_err(|e| (String::new(), e))?;
        Ok(Self { set })
    }

    /// Whether a path relative to its watch root is ignored.
    ///
    /// Every component and every prefix (`a`, `a/b`, `a/b/c.js`) is tested, so a
    /// pattern that names a folder also ignores everything below it. The empty
    /// path (the root itself) is never ignored: the user asked for it.
    pub(crate) fn is_ignored(&self, rel: &Path) -> bool {
        let mut prefix = std::path::PathBuf::new();
        for component in rel.components() {
            if let Component::Normal(name) = component {
                prefix.push(name);
                if self.set.is_match(Path::new(name)) || self.set.is_match(&prefix) {
                    return true;
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, DataChange, RemoveKind};

    #[test]
    fn event_kinds() {
        use Relevance::*;
        let cases: &[(EventKind, Relevance)] = &[
            (EventKind::Create(CreateKind::File), Change),
            (EventKind::Create(CreateKind::Folder), Change),
            (EventKind::Remove(RemoveKind::Any), Change),
            (EventKind::Modify(ModifyKind::Data(DataChange::Any)), Change),
            (
                EventKind::Modify(ModifyKind::Data(DataChange::Content)),
                Change,
            ),
            (
                EventKind::Modify(ModifyKind::Name(RenameMode::From)),
                Change,
            ),
            (EventKind::Modify(ModifyKind::Name(RenameMode::To)), Change),
            (
                EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
                Change,
            ),
            (EventKind::Modify(ModifyKind::Any), Change),
            (
                EventKind::Modify(ModifyKind::Metadata(MetadataKind::WriteTime)),
                Change,
            ),
            (
                EventKind::Modify(ModifyKind::Metadata(MetadataKind::Any)),
                IfRecentlyWritten,
            ),
            (
                EventKind::Modify(ModifyKind::Metadata(MetadataKind::Permissions)),
                Drop,
            ),
            (
                EventKind::Modify(ModifyKind::Metadata(MetadataKind::Ownership)),
                Drop,
            ),
            (
                EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)),
                Drop,
            ),
            (EventKind::Modify(ModifyKind::Other), Drop),
            (
                EventKind::Access(AccessKind::Close(AccessMode::Write)),
                Change,
            ),
            (EventKind::Access(AccessKind::Close(AccessMode::Read)), Drop),
            (EventKind::Access(AccessKind::Open(AccessMode::Any)), Drop),
            (EventKind::Access(AccessKind::Read), Drop),
            (EventKind::Access(AccessKind::Any), Drop),
            (EventKind::Other, Drop),
            (EventKind::Any, Change),
        ];
        for (kind, want) in cases {
            assert_eq!(classify(kind), *want, "{kind:?}");
        }
    }

    #[test]
    fn what_events_mean_for_coalescing() {
        let opened = ChangeKind::Written { awaits_close: true };
        let cases: &[(EventKind, usize, ChangeKind)] = &[
            (
                EventKind::Create(CreateKind::File),
                0,
                ChangeKind::Created { awaits_close: true },
            ),
            (
                EventKind::Create(CreateKind::Folder),
                0,
                ChangeKind::CreatedFolder,
            ),
            (EventKind::Remove(RemoveKind::File), 0, ChangeKind::Removed),
            (
                EventKind::Modify(ModifyKind::Data(DataChange::Any)),
                0,
                opened,
            ),
            (EventKind::Modify(ModifyKind::Any), 0, opened),
            (
                EventKind::Modify(ModifyKind::Name(RenameMode::From)),
                0,
                ChangeKind::RenamedFrom,
            ),
            (
                EventKind::Modify(ModifyKind::Name(RenameMode::To)),
                0,
                ChangeKind::RenamedTo,
            ),
            (
                EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
                0,
                ChangeKind::RenamedFrom,
            ),
            (
                EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
                1,
                ChangeKind::RenamedTo,
            ),
            (
                EventKind::Access(AccessKind::Close(AccessMode::Write)),
                0,
                ChangeKind::Closed,
            ),
            (
                EventKind::Modify(ModifyKind::Metadata(MetadataKind::WriteTime)),
                0,
                ChangeKind::Touched,
            ),
            (EventKind::Any, 0, ChangeKind::Touched),
        ];
        for (kind, idx, want) in cases {
            assert_eq!(kind_of(kind, *idx), *want, "{kind:?} #{idx}");
        }
    }

    #[test]
    fn default_ignores() {
        let m = IgnoreMatcher::new(&[]).expect("defaults compile");
        let ignored = [
            ".git",
            ".git/config",
            ".git/objects/ab/cdef",
            "node_modules/react/index.js",
            "sub/node_modules/x.js",
            "target/debug/app",
            "a/b/target/x",
            "a.js~",
            ".a.js.swp",
            "sub/.a.js.swx",
            "4913",
            "css/4913",
            ".#a.js",
            "a.js___jb_tmp___",
            "a.js___jb_old___",
            ".a.js.tmp",
            "x.tmp",
            ".DS_Store",
            "img/.DS_Store",
        ];
        for p in ignored {
            assert!(m.is_ignored(Path::new(p)), "{p} should be ignored");
        }
        let kept = [
            "",
            "a.js",
            "index.html",
            "css/site.css",
            ".env",
            ".gitignore",
            "git/x",
            "targets/x",
            "my_node_modules/x",
            "a.swp",
            "4913.js",
            "a.tmpl",
            "a#b",
        ];
        for p in kept {
            assert!(!m.is_ignored(Path::new(p)), "{p} should not be ignored");
        }
    }

    #[test]
    fn user_ignores() {
        let m = IgnoreMatcher::new(&["*.log".to_owned(), "build".to_owned(), "gen/**".to_owned()])
            .expect("patterns compile");
        for p in [
            "x.log",
            "a/b/x.log",
            "build",
            "build/a.js",
            "a/build/a.js",
            "gen/a/b.js",
        ] {
            assert!(m.is_ignored(Path::new(p)), "{p} should be ignored");
        }
        for p in ["x.logs", "builds/a.js", "gen", "src/gen.js"] {
            assert!(!m.is_ignored(Path::new(p)), "{p} should not be ignored");
        }
    }

    #[test]
    fn bad_user_pattern() {
        let err = IgnoreMatcher::new(&["a[".to_owned()]).expect_err("unclosed class");
        assert_eq!(err.0, "a[");
    }
}
