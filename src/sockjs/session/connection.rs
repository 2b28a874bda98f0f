//! The application's side of a session: [`Connection`] and the cloneable
//! [`ConnectionHandle`].

use super::{CloseEvent, ReadyState, Session, WriteError};
use crate::sockjs::frame::Encoded;
use crate::sockjs::info::ConnectionInfo;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::mpsc;

/// A cheap, cloneable handle that writes to and closes one connection.
#[derive(Clone, Debug)]
pub struct ConnectionHandle {
    session: Arc<Session>,
}

impl ConnectionHandle {
    /// Identifies the session while the handle lives (for sets of connections).
    pub(crate) fn key(&self) -> usize {
        Arc::as_ptr(&self.session) as usize
    }

    /// Queue a message encoded once for many connections.
    pub(crate) fn write_encoded(&self, message: &Encoded) -> Result<(), WriteError> {
        self.session.write_encoded(message)
    }

    /// Queue `message` for the client. Fails with a clear error when the
    /// message is empty or larger than the configured maximum, the
    /// connection is closed, or the client stopped reading and the queue is
    /// full. A refused message leaves the connection as it was.
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
    /// The connection of `session`, reading its application inbox.
    pub(crate) fn new(session: Arc<Session>, inbox: mpsc::Receiver<String>) -> Self {
        Connection {
            handle: ConnectionHandle { session },
            inbox,
        }
    }

    /// The next message from the client; `None` once the connection has closed.
    pub async fn recv(&mut self) -> Option<String> {
        self.inbox.recv().await
    }

    /// The connection's own handle.
    pub(crate) fn handle_ref(&self) -> &ConnectionHandle {
        &self.handle
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
