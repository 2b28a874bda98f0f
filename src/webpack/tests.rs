use super::inspect::{kind_of, look_at, parse_stats, Kind, Look};
use super::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Files in memory.
#[derive(Default)]
struct Fake(HashMap<PathBuf, String>);

impl Fake {
    fn put(&mut self, name: &str, text: &str) -> PathBuf {
        let path = Path::new("/dist").join(name);
        self.0.insert(path.clone(), text.to_string());
        path
    }
}

impl Files for Fake {
    fn look(&self, path: &Path) -> Look {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        match self.0.get(path) {
            Some(text) => look_at(path, kind_of(name), text),
            None => Look::Other,
        }
    }

    fn exists(&self, path: &Path) -> bool {
        self.0.contains_key(path)
    }
}

fn bundle(hash: &str) -> String {
    format!(
        "/******/ (() => {{ // webpackBootstrap\n/******/ \t__webpack_require__.hmrF = () => (\"main.\" + __webpack_require__.h() + \".hot-update.json\");\n/******/ \t__webpack_require__.h = () => (\"{hash}\");\n/******/ }})()\n;"
    )
}

fn hot_chunk(hash: &str) -> String {
    format!("\"use strict\";\nself[\"webpackHotUpdate\"](\"main\",{{}},\n/******/ function(__webpack_require__) {{\n/******/ __webpack_require__.h = () => (\"{hash}\");\n/******/ }}\n);\n")
}

fn set(paths: &[&PathBuf]) -> ChangeSet {
    ChangeSet {
        paths: paths.iter().map(|p| (*p).clone()).collect(),
        ..ChangeSet::default()
    }
}

fn built(step: Step) -> Build {
    match step {
        Step::Build(build) => build,
        other => panic!("expected a build, got {other:?}"),
    }
}

#[test]
fn a_lone_save_passes_at_once() {
    let mut files = Fake::default();
    let page = files.put("index.html", "<p>hi</p>");
    let script = files.put("app.js", "console.log(1)");
    let mut hold = Hold::default();
    let now = Instant::now();
    assert_eq!(
        hold.offer(set(&[&page]), now, &files),
        Step::Pass(set(&[&page]))
    );
    assert_eq!(
        hold.offer(set(&[&script]), now, &files),
        Step::Pass(set(&[&script]))
    );
    assert_eq!(hold.tick(now, &files), Step::Idle);
}

#[test]
fn a_rebuild_is_held_until_its_manifest_and_chunk_are_written_in_any_order() {
    let mut files = Fake::default();
    let t0 = Instant::now();
    let mut hold = Hold::default();
    // The first build: a bundle and no manifest; let go after FIRST_BUILD.
    let main = files.put("main.js", &bundle("aaa1"));
    assert!(matches!(
        hold.offer(set(&[&main]), t0, &files),
        Step::Wait(_)
    ));
    assert!(matches!(hold.tick(t0 + SETTLE, &files), Step::Wait(_)));
    assert_eq!(built(hold.tick(t0 + FIRST_BUILD, &files)).hash, "aaa1");
    // The rebuild writes main.js first; the manifest and chunk come later.
    let t1 = t0 + Duration::from_secs(5);
    files.put("main.js", &bundle("bbb2"));
    let step = hold.offer(set(&[&main]), t1, &files);
    assert!(matches!(step, Step::Wait(_)), "{step:?}");
    let late = t1 + Duration::from_millis(100);
    assert!(
        matches!(hold.tick(late, &files), Step::Wait(_)),
        "no manifest yet"
    );
    let chunk = files.put("main.aaa1.hot-update.js", &hot_chunk("bbb2"));
    let manifest = files.put(
        "main.aaa1.hot-update.json",
        r#"{"c":["main"],"r":[],"m":[]}"#,
    );
    let t2 = late + Duration::from_millis(10);
    assert!(matches!(
        hold.offer(set(&[&chunk, &manifest]), t2, &files),
        Step::Wait(_)
    ));
    let build = built(hold.tick(t2 + SETTLE, &files));
    assert_eq!(build.hash, "bbb2");
    assert_eq!(build.status, BuildStatus::Ok);
    assert_eq!(build.change.paths, vec![chunk, manifest, main]);
}

#[test]
fn a_manifest_first_waits_for_the_chunk_it_names() {
    let mut files = Fake::default();
    let manifest = files.put(
        "main.aaa1.hot-update.json",
        r#"{"c":["main"],"r":[],"m":[]}"#,
    );
    let t0 = Instant::now();
    let mut hold = Hold::default();
    assert!(matches!(
        hold.offer(set(&[&manifest]), t0, &files),
        Step::Wait(_)
    ));
    assert!(matches!(hold.tick(t0 + SETTLE * 3, &files), Step::Wait(_)));
    let chunk = files.put(
        "main.aaa1.hot-update.js",
        "\"use strict\";\nself[\"webpackHotUpdate\"](\"main\",{",
    );
    let t1 = t0 + SETTLE * 4;
    assert!(
        matches!(hold.offer(set(&[&chunk]), t1, &files), Step::Wait(_)),
        "cut short"
    );
    files.put("main.aaa1.hot-update.js", &hot_chunk("ccc3"));
    let t2 = t1 + Duration::from_millis(5);
    assert!(matches!(
        hold.offer(set(&[&chunk]), t2, &files),
        Step::Wait(_)
    ));
    assert!(
        matches!(hold.tick(t2 + SETTLE / 2, &files), Step::Wait(_)),
        "not settled"
    );
    assert_eq!(built(hold.tick(t2 + SETTLE, &files)).hash, "ccc3");
}

