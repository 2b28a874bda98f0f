//! The hub: every connected browser, the latest build state, and the fan-out
//! of messages to all of them.
//!
//! Each client speaks a [`Dialect`] (wds 3 at `/sockjs-node`, wds 5 at
//! `/ws`); every broadcast is one list of [`Message`]s rendered once per
//! dialect. New clients get the connect sequence (settings, then the latest
//! `hash` and build result) atomically with joining, so no broadcast is
//! missed or seen twice.
//!
//! A wds 5 client compares the hashes it hears with its bundle's own
//! `__webpack_hash__`, so it only hears the latest `hash` on connect when
//! that is a real compilation hash (from webpack's output or an embedder),
//! never one devserve made up. A client that stops reading until its queue is full is
//! closed; on reconnecting it sees a new hash and reloads — it is never
//! buffered without bound.

use crate::config::ClientConfig;
use crate::protocol::{Dialect, Message};
use crate::sockjs::{Connection, Group, WhenFull};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

/// The close code sent to a client that fell too far behind. The client
/// reconnects and reloads.
pub const CLOSE_TOO_SLOW: u16 = 4000;
/// The close code sent to every client when the server shuts down; clients
/// keep trying to reconnect.
pub const CLOSE_SHUTDOWN: u16 = 1001;
/// How many times a wds 5 client tries to reconnect (wds 5's default).
const WDS5_RECONNECT: u32 = 10;

/// The result of the latest build.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum BuildStatus {
    /// No problems.
    #[default]
    Ok,
    /// Built, with warnings.
    Warnings(Vec<String>),
    /// Failed.
    Errors(Vec<String>),
    /// Failed, and had warnings too.
    Failed {
        /// The errors.
        errors: Vec<String>,
        /// The warnings.
        warnings: Vec<String>,
    },
}

impl BuildStatus {
    /// The message announcing this status.
    pub fn message(&self) -> Message {
        match self {
            BuildStatus::Ok => Message::Ok,
            BuildStatus::Warnings(w) => Message::Warnings(w.clone()),
            BuildStatus::Errors(e) => Message::Errors(e.clone()),
            BuildStatus::Failed { errors, warnings } => Message::Failed {
                errors: errors.clone(),
                warnings: warnings.clone(),
            },
        }
    }

    fn failed(&self) -> bool {
        matches!(self, BuildStatus::Errors(_) | BuildStatus::Failed { .. })
    }
}

/// Where a build's hash comes from, which decides who hears what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HashSource {
    /// devserve made it up (a change set, or an embedder that gave none).
    Devserve,
    /// webpack's own compilation hash (from its output, or an embedder):
    /// HMR runtimes can apply the build in place.
    Compilation,
}

/// The settings part of the connect sequence, as `client` asks, in `dialect`'s order.
fn greeting(client: &ClientConfig, dialect: Dialect) -> Vec<Message> {
    match dialect {
        Dialect::Wds3 => greeting_wds3(client),
        Dialect::Wds5 => greeting_wds5(client),
    }
}

/// wds 5: `hot`, `liveReload`, `progress`, `reconnect`, `overlay`.
fn greeting_wds5(client: &ClientConfig) -> Vec<Message> {
    let mut messages = Vec::new();
    if client.hot {
        messages.push(Message::Hot);
    }
    if client.live_reload {
        messages.push(Message::LiveReload);
    }
    if client.progress {
        messages.push(Message::ProgressOn(true));
    }
    messages.push(Message::Reconnect(WDS5_RECONNECT));
    if let Some(overlay) = client.overlay {
        messages.push(Message::Overlay(overlay));
    }
    messages
}

/// What `dialect` hears of a finished build: `before`, the `hash`, the status.
///
/// A compilation announced in hot mode is for HMR runtimes (wds 5 at
/// `/ws`): at `/sockjs-node`, where devserve's own client reloads on every
/// `ok`, it ends in `still-ok` instead, so a page carrying both clients is
/// updated in place once and never reloaded on top.
fn build_sequence(
    dialect: Dialect,
    hot: bool,
    source: HashSource,
    before: &[Message],
    hash: &str,
    status: &BuildStatus,
) -> Vec<Message> {
    let mut messages = before.to_vec();
    messages.push(Message::Hash(hash.to_string()));
    let in_place = hot && source == HashSource::Compilation && !status.failed();
    messages.push(match dialect {
        Dialect::Wds3 if in_place => Message::StillOk,
        _ => status.message(),
    });
    messages
}

/// The texts of `messages` in `dialect`.
fn render_all(dialect: Dialect, messages: &[Message]) -> Vec<String> {
    messages.iter().flat_map(|m| dialect.render(m)).collect()
}

