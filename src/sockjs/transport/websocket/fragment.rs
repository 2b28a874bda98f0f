//! Splitting large outgoing messages into WebSocket fragments.
//!
//! The WebSocket layer copies each frame into a write buffer that keeps its
//! capacity for the life of the connection. Sent whole, one 4 MiB build log
//! would leave every session holding 4 MiB while idle; sent as fragments of
//! [`FRAGMENT`] bytes (RFC 6455 §5.4), the buffer never grows past one
//! fragment, and the fragments are slices of the one shared message, not
//! copies. Clients reassemble the message; nothing changes for them.

use bytes::Bytes;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// Largest payload of one outgoing frame, in bytes.
pub(super) const FRAGMENT: usize = 4096;

/// Largest outgoing frame: a fragment and its header (2 + 8 bytes at most).
pub(super) const MAX_FRAME: usize = FRAGMENT + 10;

/// `text` as WebSocket messages: itself when it fits in one fragment, else
/// a Text frame and Continue frames, the last one final.
pub(super) fn fragments(text: Utf8Bytes) -> Vec<Message> {
    if text.len() <= FRAGMENT {
        return vec![Message::Text(text)];
    }
    let bytes = Bytes::from(text);
    let count = bytes.len().div_ceil(FRAGMENT);
    (0..count)
        .map(|i| {
            let start = i * FRAGMENT;
            let end = (start + FRAGMENT).min(bytes.len());
            let opcode = if i == 0 { Data::Text } else { Data::Continue };
            let frame = Frame::message(
                bytes.slice(start..end),
                OpCode::Data(opcode),
                i + 1 == count,
            );
            Message::Frame(frame)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_messages_go_out_in_bounded_fragments() {
        assert_eq!(
            fragments(Utf8Bytes::from("small")),
            vec![Message::text("small")]
        );
        // Multi-byte characters across fragment boundaries are fine: only
        // the whole message must be UTF-8.
        let text = "é".repeat(FRAGMENT + 1);
        let shared = Utf8Bytes::from(text.as_str());
        let pieces = fragments(shared.clone());
        assert_eq!(pieces.len(), 3);
        let mut joined = Vec::new();
        for (i, piece) in pieces.iter().enumerate() {
            let Message::Frame(frame) = piece else {
                panic!("fragment {i} is not a frame");
            };
            let header = frame.header();
            let expected = if i == 0 { Data::Text } else { Data::Continue };
            assert_eq!(header.opcode, OpCode::Data(expected));
            assert_eq!(header.is_final, i == 2);
            assert!(frame.payload().len() <= FRAGMENT);
            assert!(frame.len() <= MAX_FRAME);
            joined.extend_from_slice(frame.payload());
        }
        assert_eq!(joined, text.as_bytes());
    }
}