#[test]
fn a_failed_build_reports_its_errors_from_the_stats_file() {
    let mut files = Fake::default();
    let stats = files.put(
        "stats.json",
        r#"{"hash":"ddd4","errors":[{"moduleName":"./src/a.js","message":"Unexpected token"}],"warnings":["w"]}"#,
    );
    let t0 = Instant::now();
    let mut hold = Hold::default();
    assert!(matches!(
        hold.offer(set(&[&stats]), t0, &files),
        Step::Wait(_)
    ));
    let build = built(hold.tick(t0 + SETTLE, &files));
    assert_eq!(build.hash, "ddd4");
    assert_eq!(
        build.status,
        BuildStatus::Failed {
            errors: vec!["./src/a.js\nUnexpected token".into()],
            warnings: vec!["w".into()],
        }
    );
}

#[test]
fn disagreeing_hashes_wait_and_a_stuck_build_is_let_go() {
    let mut files = Fake::default();
    let stats = files.put("stats.json", r#"{"hash":"new5","errors":[],"warnings":[]}"#);
    let main = files.put("main.js", &bundle("old4"));
    let t0 = Instant::now();
    let mut hold = Hold::default();
    assert!(matches!(
        hold.offer(set(&[&stats, &main]), t0, &files),
        Step::Wait(_)
    ));
    assert!(matches!(hold.tick(t0 + SETTLE * 2, &files), Step::Wait(_)));
    let build = built(hold.tick(t0 + MAX_HOLD, &files));
    assert_eq!(build.hash, "new5", "the stats file's hash wins");
    // A held file that never parses, and no hash: announced as a plain change.
    let broken = files.put("x.hot-update.json", "{");
    assert!(matches!(
        hold.offer(set(&[&broken]), t0, &files),
        Step::Wait(_)
    ));
    assert_eq!(
        hold.tick(t0 + MAX_HOLD, &files),
        Step::Pass(set(&[&broken]))
    );
}

#[test]
fn file_kinds_and_stats_parsing() {
    assert_eq!(kind_of("main.abc.hot-update.json"), Kind::HotManifest);
    assert_eq!(kind_of("main.abc.hot-update.js"), Kind::HotChunk);
    assert_eq!(kind_of("stats.json"), Kind::Stats);
    assert_eq!(kind_of("other.json"), Kind::Other);
    assert_eq!(kind_of("app.js"), Kind::Script);
    assert_eq!(
        look_at(Path::new("/d/app.js"), Kind::Script, "let x = 1;"),
        Look::Other
    );
    assert_eq!(parse_stats("not json"), None);
    assert_eq!(
        parse_stats(r#"{"errors":[]}"#),
        None,
        "no hash: not webpack's stats"
    );
    let ok = parse_stats(r#"{"hash":"h"}"#).expect("stats");
    assert_eq!((ok.hash.as_str(), ok.status), ("h", BuildStatus::Ok));
}

#[test]
fn an_empty_script_is_held_briefly_as_a_bundle_being_written() {
    let mut files = Fake::default();
    let main = files.put("main.js", "");
    let t0 = Instant::now();
    let mut hold = Hold::default();
    assert!(matches!(
        hold.offer(set(&[&main]), t0, &files),
        Step::Wait(_)
    ));
    files.put("main.js", &bundle("eee6"));
    assert_eq!(built(hold.tick(t0 + FIRST_BUILD, &files)).hash, "eee6");
    // An empty script that stays empty is a plain change, let go soon.
    let other = files.put("empty.js", "");
    assert!(matches!(
        hold.offer(set(&[&other]), t0, &files),
        Step::Wait(_)
    ));
    assert_eq!(
        hold.tick(t0 + FIRST_BUILD, &files),
        Step::Pass(set(&[&other]))
    );
}

#[test]
fn a_manifest_waits_for_its_runtime_bundle_to_carry_the_new_hash() {
    let mut files = Fake::default();
    let t0 = Instant::now();
    let mut hold = Hold::default();
    let main = files.put("main.js", &bundle("aaa1"));
    hold.offer(set(&[&main]), t0, &files);
    assert_eq!(built(hold.tick(t0 + FIRST_BUILD, &files)).hash, "aaa1");
    // The update's files arrive before main.js is rewritten.
    let t1 = t0 + Duration::from_secs(5);
    let chunk = files.put("main.aaa1.hot-update.js", &hot_chunk("bbb2"));
    let manifest = files.put(
        "main.aaa1.hot-update.json",
        r#"{"c":["main"],"r":[],"m":[]}"#,
    );
    assert!(matches!(
        hold.offer(set(&[&chunk, &manifest]), t1, &files),
        Step::Wait(_)
    ));
    let later = t1 + Duration::from_millis(200);
    assert!(
        matches!(hold.tick(later, &files), Step::Wait(_)),
        "main.js is still the old build"
    );
    files.put("main.js", &bundle("bbb2"));
    hold.offer(set(&[&main]), later, &files);
    let build = built(hold.tick(later + SETTLE, &files));
    assert_eq!(build.hash, "bbb2");
    assert_eq!(build.change.paths, vec![chunk, manifest, main]);
}