/// wds 3's order: `log-level`, `liveReload`, `hot`, `progress`, `overlay`, `heartbeat`.
fn greeting_wds3(client: &ClientConfig) -> Vec<Message> {
    let mut messages = vec![Message::LogLevel(client.log_level.as_str().to_string())];
    if client.live_reload {
        messages.push(Message::LiveReload);
    }
    if client.hot {
        messages.push(Message::Hot);
    }
    if client.progress {
        messages.push(Message::ProgressOn(true));
    }
    if let Some(overlay) = client.overlay {
        messages.push(Message::Overlay(overlay));
    }
    let heartbeat_ms = u64::try_from(client.heartbeat.as_millis()).unwrap_or(u64::MAX);
    messages.push(Message::Heartbeat(heartbeat_ms));
    messages
}

struct State {
    hash: String,
    source: HashSource,
    status: BuildStatus,
    builds: u64,
}

/// The clients of each dialect: every broadcast is encoded once per group.
/// A client that stops reading until its queue is full is closed and
/// leaves; a client that closes leaves by itself.
struct Clients {
    wds3: Group,
    wds5: Group,
}

impl Clients {
    fn new() -> Self {
        let strict = || {
            Group::when_full(WhenFull::Close {
                code: CLOSE_TOO_SLOW,
                reason: "Client too slow".into(),
            })
        };
        Clients {
            wds3: strict(),
            wds5: strict(),
        }
    }

    fn of(&self, dialect: Dialect) -> &Group {
        match dialect {
            Dialect::Wds3 => &self.wds3,
            Dialect::Wds5 => &self.wds5,
        }
    }

    /// Send each dialect its texts, in order; returns how many clients
    /// took the last of them.
    fn send_all(&self, texts: &Rendered) -> usize {
        let send = |group: &Group, texts: &[String]| {
            let mut told = group.len();
            for text in texts {
                told = group.send_all(text);
            }
            told
        };
        send(&self.wds3, &texts.wds3) + send(&self.wds5, &texts.wds5)
    }
}

struct Inner {
    greeting_wds3: Vec<String>,
    greeting_wds5: Vec<String>,
    hot: bool,
    seed: u64,
    /// Held while a client joins and while a build is announced, so a
    /// joining client sees either the old state and the broadcast, or only
    /// the new state.
    state: Mutex<State>,
    clients: Clients,
}

/// Connected clients and the latest build state. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("clients", &self.client_count())
            .finish()
    }
}

impl Hub {
    /// A hub whose clients are greeted as `client` asks.
    pub fn new(client: &ClientConfig) -> Hub {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let inner = Arc::new(Inner {
            greeting_wds3: render_all(Dialect::Wds3, &greeting(client, Dialect::Wds3)),
            greeting_wds5: render_all(Dialect::Wds5, &greeting(client, Dialect::Wds5)),
            hot: client.hot,
            seed,
            state: Mutex::new(State {
                hash: String::new(),
                source: HashSource::Devserve,
                status: BuildStatus::Ok,
                builds: 0,
            }),
            clients: Clients::new(),
        });
        let hub = Hub { inner };
        let hash = hub.next_hash();
        hub.lock().hash = hash;
        hub
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        crate::util::lock(&self.inner.state)
    }

