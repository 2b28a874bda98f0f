//! The change path's middle: a change set from the watcher becomes fresh
//! files (the static cache forgets), a note to the embedder's subscribers,
//! and — unless a build tool reports builds itself — the browser messages
//! `invalid`, `content-changed` (URL paths), a new `hash` and the build status.
//!
//! watch → **reload** → hub → sessions.

use crate::event::Event;
use crate::hub::Hub;
use crate::protocol::{ChangedFiles, Message};
use crate::static_files::StaticFiles;
use crate::watch::ChangeSet;
use tokio::sync::{broadcast, mpsc};

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
}

impl Reload {
    /// Follow `changes` until the watcher stops.
    pub(crate) async fn follow(self, mut changes: mpsc::Receiver<ChangeSet>) {
        while let Some(change) = changes.recv().await {
            self.apply(change);
        }
    }

    fn apply(&self, change: ChangeSet) {
        // Before anyone is told: the reload they trigger must see fresh files.
        self.static_files.invalidate();
        let _ = self.subscribers.send(change.clone());
        if !self.announce {
            return;
        }
        let before = announcement(&change, &self.static_files);
        let hash = self.hub.next_hash();
        let clients = self.hub.finish_build(hash, self.hub.status(), &before);
        let root = self.static_files.root();
        let paths = change
            .paths
            .iter()
            .map(|p| p.strip_prefix(root).unwrap_or(p).display().to_string())
            .collect();
        let _ = self.events.send(Event::Changed { paths, clients });
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
