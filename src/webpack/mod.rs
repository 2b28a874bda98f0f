//! webpack build output in change sets: recognise it, hold it until the
//! build's files are complete, and learn webpack's own compilation hash.
//!
//! A webpack build writes several files over tens of milliseconds, with
//! gaps, in an order of its choosing; an editor's save is one write. A
//! change set that holds no webpack output passes at once (a lone save is
//! never slowed). One that does — a `*.hot-update.json` manifest or chunk,
//! the stats file, or a script whose head carries `webpackBootstrap` /
//! `webpackChunk` — is held, and the change sets after it merged in, until:
//!
//! - every held bundle and hot-update chunk ends as webpack ends them,
//! - every held manifest parses and the hot-update chunks it names exist,
//! - a held manifest's runtime bundle (the script last seen naming its
//!   manifests that way) carries the new hash too: webpack rewrites it in
//!   the same build, so a page reloaded now gets the new bundle,
//! - a held bundle with an HMR runtime and a new hash has its update
//!   manifest (`<runtime>.<previous hash>.hot-update.json`) on disk, when
//!   the previous hash is known; else one is held, or [`FIRST_BUILD`] passed
//!   (the first build writes none),
//! - a compilation hash is known (the stats file's `hash`, else the
//!   `getFullHash` runtime in a hot-update chunk or bundle), and every
//!   file that carries one agrees,
//! - and no further change set arrived for [`SETTLE`].
//!
//! An empty script is held too (webpack truncates a bundle before writing
//! it), for [`FIRST_BUILD`] at most when nothing else shows a build.
//! A build that never completes is let go after [`MAX_HOLD`]. The decision
//! is a plain function of the change sets, the files and the time given,
//! so it is tested without sleeping.

#![deny(unreachable_pub, missing_debug_implementations)]

mod inspect;

use inspect::{manifest_prefix, Look};
pub(crate) use inspect::{Disk, Files};

use crate::hub::BuildStatus;
use crate::watch::ChangeSet;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Quiet time after the last held change set before a complete build is announced.
pub(crate) const SETTLE: Duration = Duration::from_millis(10);
/// Longest a build's output is held.
pub(crate) const MAX_HOLD: Duration = Duration::from_millis(1500);
/// How long an HMR bundle waits for a manifest when no previous hash is known.
pub(crate) const FIRST_BUILD: Duration = Duration::from_millis(250);

/// A complete webpack build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Build {
    /// Every change set of the build, merged.
    pub(crate) change: ChangeSet,
    /// webpack's compilation hash.
    pub(crate) hash: String,
    /// Its result (from the stats file; `Ok` without one).
    pub(crate) status: BuildStatus,
}

/// What to do now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Not webpack output (or a build that never said its hash): announce as usual.
    Pass(ChangeSet),
    /// A complete build: announce it with webpack's hash.
    Build(Build),
    /// Still holding; ask again with [`Hold::tick`] at this instant.
    Wait(Instant),
    /// Nothing held.
    Idle,
}

/// Change sets held between the watcher and the announcement.
#[derive(Debug, Default)]
pub(crate) struct Hold {
    held: Option<Held>,
    /// The bundle hash of the last build let go: the page's `__webpack_hash__`.
    known: Option<String>,
    /// The bundle of each HMR runtime, by manifest prefix (`main.` → `dist/main.js`).
    runtimes: HashMap<String, PathBuf>,
}

#[derive(Debug)]
struct Held {
    change: ChangeSet,
    first: Instant,
    last: Instant,
}

impl Hold {
    /// Take a change set that arrived at `now`.
    pub(crate) fn offer(&mut self, change: ChangeSet, now: Instant, files: &impl Files) -> Step {
        match self.held.as_mut() {
            Some(held) => {
                merge(&mut held.change, change);
                held.last = now;
            }
            None if change.rescan || !change.paths.iter().any(|p| files.look(p).is_webpack()) => {
                return Step::Pass(change)
            }
            None => {
                self.held = Some(Held {
                    change,
                    first: now,
                    last: now,
                })
            }
        }
        self.tick(now, files)
    }

