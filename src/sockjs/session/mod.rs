//! Sessions: the state every transport shares, and the [`Connection`] an
//! application holds.
//!
//! A session outlives the HTTP requests that carry it. At most one
//! *receiver* (a response, or a WebSocket) is attached at a time; messages
//! written while none is attached wait in a bounded outbox. A session with no
//! receiver for `disconnect_delay` expires.
//!
//! A session knows nothing of the registry that keeps it: it reports to its
//! [`Owner`], which the server implements.

mod connection;

pub use connection::{Connection, ConnectionHandle};

use super::frame::{self, Encoded, Queued};
use super::info::ConnectionInfo;
use super::options::Options;
use super::util::lock;
use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{mpsc, Notify};
use tokio_tungstenite::tungstenite::Utf8Bytes;

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
    /// The message is larger than [`Options::max_outgoing_message_size`].
    #[error("message of {len} bytes exceeds the {max}-byte limit")]
    TooLarge {
        /// The message's size in bytes.
        len: usize,
        /// The configured limit.
        max: usize,
    },
}

/// What a session reports to the server that keeps it.
pub(crate) trait Owner: Send + Sync {
    /// The server's settings.
    fn options(&self) -> &Options;
    /// A session opened: hand its connection to the application.
    fn opened(&self, connection: Connection);
    /// Remove the registered session `id`, if it is still `session`.
    fn forget(&self, id: &str, session: &Session);
    /// A session is over and no longer counts as live (called once per session).
    fn released(&self);
}

/// A frame ready to go to the client.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outgoing {
    /// `a[...]` with every queued message.
    Messages(Utf8Bytes),
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
    outbox: VecDeque<Queued>,
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
    owner: Arc<dyn Owner>,
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
    /// A new session, counted as live by `owner` until it is released.
    /// `registered` sessions live in the owner's registry under their id and
    /// are removed when they expire.
    pub(crate) fn new(
        owner: Arc<dyn Owner>,
        info: ConnectionInfo,
        registered: bool,
    ) -> (Arc<Session>, mpsc::Receiver<String>) {
        let (tx, rx) = mpsc::channel(INBOX_CAPACITY);
        let session = Arc::new(Session {
            owner,
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
        lock(&self.state)
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
                self.owner.opened(Connection::new(self.clone(), inbox));
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
            let delay = self.owner.options().disconnect_delay;
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
                self.owner.forget(id, self);
            }
        }
        if counted {
            self.owner.released();
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

    /// The next frame for the attached receiver, if any. Queued messages
    /// go out together, in frames no larger than one message of the
    /// largest allowed size would make.
    pub(crate) fn next_frame(&self) -> Option<Outgoing> {
        let limit = frame::max_frame_len(self.owner.options().max_outgoing_message_size);
        let mut state = self.lock();
        if !state.outbox.is_empty() {
            let frame = frame::messages_within(&mut state.outbox, limit);
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
    pub(crate) fn next_raw(&self) -> Result<Vec<Utf8Bytes>, CloseEvent> {
        let mut state = self.lock();
        if !state.outbox.is_empty() {
            return Ok(state.outbox.drain(..).map(Queued::into_text).collect());
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

    /// Hand decoded client messages to the application, in order; waits
    /// while the application's inbox is full.
    pub(crate) async fn deliver(&self, messages: Vec<String>) {
        let Some(inbox) = self.lock().inbox.clone() else {
            return;
        };
        for message in messages {
            if inbox.send(message).await.is_err() {
                break;
            }
        }
    }

    pub(super) fn write(&self, message: &str) -> Result<(), WriteError> {
        self.enqueue(message.len(), || Queued::Own(message.to_string()))
    }

    /// Queue a message encoded once for a group.
    pub(super) fn write_encoded(&self, message: &Encoded) -> Result<(), WriteError> {
        self.enqueue(message.len(), || Queued::Shared(message.clone()))
    }

    /// Queue the message `make` builds, `len` bytes long, when the session
    /// is open, the message fits and the queue has room.
    fn enqueue(&self, len: usize, make: impl FnOnce() -> Queued) -> Result<(), WriteError> {
        let options = self.owner.options();
        if len == 0 {
            return Err(WriteError::Empty);
        }
        if len > options.max_outgoing_message_size {
            return Err(WriteError::TooLarge {
                len,
                max: options.max_outgoing_message_size,
            });
        }
        let mut state = self.lock();
        if state.ready != ReadyState::Open {
            return Err(WriteError::Closed);
        }
        if state.outbox.len() >= options.max_queued_messages {
            return Err(WriteError::QueueFull);
        }
        state.outbox.push_back(make());
        drop(state);
        self.wake.notify_one();
        Ok(())
    }

    pub(super) fn close(&self, code: u16, reason: &str) -> bool {
        let mut state = self.lock();
        if state.close_event.is_some() {
            return false;
        }
        // With no receiver attached, the close frame waits for the next
        // one; the disconnect timer started at detach forgets the session.
        self.begin_close(&mut state, code, reason);
        true
    }

    pub(super) async fn closed(&self) -> CloseEvent {
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

    pub(super) fn close_event(&self) -> Option<CloseEvent> {
        self.lock().close_event.clone()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let state = self
            .state
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if state.counted {
            self.owner.released();
        }
    }
}
