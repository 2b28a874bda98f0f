//! A memory cache of resolved small files, kept correct by the file watcher and bounded in
//! bytes.
//!
//! A hit answers a request with no file-system call at all. The cache is only switched on
//! when every change under the root is seen (native watching, no symlinks out of the root),
//! never holds paths the watcher ignores, and is emptied on every change set. A generation
//! counter keeps a request that read a file before a change from storing what it read after
//! the change cleared the cache.
//!
//! Two tables:
//! - **files**, keyed by what was resolved ([`FileKey`]: canonical path and the path whose
//!   extension picks the MIME type), each holding one value (content and headers);
//! - **routes**, keyed by the lexical identity of a request path
//!   ([`route_key`]), each naming a file. Many spellings of one path share a
//!   route; many routes (SPA fallbacks, `/dir/` and `/dir/index.html`) share a file.
//!
//! Every byte an entry holds counts toward a fixed budget: route keys, file keys, the value's
//! own weight (content, headers) and a per-entry allowance for the tables themselves. Routes
//! are evicted least recently used first (O(1): an intrusive list over a slab); a file goes
//! with its last route.

use crate::util::lock;
use crate::watch::filter::IgnoreMatcher;
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// The default byte budget of a [`FileCache`].
pub(crate) const DEFAULT_BUDGET: usize = 64 * 1024 * 1024;

/// Table overhead charged per route and per file besides their keys and values (slab slot,
/// hash-table slot with its spare capacity, list links, reference counts).
const ENTRY_OVERHEAD: usize = 192;

/// Whether `raw` has no `%` escape and no empty segment (`//`): then it is
/// its own key. One pass, as every request asks.
fn is_plain_route(raw: &str) -> bool {
    let mut after_slash = false;
    raw.bytes().all(|b| {
        let plain = b != b'%' && !(after_slash && b == b'/');
        after_slash = b == b'/';
        plain
    })
}

/// The lexical identity of a raw `uri.path()`, computed without touching the file system:
/// two raw paths get the same key only when [`super::resolve::parse_path`] gives both the same segments and
/// trailing slash, so a resolution found for one holds for the other (`/a`, `//a` and
/// `/%61` share one key). Borrowed, with no allocation, when the path is already in that
/// form (no `%`, no `//`). `None` for paths that must never be answered from a cache:
/// not starting with `/`, a malformed escape, or a segment decoding to contain `/`.
pub(crate) fn route_key(raw: &str) -> Option<Cow<'_, [u8]>> {
    if !raw.starts_with('/') {
        return None;
    }
    if is_plain_route(raw) {
        return Some(Cow::Borrowed(raw.as_bytes()));
    }
    let mut key = Vec::with_capacity(raw.len());
    for segment in raw.split('/').filter(|s| !s.is_empty()) {
        key.push(b'/');
        let mut bytes = segment.bytes();
        while let Some(b) = bytes.next() {
            let decoded = if b == b'%' {
                let hi = bytes.next().and_then(hex_value)?;
                let lo = bytes.next().and_then(hex_value)?;
                (hi << 4) | lo
            } else {
                b
            };
            if decoded == b'/' {
                return None;
            }
            key.push(decoded);
        }
    }
    if key.is_empty() || raw.ends_with('/') {
        key.push(b'/');
    }
    Some(Cow::Owned(key))
}

fn hex_value(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// What a route resolved to: the entry of the files table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct FileKey {
    /// Canonical path.
    pub(crate) path: PathBuf,
    /// Path whose extension picks the MIME type (differs from `path` behind a symlink).
    pub(crate) mime_path: PathBuf,
}

impl FileKey {
    fn weight(&self) -> usize {
        self.path.as_os_str().len() + self.mime_path.as_os_str().len()
    }
}

/// A cached file: its key and the value served from it.
#[derive(Debug)]
pub(crate) struct Cached<V> {
    /// What it was resolved from.
    pub(crate) key: FileKey,
    /// Content and headers.
    pub(crate) value: V,
}

