//! Real file system tests. They assert on content only; every wait is bounded
//! by `WAIT` and ends as soon as the expected change arrives.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use super::*;

const WAIT: Duration = Duration::from_secs(10);

struct Fixture {
    _tmp: tempfile::TempDir,
    /// Canonical path of the parent of `root`.
    base: PathBuf,
    /// Canonical path of the watched folder.
    root: PathBuf,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().expect("tempdir");
    let base = fs::canonicalize(tmp.path()).expect("canonical tempdir");
    let root = base.join("site");
    fs::create_dir(&root).expect("mkdir site");
    Fixture {
        _tmp: tmp,
        base,
        root,
    }
}

fn opts(path: &Path) -> WatchOptions {
    WatchOptions {
        quiet: Duration::from_millis(30),
        max_delay: Duration::from_secs(1),
        ..WatchOptions::new([path])
    }
}

#[derive(Debug, Default)]
struct Seen {
    sets: Vec<ChangeSet>,
    paths: BTreeSet<PathBuf>,
    rescans: usize,
}

impl Seen {
    fn has(&self, p: &Path) -> bool {
        self.paths.contains(p)
    }
}

/// Receive change sets until `done` holds for everything received in this
/// call. Panics (with what was seen) after `WAIT`.
async fn until(rx: &mut mpsc::Receiver<ChangeSet>, mut done: impl FnMut(&Seen) -> bool) -> Seen {
    let mut seen = Seen::default();
    let deadline = tokio::time::Instant::now() + WAIT;
    while !done(&seen) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(set)) => {
                seen.paths.extend(set.paths.iter().cloned());
                seen.rescans += usize::from(set.rescan);
                seen.sets.push(set);
            }
            Ok(None) => panic!("change set channel closed; seen so far: {seen:#?}"),
            Err(_) => panic!("timed out; seen so far: {seen:#?}"),
        }
    }
    seen
}

fn write(p: &Path, body: &str) {
    fs::write(p, body).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
}

fn age(p: &Path) {
    let old = SystemTime::now() - Duration::from_secs(30);
    let f = fs::File::options()
        .write(true)
        .open(p)
        .expect("open to age");
    f.set_modified(old).expect("set mtime");
}

#[tokio::test]
async fn create_is_seen() {
    let fx = fixture();
    let (w, mut rx) = Watcher::start(opts(&fx.root)).expect("start");
    assert!(!w.is_polling());
    let a = fx.root.join("a.txt");
    write(&a, "hello");
    let seen = until(&mut rx, |s| s.has(&a)).await;
    assert_eq!(seen.paths, BTreeSet::from([a]));
    assert_eq!(seen.rescans, 0);
}

#[tokio::test]
async fn modify_is_seen() {
    let fx = fixture();
    let a = fx.root.join("a.txt");
    write(&a, "v1");
    let (_w, mut rx) = Watcher::start(opts(&fx.root)).expect("start");
    let mut f = fs::OpenOptions::new().append(true).open(&a).expect("open");
    f.write_all(b"v2").expect("append");
    drop(f);
    until(&mut rx, |s| s.has(&a)).await;
}

#[tokio::test]
async fn touch_is_seen_but_chmod_is_not() {
    let fx = fixture();
    let a = fx.root.join("a.txt");
    let b = fx.root.join("b.txt");
    write(&a, "a");
    write(&b, "b");
    age(&a);
    age(&b);
    let (_w, mut rx) = Watcher::start(opts(&fx.root)).expect("start");
    // chmod on an old file: metadata only, dropped.
    let mut perm = fs::metadata(&a).expect("meta").permissions();
    perm.set_readonly(true);
    fs::set_permissions(&a, perm).expect("chmod");
    // `touch b.txt` as utimensat(2) does it: both times set, which inotify
    // reports as IN_ATTRIB only (GNU touch also opens for writing, which adds
    // IN_CLOSE_WRITE; a read-only handle avoids that here).
    let now = SystemTime::now();
    fs::File::options()
        .read(true)
        .open(&b)
        .expect("open")
        .set_times(fs::FileTimes::new().set_accessed(now).set_modified(now))
        .expect("touch");
    let seen = until(&mut rx, |s| s.has(&b)).await;
    assert!(!seen.has(&a), "chmod must not count: {seen:#?}");
}

