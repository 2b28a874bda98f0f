//! The state one server shares with its handlers and sessions: the
//! settings, the sessions registered under their ids, admission (the live
//! count and shutdown), and the queue of connections for the application.

use super::info::ConnectionInfo;
use super::options::{LogLevel, Options};
use super::response::Refusal;
use super::session::{Connection, Owner, Session};
use super::util::lock;
use http::StatusCode;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// A new session and, the first time it is met, the receiver of its
/// application inbox.
pub(crate) type Opened = (Arc<Session>, Option<mpsc::Receiver<String>>);

/// State shared by a server's handlers and sessions.
pub(crate) struct Registry {
    pub(crate) options: Options,
    sessions: Mutex<HashMap<String, Arc<Session>>>,
    live: AtomicUsize,
    shutting_down: AtomicBool,
    accept_tx: mpsc::UnboundedSender<Connection>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("prefix", &self.options.prefix)
            .field("live", &self.live())
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// A registry for `options`, handing opened connections to `accept_tx`.
    pub(crate) fn new(options: Options, accept_tx: mpsc::UnboundedSender<Connection>) -> Self {
        Registry {
            options,
            sessions: Mutex::new(HashMap::new()),
            live: AtomicUsize::new(0),
            shutting_down: AtomicBool::new(false),
            accept_tx,
        }
    }

    /// Sessions currently alive.
    pub(crate) fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    /// Refuse new sessions from now on.
    pub(crate) fn shut_down(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    /// The registered session `id`.
    pub(crate) fn session(&self, id: &str) -> Option<Arc<Session>> {
        lock(&self.sessions).get(id).cloned()
    }

    /// Whether another session may be opened; the refusal to send when not.
    pub(crate) fn admit(&self) -> Result<(), Refusal> {
        if self.shutting_down.load(Ordering::SeqCst) {
            return Err(Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Server is shutting down.",
            ));
        }
        if self.live() >= self.options.max_sessions {
            return Err(Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Too many sessions.",
            ));
        }
        Ok(())
    }

    /// A new session counted as live, with the receiver of its inbox.
    pub(crate) fn new_session(
        self: &Arc<Self>,
        info: ConnectionInfo,
        registered: bool,
    ) -> (Arc<Session>, mpsc::Receiver<String>) {
        self.live.fetch_add(1, Ordering::SeqCst);
        Session::new(self.clone(), info, registered)
    }

    /// The registered session `id`, created when there is none.
    pub(crate) fn session_or_create(
        self: &Arc<Self>,
        id: &str,
        info: impl FnOnce() -> ConnectionInfo,
    ) -> Result<Opened, Refusal> {
        let mut sessions = lock(&self.sessions);
        if let Some(session) = sessions.get(id) {
            return Ok((session.clone(), None));
        }
        self.admit()?;
        let (session, inbox) = self.new_session(info(), true);
        sessions.insert(id.to_string(), session.clone());
        Ok((session, Some(inbox)))
    }

    /// Emit a log line through the configured logger.
    pub(crate) fn log(&self, level: LogLevel, message: &str) {
        (self.options.log)(level, message)
    }
}

impl Owner for Registry {
    fn options(&self) -> &Options {
        &self.options
    }

    fn opened(&self, connection: Connection) {
        if let Err(unwanted) = self.accept_tx.send(connection) {
            self.log(
                LogLevel::Debug,
                "connection opened while nobody accepts connections; closing it",
            );
            unwanted
                .0
                .close(1011, "Server is not accepting connections");
        }
    }

    fn forget(&self, id: &str, session: &Session) {
        let mut sessions = lock(&self.sessions);
        if sessions
            .get(id)
            .is_some_and(|s| std::ptr::eq(Arc::as_ptr(s), session))
        {
            sessions.remove(id);
        }
    }

    fn released(&self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
    }
}
