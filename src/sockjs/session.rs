//! Sessions: the state every transport shares, and the [`Connection`] an
//! application holds.
//!
//! A session outlives the HTTP requests that carry it. At most one
//! *receiver* (a response, or a WebSocket) is attached at a time; messages
//! written while none is attached wait in a bounded outbox. A session with no
//! receiver for `disconnect_delay` expires.

use super::frame;
use super::server::Shared;
use http::HeaderMap;
use std::collections::VecDeque;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{mpsc, Notify};

/// How far a connection is through its life, as in the browser API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReadyState {
    /// Created; the open frame has not been sent.
    Connecting,
    /// Open: messages flow both ways.
    Open,
    /// Closing: the close frame is waiting to be delivered.
    Closing,
    /// Closed.
    Closed,
}

/// Why and how a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseEvent {
    /// The close code (SockJS/WebSocket numbering).
    pub code: u16,
    /// The close reason.
    pub reason: String,
}

/// The error [`Connection::write`] and [`ConnectionHandle::write`] return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The connection is closing or closed.
    #[error("connection is closed")]
    Closed,
    /// Empty messages are not sent (the protocol uses them for heartbeats).
    #[error("empty message")]
    Empty,
    /// The client is not reading and the outgoing queue is full.
    #[error("outgoing queue is full")]
    QueueFull,
}

/// What the application may know about the request that opened a connection.
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    /// The session id from the URL (`None` for raw WebSocket).
    pub session_id: Option<String>,
    /// The peer's address, when the application put a `SocketAddr` into the request extensions.
    pub remote_addr: Option<SocketAddr>,
    /// The safe subset of request headers (never `cookie` or `authorization`).
    pub headers: HeaderMap,
    /// Path and query of the request.
    pub url: String,
    /// Path of the request.
    pub pathname: String,
    /// The server's prefix.
    pub prefix: String,
    /// Transport name: `websocket`, `rawwebsocket`, `xhr-polling`, `xhr-streaming`, `eventsource`, `htmlfile` or `jsonp-polling`.
    pub protocol: &'static str,
}

/// Request headers copied into [`ConnectionInfo::headers`].
const SAFE_HEADERS: &[&str] = &[
    "origin",
    "referer",
    "host",
    "user-agent",
    "accept-language",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-port",
    "x-forwarded-proto",
    "x-real-ip",
    "x-client-ip",
    "x-cluster-client-ip",
    "via",
    "dnt",
];

/// Keep only the headers an application may see.
pub(crate) fn safe_headers(headers: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for name in SAFE_HEADERS {
        for value in headers.get_all(*name) {
            out.append(*name, value.clone());
        }
    }
    out
}

/// A frame ready to go to the client.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outgoing {
    /// `a[...]` with every queued message.
    Messages(String),
    /// `c[code,"reason"]`; the receiver must end after it.
    Close(String),
}

/// What attaching a receiver found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Attach {
    /// A new session: send `o` first.
    Opened,
    /// An open session: carry on.
    Resumed,
    /// Another receiver is attached: send `c[2010,…]` and end.
    Busy,
    /// The session is closed: send this close frame and end.
    Closed(String),
}

/// How a receiver left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Detach {
    /// Its response ended normally (polling answer, response limit, close frame sent).
    Finished,
    /// The client went away while it was attached.
    Aborted,
}

struct State {
    ready: ReadyState,
    outbox: VecDeque<String>,
    close_frame: Option<String>,
    close_event: Option<CloseEvent>,
    receiver: Option<u64>,
    next_receiver: u64,
    epoch: u64,
    inbox: Option<mpsc::Sender<String>>,
    registered: bool,
    counted: bool,
}