#[tokio::test]
async fn delete_is_seen() {
    let fx = fixture();
    let a = fx.root.join("a.txt");
    write(&a, "bye");
    let (_w, mut rx) = Watcher::start(opts(&fx.root)).expect("start");
    fs::remove_file(&a).expect("rm");
    until(&mut rx, |s| s.has(&a)).await;
}

#[tokio::test]
async fn rename_reports_both_paths() {
    let fx = fixture();
    let a = fx.root.join("a.txt");
    let b = fx.root.join("b.txt");
    write(&a, "x");
    let (_w, mut rx) = Watcher::start(opts(&fx.root)).expect("start");
    fs::rename(&a, &b).expect("mv");
    let seen = until(&mut rx, |s| s.has(&a) && s.has(&b)).await;
    assert_eq!(seen.paths, BTreeSet::from([a, b]));
}

#[tokio::test]
async fn atomic_save_reports_the_target_only() {
    let fx = fixture();
    let target = fx.root.join("a.js");
    let temp = fx.root.join(".a.js.tmp");
    write(&target, "old");
    let (_w, mut rx) = Watcher::start(opts(&fx.root)).expect("start");
    write(&temp, "new");
    fs::rename(&temp, &target).expect("rename over");
    let seen = until(&mut rx, |s| s.has(&target)).await;
    assert_eq!(seen.paths, BTreeSet::from([target]));
}

/// Receive change sets until one names `sentinel`; returns every set seen.
async fn sets_until(rx: &mut mpsc::Receiver<ChangeSet>, sentinel: &Path) -> Vec<ChangeSet> {
    until(rx, |s| s.has(sentinel)).await.sets
}

#[tokio::test]
async fn one_save_is_one_change_set() {
    let fx = fixture();
    let page = fx.root.join("page.css");
    write(&page, "v0");
    let (_w, mut rx) = Watcher::start(WatchOptions::new([&fx.root])).expect("start");
    let mut sets = Vec::new();
    for i in 1..=40 {
        write(&page, &format!("body {{ order: {i} }}"));
        sets.extend(until(&mut rx, |s| s.has(&page)).await.sets);
    }
    // A set split off a save would trail behind: the sentinel flushes it out.
    let sentinel = fx.root.join("sentinel.txt");
    write(&sentinel, "s");
    let trailing = sets_until(&mut rx, &sentinel).await;
    assert_eq!(
        trailing.len(),
        1,
        "a save trailed a second set: {trailing:#?}"
    );
    assert_eq!(trailing[0].paths, vec![sentinel]);
    assert_eq!(sets.len(), 40, "{sets:#?}");
    assert!(sets.iter().all(|s| s.paths == [page.clone()] && !s.rescan));
}

#[tokio::test]
async fn one_new_file_is_one_change_set() {
    let fx = fixture();
    let (_w, mut rx) = Watcher::start(WatchOptions::new([&fx.root])).expect("start");
    let mut sets = Vec::new();
    for i in 0..40 {
        let f = fx.root.join(format!("new-{i:02}.js"));
        write(&f, "export {}");
        let seen = until(&mut rx, |s| s.has(&f)).await;
        sets.extend(seen.sets);
    }
    let sentinel = fx.root.join("sentinel.txt");
    write(&sentinel, "s");
    let trailing = sets_until(&mut rx, &sentinel).await;
    assert_eq!(
        trailing.len(),
        1,
        "a new file trailed a second set: {trailing:#?}"
    );
    assert_eq!(sets.len(), 40, "{sets:#?}");
    assert!(
        sets.iter().all(|s| s.paths.len() == 1 && !s.rescan),
        "{sets:#?}"
    );
}

#[tokio::test]
async fn sed_in_place_reports_the_target_only() {
    let fx = fixture();
    let css = fx.root.join("css");
    fs::create_dir(&css).expect("mkdir css");
    let site = css.join("site.css");
    write(&site, "body { color: red }");
    let (_w, mut rx) = Watcher::start(WatchOptions::new([&fx.root])).expect("start");
    let status = std::process::Command::new("sed")
        .args(["-i", "s/red/blue/"])
        .arg(&site)
        .status()
        .expect("sed runs (install GNU sed)");
    assert!(status.success());
    let seen = until(&mut rx, |s| s.has(&site)).await;
    assert_eq!(seen.paths, BTreeSet::from([site]), "{seen:#?}");
    assert_eq!(seen.sets.len(), 1, "{seen:#?}");
}

