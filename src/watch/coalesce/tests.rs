use super::*;

#[derive(Clone, Copy)]
enum Ev {
    Push(&'static str),
    Rec(&'static str, ChangeKind),
    Rescan,
}
use Ev::{Push, Rec, Rescan};

const NEW: ChangeKind = ChangeKind::Created { awaits_close: true };
const WRITE: ChangeKind = ChangeKind::Written { awaits_close: true };
const CLOSE: ChangeKind = ChangeKind::Closed;
const GONE: ChangeKind = ChangeKind::Removed;
const ONTO: ChangeKind = ChangeKind::RenamedTo;
const AWAY: ChangeKind = ChangeKind::RenamedFrom;

/// A name that lives as long as the test binary (for generated paths).
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// One file written the way `fs::write` does it on inotify: written, closed.
fn save(t: u64, path: &'static str) -> [(u64, Ev); 2] {
    [(t, Rec(path, WRITE)), (t, Rec(path, CLOSE))]
}

/// One new file: created, written, closed.
fn create(t: u64, path: &'static str) -> [(u64, Ev); 3] {
    [
        (t, Rec(path, NEW)),
        (t, Rec(path, WRITE)),
        (t, Rec(path, CLOSE)),
    ]
}

/// Twenty distinct, sorted paths.
const FILES: [&str; 20] = [
    "/f00", "/f01", "/f02", "/f03", "/f04", "/f05", "/f06", "/f07", "/f08", "/f09", "/f10", "/f11",
    "/f12", "/f13", "/f14", "/f15", "/f16", "/f17", "/f18", "/f19",
];

/// The burst ceiling the tables are written for.
const CEILING: Duration = Duration::from_millis(50);

/// Replays timed events through a coalescer the way the watcher task does:
/// before each event, every set that fell due is emitted at its deadline.
/// Times are in microseconds; paths in `gone` do not exist when a set is
/// taken; the burst ceiling is [`CEILING`]. Returns `(emit time in µs,
/// sorted paths, rescan)`.
fn simulate_us(
    quiet_ms: u64,
    max_ms: u64,
    gone: &[&'static str],
    events: &[(u64, Ev)],
) -> Vec<(u64, Vec<String>, bool)> {
    let t0 = Instant::now();
    let us = |d: Instant| d.duration_since(t0).as_micros() as u64;
    let gone: Vec<PathBuf> = gone.iter().map(PathBuf::from).collect();
    let mut c = Coalescer::new(
        Duration::from_millis(quiet_ms),
        Duration::from_millis(max_ms),
    )
    .with_burst_quiet(CEILING)
    .with_probe(move |p| !gone.iter().any(|g| g == p));
    let mut out = Vec::new();
    let emit = |c: &mut Coalescer, at: Instant, out: &mut Vec<_>| {
        // `None`: everything in the set turned out not to be a change.
        if let Some(set) = c.take_if_due(at) {
            let paths: Vec<String> = set
                .paths
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            out.push((us(at), paths, set.rescan));
        }
        assert!(c.is_empty(), "a due set is always taken");
    };
    for &(t, ev) in events {
        let now = t0 + Duration::from_micros(t);
        while let Some(d) = c.deadline().filter(|d| *d <= now) {
            emit(&mut c, d, &mut out);
        }
        match ev {
            Push(p) => c.push(PathBuf::from(p), now),
            Rec(p, kind) => c.record(PathBuf::from(p), kind, now),
            Rescan => c.push_rescan(now),
        }
    }
    while let Some(d) = c.deadline() {
        emit(&mut c, d, &mut out);
    }
    out
}

/// [`simulate_us`] with times in milliseconds.
fn simulate(
    quiet_ms: u64,
    max_ms: u64,
    gone: &[&'static str],
    events: &[(u64, Ev)],
) -> Vec<(u64, Vec<String>, bool)> {
    let events: Vec<(u64, Ev)> = events.iter().map(|&(t, e)| (t * 1000, e)).collect();
    simulate_us(quiet_ms, max_ms, gone, &events)
        .into_iter()
        .map(|(t, p, r)| {
            assert_eq!(t % 1000, 0, "emitted between milliseconds");
            (t / 1000, p, r)
        })
        .collect()
}

struct Case {
    name: &'static str,
    quiet: u64,
    max: u64,
    /// Paths that no longer exist when a set is taken.
    gone: &'static [&'static str],
    events: Vec<(u64, Ev)>,
    want: Vec<(u64, Vec<&'static str>, bool)>,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "single event flushes after quiet",
            quiet: 3,
            max: 250,
            gone: &[],
            events: vec![(10, Push("/a"))],
            want: vec![(13, vec!["/a"], false)],
        },
        Case {
            name: "burst with gaps below quiet is one set; the window stretches",
            quiet: 3,
            max: 250,
            gone: &[],
            events: vec![
                (0, Push("/a")),
                (2, Push("/b")),
                (4, Push("/c")),
                (6, Push("/d")),
            ],
            // 4 distinct paths: a 12 ms window after the last event.
            want: vec![(18, vec!["/a", "/b", "/c", "/d"], false)],
        },
        Case {
            name: "gap equal to quiet splits",
            quiet: 3,
            max: 250,
            gone: &[],
            events: vec![(0, Push("/a")), (3, Push("/b"))],
            want: vec![(3, vec!["/a"], false), (6, vec!["/b"], false)],
        },
        Case {
            name: "two bursts",
            quiet: 3,
            max: 250,
            gone: &[],
            events: vec![
                (0, Push("/a")),
                (1, Push("/b")),
                (50, Push("/c")),
                (51, Push("/a")),
            ],
            want: vec![(7, vec!["/a", "/b"], false), (57, vec!["/a", "/c"], false)],
        },
        Case {
            name: "duplicates collapse and output is sorted",
            quiet: 3,
            max: 250,
            gone: &[],
            events: vec![
                (0, Push("/z")),
                (1, Push("/a")),
                (1, Push("/z")),
                (2, Push("/m")),
                (2, Push("/a")),
            ],
            want: vec![(11, vec!["/a", "/m", "/z"], false)],
        },
        Case {
            name: "repeats of one path keep the short window",
            quiet: 3,
            max: 250,
            gone: &[],
            events: vec![(0, Push("/a")), (1, Push("/a")), (2, Push("/a"))],
            want: vec![(5, vec!["/a"], false)],
        },
        Case {
            name: "a stalled burst stays one set",
            quiet: 3,
            max: 250,
            gone: &[],
            // 10 files in 10 ms (window 30 ms), a 25 ms stall, 10 more.
            events: (0..10)
                .map(|i| (i, Push(FILES[i as usize])))
                .chain((10..20).map(|i| (i + 25, Push(FILES[i as usize]))))
                .collect(),
            want: vec![(44 + 50, FILES.to_vec(), false)],
        },
        Case {
            name: "the stretch is capped at the burst ceiling",
            quiet: 3,
            max: 250,
            gone: &[],
            // 20 paths: 60 ms stretched, capped at 50; a 60 ms stall splits.
            events: (0..20)
                .map(|i| (i, Push(FILES[i as usize])))
                .chain([(79, Push("/late"))])
                .collect(),
            want: vec![(69, FILES.to_vec(), false), (82, vec!["/late"], false)],
        },
        Case {
            name: "continuous stream is cut at the cap",
            quiet: 3,
            max: 10,
            gone: &[],
            events: (0..=24).map(|t| (t, Push("/a"))).collect(),
            // Sets start at 0, 10 and 20; the last one ends 3 ms after t=24.
            want: vec![
                (10, vec!["/a"], false),
                (20, vec!["/a"], false),
                (27, vec!["/a"], false),
            ],
        },
        Case {
            name: "cap shorter than quiet",
            quiet: 50,
            max: 5,
            gone: &[],
            events: vec![(0, Push("/a")), (1, Push("/b"))],
            want: vec![(5, vec!["/a", "/b"], false)],
        },
        Case {
            name: "rescan alone",
            quiet: 3,
            max: 250,
            gone: &[],
            events: vec![(0, Rescan)],
            want: vec![(3, vec![], true)],
        },
        Case {
            name: "rescan merges with paths and ends with the set",
            quiet: 3,
            max: 250,
            gone: &[],
            events: vec![
                (0, Push("/a")),
                (1, Rescan),
                (2, Push("/b")),
                (20, Push("/c")),
            ],
            want: vec![(8, vec!["/a", "/b"], true), (23, vec!["/c"], false)],
        },
        Case {
            name: "zero quiet: every event is its own set",
            quiet: 0,
            max: 250,
            gone: &[],
            events: vec![(0, Push("/a")), (0, Push("/b")), (1, Push("/c"))],
            want: vec![
                (0, vec!["/a"], false),
                (0, vec!["/b"], false),
                (1, vec!["/c"], false),
            ],
        },
    ]
}

#[test]
fn data_driven() {
    for case in cases() {
        let got = simulate(case.quiet, case.max, case.gone, &case.events);
        let want: Vec<(u64, Vec<String>, bool)> = case
            .want
            .iter()
            .map(|(t, p, r)| (*t, p.iter().map(|s| (*s).to_owned()).collect(), *r))
            .collect();
        assert_eq!(got, want, "case: {}", case.name);
    }
}

#[test]
fn quiet_window_stretch() {
    let t0 = Instant::now();
    let ms = Duration::from_millis;
    let mut c = Coalescer::new(ms(3), ms(250));
    assert_eq!(c.quiet_window(), ms(3));
    c.push("/a".into(), t0);
    c.push("/a".into(), t0);
    assert_eq!(c.quiet_window(), ms(3), "one distinct path");
    c.push("/b".into(), t0);
    assert_eq!(c.quiet_window(), ms(6));
    for i in 0..100 {
        c.push(PathBuf::from(format!("/x{i}")), t0);
    }
    assert_eq!(c.quiet_window(), DEFAULT_BURST_QUIET);
    let mut off = Coalescer::new(ms(3), ms(250)).with_burst_quiet(Duration::ZERO);
    off.push("/a".into(), t0);
    off.push("/b".into(), t0);
    assert_eq!(off.quiet_window(), ms(3));
    // A quiet window above the ceiling is never shortened.
    let mut long = Coalescer::new(ms(500), ms(1000));
    long.push("/a".into(), t0);
    long.push("/b".into(), t0);
    assert_eq!(long.quiet_window(), ms(500));
}

#[test]
fn empty_has_no_deadline() {
    let mut c = Coalescer::new(Duration::from_millis(3), Duration::from_millis(250));
    assert!(c.is_empty());
    assert_eq!(c.deadline(), None);
    assert_eq!(c.take_if_due(Instant::now()), None);
    assert_eq!(c.take(), None);
}

#[test]
fn not_due_before_deadline() {
    let t0 = Instant::now();
    let mut c = Coalescer::new(Duration::from_millis(3), Duration::from_millis(250));
    c.push("/a".into(), t0);
    assert_eq!(c.deadline(), Some(t0 + Duration::from_millis(3)));
    assert_eq!(c.take_if_due(t0 + Duration::from_millis(2)), None);
    assert!(!c.is_empty());
    let set = c.take_if_due(t0 + Duration::from_millis(3)).expect("due");
    assert_eq!(set.paths, vec![PathBuf::from("/a")]);
    assert!(c.is_empty());
}

#[test]
fn out_of_order_stamps_do_not_shorten_the_window() {
    let t0 = Instant::now();
    let mut c = Coalescer::new(Duration::from_millis(10), Duration::from_millis(250));
    c.push("/a".into(), t0 + Duration::from_millis(5));
    c.push("/a".into(), t0);
    assert_eq!(c.deadline(), Some(t0 + Duration::from_millis(15)));
}

#[test]
fn huge_durations_do_not_panic() {
    let t0 = Instant::now();
    let mut c = Coalescer::new(Duration::MAX, Duration::MAX);
    c.push("/a".into(), t0);
    assert!(c.deadline().is_some());
    assert!(c.take().is_some());
}

#[test]
fn too_many_paths_turn_into_rescan() {
    let t0 = Instant::now();
    let mut c = Coalescer::new(Duration::from_millis(3), Duration::from_millis(250));
    for i in 0..(MAX_PATHS + 10) {
        c.push(PathBuf::from(format!("/f{i}")), t0);
    }
    let set = c.take().expect("pending");
    assert!(set.rescan);
    assert_eq!(set.paths.len(), MAX_PATHS);
}

/// Cases for the write-completion, leading-edge and temp-file rules.
fn save_cases() -> Vec<Case> {
    let burst: Vec<&'static str> = (0..200).map(|i| leak(format!("/out/c{i:03}.js"))).collect();
    vec![
        Case {
            name: "a lone in-place save is delivered at the leading edge",
            quiet: 20,
            max: 1000,
            gone: &[],
            events: save(100, "/a").to_vec(),
            want: vec![(101, vec!["/a"], false)],
        },
        Case {
            name: "a save cut by a stalled writer is held until its close",
            quiet: 3,
            max: 1000,
            gone: &[],
            events: vec![
                (0, Rec("/a", WRITE)),
                (30, Rec("/a", WRITE)),
                (60, Rec("/a", CLOSE)),
            ],
            want: vec![(61, vec!["/a"], false)],
        },
        Case {
            name: "a new file is held until its close, then waits the burst window",
            quiet: 3,
            max: 1000,
            gone: &[],
            events: vec![
                (0, Rec("/n", NEW)),
                (25, Rec("/n", WRITE)),
                (40, Rec("/n", CLOSE)),
            ],
            want: vec![(90, vec!["/n"], false)],
        },
        Case {
            name: "a write that never closes is cut at the cap",
            quiet: 3,
            max: 100,
            gone: &[],
            events: vec![(0, Rec("/log", WRITE)), (50, Rec("/log", WRITE))],
            want: vec![(100, vec!["/log"], false)],
        },
        Case {
            name: "without a close promise (polling) a write waits the quiet window",
            quiet: 3,
            max: 1000,
            gone: &[],
            events: vec![(
                0,
                Rec(
                    "/a",
                    ChangeKind::Written {
                        awaits_close: false,
                    },
                ),
            )],
            want: vec![(3, vec!["/a"], false)],
        },
        Case {
            name: "repeated saves of one file each lead",
            quiet: 20,
            max: 1000,
            gone: &[],
            events: [save(0, "/a"), save(10, "/a"), save(20, "/a")].concat(),
            want: vec![
                (1, vec!["/a"], false),
                (11, vec!["/a"], false),
                (21, vec!["/a"], false),
            ],
        },
        Case {
            name: "another file saved right after a lone save waits the quiet window",
            quiet: 3,
            max: 1000,
            gone: &[],
            events: [save(0, "/a"), save(5, "/b"), save(100, "/c")].concat(),
            want: vec![
                (1, vec!["/a"], false),
                (8, vec!["/b"], false),
                (101, vec!["/c"], false),
            ],
        },
        Case {
            name: "a rescan never leads",
            quiet: 3,
            max: 1000,
            gone: &[],
            events: [save(0, "/a").to_vec(), vec![(0, Rescan)]].concat(),
            want: vec![(3, vec!["/a"], true)],
        },
        Case {
            name: "sed -i: the temp file is not a change, the target is",
            quiet: 3,
            max: 1000,
            gone: &["/css/sedW2gnfG"],
            events: [
                create(0, "/css/sedW2gnfG").to_vec(),
                vec![
                    (1, Rec("/css/sedW2gnfG", GONE)),
                    (1, Rec("/css/site.css", ONTO)),
                ],
            ]
            .concat(),
            want: vec![(51, vec!["/css/site.css"], false)],
        },
        Case {
            name: "a temp file renamed over its target after a stall is still left out",
            quiet: 20,
            max: 1000,
            gone: &["/site.css.tmp.123"],
            events: [
                create(0, "/site.css.tmp.123").to_vec(),
                vec![
                    (15, Rec("/site.css.tmp.123", GONE)),
                    (15, Rec("/site.css", ONTO)),
                ],
            ]
            .concat(),
            want: vec![(65, vec!["/site.css"], false)],
        },
        Case {
            name: "created and removed within the set: no set at all",
            quiet: 3,
            max: 1000,
            gone: &["/t"],
            events: [create(0, "/t").to_vec(), vec![(1, Rec("/t", GONE))]].concat(),
            want: vec![],
        },
        Case {
            name: "removing a file that existed before is a change",
            quiet: 3,
            max: 1000,
            gone: &["/old"],
            events: vec![(0, Rec("/old", GONE))],
            want: vec![(3, vec!["/old"], false)],
        },
        Case {
            name: "a renamed file reports both names",
            quiet: 3,
            max: 1000,
            gone: &["/new.css"],
            events: vec![(0, Rec("/new.css", GONE)), (0, Rec("/renamed.css", ONTO))],
            want: vec![(6, vec!["/new.css", "/renamed.css"], false)],
        },
        Case {
            name: "a rename cut by a stalled watcher is one set",
            quiet: 3,
            max: 1000,
            gone: &["/new.css"],
            events: vec![(0, Rec("/new.css", AWAY)), (30, Rec("/renamed.css", ONTO))],
            want: vec![(36, vec!["/new.css", "/renamed.css"], false)],
        },
        Case {
            name: "a rename with both halves at once waits the usual window",
            quiet: 3,
            max: 1000,
            gone: &["/new.css"],
            events: vec![
                (0, Rec("/new.css", AWAY)),
                (0, Rec("/renamed.css", ONTO)),
                (0, Rec("/new.css", AWAY)),
                (0, Rec("/renamed.css", ONTO)),
            ],
            want: vec![(6, vec!["/new.css", "/renamed.css"], false)],
        },
        Case {
            name: "a file moved out of the tree waits the burst window for a target",
            quiet: 3,
            max: 1000,
            gone: &["/moved.css"],
            events: vec![(0, Rec("/moved.css", AWAY))],
            want: vec![(50, vec!["/moved.css"], false)],
        },
        Case {
            name: "a new folder waits the burst ceiling for its files",
            quiet: 3,
            max: 1000,
            gone: &[],
            events: [
                vec![(0, Rec("/d", ChangeKind::CreatedFolder))],
                create(30, "/d/x").to_vec(),
            ]
            .concat(),
            want: vec![(80, vec!["/d", "/d/x"], false)],
        },
        Case {
            name: "200 new files with stalls are one set",
            quiet: 3,
            max: 5000,
            gone: &[],
            // 1 ms apart, a 40 ms stall every 50 files, and file 120 held
            // open for 300 ms by a descheduled writer.
            events: burst
                .iter()
                .enumerate()
                .flat_map(|(i, &f)| {
                    let i = i as u64;
                    let t = i + 40 * (i / 50) + if i > 120 { 300 } else { 0 };
                    if i == 120 {
                        vec![(t, Rec(f, NEW)), (t + 300, Rec(f, CLOSE))]
                    } else {
                        create(t, f).to_vec()
                    }
                })
                .collect(),
            want: vec![(199 + 120 + 300 + 50, burst.clone(), false)],
        },
    ]
}

#[test]
fn saves_bursts_and_temp_files() {
    for case in save_cases() {
        let got = simulate(case.quiet, case.max, case.gone, &case.events);
        let want: Vec<(u64, Vec<String>, bool)> = case
            .want
            .iter()
            .map(|(t, p, r)| (*t, p.iter().map(|s| (*s).to_owned()).collect(), *r))
            .collect();
        assert_eq!(got, want, "case: {}", case.name);
    }
}

#[test]
fn an_overwriting_build_is_one_set() {
    // 200 existing files rewritten 50 µs apart after a pause: the first close
    // is alone for far less than the lead window, so nothing leads.
    let files: Vec<&'static str> = (0..200)
        .map(|i| leak(format!("/dist/m{i:03}.js")))
        .collect();
    let events: Vec<(u64, Ev)> = files
        .iter()
        .enumerate()
        .flat_map(|(i, &f)| save(i as u64 * 50, f))
        .collect();
    let got = simulate_us(3, 1000, &[], &events);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].1.len(), 200);
    assert_eq!(got[0].0, 199 * 50 + CEILING.as_micros() as u64);
}

