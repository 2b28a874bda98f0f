//! The watch roots: resolving them, placing event paths under them, arming
//! their folder trees, and re-arming a root whose folder was deleted,
//! re-created, or (for a symlinked root) pointed elsewhere.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::backend::{Armed, Backend, Reach};
use super::filter::IgnoreMatcher;
use super::{RootRetarget, WatchError};

/// Folders nested deeper than this below a new folder are not walked (a bind
/// mount can make a tree infinitely deep).
const MAX_DEPTH: usize = 128;

/// One watched path as given by the user.
#[derive(Debug)]
pub(crate) struct Root {
    /// Absolute, as given (symlinks not resolved).
    given: PathBuf,
    /// Canonical. For a file root: canonical parent joined with the file name.
    canonical: PathBuf,
    /// A single file: its parent folder is watched and events filtered to the file.
    is_file: bool,
    /// The folder to watch disappeared; it is looked for every `REARM_INTERVAL`.
    missing: bool,
    /// When the given folder is a symlink: the link itself (canonical parent
    /// plus its name), whose folder is watched so a re-pointed link is seen.
    link: Option<PathBuf>,
}

impl Root {
    /// Resolve a user path. Fails when it does not exist.
    pub(crate) fn resolve(path: &Path) -> Result<Root, WatchError> {
        let io_error = |source| WatchError::Io {
            path: path.to_path_buf(),
            source,
        };
        let given = std::path::absolute(path).map_err(io_error)?;
        let meta = fs::metadata(&given).map_err(|source| {
            if source.kind() == io::ErrorKind::NotFound {
                WatchError::PathNotFound(path.to_path_buf())
            } else {
                io_error(source)
            }
        })?;
        let is_file = !meta.is_dir();
        let canonical = canonical_of(&given, is_file).map_err(io_error)?;
        let link = link_of(&given, is_file);
        Ok(Root {
            given,
            canonical,
            is_file,
            missing: false,
            link,
        })
    }

    fn watch_dir(&self) -> &Path {
        if self.is_file {
            self.canonical.parent().unwrap_or(&self.canonical)
        } else {
            &self.canonical
        }
    }

    fn given_watch_dir(&self) -> &Path {
        if self.is_file {
            self.given.parent().unwrap_or(&self.given)
        } else {
            &self.given
        }
    }

    /// Whether `p` names this root's watched folder (in either spelling).
    fn is_watch_dir(&self, p: &Path) -> bool {
        p == self.watch_dir() || p == self.given_watch_dir()
    }
}

/// Canonical form of a root: the path itself for a folder, the canonical
/// parent plus the file name for a file (an atomic save replaces the file, so
/// a symlinked file is followed at its own name, not its target).
fn canonical_of(given: &Path, is_file: bool) -> io::Result<PathBuf> {
    if is_file {
        if let (Some(parent), Some(name)) = (given.parent(), given.file_name()) {
            return Ok(fs::canonicalize(parent)?.join(name));
        }
    }
    fs::canonicalize(given)
}

/// The symlink a folder root is reached through, spelled under its canonical
/// parent (which is how events in that parent name it).
fn link_of(given: &Path, is_file: bool) -> Option<PathBuf> {
    if is_file || !fs::symlink_metadata(given).is_ok_and(|m| m.file_type().is_symlink()) {
        return None;
    }
    let (parent, name) = (given.parent()?, given.file_name()?);
    Some(fs::canonicalize(parent).ok()?.join(name))
}

fn is_dir(p: &Path) -> bool {
    fs::metadata(p).is_ok_and(|m| m.is_dir())
}

/// What re-arming a root found.
#[derive(Debug)]
pub(crate) enum Rearm {
    /// Its folder is still missing.
    Missing,
    /// Its folder is back and watched again (a full reload is due).
    Back {
        /// Set when it now resolves to a different folder.
        retarget: Option<RootRetarget>,
        /// Arming hit the watch limit: the caller falls back to polling.
        limit: Option<notify::Error>,
    },
}

/// All roots and the ignore rules that apply below them.
#[derive(Debug)]
pub(crate) struct Roots {
    list: Vec<Root>,
    ignore: IgnoreMatcher,
}

impl Roots {
    pub(crate) fn new(list: Vec<Root>, ignore: IgnoreMatcher) -> Roots {
        Roots { list, ignore }
    }

    /// How many roots there are.
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    /// The first root as given (for error messages).
    pub(crate) fn first_given(&self) -> PathBuf {
        self.list
            .first()
            .map(|r| r.given.clone())
            .unwrap_or_default()
    }

    /// Root `i` as given.
    pub(crate) fn given(&self, i: usize) -> PathBuf {
        self.list[i].given.clone()
    }

    /// Whether some root's folder is missing.
    pub(crate) fn any_missing(&self) -> bool {
        self.list.iter().any(|r| r.missing)
    }

    /// The present roots whose watched folder `p` names.
    pub(crate) fn watching(&self, p: &Path) -> Vec<usize> {
        (0..self.list.len())
            .filter(|&i| !self.list[i].missing && self.list[i].is_watch_dir(p))
            .collect()
    }

    /// The roots reached through a symlink.
    pub(crate) fn linked(&self) -> Vec<usize> {
        (0..self.list.len())
            .filter(|&i| self.list[i].link.is_some())
            .collect()
    }

    /// The roots reached through the symlink `p`.
    pub(crate) fn linked_by(&self, p: &Path) -> Vec<usize> {
        (0..self.list.len())
            .filter(|&i| self.list[i].link.as_deref() == Some(p))
            .collect()
    }

