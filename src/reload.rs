//! The change path's middle: a change set from the watcher becomes fresh
//! files (the static cache forgets), a note to the embedder's subscribers,
//! and — unless a build tool reports builds itself — the browser messages
//! `invalid`, the changed files (`content-changed` / `static-changed`), a
//! new `hash` and the build status.
//!
//! webpack build output is held first ([`crate::webpack`]) until the
//! build's files are complete, then announced with webpack's own hash; with
//! hot mode on, as `invalid` → `hash` → status only, so HMR runtimes update
//! the page in place instead of reloading it.
//!
//! watch → **reload** (→ webpack hold) → hub → sessions.

use crate::event::Event;
use crate::hub::Hub;
use crate::protocol::{ChangedFiles, Message};
use crate::static_files::StaticFiles;
use crate::watch::ChangeSet;
use crate::webpack::{Build, Disk, Hold, Step};
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;

/// Change sets with more URL paths than this go out without `content-changed` paths.
const MAX_CHANGED_PATHS: usize = 100;

/// Where change sets go.
#[derive(Debug)]
pub(crate) struct Reload {
    pub(crate) hub: Hub,
    pub(crate) static_files: StaticFiles,
    pub(crate) events: broadcast::Sender<Event>,
    pub(crate) subscribers: broadcast::Sender<ChangeSet>,
    /// Announce change sets to browsers (off when a build tool reports builds).
    pub(crate) announce: bool,
    /// The served folder as configured, made absolute (how the watcher names
    /// it when it is a symlink that was re-pointed).
    pub(crate) served: std::path::PathBuf,
}

impl Reload {
    /// Follow `changes` until the watcher stops.
    pub(crate) async fn follow(self, mut changes: mpsc::Receiver<ChangeSet>) {
        let mut hold = Hold::default();
        let mut wake: Option<Instant> = None;
        loop {
            let step = tokio::select! {
                change = changes.recv() => match change {
                    Some(change) if self.announce => {
                        hold.offer(change, Instant::now().into_std(), &Disk)
                    }
                    Some(change) => Step::Pass(change),
                    None => break,
                },
                () = sleep_until(wake) => hold.tick(Instant::now().into_std(), &Disk),
            };
            wake = None;
            match step {
                Step::Pass(change) => self.apply(change),
                Step::Build(build) => self.apply_build(build),
                Step::Wait(at) => wake = Some(Instant::from_std(at)),
                Step::Idle => {}
            }
        }
    }

    /// Make files fresh and tell subscribers; whether browsers are to be told.
    fn refresh(&self, change: &ChangeSet) -> bool {
        // A symlinked served folder that now points elsewhere is served from there.
        for retarget in &change.retargeted {
            if retarget.root == self.served {
                self.static_files.retarget(&retarget.target);
            }
        }
        // Before anyone is told: the reload they trigger must see fresh files.
        self.static_files.invalidate();
        let _ = self.subscribers.send(change.clone());
        self.announce
    }

    fn apply(&self, change: ChangeSet) {
        if !self.refresh(&change) {
            return;
        }
        let before = announcement(&change, &self.static_files);
        let hash = self.hub.next_hash();
        let clients = self.hub.finish_build(hash, self.hub.status(), &before);
        self.report(&change, clients);
    }

    /// A complete webpack build: announced with webpack's hash; in hot mode
    /// without the changed files, which would make every client reload.
    fn apply_build(&self, build: Build) {
        if !self.refresh(&build.change) {
            return;
        }
        if build.hash == self.hub.hash() && build.status == self.hub.status() {
            // Another write of the build already announced (its stats file, say).
            return;
        }
        let before = if self.hub.hot() {
            vec![Message::Invalid]
        } else {
            announcement(&build.change, &self.static_files)
        };
        let clients = self
            .hub
            .finish_compilation(build.hash, build.status, &before);
        self.report(&build.change, clients);
    }

    fn report(&self, change: &ChangeSet, clients: usize) {
        let root = self.static_files.root();
        let paths = change
            .paths
            .iter()
            .map(|p| p.strip_prefix(&*root).unwrap_or(p).display().to_string())
            .collect();
        let _ = self.events.send(Event::Changed { paths, clients });
    }
}

/// Sleep until `at`; never, without one.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// What precedes the new hash and build status: `invalid`, then the changed
/// files (wds 3 hears their URL paths when there are few enough and the
/// change set names them all; wds 5 the first absolute path).
fn announcement(change: &ChangeSet, static_files: &StaticFiles) -> Vec<Message> {
    let urls: Vec<String> = change
        .paths
        .iter()
        .filter_map(|p| static_files.url_path_for(p))
        .collect();
    let listed = !change.rescan && !urls.is_empty() && urls.len() <= MAX_CHANGED_PATHS;
    let files = change
        .paths
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    vec![
        Message::Invalid,
        Message::FilesChanged(ChangedFiles {
            urls: listed.then_some(urls),
            files,
        }),
    ]
}