#[tokio::test]
async fn temp_file_renamed_over_its_target_reports_the_target_only() {
    let fx = fixture();
    let site = fx.root.join("site.css");
    write(&site, "old");
    let (_w, mut rx) = Watcher::start(WatchOptions::new([&fx.root])).expect("start");
    for temp in ["site.css.tmp.123", "site.css.4f2a"] {
        let temp = fx.root.join(temp);
        write(&temp, "new");
        fs::rename(&temp, &site).expect("rename over");
        let seen = until(&mut rx, |s| s.has(&site)).await;
        assert_eq!(seen.paths, BTreeSet::from([site.clone()]), "{seen:#?}");
    }
}

/// Point the symlink `link` at `target` the way `ln -sfn` does: a new link
/// under a temporary name, renamed over the old one.
fn repoint(link: &Path, target: &Path) {
    let temp = link.with_file_name(".link-in-progress");
    std::os::unix::fs::symlink(target, &temp).expect("symlink");
    fs::rename(&temp, link).expect("rename over the link");
}

async fn retargeted(poll: Option<Duration>) {
    let fx = fixture();
    let b2 = fx.base.join("b2");
    fs::create_dir(&b2).expect("mkdir b2");
    let dist = fx.base.join("dist");
    std::os::unix::fs::symlink(&fx.root, &dist).expect("symlink");
    let o = WatchOptions {
        poll,
        ..opts(&dist)
    };
    let (_w, mut rx) = Watcher::start(o).expect("start");
    repoint(&dist, &b2);
    let want = RootRetarget {
        root: dist.clone(),
        target: b2.clone(),
    };
    let seen = until(&mut rx, |s| {
        s.sets.iter().any(|c| c.retargeted.contains(&want))
    })
    .await;
    assert!(seen.rescans > 0, "a retarget reloads everything: {seen:#?}");
    // The new target is watched, under its own canonical paths.
    let page = b2.join("index.html");
    write(&page, "v2");
    until(&mut rx, |s| s.has(&page)).await;
    // And the old one no longer is.
    write(&fx.root.join("stale.html"), "old");
    let sentinel = b2.join("sentinel.txt");
    write(&sentinel, "s");
    let seen = until(&mut rx, |s| s.has(&sentinel)).await;
    assert!(
        seen.paths.iter().all(|p| p.starts_with(&b2)),
        "the old target still reports: {seen:#?}"
    );
}

#[tokio::test]
async fn retargeted_symlinked_root_is_followed() {
    retargeted(None).await;
}

#[tokio::test]
async fn retargeted_symlinked_root_is_followed_when_polling() {
    retargeted(Some(Duration::from_millis(100))).await;
}

#[tokio::test]
async fn real_root_replaced_by_a_symlink_warns_and_is_followed() {
    let fx = fixture();
    let b2 = fx.base.join("b2");
    fs::create_dir(&b2).expect("mkdir b2");
    let cap = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(cap.clone())
        .with_ansi(false)
        .finish();
    let (_w, mut rx) =
        tracing::subscriber::with_default(subscriber, || Watcher::start(opts(&fx.root)))
            .expect("start");
    fs::remove_dir_all(&fx.root).expect("rm -r");
    std::os::unix::fs::symlink(&b2, &fx.root).expect("symlink in its place");
    let want = RootRetarget {
        root: fx.root.clone(),
        target: b2.clone(),
    };
    until(&mut rx, |s| {
        s.sets.iter().any(|c| c.retargeted.contains(&want))
    })
    .await;
    let log = cap.text();
    assert!(
        log.contains("WARN") && log.contains("replaced by a symlink"),
        "{log}"
    );
    let page = b2.join("index.html");
    write(&page, "v2");
    until(&mut rx, |s| s.has(&page)).await;
    // The link itself is watched now: re-pointing it is followed too.
    let b3 = fx.base.join("b3");
    fs::create_dir(&b3).expect("mkdir b3");
    repoint(&fx.root, &b3);
    let want = RootRetarget {
        root: fx.root.clone(),
        target: b3,
    };
    until(&mut rx, |s| {
        s.sets.iter().any(|c| c.retargeted.contains(&want))
    })
    .await;
}