/// One SockJS session.
pub(crate) struct Session {
    shared: Arc<Shared>,
    info: ConnectionInfo,
    state: Mutex<State>,
    wake: Notify,
    closed: Notify,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// Messages a client may send before the application reads them; senders wait beyond it.
const INBOX_CAPACITY: usize = 64;

impl Session {
    /// A new session. `registered` sessions live in the server's registry
    /// under their id and are removed when they expire.
    pub(crate) fn new(
        shared: Arc<Shared>,
        info: ConnectionInfo,
        registered: bool,
    ) -> (Arc<Session>, mpsc::Receiver<String>) {
        let (tx, rx) = mpsc::channel(INBOX_CAPACITY);
        shared.live.fetch_add(1, Ordering::SeqCst);
        let session = Arc::new(Session {
            shared,
            info,
            state: Mutex::new(State {
                ready: ReadyState::Connecting,
                outbox: VecDeque::new(),
                close_frame: None,
                close_event: None,
                receiver: None,
                next_receiver: 0,
                epoch: 0,
                inbox: Some(tx),
                registered,
                counted: true,
            }),
            wake: Notify::new(),
            closed: Notify::new(),
        });
        (session, rx)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the state half-written
        // in a way later code cannot handle, so a poisoned lock is used as is.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The request details this session was opened with.
    pub(crate) fn info(&self) -> &ConnectionInfo {
        &self.info
    }

    /// Current ready state.
    pub(crate) fn ready_state(&self) -> ReadyState {
        self.lock().ready
    }

    /// Attach a receiver. The returned token identifies it in [`Session::detach`].
    pub(crate) fn attach(
        self: &Arc<Self>,
        inbox_rx: &mut Option<mpsc::Receiver<String>>,
    ) -> (Attach, u64) {
        let mut state = self.lock();
        if let Some(frame) = state
            .close_frame
            .clone()
            .filter(|_| state.ready == ReadyState::Closed)
        {
            return (Attach::Closed(frame), 0);
        }
        if state.receiver.is_some() {
            return (Attach::Busy, 0);
        }
        state.next_receiver += 1;
        let token = state.next_receiver;
        state.receiver = Some(token);
        state.epoch += 1;
        if state.ready == ReadyState::Connecting {
            state.ready = ReadyState::Open;
            drop(state);
            if let Some(inbox) = inbox_rx.take() {
                self.shared.accept(Connection {
                    handle: ConnectionHandle {
                        session: self.clone(),
                    },
                    inbox,
                });
            }
            return (Attach::Opened, token);
        }
        (Attach::Resumed, token)
    }

    /// Detach the receiver `token`; starts the disconnect timer.
    pub(crate) fn detach(self: &Arc<Self>, token: u64, how: Detach) {
        let mut state = self.lock();
        if state.receiver != Some(token) {
            return;
        }
        state.receiver = None;
        state.epoch += 1;
        let epoch = state.epoch;
        if how == Detach::Aborted && matches!(state.ready, ReadyState::Open | ReadyState::Closing) {
            self.begin_close(&mut state, 1002, "Connection interrupted");
            state.ready = ReadyState::Closed;
        }
        let registered = state.registered;
        drop(state);
        if registered {
            let session = self.clone();
            let delay = self.shared.options.disconnect_delay;
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                session.expire_if(epoch);
            });
        } else {
            self.finish();
        }
    }

    /// Forget the session when no receiver came back since `epoch`.
    fn expire_if(&self, epoch: u64) {
        let mut state = self.lock();
        if state.epoch != epoch || state.receiver.is_some() {
            return;
        }
        if state.ready != ReadyState::Closed {
            self.begin_close(&mut state, 1006, "Session timed out");
        }
        drop(state);
        self.finish();
    }

