//! A memory cache of resolved small files, kept correct by the file watcher.
//!
//! A hit answers a request with no file-system call at all. The cache is
//! only switched on when every change under the root is seen (native
//! watching, no symlinks out of the root), never holds paths the watcher
//! ignores, and is emptied on every change set. A generation counter keeps a
//! request that read a file before a change from storing what it read after
//! the change cleared the cache.

use crate::watch::filter::IgnoreMatcher;
use bytes::Bytes;
use std::collections::HashMap;
use std::fs::Metadata;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// Most bytes of file content held at once; past it the cache starts over.
const BUDGET: usize = 64 * 1024 * 1024;

/// What a request path resolved to, with the file's content when small.
#[derive(Debug)]
pub(crate) struct CachedFile {
    /// Canonical path.
    pub(crate) path: PathBuf,
    /// Path whose extension picks the MIME type.
    pub(crate) mime_path: PathBuf,
    /// The stat snapshot the response headers come from.
    pub(crate) meta: Metadata,
    /// The whole file, read once.
    pub(crate) content: Bytes,
}

/// The cache key: the raw request path, and whether the SPA fallback applied.
pub(crate) type Key = (String, bool);

#[derive(Default)]
struct Entries {
    map: HashMap<Key, Arc<CachedFile>>,
    bytes: usize,
}

/// See the module documentation.
#[derive(Default)]
pub(crate) struct FileCache {
    enabled: AtomicBool,
    generation: AtomicU64,
    ignore: OnceLock<IgnoreMatcher>,
    entries: Mutex<Entries>,
}

impl std::fmt::Debug for FileCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileCache")
            .field("enabled", &self.enabled.load(Ordering::Relaxed))
            .field("entries", &self.lock().map.len())
            .finish()
    }
}

impl FileCache {
    fn lock(&self) -> MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Start caching; `ignore` names what the watcher does not see.
    pub(crate) fn enable(&self, ignore: IgnoreMatcher) {
        let _ = self.ignore.set(ignore);
        self.enabled.store(true, Ordering::SeqCst);
    }

    /// The current generation, taken before resolving a request.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The cached answer for `key`.
    pub(crate) fn get(&self, key: &Key) -> Option<Arc<CachedFile>> {
        if !self.enabled.load(Ordering::Relaxed) {
            return None;
        }
        self.lock().map.get(key).cloned()
    }

    /// Remember `file` for `key`, unless something changed since `generation`
    /// or the watcher would not see it change.
    pub(crate) fn insert(&self, key: Key, file: CachedFile, generation: u64, root: &Path) {
        if !self.enabled.load(Ordering::Relaxed) {
            return;
        }
        let Ok(relative) = file.path.strip_prefix(root) else {
            return;
        };
        if self.ignore.get().is_none_or(|m| m.is_ignored(relative)) {
            return;
        }
        let mut entries = self.lock();
        if self.generation() != generation {
            return;
        }
        if entries.bytes + file.content.len() > BUDGET {
            entries.map.clear();
            entries.bytes = 0;
        }
        entries.bytes += file.content.len();
        if let Some(old) = entries.map.insert(key, Arc::new(file)) {
            entries.bytes -= old.content.len();
        }
    }

    /// Forget everything (a change set arrived).
    pub(crate) fn clear(&self) {
        let mut entries = self.lock();
        self.generation.fetch_add(1, Ordering::SeqCst);
        entries.map.clear();
        entries.bytes = 0;
    }
}
