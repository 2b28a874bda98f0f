//! What a read from the client means for the connection, decided in one
//! place: a message, the client's close, a protocol error with the RFC 6455
//! status code to close with, or a connection that is simply gone.

use tokio_tungstenite::tungstenite::error::{CapacityError, ProtocolError};
use tokio_tungstenite::tungstenite::{Error, Message};

/// What came in from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Incoming {
    /// A text message.
    Text(String),
    /// The client's Close, with its status (1005 when it gave none). The
    /// WebSocket layer has queued the echo RFC 6455 §5.5.1 requires; it
    /// goes out with the next flush.
    Closed { code: u16, reason: String },
    /// The client broke the protocol: close with `code` (RFC 6455 §7.4.1).
    Violation { code: u16, reason: &'static str },
    /// The connection is gone (EOF, reset, I/O error): nothing can be sent.
    Lost,
    /// Binary, ping or pong: nothing for the application.
    Other,
}

/// 1002: the peer broke the protocol.
pub(crate) const PROTOCOL_ERROR: u16 = 1002;
/// 1007: a text message (or close reason) that is not UTF-8.
pub(crate) const INVALID_PAYLOAD: u16 = 1007;
/// 1009: a message or frame over the size limit.
pub(crate) const MESSAGE_TOO_BIG: u16 = 1009;

/// Classify the result of one read.
pub(crate) fn classify(read: Option<Result<Message, Error>>) -> Incoming {
    match read {
        Some(Ok(Message::Text(text))) => Incoming::Text(text.as_str().to_string()),
        Some(Ok(Message::Close(Some(frame)))) => Incoming::Closed {
            code: u16::from(frame.code),
            reason: frame.reason.as_str().to_string(),
        },
        Some(Ok(Message::Close(None))) => Incoming::Closed {
            code: 1005,
            reason: String::new(),
        },
        Some(Ok(_)) => Incoming::Other,
        Some(Err(error)) => classify_error(&error),
        None => Incoming::Lost,
    }
}

fn classify_error(error: &Error) -> Incoming {
    match error {
        Error::Capacity(CapacityError::MessageTooLong { .. }) => Incoming::Violation {
            code: MESSAGE_TOO_BIG,
            reason: "Message too big",
        },
        Error::Capacity(_) => Incoming::Violation {
            code: PROTOCOL_ERROR,
            reason: "Protocol error",
        },
        Error::Utf8(_) => Incoming::Violation {
            code: INVALID_PAYLOAD,
            reason: "Invalid UTF-8",
        },
        Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => Incoming::Lost,
        Error::Protocol(_) => Incoming::Violation {
            code: PROTOCOL_ERROR,
            reason: "Protocol error",
        },
        _ => Incoming::Lost,
    }
}

/// Run the server's frame decoding over `bytes` as if a client had sent
/// them, classifying each read as the connection loops do, until the
/// connection would end. For the fuzz targets.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn decode_client_bytes(bytes: &[u8], max_message: usize) -> Vec<Incoming> {
    use std::io::{Cursor, Read, Write};
    use tokio_tungstenite::tungstenite::protocol::{Role, WebSocket, WebSocketConfig};

    /// Reads the client's bytes; writes go nowhere.
    struct Wire(Cursor<Vec<u8>>);
    impl Read for Wire {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.0.read(buf)
        }
    }
    impl Write for Wire {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .max_message_size(Some(max_message))
        .max_frame_size(Some(max_message));
    let wire = Wire(Cursor::new(bytes.to_vec()));
    let mut ws = WebSocket::from_raw_socket(wire, Role::Server, Some(config));
    let mut seen = Vec::new();
    loop {
        let read = match ws.read() {
            Err(Error::ConnectionClosed | Error::AlreadyClosed) => None,
            other => Some(other),
        };
        let incoming = classify(read);
        let last = !matches!(incoming, Incoming::Text(_) | Incoming::Other);
        seen.push(incoming);
        if last {
            return seen;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A masked client frame.
    fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [1, 2, 3, 4];
        let mut out = vec![first, 0x80 | payload.len() as u8];
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        out
    }

    #[test]
    fn each_protocol_error_gets_its_close_code() {
        let last = |bytes: &[u8]| decode_client_bytes(bytes, 16).pop();
        assert!(matches!(
            last(&frame(0x81, b"seventeen bytes!!")),
            Some(Incoming::Violation {
                code: MESSAGE_TOO_BIG,
                ..
            })
        ));
        assert!(matches!(
            last(&frame(0x81, b"\xff")),
            Some(Incoming::Violation {
                code: INVALID_PAYLOAD,
                ..
            })
        ));
        for first in [0xc1, 0x83, 0x80, 0x09 /* fragmented ping */] {
            assert!(
                matches!(
                    last(&frame(first, b"x")),
                    Some(Incoming::Violation {
                        code: PROTOCOL_ERROR,
                        ..
                    })
                ),
                "{first:#x}"
            );
        }
        // Unmasked client frame.
        assert!(matches!(
            last(&[0x81, 0x01, b'x']),
            Some(Incoming::Violation {
                code: PROTOCOL_ERROR,
                ..
            })
        ));
    }

    #[test]
    fn messages_then_close_or_eof() {
        let mut bytes = frame(0x81, b"hi");
        bytes.extend(frame(0x88, &[0x0f, 0xa1, b'b']));
        assert_eq!(
            decode_client_bytes(&bytes, 16),
            vec![
                Incoming::Text("hi".into()),
                Incoming::Closed {
                    code: 4001,
                    reason: "b".into()
                }
            ]
        );
        assert_eq!(
            decode_client_bytes(&frame(0x81, b"hi")[..3], 16),
            vec![Incoming::Lost]
        );
        assert_eq!(
            decode_client_bytes(&frame(0x88, b""), 16),
            vec![Incoming::Closed {
                code: 1005,
                reason: String::new()
            }]
        );
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn client_bytes_decode_to_messages_then_one_ending(
            bytes in prop::collection::vec(any::<u8>(), 0..96)
        ) {
            let reads = decode_client_bytes(&bytes, 32);
            let (last, before) = reads.split_last().expect("at least one read");
            prop_assert!(before.iter().all(|r| matches!(r, Incoming::Text(_) | Incoming::Other)));
            if let Incoming::Violation { code, .. } = last {
                prop_assert!(matches!(*code, PROTOCOL_ERROR | INVALID_PAYLOAD | MESSAGE_TOO_BIG));
            }
            prop_assert!(!matches!(last, Incoming::Text(_) | Incoming::Other));
        }
    }
}