const NIL: usize = usize::MAX;

#[derive(Debug)]
struct Route<V> {
    key: Box<[u8]>,
    /// Reached through the SPA fallback: only SPA-eligible requests may use it.
    fallback: bool,
    file: Arc<Cached<V>>,
    prev: usize,
    next: usize,
}

#[derive(Debug)]
struct FileSlot<V> {
    file: Arc<Cached<V>>,
    routes: usize,
    cost: usize,
}

#[derive(Debug)]
struct State<V> {
    /// Keyed by request paths (SPA fallbacks included), so hashed with a
    /// per-process random seed: as fast as FNV on short keys, and no page
    /// can send paths chosen to collide.
    routes: HashMap<Box<[u8]>, usize, foldhash::fast::RandomState>,
    slab: Vec<Option<Route<V>>>,
    free: Vec<usize>,
    /// Most recently used route.
    head: usize,
    /// Least recently used route.
    tail: usize,
    files: HashMap<FileKey, FileSlot<V>>,
    bytes: usize,
}

impl<V> Default for State<V> {
    fn default() -> Self {
        State {
            routes: HashMap::default(),
            slab: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
            files: HashMap::new(),
            bytes: 0,
        }
    }
}

/// See the module documentation.
pub(crate) struct FileCache<V> {
    enabled: AtomicBool,
    generation: AtomicU64,
    ignore: OnceLock<IgnoreMatcher>,
    budget: usize,
    state: Mutex<State<V>>,
}

impl<V> std::fmt::Debug for FileCache<V> {
    /// A summary: a cache's content is no debugging output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("FileCache")
            .field("enabled", &self.enabled.load(Ordering::Relaxed))
            .field("budget", &self.budget)
            .field("bytes", &state.bytes)
            .field("routes", &state.routes.len())
            .field("files", &state.files.len())
            .finish()
    }
}

/// A value the cache can weigh: every byte it holds beyond its own `size_of`.
pub(crate) trait Weigh {
    /// Heap bytes held (content, header values, paths).
    fn weight(&self) -> usize;
}

fn route_cost(key: &[u8]) -> usize {
    // The key is held twice: by the table and by its slot.
    ENTRY_OVERHEAD + 2 * key.len()
}

fn file_cost<V: Weigh>(key: &FileKey, value: &V) -> usize {
    ENTRY_OVERHEAD + std::mem::size_of::<Cached<V>>() + 2 * key.weight() + value.weight()
}

impl<V: Weigh> FileCache<V> {
    /// An empty, disabled cache holding at most `budget` bytes.
    pub(crate) fn new(budget: usize) -> Self {
        FileCache {
            enabled: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            ignore: OnceLock::new(),
            budget,
            state: Mutex::new(State::default()),
        }
    }

    /// Start caching; `ignore` names what the watcher does not see.
    pub(crate) fn enable(&self, ignore: IgnoreMatcher) {
        let _ = self.ignore.set(ignore);
        self.enabled.store(true, Ordering::SeqCst);
    }

    /// Whether [`Self::enable`] was called: otherwise nothing is ever stored.
    pub(crate) fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// The current generation, taken before resolving a request.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The file cached for `route`, marked as recently used. A route reached through the SPA
    /// fallback only answers SPA-eligible requests (`spa`). No allocation.
    pub(crate) fn get(&self, route: &[u8], spa: bool) -> Option<Arc<Cached<V>>> {
        if !self.is_enabled() {
            return None;
        }
        let mut state = lock(&self.state);
        let index = *state.routes.get(route)?;
        let node = state.slab[index].as_ref()?;
        if node.fallback && !spa {
            return None;
        }
        let file = Arc::clone(&node.file);
        state.unlink(index);
        state.push_front(index);
        Some(file)
    }

