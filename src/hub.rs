//! The hub: every connected browser, the latest build state, and the fan-out
//! of messages to all of them.
//!
//! New clients get the connect sequence (settings, then the latest `hash`
//! and build result) atomically with joining, so no broadcast is missed or
//! seen twice. A client that stops reading until its queue is full is
//! closed; on reconnecting it sees a new hash and reloads — it is never
//! buffered without bound.

use crate::config::ClientConfig;
use crate::protocol::Message;
use crate::sockjs::{Connection, ConnectionHandle, WriteError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

/// The close code sent to a client that fell too far behind. The client
/// reconnects and reloads.
pub const CLOSE_TOO_SLOW: u16 = 4000;
/// The close code sent to every client when the server shuts down; clients
/// keep trying to reconnect.
pub const CLOSE_SHUTDOWN: u16 = 1001;

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
}

impl BuildStatus {
    /// The message announcing this status.
    pub fn message(&self) -> Message {
        match self {
            BuildStatus::Ok => Message::Ok,
            BuildStatus::Warnings(w) => Message::Warnings(w.clone()),
            BuildStatus::Errors(e) => Message::Errors(e.clone()),
        }
    }
}

/// The settings part of the connect sequence, as `client` asks.
fn greeting(client: &ClientConfig) -> Vec<Message> {
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
    status: BuildStatus,
    clients: HashMap<u64, ConnectionHandle>,
    next_id: u64,
    builds: u64,
}

struct Inner {
    greeting: Vec<String>,
    seed: u64,
    state: Mutex<State>,
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
            greeting: greeting(client).iter().map(Message::to_json).collect(),
            seed,
            state: Mutex::new(State {
                hash: String::new(),
                status: BuildStatus::Ok,
                clients: HashMap::new(),
                next_id: 0,
                builds: 0,
            }),
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

    /// The latest build status.
    pub fn status(&self) -> BuildStatus {
        self.lock().status.clone()
    }

    /// Clients connected now.
    pub fn client_count(&self) -> usize {
        self.lock().clients.len()
    }

    /// Take a new client: send the connect sequence, then follow it until it
    /// closes. Messages the client sends are read and dropped.
    pub fn join(&self, mut connection: Connection) {
        let handle = connection.handle();
        let id = {
            let mut state = self.lock();
            let mut sequence: Vec<String> = self.inner.greeting.clone();
            sequence.push(Message::Hash(state.hash.clone()).to_json());
            sequence.push(state.status.message().to_json());
            if sequence.iter().any(|m| handle.write(m).is_err()) {
                return;
            }
            let id = state.next_id;
            state.next_id += 1;
            state.clients.insert(id, handle);
            id
        };
        let hub = self.clone();
        tokio::spawn(async move {
            while connection.recv().await.is_some() {}
            hub.lock().clients.remove(&id);
        });
    }

    /// Send `messages` to every client; returns how many were told.
    pub fn broadcast(&self, messages: &[Message]) -> usize {
        let texts: Vec<String> = messages.iter().map(Message::to_json).collect();
        send_all(&mut self.lock(), &texts)
    }

    /// Record a finished build and announce it: `hash`, then `ok`,
    /// `warnings` or `errors`. Returns how many clients were told.
    pub fn finish_build(&self, hash: String, status: BuildStatus, before: &[Message]) -> usize {
        let mut texts: Vec<String> = before.iter().map(Message::to_json).collect();
        texts.push(Message::Hash(hash.clone()).to_json());
        texts.push(status.message().to_json());
        // One lock for the update and the fan-out: a client joining now
        // sees either the old state and this broadcast, or only the new state.
        let mut state = self.lock();
        state.hash = hash;
        state.status = status;
        send_all(&mut state, &texts)
    }

    /// Close every client with `code` and `reason`.
    pub fn close_all(&self, code: u16, reason: &str) {
        let clients: Vec<ConnectionHandle> = self.lock().clients.drain().map(|(_, c)| c).collect();
        for client in clients {
            client.close(code, reason);
        }
    }
}

/// Write `texts` to every client, dropping the ones that are gone or too slow.
fn send_all(state: &mut State, texts: &[String]) -> usize {
    let mut told = 0;
    state.clients.retain(|_, client| {
        for text in texts {
            match client.write(text) {
                Ok(()) => {}
                Err(WriteError::QueueFull) => {
                    client.close(CLOSE_TOO_SLOW, "Client too slow");
                    return false;
                }
                Err(_) => return false,
            }
        }
        told += 1;
        true
    });
    told
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
        let names: Vec<String> = greeting(&client).iter().map(Message::to_json).collect();
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
    fn hashes_differ_per_build() {
        let hub = Hub::new(&ClientConfig::default());
        let a = hub.next_hash();
        let b = hub.next_hash();
        assert_ne!(a, b);
        assert_eq!(a.len(), 20);
    }
}