#[tokio::test]
async fn burst_of_500_is_one_change_set() {
    let fx = fixture();
    let dir = fx.root.join("out");
    fs::create_dir(&dir).expect("mkdir");
    // A wide quiet window so a descheduled writer cannot split the burst.
    let o = WatchOptions {
        quiet: Duration::from_millis(1000),
        max_delay: Duration::from_secs(60),
        ..WatchOptions::new([&fx.root])
    };
    let (_w, mut rx) = Watcher::start(o).expect("start");
    let files: BTreeSet<PathBuf> = (0..500).map(|i| dir.join(format!("f{i:03}.js"))).collect();
    for f in &files {
        write(f, "x");
    }
    let seen = until(&mut rx, |s| files.iter().all(|f| s.has(f))).await;
    assert_eq!(seen.sets.len(), 1, "expected one change set");
    assert_eq!(
        seen.sets[0].paths.iter().cloned().collect::<BTreeSet<_>>(),
        files
    );
    assert_eq!(seen.sets[0].paths.len(), 500);
    assert!(!seen.sets[0].rescan);
    // Nothing of the burst trails behind: the next set holds only the sentinel.
    let sentinel = fx.root.join("sentinel.txt");
    write(&sentinel, "s");
    let next = until(&mut rx, |s| !s.sets.is_empty()).await;
    assert_eq!(next.sets[0].paths, vec![sentinel]);
}

#[tokio::test]
async fn ignored_paths_produce_nothing() {
    let fx = fixture();
    // Present before start: never watched.
    fs::create_dir_all(fx.root.join("node_modules/pkg")).expect("mkdir");
    fs::create_dir_all(fx.root.join("sub/target/debug")).expect("mkdir");
    let (_w, mut rx) = Watcher::start(opts(&fx.root)).expect("start");
    write(&fx.root.join("node_modules/pkg/index.js"), "x");
    write(&fx.root.join("node_modules/new.js"), "x");
    write(&fx.root.join("sub/target/debug/app"), "x");
    // Created after start.
    fs::create_dir_all(fx.root.join(".git/objects")).expect("mkdir .git");
    write(&fx.root.join(".git/index"), "x");
    write(&fx.root.join(".git/objects/ab"), "x");
    write(&fx.root.join(".x.swp"), "x");
    write(&fx.root.join(".x.swx"), "x");
    write(&fx.root.join("4913"), "x");
    write(&fx.root.join("x.js~"), "x");
    write(&fx.root.join(".#x.js"), "x");
    write(&fx.root.join("x.js___jb_tmp___"), "x");
    write(&fx.root.join("sub/.DS_Store"), "x");
    write(&fx.root.join("keep.log"), "x");
    let real = fx.root.join("real.txt");
    write(&real, "x");
    let seen = until(&mut rx, |s| s.has(&real)).await;
    let allowed = BTreeSet::from([real, fx.root.join("keep.log")]);
    assert!(
        seen.paths.is_subset(&allowed),
        "unexpected paths: {seen:#?}"
    );
}

#[tokio::test]
async fn user_ignore_patterns_apply() {
    let fx = fixture();
    let o = WatchOptions {
        ignore: vec!["*.log".to_owned(), "cache".to_owned()],
        ..opts(&fx.root)
    };
    let (_w, mut rx) = Watcher::start(o).expect("start");
    write(&fx.root.join("debug.log"), "x");
    fs::create_dir(fx.root.join("cache")).expect("mkdir");
    write(&fx.root.join("cache/a.bin"), "x");
    let real = fx.root.join("real.txt");
    write(&real, "x");
    let seen = until(&mut rx, |s| s.has(&real)).await;
    assert_eq!(seen.paths, BTreeSet::from([real]));
}

#[tokio::test]
async fn new_folders_are_watched_and_early_files_reported() {
    let fx = fixture();
    let (_w, mut rx) = Watcher::start(opts(&fx.root)).expect("start");
    // Written right after mkdir, likely before the new watch exists.
    fs::create_dir_all(fx.root.join("a/b/c")).expect("mkdir -p");
    let early = fx.root.join("a/b/c/early.txt");
    write(&early, "x");
    until(&mut rx, |s| s.has(&early)).await;
    // The new folders now have watches.
    let later = fx.root.join("a/b/later.txt");
    write(&later, "x");
    until(&mut rx, |s| s.has(&later)).await;
}