    /// Remember that `route` resolved to `key` with `value`, unless something changed since
    /// `generation`, the watcher would not see the file change, or it outweighs the budget.
    /// A file already cached under another route keeps its value. Evicts least recently
    /// used routes until the total is back within the budget.
    pub(crate) fn insert(
        &self,
        route: &[u8],
        fallback: bool,
        key: FileKey,
        value: V,
        generation: u64,
        root: &Path,
    ) {
        if !self.is_enabled() || !self.watched(&key.path, root) {
            return;
        }
        let cost = route_cost(route) + file_cost(&key, &value);
        if cost > self.budget {
            return;
        }
        let mut state = lock(&self.state);
        if self.generation() != generation || state.routes.contains_key(route) {
            return;
        }
        let file = state.file_for(key, value);
        let index = state.add_route(route, fallback, file);
        while state.bytes > self.budget && state.tail != index && state.tail != NIL {
            let tail = state.tail;
            state.remove_route(tail);
        }
    }

    fn watched(&self, path: &Path, root: &Path) -> bool {
        let Ok(relative) = path.strip_prefix(root) else {
            return false;
        };
        self.ignore.get().is_some_and(|m| !m.is_ignored(relative))
    }

    /// Forget everything (a change set arrived), giving the memory back.
    pub(crate) fn clear(&self) {
        let mut state = lock(&self.state);
        self.generation.fetch_add(1, Ordering::SeqCst);
        *state = State::default();
    }

    /// Bytes currently charged against the budget.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        lock(&self.state).bytes
    }

    /// Walk the LRU list and the tables; panics on any inconsistency.
    #[cfg(test)]
    fn check_invariants(&self) {
        let state = lock(&self.state);
        let (mut index, mut prev, mut seen, mut bytes) = (state.head, NIL, 0, 0);
        let mut refs: HashMap<&FileKey, usize> = HashMap::new();
        while index != NIL {
            let node = state.slab[index].as_ref().expect("listed routes are live");
            assert_eq!(node.prev, prev, "back link of {index}");
            assert_eq!(state.routes.get(&node.key), Some(&index));
            bytes += route_cost(&node.key);
            *refs.entry(&node.file.key).or_default() += 1;
            (prev, index, seen) = (index, node.next, seen + 1);
        }
        assert_eq!(state.tail, prev);
        assert_eq!(seen, state.routes.len());
        assert_eq!(refs.len(), state.files.len());
        for (key, slot) in &state.files {
            assert_eq!(refs.get(key), Some(&slot.routes), "routes of {key:?}");
            bytes += slot.cost;
        }
        assert_eq!(bytes, state.bytes);
        assert!(bytes <= self.budget);
    }

    /// How many routes and files are held.
    #[cfg(test)]
    pub(crate) fn counts(&self) -> (usize, usize) {
        let state = lock(&self.state);
        (state.routes.len(), state.files.len())
    }
}

impl<V: Weigh> State<V> {
    /// The shared file for `key`, added (and charged) when new.
    fn file_for(&mut self, key: FileKey, value: V) -> Arc<Cached<V>> {
        if let Some(slot) = self.files.get_mut(&key) {
            slot.routes += 1;
            return Arc::clone(&slot.file);
        }
        let cost = file_cost(&key, &value);
        let file = Arc::new(Cached {
            key: key.clone(),
            value,
        });
        self.bytes += cost;
        let slot = FileSlot {
            file: Arc::clone(&file),
            routes: 1,
            cost,
        };
        self.files.insert(key, slot);
        file
    }

    fn add_route(&mut self, route: &[u8], fallback: bool, file: Arc<Cached<V>>) -> usize {
        let node = Route {
            key: route.into(),
            fallback,
            file,
            prev: NIL,
            next: NIL,
        };
        let index = match self.free.pop() {
            Some(i) => {
                self.slab[i] = Some(node);
                i
            }
            None => {
                self.slab.push(Some(node));
                self.slab.len() - 1
            }
        };
        self.routes.insert(route.into(), index);
        self.bytes += route_cost(route);
        self.push_front(index);
        index
    }

