//! Broadcast groups: one message to many connections, encoded once.

use super::frame::Encoded;
use super::session::{Connection, ConnectionHandle, ReadyState, WriteError};
use super::util::lock;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A set of connections that receive the same messages. Cheap to clone
/// (clones share the members).
///
/// [`Group::send_all`] escapes and frames a message once and queues the
/// same shared bytes on every member, so a broadcast to thousands of
/// sessions costs one encoding. Each member receives the group's messages
/// in the order they were sent. A connection that closes leaves the group
/// by itself: it gets nothing more, and it is dropped from the group at the
/// next [`Group::send_all`] or [`Group::len`].
///
/// ```no_run
/// use devserve::sockjs::{Group, Options, SockJsServer};
/// # async fn run() {
/// let (_server, mut connections) = SockJsServer::new(Options::new("/chat"));
/// let room = Group::new();
/// while let Some(mut conn) = connections.accept().await {
///     room.join(&conn);
///     let room = room.clone();
///     tokio::spawn(async move {
///         while let Some(message) = conn.recv().await {
///             room.send_all(&message);
///         }
///     });
/// }
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct Group {
    members: Arc<Mutex<HashMap<usize, ConnectionHandle>>>,
    when_full: WhenFull,
}

/// What a [`Group`] does with a member that cannot take a message because
/// its outgoing queue is full (the client stopped reading).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum WhenFull {
    /// The member misses this message and stays in the group.
    #[default]
    Skip,
    /// The member is closed with `code` and `reason` and leaves the group:
    /// for applications where a missed message would leave the client in
    /// the wrong state, so it should reconnect and start over.
    Close {
        /// The close code the client is sent.
        code: u16,
        /// The close reason the client is sent.
        reason: String,
    },
}

/// Something that names a connection: a [`Connection`] or a [`ConnectionHandle`].
pub trait Member {
    /// The connection's handle.
    fn connection_handle(&self) -> &ConnectionHandle;
}

impl Member for ConnectionHandle {
    fn connection_handle(&self) -> &ConnectionHandle {
        self
    }
}

impl Member for Connection {
    fn connection_handle(&self) -> &ConnectionHandle {
        self.handle_ref()
    }
}

fn closing(handle: &ConnectionHandle) -> bool {
    matches!(
        handle.ready_state(),
        ReadyState::Closing | ReadyState::Closed
    )
}

impl Group {
    /// An empty group whose members miss the messages they have no room for.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty group that treats a member with a full queue as `policy` says.
    pub fn when_full(policy: WhenFull) -> Self {
        Group {
            when_full: policy,
            ..Self::default()
        }
    }

    /// Add `connection`. Returns false when it was already a member or has
    /// closed (a closed connection is not added).
    pub fn join(&self, connection: &impl Member) -> bool {
        let handle = connection.connection_handle();
        if closing(handle) {
            return false;
        }
        lock(&self.members)
            .insert(handle.key(), handle.clone())
            .is_none()
    }

    /// Remove `connection`. Returns false when it was not a member.
    pub fn leave(&self, connection: &impl Member) -> bool {
        let key = connection.connection_handle().key();
        lock(&self.members).remove(&key).is_some()
    }

    /// Open members.
    pub fn len(&self) -> usize {
        let mut members = lock(&self.members);
        members.retain(|_, handle| !closing(handle));
        members.len()
    }

    /// Whether the group has no open member.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Queue `message` for every open member; returns how many took it.
    /// The message is encoded once for all of them. Members that closed
    /// leave the group; a member whose queue is full is handled as the
    /// group's [`WhenFull`] says; a member whose server caps messages below
    /// this one's size misses this message only (see
    /// [`crate::sockjs::WriteError`]). An empty message reaches no one.
    pub fn send_all(&self, message: &str) -> usize {
        if message.is_empty() {
            return 0;
        }
        let encoded = Encoded::new(message);
        let mut members = lock(&self.members);
        let mut sent = 0;
        members.retain(|_, handle| match handle.write_encoded(&encoded) {
            Ok(()) => {
                sent += 1;
                true
            }
            Err(WriteError::QueueFull) => match &self.when_full {
                WhenFull::Skip => true,
                WhenFull::Close { code, reason } => {
                    handle.close(*code, reason);
                    false
                }
            },
            Err(_) => !closing(handle),
        });
        sent
    }