#[tokio::test]
async fn renamed_folder_is_followed_under_its_new_name() {
    let fx = fixture();
    fs::create_dir_all(fx.root.join("old/deep")).expect("mkdir");
    let (_w, mut rx) = Watcher::start(opts(&fx.root)).expect("start");
    let old = fx.root.join("old");
    let new = fx.root.join("new");
    fs::rename(&old, &new).expect("mv");
    until(&mut rx, |s| s.has(&new)).await;
    let f = fx.root.join("new/deep/x.txt");
    write(&f, "x");
    let seen = until(&mut rx, |s| s.has(&f)).await;
    // `old` itself may show up again (the rename's combined event can land in
    // a later set), but nothing below it: the watch follows the new name.
    assert!(
        !seen.paths.iter().any(|p| p.starts_with(&old) && *p != old),
        "stale old/ path reported: {seen:#?}"
    );
}

#[tokio::test]
async fn folder_moved_in_from_outside_reports_its_files() {
    let fx = fixture();
    let outside = fx.base.join("outside");
    fs::create_dir_all(outside.join("deep")).expect("mkdir");
    write(&outside.join("deep/a.txt"), "x");
    let (_w, mut rx) = Watcher::start(opts(&fx.root)).expect("start");
    fs::rename(&outside, fx.root.join("inside")).expect("mv in");
    let a = fx.root.join("inside/deep/a.txt");
    until(&mut rx, |s| s.has(&a)).await;
    let b = fx.root.join("inside/deep/b.txt");
    write(&b, "x");
    until(&mut rx, |s| s.has(&b)).await;
}

#[tokio::test]
async fn several_roots_and_an_explicit_target_root() {
    let fx = fixture();
    // `target` is ignored below a root, but a root named `target` is watched.
    let target = fx.base.join("target");
    fs::create_dir_all(target.join("debug")).expect("mkdir");
    let o = WatchOptions {
        paths: vec![fx.root.clone(), target.clone()],
        ..opts(&fx.root)
    };
    let (_w, mut rx) = Watcher::start(o).expect("start");
    let a = fx.root.join("a.txt");
    let t = target.join("debug/app");
    write(&a, "x");
    write(&t, "x");
    until(&mut rx, |s| s.has(&a) && s.has(&t)).await;
}

#[tokio::test]
async fn symlinked_root_reports_canonical_paths() {
    let fx = fixture();
    let link = fx.base.join("link");
    std::os::unix::fs::symlink(&fx.root, &link).expect("symlink");
    let (_w, mut rx) = Watcher::start(opts(&link)).expect("start");
    write(&link.join("a.txt"), "x");
    let canonical = fx.root.join("a.txt");
    until(&mut rx, |s| s.has(&canonical)).await;
}

#[tokio::test]
async fn single_file_root_survives_atomic_saves() {
    let fx = fixture();
    let page = fx.root.join("index.html");
    let other = fx.root.join("other.html");
    write(&page, "v1");
    let (_w, mut rx) = Watcher::start(opts(&page)).expect("start");
    for v in ["v2", "v3"] {
        write(&other, v);
        let tmp = fx.root.join("index.html.tmp");
        write(&tmp, v);
        fs::rename(&tmp, &page).expect("rename over");
        let seen = until(&mut rx, |s| s.has(&page)).await;
        assert_eq!(seen.paths, BTreeSet::from([page.clone()]));
    }
}

#[tokio::test]
async fn poll_mode_works() {
    let fx = fixture();
    let old = fx.root.join("old.txt");
    write(&old, "v1");
    age(&old); // so the rewrite is a later mtime even at 1 s resolution
    let o = WatchOptions {
        poll: Some(Duration::from_millis(100)),
        ..opts(&fx.root)
    };
    let (w, mut rx) = Watcher::start(o).expect("start");
    assert!(w.is_polling());
    let a = fx.root.join("a.txt");
    write(&a, "x");
    until(&mut rx, |s| s.has(&a)).await;
    write(&old, "v2");
    until(&mut rx, |s| s.has(&old)).await;
    fs::create_dir(fx.root.join("sub")).expect("mkdir");
    let nested = fx.root.join("sub/n.txt");
    write(&nested, "x");
    until(&mut rx, |s| s.has(&nested)).await;
    fs::remove_file(&a).expect("rm");
    let seen = until(&mut rx, |s| s.has(&a)).await;
    assert!(
        !seen.paths.contains(&fx.root),
        "folder mtime noise leaked: {seen:#?}"
    );
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("capture lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("capture lock")).into_owned()
    }
}