    /// Final step of every session: closed, out of the registry, no longer counted as live.
    pub(crate) fn finish(&self) {
        let mut state = self.lock();
        if state.close_event.is_none() {
            self.begin_close(&mut state, 1006, "Connection lost");
        }
        state.ready = ReadyState::Closed;
        state.outbox = VecDeque::new();
        let registered = std::mem::replace(&mut state.registered, false);
        let counted = std::mem::replace(&mut state.counted, false);
        drop(state);
        if registered {
            if let Some(id) = &self.info.session_id {
                self.shared.forget(id, self);
            }
        }
        if counted {
            self.shared.live.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Record the close (once): the app's inbox ends and waiters are told.
    fn begin_close(&self, state: &mut State, code: u16, reason: &str) {
        if state.close_event.is_some() {
            return;
        }
        state.close_frame = Some(frame::close(code, reason));
        state.close_event = Some(CloseEvent {
            code,
            reason: reason.to_string(),
        });
        if state.ready != ReadyState::Closed {
            state.ready = ReadyState::Closing;
        }
        state.inbox = None;
        self.closed.notify_waiters();
        self.wake.notify_one();
    }

    /// The client closed its side (WebSocket close frame or EOF).
    pub(crate) fn client_closed(&self, code: u16, reason: &str) {
        let mut state = self.lock();
        self.begin_close(&mut state, code, reason);
        state.ready = ReadyState::Closed;
    }

    /// The next frame for the attached receiver, if any.
    pub(crate) fn next_frame(&self) -> Option<Outgoing> {
        let mut state = self.lock();
        if !state.outbox.is_empty() {
            let frame = frame::messages(state.outbox.make_contiguous());
            state.outbox.clear();
            return Some(Outgoing::Messages(frame));
        }
        if state.ready == ReadyState::Closing {
            if let Some(frame) = state.close_frame.clone() {
                state.ready = ReadyState::Closed;
                return Some(Outgoing::Close(frame));
            }
        }
        None
    }

    /// Every queued message, raw (for raw WebSocket), or the close event.
    pub(crate) fn next_raw(&self) -> Result<Vec<String>, CloseEvent> {
        let mut state = self.lock();
        if !state.outbox.is_empty() {
            return Ok(state.outbox.drain(..).collect());
        }
        if state.ready == ReadyState::Closing {
            if let Some(event) = state.close_event.clone() {
                state.ready = ReadyState::Closed;
                return Err(event);
            }
        }
        Ok(Vec::new())
    }

    /// Wait until there may be something for the receiver.
    pub(crate) async fn woken(&self) {
        self.wake.notified().await
    }

    /// A sender into the application's inbox, while the session is open.
    pub(crate) fn inbox(&self) -> Option<mpsc::Sender<String>> {
        self.lock().inbox.clone()
    }

    fn write(&self, message: &str) -> Result<(), WriteError> {
        if message.is_empty() {
            return Err(WriteError::Empty);
        }
        let mut state = self.lock();
        if state.ready != ReadyState::Open {
            return Err(WriteError::Closed);
        }
        if state.outbox.len() >= self.shared.options.max_queued_messages {
            return Err(WriteError::QueueFull);
        }
        state.outbox.push_back(message.to_string());
        drop(state);
        self.wake.notify_one();
        Ok(())
    }

    fn close(&self, code: u16, reason: &str) -> bool {
        let mut state = self.lock();
        if state.close_event.is_some() {
            return false;
        }
        // With no receiver attached, the close frame waits for the next
        // one; the disconnect timer started at detach forgets the session.
        self.begin_close(&mut state, code, reason);
        true
    }

    async fn closed(&self) -> CloseEvent {
        loop {
            let notified = self.closed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(event) = self.lock().close_event.clone() {
                return event;
            }
            notified.await;
        }
    }

    fn close_event(&self) -> Option<CloseEvent> {
        self.lock().close_event.clone()
    }
}

/// A cheap, cloneable handle that writes to and closes one connection.
#[derive(Clone, Debug)]
pub struct ConnectionHandle {
    session: Arc<Session>,
}

impl ConnectionHandle {
    /// Queue `message` for the client. Fails with a clear error when the
    /// message is empty, the connection is closed, or the client stopped
    /// reading and the queue is full.
    pub fn write(&self, message: &str) -> Result<(), WriteError> {
        self.session.write(message)
    }

    /// Close the connection with `code` and `reason` (sent to the client as
    /// `c[code,"reason"]`). Returns false when it was already closed.
    pub fn close(&self, code: u16, reason: &str) -> bool {
        self.session.close(code, reason)
    }

    /// Close with `1000 "Normal closure"`.
    pub fn end(&self) -> bool {
        self.close(1000, "Normal closure")
    }

    /// Current ready state.
    pub fn ready_state(&self) -> ReadyState {
        self.session.ready_state()
    }

    /// Details of the request that opened the connection.
    pub fn info(&self) -> &ConnectionInfo {
        self.session.info()
    }

    /// Resolves once the connection has closed, with why.
    pub async fn closed(&self) -> CloseEvent {
        self.session.closed().await
    }

    /// Why the connection closed, once it has.
    pub fn close_event(&self) -> Option<CloseEvent> {
        self.session.close_event()
    }
}

/// An open SockJS connection, as handed to the application.
///
/// Read incoming messages with [`Connection::recv`] (they arrive in order;
/// `None` means the connection closed — that happens exactly once). Write
/// with [`Connection::write`], or through a cloned [`ConnectionHandle`] from
/// other tasks.
#[derive(Debug)]
pub struct Connection {
    handle: ConnectionHandle,
    inbox: mpsc::Receiver<String>,
}

impl Connection {
    /// The next message from the client; `None` once the connection has closed.
    pub async fn recv(&mut self) -> Option<String> {
        self.inbox.recv().await
    }

    /// A handle for writing from elsewhere.
    pub fn handle(&self) -> ConnectionHandle {
        self.handle.clone()
    }

    /// See [`ConnectionHandle::write`].
    pub fn write(&self, message: &str) -> Result<(), WriteError> {
        self.handle.write(message)
    }

    /// See [`ConnectionHandle::close`].
    pub fn close(&self, code: u16, reason: &str) -> bool {
        self.handle.close(code, reason)
    }

    /// See [`ConnectionHandle::end`].
    pub fn end(&self) -> bool {
        self.handle.end()
    }

    /// Current ready state.
    pub fn ready_state(&self) -> ReadyState {
        self.handle.ready_state()
    }

    /// Details of the request that opened the connection.
    pub fn info(&self) -> &ConnectionInfo {
        self.handle.info()
    }

    /// The peer's address, when known.
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.info().remote_addr
    }

    /// The transport name (`websocket`, `xhr-streaming`, …).
    pub fn protocol(&self) -> &'static str {
        self.info().protocol
    }

    /// Resolves once the connection has closed, with why.
    pub async fn closed(&self) -> CloseEvent {
        self.handle.closed().await
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let state = self
            .state
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if state.counted {
            self.shared.live.fetch_sub(1, Ordering::SeqCst);
        }
    }
}