    /// Close every member with `code` and `reason`; the group is empty after.
    pub fn close_all(&self, code: u16, reason: &str) {
        let members: Vec<ConnectionHandle> = lock(&self.members).drain().map(|(_, h)| h).collect();
        for handle in members {
            handle.close(code, reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sockjs::info::ConnectionInfo;
    use crate::sockjs::options::Options;
    use crate::sockjs::registry::Registry;
    use crate::sockjs::session::Outgoing;
    use tokio::sync::mpsc;

    struct Fixture {
        registry: Arc<Registry>,
        accepted: mpsc::UnboundedReceiver<Connection>,
    }

    impl Fixture {
        fn new() -> Self {
            let (tx, accepted) = mpsc::unbounded_channel();
            Fixture {
                registry: Arc::new(Registry::new(Options::new("/g"), tx)),
                accepted,
            }
        }

        /// An open session `id` (a receiver attached), and its connection.
        fn open(&mut self, id: &str) -> (Arc<crate::sockjs::session::Session>, Connection) {
            let parts = http::Request::new(()).into_parts().0;
            let info = || ConnectionInfo::of_request(&parts, "/g", Some(id), "xhr-streaming");
            let (session, mut inbox) = self.registry.session_or_create(id, info).expect("admitted");
            session.attach(&mut inbox);
            let conn = self.accepted.try_recv().expect("opened");
            (session, conn)
        }
    }

    fn frame(session: &crate::sockjs::session::Session) -> Option<String> {
        match session.next_frame() {
            Some(Outgoing::Messages(frame)) => Some(frame.as_str().to_string()),
            Some(Outgoing::Close(frame)) => Some(frame),
            None => None,
        }
    }

    #[test]
    fn group_join_and_leave() {
        let mut fixture = Fixture::new();
        let (a, conn_a) = fixture.open("a");
        let (b, conn_b) = fixture.open("b");
        let group = Group::new();
        assert!(group.join(&conn_a));
        assert!(group.join(&conn_b.handle()));
        assert!(!group.join(&conn_a), "already a member");
        assert_eq!(group.len(), 2);
        assert_eq!(group.send_all("hi"), 2);
        assert_eq!(frame(&a).as_deref(), Some(r#"a["hi"]"#));
        assert_eq!(frame(&b).as_deref(), Some(r#"a["hi"]"#));
        assert!(group.leave(&conn_b));
        assert!(!group.leave(&conn_b));
        assert_eq!(group.send_all("only a"), 1);
        assert_eq!(frame(&a).as_deref(), Some(r#"a["only a"]"#));
        assert_eq!(frame(&b), None);
        assert_eq!(group.send_all(""), 0);
    }

    #[test]
    fn group_members_that_close_leave_and_get_nothing() {
        let mut fixture = Fixture::new();
        let (a, conn_a) = fixture.open("a");
        let (b, conn_b) = fixture.open("b");
        let group = Group::new();
        group.join(&conn_a);
        group.join(&conn_b);
        conn_b.close(3000, "Go away!");
        assert_eq!(group.len(), 1, "a closed member leaves by itself");
        assert_eq!(group.send_all("after"), 1);
        assert_eq!(frame(&a).as_deref(), Some(r#"a["after"]"#));
        assert_eq!(
            frame(&b).as_deref(),
            Some(r#"c[3000,"Go away!"]"#),
            "only the close frame"
        );
        assert_eq!(frame(&b), None);
        assert!(!group.join(&conn_b), "a closed connection does not join");
    }

    #[test]
    fn group_messages_keep_their_order_per_session() {
        let mut fixture = Fixture::new();
        let (a, conn_a) = fixture.open("a");
        let group = Group::new();
        group.join(&conn_a);
        group.send_all("1");
        conn_a.write("2").expect("write");
        group.send_all("3\n");
        assert_eq!(frame(&a).as_deref(), Some(r#"a["1","2","3\n"]"#));
    }

    #[test]
    fn group_encodes_once_for_all_members() {
        let mut fixture = Fixture::new();
        let (a, conn_a) = fixture.open("a");
        let (b, conn_b) = fixture.open("b");
        let group = Group::new();
        group.join(&conn_a);
        group.join(&conn_b);
        group.send_all("shared");
        let (Some(Outgoing::Messages(fa)), Some(Outgoing::Messages(fb))) =
            (a.next_frame(), b.next_frame())
        else {
            panic!("both members got a frame");
        };
        assert_eq!(fa.as_ptr(), fb.as_ptr(), "one encoding, shared");
    }

    #[test]
    fn group_closes_members_that_fall_behind_when_asked() {
        let mut fixture = Fixture::new();
        let (slow, conn_slow) = fixture.open("slow");
        let lenient = Group::new();
        let strict = Group::when_full(WhenFull::Close {
            code: 4000,
            reason: "Client too slow".into(),
        });
        lenient.join(&conn_slow);
        strict.join(&conn_slow);
        let capacity = Options::new("/g").max_queued_messages;
        for _ in 0..capacity {
            assert_eq!(lenient.send_all("x"), 1);
        }
        assert_eq!(lenient.send_all("missed"), 0, "full: skipped");
        assert_eq!(lenient.len(), 1, "a skipped member stays");
        assert_eq!(strict.send_all("closes"), 0);
        assert_eq!(strict.len(), 0, "a closed member leaves");
        assert_eq!(slow.ready_state(), ReadyState::Closing);
        assert_eq!(conn_slow.handle().close_event().map(|e| e.code), Some(4000));
    }

    #[test]
    fn group_close_all_closes_and_empties() {
        let mut fixture = Fixture::new();
        let (_a, conn_a) = fixture.open("a");
        let (_b, conn_b) = fixture.open("b");
        let group = Group::new();
        group.join(&conn_a);
        group.join(&conn_b);
        group.close_all(1001, "Server shutting down");
        assert!(group.is_empty());
        for conn in [&conn_a, &conn_b] {
            let event = conn.handle().close_event().expect("closed");
            assert_eq!(
                (event.code, event.reason.as_str()),
                (1001, "Server shutting down")
            );
        }
    }
}