#[test]
fn a_lone_save_is_announced_within_the_lead_window() {
    let t0 = Instant::now();
    let mut c = Coalescer::new(Duration::from_millis(20), Duration::from_secs(1));
    c.record("/a".into(), WRITE, t0);
    assert_eq!(c.deadline(), Some(t0 + Duration::from_secs(1)), "held");
    c.record("/a".into(), CLOSE, t0);
    assert_eq!(c.deadline(), Some(t0 + LEAD_WINDOW));
    assert!(LEAD_WINDOW <= Duration::from_millis(1));
}

#[test]
fn retargeted_roots_ride_with_a_rescan() {
    let t0 = Instant::now();
    let mut c = Coalescer::new(Duration::from_millis(3), Duration::from_secs(1));
    let r = RootRetarget {
        root: "/site/dist".into(),
        target: "/site/b2".into(),
    };
    c.push_retarget(r.clone(), t0);
    c.push_retarget(r.clone(), t0);
    let set = c.take().expect("pending");
    assert!(set.rescan);
    assert_eq!(set.retargeted, vec![r]);
    assert!(set.paths.is_empty());
}

#[test]
fn a_temp_file_left_out_stays_out_when_its_rename_comes_next() {
    // The set holding the new temp file falls due (by the stamps) before the
    // rename, but the task taking it runs late, after the rename: the temp
    // file is gone by then and left out, and so is its rename away.
    let t0 = Instant::now();
    let ms = Duration::from_millis;
    let mut c = Coalescer::new(ms(3), ms(1000)).with_probe(|p| p != Path::new("/a.css.4f2a"));
    for kind in [NEW, WRITE, CLOSE] {
        c.record("/a.css.4f2a".into(), kind, t0);
    }
    let due = c.deadline().expect("pending");
    assert_eq!(
        c.take_if_due(due + ms(50)),
        None,
        "only a vanished temp file"
    );
    c.record("/a.css.4f2a".into(), AWAY, due + ms(10));
    c.record("/a.css".into(), ONTO, due + ms(10));
    let set = c.take_if_due(due + ms(1000)).expect("due");
    assert_eq!(set.paths, vec![PathBuf::from("/a.css")]);
    // Removing a file that was announced is still a change.
    c.record("/a.css".into(), GONE, due + ms(2000));
    let set = c.take_if_due(due + ms(3000)).expect("due");
    assert_eq!(set.paths, vec![PathBuf::from("/a.css")]);
}