    fn remove_route(&mut self, index: usize) {
        self.unlink(index);
        let Some(node) = self.slab[index].take() else {
            return;
        };
        self.free.push(index);
        self.routes.remove(&node.key);
        self.bytes -= route_cost(&node.key);
        let key = &node.file.key;
        if let Some(slot) = self.files.get_mut(key) {
            slot.routes -= 1;
            if slot.routes == 0 {
                self.bytes -= slot.cost;
                self.files.remove(key);
            }
        }
    }

    fn unlink(&mut self, index: usize) {
        let Some((prev, next)) = self.slab[index].as_ref().map(|n| (n.prev, n.next)) else {
            return;
        };
        match self.slab.get_mut(prev).and_then(Option::as_mut) {
            Some(p) => p.next = next,
            None => self.head = next,
        }
        match self.slab.get_mut(next).and_then(Option::as_mut) {
            Some(n) => n.prev = prev,
            None => self.tail = prev,
        }
        if let Some(n) = self.slab[index].as_mut() {
            n.prev = NIL;
            n.next = NIL;
        }
    }

    fn push_front(&mut self, index: usize) {
        let old_head = self.head;
        if let Some(n) = self.slab[index].as_mut() {
            n.prev = NIL;
            n.next = old_head;
        }
        match self.slab.get_mut(old_head).and_then(Option::as_mut) {
            Some(h) => h.prev = index,
            None => self.tail = index,
        }
        self.head = index;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_keys_join_spellings_of_one_path() {
        let key = |raw: &str| route_key(raw).map(|k| k.into_owned());
        assert!(matches!(route_key("/a/b.txt"), Some(Cow::Borrowed(_))));
        for raw in [
            "//index.html",
            "///index.html",
            "/%69ndex.html",
            "/index%2Ehtml",
        ] {
            assert_eq!(key(raw), key("/index.html"), "{raw}");
        }
        assert_eq!(key("//"), key("/"));
        assert_eq!(key("//a//"), key("/a/"));
        assert_ne!(key("/a/"), key("/a"));
        // Never a key that another, differently resolved, path shares.
        assert_eq!(key("/a%2fb"), None);
        assert_eq!(key("/%zz"), None);
        assert_eq!(key("/x%"), None);
        assert_eq!(key("*"), None);
        assert_ne!(key("/%25zz"), None);
    }

    impl Weigh for Vec<u8> {
        fn weight(&self) -> usize {
            self.capacity()
        }
    }

    fn root() -> PathBuf {
        PathBuf::from("/srv/site")
    }

    fn key(name: &str) -> FileKey {
        let path = root().join(name);
        FileKey {
            mime_path: path.clone(),
            path,
        }
    }

    fn enabled(budget: usize) -> FileCache<Vec<u8>> {
        let cache = FileCache::new(budget);
        cache.enable(IgnoreMatcher::new(&[]).expect("default ignores"));
        cache
    }

    fn put(cache: &FileCache<Vec<u8>>, route: &str, file: &str, len: usize) {
        let generation = cache.generation();
        let value = vec![0; len];
        cache.insert(
            route.as_bytes(),
            false,
            key(file),
            value,
            generation,
            &root(),
        );
    }

    #[test]
    fn cache_bytes_never_exceed_the_budget_under_a_flood() {
        let budget = 16 * 1024;
        let cache = enabled(budget);
        for i in 0..5_000 {
            put(&cache, &format!("/f{i}.js"), &format!("f{i}.js"), 700);
            assert!(
                cache.bytes() <= budget,
                "{} > {budget} after {i}",
                cache.bytes()
            );
        }
        let (routes, files) = cache.counts();
        assert!((2..16).contains(&routes), "{routes} routes");
        assert_eq!(routes, files);
        // Routes alone (SPA-style: many paths, one file) are charged too.
        for i in 0..5_000 {
            put(&cache, &format!("/app/route/{i}"), "index.html", 700);
            assert!(
                cache.bytes() <= budget,
                "{} > {budget} after route {i}",
                cache.bytes()
            );
        }
        let (routes, files) = cache.counts();
        assert!(routes > 16, "{routes} routes share one file");
        assert_eq!(files, 1);
        let shown = format!("{cache:?}");
        assert!(shown.contains("routes") && shown.len() < 200, "{shown}");
        cache.clear();
        assert_eq!((cache.bytes(), cache.counts()), (0, (0, 0)));
    }

    #[test]
    fn eviction_keeps_recently_used_entries() {
        let one = route_cost(b"/a.js") + file_cost(&key("a.js"), &vec![0u8; 1000]);
        let cache = enabled(3 * one + one / 2);
        put(&cache, "/a.js", "a.js", 1000);
        put(&cache, "/b.js", "b.js", 1000);
        put(&cache, "/c.js", "c.js", 1000);
        assert!(cache.get(b"/a.js", false).is_some());
        put(&cache, "/d.js", "d.js", 1000);
        assert!(
            cache.get(b"/b.js", false).is_none(),
            "the least recently used goes"
        );
        for kept in ["/a.js", "/c.js", "/d.js"] {
            assert!(cache.get(kept.as_bytes(), false).is_some(), "{kept} kept");
        }
        assert_eq!(cache.counts(), (3, 3));
    }

    #[test]
    fn routes_share_one_file_and_it_goes_with_the_last() {
        let cache = enabled(DEFAULT_BUDGET);
        put(&cache, "/", "index.html", 100);
        let charged = cache.bytes();
        put(&cache, "/index.html", "index.html", 100);
        assert_eq!(cache.counts(), (2, 1));
        assert_eq!(cache.bytes() - charged, route_cost(b"/index.html"));
        let a = cache.get(b"/", false).expect("cached");
        let b = cache.get(b"/index.html", false).expect("cached");
        assert!(Arc::ptr_eq(&a, &b));
    }

    #[test]
    fn fallback_routes_answer_only_spa_requests() {
        let cache = enabled(DEFAULT_BUDGET);
        let generation = cache.generation();
        cache.insert(
            b"/app",
            true,
            key("index.html"),
            vec![1],
            generation,
            &root(),
        );
        assert!(cache.get(b"/app", false).is_none());
        assert!(cache.get(b"/app", true).is_some());
    }

    #[test]
    fn stale_generations_ignored_paths_and_giants_are_not_cached() {
        let cache = enabled(4096);
        let generation = cache.generation();
        cache.clear();
        cache.insert(b"/a", false, key("a"), vec![1], generation, &root());
        put(&cache, "/node_modules/x.js", "node_modules/x.js", 1);
        put(&cache, "/big", "big", 8192);
        let outside = FileKey {
            path: PathBuf::from("/elsewhere/x"),
            mime_path: PathBuf::from("/elsewhere/x"),
        };
        cache.insert(b"/x", false, outside, vec![1], cache.generation(), &root());
        assert_eq!(cache.counts(), (0, 0));
        let disabled = FileCache::new(4096);
        disabled.insert(b"/a", false, key("a"), vec![1], 0, &root());
        assert_eq!(disabled.counts(), (0, 0));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Put { route: u8, file: u8, len: u16 },
        Get(u8),
        Clear,
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            8 => (0u8..40, 0u8..12, 0u16..3000).prop_map(|(route, file, len)| Op::Put { route, file, len }),
            4 => (0u8..40).prop_map(Op::Get),
            1 => Just(Op::Clear),
        ]
    }

    proptest::proptest! {
        #[test]
        fn the_lru_stays_consistent_and_within_budget(ops in proptest::collection::vec(op(), 1..200)) {
            let cache = enabled(12 * 1024);
            for op in ops {
                match op {
                    Op::Put { route, file, len } => {
                        put(&cache, &format!("/r{route}"), &format!("f{file}"), usize::from(len));
                    }
                    Op::Get(route) => {
                        let _ = cache.get(format!("/r{route}").as_bytes(), false);
                    }
                    Op::Clear => cache.clear(),
                }
                cache.check_invariants();
            }
        }
    }
}