    /// A fresh build hash: differs per build and per server run, so a
    /// client reconnecting to a restarted server sees a change.
    pub fn next_hash(&self) -> String {
        let mut state = self.lock();
        state.builds += 1;
        let mixed = (self.inner.seed ^ state.builds.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .wrapping_mul(0xbf58_476d_1ce4_e5b9);
        format!("{mixed:016x}{:04x}", state.builds & 0xffff)
    }

    /// The latest hash.
    pub fn hash(&self) -> String {
        self.lock().hash.clone()
    }

    /// Whether hot mode is on.
    pub fn hot(&self) -> bool {
        self.inner.hot
    }

    /// The latest build status.
    pub fn status(&self) -> BuildStatus {
        self.lock().status.clone()
    }

    /// Clients connected now.
    pub fn client_count(&self) -> usize {
        self.inner.clients.wds3.len() + self.inner.clients.wds5.len()
    }

    /// Take a new client speaking wds 3: send the connect sequence, then
    /// keep it in the fan-out until it closes. What the client sends is
    /// dropped unread.
    pub fn join(&self, connection: Connection) {
        self.join_as(connection, Dialect::Wds3);
    }

    /// Take a new client speaking `dialect`, as [`Hub::join`] does.
    pub fn join_as(&self, connection: Connection, dialect: Dialect) {
        let state = self.lock();
        let mut sequence: Vec<String> = match dialect {
            Dialect::Wds3 => self.inner.greeting_wds3.clone(),
            Dialect::Wds5 => self.inner.greeting_wds5.clone(),
        };
        if dialect == Dialect::Wds3 || state.source == HashSource::Compilation {
            let build = build_sequence(
                dialect,
                self.inner.hot,
                state.source,
                &[],
                &state.hash,
                &state.status,
            );
            sequence.extend(render_all(dialect, &build));
        }
        if sequence.iter().all(|m| connection.write(m).is_ok()) {
            self.inner.clients.of(dialect).join(&connection);
        }
        // The connection itself is dropped here: with nobody reading its
        // inbox, the client's messages are discarded as they arrive.
    }

    /// Send `messages` to every client; returns how many were told.
    pub fn broadcast(&self, messages: &[Message]) -> usize {
        let texts = Rendered {
            wds3: render_all(Dialect::Wds3, messages),
            wds5: render_all(Dialect::Wds5, messages),
        };
        let _state = self.lock();
        self.inner.clients.send_all(&texts)
    }

    /// Record a finished build and announce it: `hash`, then `ok`,
    /// `warnings` or `errors`. Returns how many clients were told.
    pub fn finish_build(&self, hash: String, status: BuildStatus, before: &[Message]) -> usize {
        self.finish(HashSource::Devserve, hash, status, before)
    }

    /// Record and announce a build whose `hash` is webpack's own
    /// compilation hash: with hot mode on, HMR runtimes apply it in place.
    pub fn finish_compilation(
        &self,
        hash: String,
        status: BuildStatus,
        before: &[Message],
    ) -> usize {
        self.finish(HashSource::Compilation, hash, status, before)
    }

    fn finish(
        &self,
        source: HashSource,
        hash: String,
        status: BuildStatus,
        before: &[Message],
    ) -> usize {
        let hot = self.inner.hot;
        let texts = Rendered {
            wds3: render_all(
                Dialect::Wds3,
                &build_sequence(Dialect::Wds3, hot, source, before, &hash, &status),
            ),
            wds5: render_all(
                Dialect::Wds5,
                &build_sequence(Dialect::Wds5, hot, source, before, &hash, &status),
            ),
        };
        // One lock for the update and the fan-out: a client joining now
        // sees either the old state and this broadcast, or only the new state.
        let mut state = self.lock();
        state.hash = hash;
        state.source = source;
        state.status = status;
        self.inner.clients.send_all(&texts)
    }

    /// Close every client with `code` and `reason`.
    pub fn close_all(&self, code: u16, reason: &str) {
        self.inner.clients.wds3.close_all(code, reason);
        self.inner.clients.wds5.close_all(code, reason);
    }
}

/// One broadcast's texts in each dialect.
struct Rendered {
    wds3: Vec<String>,
    wds5: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greeting_follows_the_wire_order() {
        let client = ClientConfig {
            hot: true,
            progress: true,
            ..ClientConfig::default()
        };
        let names: Vec<String> = greeting(&client, Dialect::Wds3)
            .iter()
            .map(Message::to_json)
            .collect();
        assert_eq!(
            names,
            vec![
                r#"{"type":"log-level","data":"info"}"#,
                r#"{"type":"liveReload"}"#,
                r#"{"type":"hot"}"#,
                r#"{"type":"progress","data":true}"#,
                r#"{"type":"overlay","data":{"errors":true,"warnings":false}}"#,
                r#"{"type":"heartbeat","data":25000}"#,
            ]
        );
    }

    #[test]
    fn wds5_greeting_follows_its_wire_order() {
        let client = ClientConfig {
            hot: true,
            progress: true,
            ..ClientConfig::default()
        };
        assert_eq!(
            render_all(Dialect::Wds5, &greeting(&client, Dialect::Wds5)),
            vec![
                r#"{"type":"hot"}"#,
                r#"{"type":"liveReload"}"#,
                r#"{"type":"progress","data":true}"#,
                r#"{"type":"reconnect","data":10}"#,
                r#"{"type":"overlay","data":{"errors":true,"warnings":false}}"#,
            ]
        );
    }

    #[test]
    fn hot_compilations_end_in_still_ok_for_sockjs_node_only() {
        let before = [Message::Invalid];
        let seq = |dialect, hot, source, status: &BuildStatus| {
            render_all(
                dialect,
                &build_sequence(dialect, hot, source, &before, "h1", status),
            )
        };
        let ok = BuildStatus::Ok;
        let (invalid, hash) = (r#"{"type":"invalid"}"#, r#"{"type":"hash","data":"h1"}"#);
        let compiled = HashSource::Compilation;
        assert_eq!(
            seq(Dialect::Wds5, true, compiled, &ok),
            vec![invalid, hash, r#"{"type":"ok"}"#]
        );
        assert_eq!(
            seq(Dialect::Wds3, true, compiled, &ok),
            vec![invalid, hash, r#"{"type":"still-ok"}"#]
        );
        assert_eq!(
            seq(Dialect::Wds3, false, compiled, &ok),
            vec![invalid, hash, r#"{"type":"ok"}"#]
        );
        assert_eq!(
            seq(Dialect::Wds3, true, HashSource::Devserve, &ok),
            vec![invalid, hash, r#"{"type":"ok"}"#]
        );
        let errors = BuildStatus::Errors(vec!["e".into()]);
        assert_eq!(
            seq(Dialect::Wds3, true, compiled, &errors),
            vec![invalid, hash, r#"{"type":"errors","data":["e"]}"#]
        );
    }

    #[test]
    fn hashes_differ_per_build() {
        let hub = Hub::new(&ClientConfig::default());
        let a = hub.next_hash();
        let b = hub.next_hash();
        assert_ne!(a, b);
        assert_eq!(a.len(), 20);
    }
}