    /// Decide again at `now` (the instant a [`Step::Wait`] named, or later).
    pub(crate) fn tick(&mut self, now: Instant, files: &impl Files) -> Step {
        let Some(held) = &self.held else {
            return Step::Idle;
        };
        let first_build_over = now >= held.first + FIRST_BUILD;
        let context = Context {
            known: self.known.as_deref(),
            runtimes: &self.runtimes,
            first_build_over,
        };
        let found = assess(&held.change, files, &context);
        let settled = now >= held.last + SETTLE;
        let expired = now >= held.first + MAX_HOLD || found.only_empty && first_build_over;
        if !(expired || found.complete && settled) {
            let next = if found.complete {
                held.last + SETTLE
            } else {
                (now + SETTLE).min(held.first + MAX_HOLD)
            };
            return Step::Wait(next);
        }
        let Some(held) = self.held.take() else {
            return Step::Idle;
        };
        if found.bundle_hash.is_some() {
            self.known = found.bundle_hash;
        }
        self.runtimes.extend(found.runtimes);
        match found.hash {
            Some(hash) => Step::Build(Build {
                change: held.change,
                hash,
                status: found.status,
            }),
            None => Step::Pass(held.change),
        }
    }
}

/// Add `more` to `into`: paths stay sorted and unique.
fn merge(into: &mut ChangeSet, more: ChangeSet) {
    into.paths.extend(more.paths);
    into.paths.sort();
    into.paths.dedup();
    into.rescan |= more.rescan;
    into.retargeted.extend(more.retargeted);
}

/// What the held files say now.
#[derive(Debug)]
struct Assessment {
    complete: bool,
    hash: Option<String>,
    bundle_hash: Option<String>,
    status: BuildStatus,
    /// Nothing but empty scripts: no sign of a build yet.
    only_empty: bool,
    /// HMR bundles held, by manifest prefix.
    runtimes: Vec<(String, PathBuf)>,
}

/// What the hold knows beside the held files.
struct Context<'a> {
    /// The page's hash: the bundle hash of the last build let go.
    known: Option<&'a str>,
    /// The bundle of each HMR runtime seen so far.
    runtimes: &'a HashMap<String, PathBuf>,
    /// Whether a bundle without a known predecessor has waited long enough.
    first_build_over: bool,
}

/// What `change` holds now, in `context`.
fn assess(change: &ChangeSet, files: &impl Files, context: &Context<'_>) -> Assessment {
    let known = context.known;
    let mut complete = true;
    let mut stats = None;
    let mut runtime_hashes = Vec::new();
    let mut bundle_hash = None;
    let mut needs_manifest = false;
    let mut has_manifest = false;
    let mut only_empty = true;
    let mut runtimes = Vec::new();
    for path in &change.paths {
        let look = files.look(path);
        only_empty &= matches!(look, Look::Empty | Look::Other);
        match look {
            Look::Other => {}
            Look::Empty => complete = false,
            Look::Bundle(script) => {
                complete &= script.complete;
                if let Some(prefix) = &script.manifest_prefix {
                    runtimes.push((prefix.clone(), path.clone()));
                }
                if let (Some(prefix), Some(hash)) = (&script.manifest_prefix, &script.hash) {
                    match known {
                        Some(previous) if previous != hash => {
                            let name = format!("{prefix}{previous}.hot-update.json");
                            complete &= path.parent().is_some_and(|d| files.exists(&d.join(name)));
                        }
                        Some(_) => {}
                        None => needs_manifest = true,
                    }
                }
                bundle_hash = bundle_hash.or(script.hash.clone());
                runtime_hashes.extend(script.hash);
            }
            Look::HotChunk(script) => {
                complete &= script.complete;
                runtime_hashes.extend(script.hash);
            }
            Look::HotManifest(Some(chunks)) => {
                has_manifest = true;
                complete &= chunks.iter().all(|c| files.exists(c));
                let runtime = manifest_prefix(path).and_then(|p| context.runtimes.get(&p));
                if let Some(bundle) = runtime.filter(|bundle| !change.paths.contains(bundle)) {
                    match files.look(bundle) {
                        Look::Bundle(script) => {
                            complete &= script.complete;
                            runtime_hashes.extend(script.hash);
                        }
                        _ => complete = false,
                    }
                }
            }
            Look::HotManifest(None) | Look::Stats(None) => complete = false,
            Look::Stats(Some(found)) => stats = Some(found),
        }
    }
    let hash = match &stats {
        Some(stats) => Some(stats.hash.clone()),
        None => runtime_hashes.first().cloned(),
    };
    let agree = hash
        .as_ref()
        .is_some_and(|h| runtime_hashes.iter().all(|r| r == h));
    let manifest_ok = !needs_manifest || has_manifest || context.first_build_over;
    Assessment {
        complete: complete && agree && manifest_ok,
        hash,
        bundle_hash,
        status: stats.map_or(BuildStatus::Ok, |s| s.status),
        only_empty,
        runtimes,
    }
}

#[cfg(test)]
mod tests;
