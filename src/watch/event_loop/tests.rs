use std::collections::BTreeSet;
use std::io;
use std::path::PathBuf;

use super::*;

fn event_loop(root: &Path, hooks: Hooks) -> (EventLoop, mpsc::Receiver<Msg>) {
    let (msg_tx, msg_rx) = mpsc::channel();
    let (out, _rx) = tokio::sync::mpsc::unbounded_channel();
    let ev = EventLoop::new(Setup {
        roots: vec![Root::resolve(root).expect("root")],
        ignore: IgnoreMatcher::new(&[]).expect("ignores"),
        poll: None,
        msg_tx,
        in_flight: InFlight::default(),
        out,
        polling: Arc::default(),
        hooks,
    })
    .expect("event loop");
    (ev, msg_rx)
}

#[test]
fn ignored_folders_get_no_watch() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = fs::canonicalize(tmp.path()).expect("canonical");
    for d in [
        "node_modules/react/cjs",
        ".git/objects/ab",
        "target/debug/deps",
        "src/components",
        "css",
        "sub/node_modules/x",
    ] {
        fs::create_dir_all(root.join(d)).expect("mkdir");
    }
    let (ev, _rx) = event_loop(&root, Hooks::default());
    let want: BTreeSet<PathBuf> = ["", "src", "src/components", "css", "sub"]
        .iter()
        .map(|d| {
            if d.is_empty() {
                root.clone()
            } else {
                root.join(d)
            }
        })
        .collect();
    assert_eq!(ev.backend.watched(), &want);
}

#[test]
fn runtime_limit_warns_once() {
    use std::sync::Mutex;
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);
    impl io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = fs::canonicalize(tmp.path()).expect("canonical");
    let cap = Capture::default();
    let sink = cap.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let hooks = Hooks {
            native_watch_budget: Some(1),
        };
        let (mut ev, _rx) = event_loop(&root, hooks);
        assert!(!ev.backend.is_polling());
        for name in ["a", "b"] {
            let dir = root.join(name);
            fs::create_dir(&dir).expect("mkdir");
            ev.on_event(
                notify::Event::new(EventKind::Create(notify::event::CreateKind::Folder))
                    .add_path(dir),
                Instant::now(),
            );
        }
        assert!(ev.backend.is_polling());
        let watched = ev.backend.watched();
        assert!(watched.contains(&root.join("a")) && watched.contains(&root.join("b")));
    });
    let log = String::from_utf8_lossy(&cap.0.lock().expect("lock")).into_owned();
    assert_eq!(log.matches("WARN").count(), 1, "{log}");
    assert!(log.contains("fs.inotify.max_user_watches=524288"), "{log}");
    // The folder that hit the limit is named once, not again in notify's text.
    let a = root.join("a").display().to_string();
    assert_eq!(log.matches(&a).count(), 1, "{log}");
}