#[tokio::test]
async fn watch_limit_at_start_falls_back_to_polling() {
    let fx = fixture();
    fs::create_dir_all(fx.root.join("a/b")).expect("mkdir");
    let cap = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(cap.clone())
        .with_ansi(false)
        .finish();
    let o = WatchOptions {
        poll: None,
        ..opts(&fx.root)
    };
    let hooks = Hooks {
        native_watch_budget: Some(1), // the root succeeds, `a` hits the limit
    };
    let (w, mut rx) =
        tracing::subscriber::with_default(subscriber, || start_inner(o, hooks)).expect("start");
    assert!(w.is_polling());
    let log = cap.text();
    assert_eq!(log.matches("WARN").count(), 1, "one warning: {log}");
    assert!(
        log.contains("sudo sysctl fs.inotify.max_user_watches=524288"),
        "{log}"
    );
    assert!(log.contains("--poll"), "{log}");
    let f = fx.root.join("a/b/x.txt");
    write(&f, "x");
    until(&mut rx, |s| s.has(&f)).await;
}

#[tokio::test]
async fn watch_limit_later_falls_back_to_polling() {
    let fx = fixture();
    let hooks = Hooks {
        native_watch_budget: Some(1), // only the root
    };
    let (w, mut rx) = start_inner(opts(&fx.root), hooks).expect("start");
    assert!(!w.is_polling());
    fs::create_dir(fx.root.join("sub")).expect("mkdir");
    // The switch asks for a full reload, since events may have been missed.
    until(&mut rx, |s| s.rescans > 0).await;
    assert!(w.is_polling());
    let f = fx.root.join("sub/x.txt");
    write(&f, "x");
    until(&mut rx, |s| s.has(&f)).await;
}

async fn root_recreated(poll: Option<Duration>) {
    let fx = fixture();
    write(&fx.root.join("a.txt"), "x");
    let o = WatchOptions {
        poll,
        ..opts(&fx.root)
    };
    let (_w, mut rx) = Watcher::start(o).expect("start");
    fs::remove_dir_all(&fx.root).expect("rm -r");
    let a = fx.root.join("a.txt");
    until(&mut rx, |s| s.has(&a)).await;
    fs::create_dir(&fx.root).expect("mkdir again");
    let b = fx.root.join("b.txt");
    write(&b, "x");
    // Either the watch was re-armed before b.txt appeared (b.txt is reported),
    // or b.txt predates the new watch and the re-arm asks for a full reload.
    // (A poller that scans only after the re-creation sees no deletion at all,
    // just b.txt.)
    until(&mut rx, |s| s.has(&b) || s.rescans > 0).await;
    // Either way the folder is watched now.
    let c = fx.root.join("c.txt");
    write(&c, "x");
    until(&mut rx, |s| s.has(&c)).await;
}

#[tokio::test]
async fn root_deleted_and_recreated_is_watched_again() {
    root_recreated(None).await;
}

#[tokio::test]
async fn root_deleted_and_recreated_is_watched_again_when_polling() {
    root_recreated(Some(Duration::from_millis(100))).await;
}

#[tokio::test]
async fn dropping_the_watcher_ends_the_stream() {
    let fx = fixture();
    let (w, mut rx) = Watcher::start(opts(&fx.root)).expect("start");
    drop(w);
    let end = tokio::time::timeout(WAIT, async { while rx.recv().await.is_some() {} }).await;
    assert!(end.is_ok(), "receiver did not end after drop");
}

#[tokio::test]
async fn start_errors() {
    let fx = fixture();
    let missing = fx.root.join("nope");
    match Watcher::start(WatchOptions::new([&missing])) {
        Err(WatchError::PathNotFound(p)) => assert_eq!(p, missing),
        other => panic!("expected PathNotFound, got {other:?}"),
    }
    let bad = WatchOptions {
        ignore: vec!["[".to_owned()],
        ..WatchOptions::new([&fx.root])
    };
    match Watcher::start(bad) {
        Err(WatchError::InvalidIgnore { pattern, .. }) => assert_eq!(pattern, "["),
        other => panic!("expected InvalidIgnore, got {other:?}"),
    }
}

#[test]
fn start_outside_a_runtime_is_an_error() {
    let fx = fixture();
    assert!(matches!(
        Watcher::start(WatchOptions::new([&fx.root])),
        Err(WatchError::NoRuntime)
    ));
}