    /// The root that contains `p` (the most specific one), and `p` relative to it.
    fn locate(&self, p: &Path) -> Option<(usize, PathBuf)> {
        let mut best: Option<(usize, usize, PathBuf)> = None;
        for (i, root) in self.list.iter().enumerate() {
            for base in [&root.canonical, &root.given] {
                let Ok(rel) = p.strip_prefix(base) else {
                    continue;
                };
                if root.is_file && !rel.as_os_str().is_empty() {
                    continue;
                }
                let depth = base.components().count();
                if best.as_ref().is_none_or(|b| depth > b.1) {
                    best = Some((i, depth, rel.to_path_buf()));
                }
                break;
            }
        }
        best.map(|(i, _, rel)| (i, rel))
    }

    /// `p` in canonical spelling, when it is under a root and not ignored,
    /// and whether it is a root itself.
    pub(crate) fn accept(&self, p: &Path) -> Option<(PathBuf, bool)> {
        let (i, rel) = self.locate(p)?;
        if self.ignore.is_ignored(&rel) {
            return None;
        }
        let root = &self.list[i].canonical;
        Some(if rel.as_os_str().is_empty() {
            (root.clone(), true)
        } else {
            (root.join(rel), false)
        })
    }

    /// Watch one root: its folder tree (or a file root's parent folder), and
    /// the folder holding its symlink.
    pub(crate) fn arm(&self, i: usize, backend: &mut Backend) -> Result<(), notify::Error> {
        let root = &self.list[i];
        if let Some(parent) = root.link.as_deref().and_then(Path::parent) {
            if let Armed::Limit(e) = backend.watch(parent, Reach::Entries) {
                return Err(e);
            }
        }
        if root.missing {
            return Ok(());
        }
        let dir = root.watch_dir().to_path_buf();
        if root.is_file {
            match backend.watch(&dir, Reach::Tree) {
                Armed::Limit(e) => Err(e),
                _ => Ok(()),
            }
        } else {
            self.add_tree(&dir, false, backend).map(drop)
        }
    }

    /// Watch `dir` and every non-ignored folder below it. With `emit_files`,
    /// returns the files found (they may predate the watch).
    pub(crate) fn add_tree(
        &self,
        dir: &Path,
        emit_files: bool,
        backend: &mut Backend,
    ) -> Result<Vec<PathBuf>, notify::Error> {
        let mut found = Vec::new();
        let mut stack = vec![(dir.to_path_buf(), 0usize)];
        while let Some((d, depth)) = stack.pop() {
            match backend.watch(&d, Reach::Tree) {
                Armed::Ok => {}
                Armed::Gone | Armed::Failed => continue,
                Armed::Limit(e) => return Err(e),
            }
            if !backend.per_dir() {
                continue; // one recursive watch covers the tree
            }
            if depth >= MAX_DEPTH {
                tracing::debug!(path = %d.display(), "folder nesting too deep; not descending");
                continue;
            }
            let Ok(entries) = fs::read_dir(&d) else {
                continue;
            };
            for entry in entries.flatten() {
                let p = entry.path();
                if self.accept(&p).is_none() {
                    continue; // ignored: not watched, not walked
                }
                match entry.file_type() {
                    Ok(ft) if ft.is_dir() => stack.push((p, depth + 1)),
                    Ok(_) if emit_files => found.push(p),
                    _ => {}
                }
            }
        }
        Ok(found)
    }

    /// A root's folder was removed or renamed: drop its watches and mark it
    /// missing (the caller re-arms it at once if it is already back).
    pub(crate) fn disturbed(&mut self, i: usize, backend: &mut Backend) {
        let dir = self.list[i].watch_dir().to_path_buf();
        if self.list[i].is_file {
            backend.unwatch(&dir);
        } else {
            backend.drop_tree(&dir);
        }
        self.list[i].missing = true;
        tracing::debug!(root = %self.list[i].given.display(), "watch root disappeared");
    }

    /// Re-arm a missing root if its folder exists again, resolving it anew
    /// (it may be a new symlink target).
    pub(crate) fn rearm(&mut self, i: usize, backend: &mut Backend) -> Rearm {
        let root = &self.list[i];
        if !root.missing || !is_dir(root.given_watch_dir()) {
            return Rearm::Missing;
        }
        let Ok(canonical) = canonical_of(&root.given, root.is_file) else {
            return Rearm::Missing;
        };
        let link = link_of(&root.given, root.is_file);
        let retarget = (canonical != root.canonical).then(|| RootRetarget {
            root: root.given.clone(),
            target: canonical.clone(),
        });
        match (&root.link, &link) {
            (None, Some(_)) => tracing::warn!(
                "watch root {} was replaced by a symlink to {}; following it",
                root.given.display(),
                canonical.display(),
            ),
            _ if retarget.is_some() => tracing::info!(
                "watch root {} now resolves to {}",
                root.given.display(),
                canonical.display(),
            ),
            _ => tracing::debug!(root = %root.given.display(), "watch root is back; re-armed"),
        }
        let root = &mut self.list[i];
        root.canonical = canonical;
        root.link = link;
        root.missing = false;
        let limit = self.arm(i, backend).err();
        Rearm::Back { retarget, limit }
    }

    /// The symlink of root `i` changed (re-pointed, removed or re-created).
    /// Returns `None` when it still resolves to the same folder.
    pub(crate) fn relink(&mut self, i: usize, backend: &mut Backend) -> Option<Rearm> {
        let root = &self.list[i];
        let now = canonical_of(&root.given, root.is_file).ok();
        if !root.missing && now.as_ref() == Some(&root.canonical) {
            return None;
        }
        if !root.missing {
            self.disturbed(i, backend);
        }
        Some(self.rearm(i, backend))
    }
}
