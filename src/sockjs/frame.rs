//! SockJS frames: encoding what the server sends and decoding what clients send.
//!
//! Outgoing JSON is written by hand rather than with `serde_json` because the
//! protocol requires a specific set of characters to be escaped as `\uXXXX`
//! (lower-case hex), including ones JSON itself would leave alone (U+2028,
//! U+FFF0…U+FFFF and friends) that some browsers mangle in transit.

use std::collections::VecDeque;
use std::fmt::Write as _;
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// The frame sent once when a session opens.
pub(crate) const OPEN: &str = "o";
/// The heartbeat frame.
pub(crate) const HEARTBEAT: &str = "h";

/// True when `c` must be sent as a `\uXXXX` escape inside a JSON string.
fn must_escape(c: char) -> bool {
    matches!(c as u32,
        0x0000..=0x001f
        | 0x200c..=0x200f
        | 0x2028..=0x202f
        | 0x2060..=0x206f
        | 0xfff0..=0xffff)
}

/// Append `s` to `out` as a JSON string literal (with quotes), escaping
/// everything the SockJS protocol requires.
pub(crate) fn push_json_string(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if must_escape(c) => {
                // Infallible: writing to a String cannot fail.
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `s` as a JSON string literal.
pub(crate) fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_json_string(&mut out, s);
    out
}

/// A message frame `a[...]` carrying `messages` in order.
pub(crate) fn messages<S: AsRef<str>>(messages: &[S]) -> String {
    let len: usize = messages.iter().map(|m| m.as_ref().len() + 3).sum();
    let mut out = String::with_capacity(len + 3);
    out.push_str("a[");
    for (i, m) in messages.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_string(&mut out, m.as_ref());
    }
    out.push(']');
    out
}

/// Bytes `s` takes as a JSON string literal (with quotes), as
/// [`push_json_string`] writes it.
pub(crate) fn json_len(s: &str) -> usize {
    2 + s
        .chars()
        .map(|c| match c {
            '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
            c if must_escape(c) => 6,
            c => c.len_utf8(),
        })
        .sum::<usize>()
}

/// The longest frame a single message of `max_message` bytes can become:
/// `a["…"]` with every byte escaped sixfold (`\u0001`).
pub(crate) fn max_frame_len(max_message: usize) -> usize {
    max_message.saturating_mul(6).saturating_add(5)
}

/// A message encoded once for many sessions: its text (for raw
/// WebSocket) and its `a["…"]` frame, both shared, never copied per session.
#[derive(Debug, Clone)]
pub(crate) struct Encoded {
    text: Utf8Bytes,
    frame: Utf8Bytes,
}

impl Encoded {
    /// Encode `message` (escaping it once).
    pub(crate) fn new(message: &str) -> Self {
        Encoded {
            text: Utf8Bytes::from(message),
            frame: Utf8Bytes::from(messages(&[message])),
        }
    }

    /// The message's length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.text.len()
    }

    /// The message as a JSON string literal (a slice of the frame).
    fn json(&self) -> &str {
        let frame = self.frame.as_str();
        &frame[2..frame.len() - 1]
    }
}

/// A message waiting in a session's queue.
#[derive(Debug, Clone)]
pub(crate) enum Queued {
    /// Written to this session alone; escaped when it is sent.
    Own(String),
    /// Encoded once for a whole group.
    Shared(Encoded),
}

impl Queued {
    /// Bytes the message takes as a JSON string literal.
    fn json_len(&self) -> usize {
        match self {
            Queued::Own(text) => json_len(text),
            Queued::Shared(encoded) => encoded.json().len(),
        }
    }

    fn push_json(&self, out: &mut String) {
        match self {
            Queued::Own(text) => push_json_string(out, text),
            Queued::Shared(encoded) => out.push_str(encoded.json()),
        }
    }

    /// The message itself, for raw WebSocket.
    pub(crate) fn into_text(self) -> Utf8Bytes {
        match self {
            Queued::Own(text) => Utf8Bytes::from(text),
            Queued::Shared(encoded) => encoded.text,
        }
    }
}

/// A message frame with as many of the oldest `queued` messages as fit in
/// `limit` bytes (always at least one), removed from the queue. Keeps every
/// frame within what one message of the largest size would need. A shared
/// message going out alone is sent as its ready-made frame.
pub(crate) fn messages_within(queued: &mut VecDeque<Queued>, limit: usize) -> Utf8Bytes {
    let mut len = 2;
    let mut count = 0;
    for message in queued.iter() {
        let grown = len + usize::from(count > 0) + message.json_len() + 1;
        if count > 0 && grown > limit {
            break;
        }
        len = grown - 1;
        count += 1;
    }
    if count == 1 {
        if let Some(Queued::Shared(encoded)) = queued.front() {
            let frame = encoded.frame.clone();
            queued.pop_front();
            return frame;
        }
    }
    let mut out = String::with_capacity(len + 1);
    out.push_str("a[");
    for (i, message) in queued.drain(..count).enumerate() {
        if i > 0 {
            out.push(',');
        }
        message.push_json(&mut out);
    }
    out.push(']');
    Utf8Bytes::from(out)
}

/// A close frame `c[code,"reason"]`.
pub(crate) fn close(code: u16, reason: &str) -> String {
    let mut out = format!("c[{code},");
    push_json_string(&mut out, reason);
    out.push(']');
    out
}

/// Why a client payload was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// The payload was empty.
    Empty,
    /// The payload was not a JSON array of strings.
    BrokenJson,
}

impl DecodeError {
    /// The protocol's text for this error.
    pub(crate) fn message(self) -> &'static str {
        match self {
            DecodeError::Empty => "Payload expected.",
            DecodeError::BrokenJson => "Broken JSON encoding.",
        }
    }
}

/// Decode a client payload: a JSON array of strings (`[]` is allowed and
/// carries no message). A bare JSON string is accepted too, as the
/// reference server does for WebSocket frames.
///
/// Lone UTF-16 surrogate escapes (which clients may send, and which no Rust
/// string can hold) are replaced by U+FFFD instead of failing the payload.
pub(crate) fn decode(payload: &[u8]) -> Result<Vec<String>, DecodeError> {
    if payload.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(DecodeError::Empty);
    }
    match serde_json::from_slice::<Payload>(payload) {
        Ok(p) => Ok(p.into_vec()),
        Err(_) => {
            let repaired = replace_lone_surrogates(payload).ok_or(DecodeError::BrokenJson)?;
            serde_json::from_slice::<Payload>(&repaired)
                .map(Payload::into_vec)
                .map_err(|_| DecodeError::BrokenJson)
        }
    }
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Payload {
    Many(Vec<String>),
    One(String),
}

impl Payload {
    fn into_vec(self) -> Vec<String> {
        match self {
            Payload::Many(v) => v,
            Payload::One(s) => vec![s],
        }
    }
}

/// Rewrite `\uD800`…`\uDFFF` escapes that are not part of a valid surrogate
/// pair into `\ufffd`. Returns None when nothing needed repair (so the
/// original error stands).
fn replace_lone_surrogates(payload: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(payload).ok()?;
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut changed = false;
    let mut i = 0;
    let hex_at = |i: usize| -> Option<u32> {
        let s = text.get(i..i + 4)?;
        u32::from_str_radix(s, 16).ok()
    };
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 1 < bytes.len() {
            if bytes[i + 1] == b'u' {
                if let Some(cp) = hex_at(i + 2) {
                    if (0xd800..0xdc00).contains(&cp) {
                        let low = (bytes.get(i + 6) == Some(&b'\\')
                            && bytes.get(i + 7) == Some(&b'u'))
                        .then(|| hex_at(i + 8))
                        .flatten();
                        if low.is_some_and(|l| (0xdc00..0xe000).contains(&l)) {
                            out.extend_from_slice(&bytes[i..i + 12]);
                            i += 12;
                            continue;
                        }
                        out.extend_from_slice(b"\\ufffd");
                        changed = true;
                        i += 6;
                        continue;
                    }
                    if (0xdc00..0xe000).contains(&cp) {
                        out.extend_from_slice(b"\\ufffd");
                        changed = true;
                        i += 6;
                        continue;
                    }
                }
            }
            // Any other escape: copy both bytes so `\\u` is not misread.
            out.extend_from_slice(&bytes[i..i + 2]);
            i += 2;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_the_protocol_requires() {
        assert_eq!(json_string("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(json_string("\n\r\u{0}\u{1f}"), r#""\n\r\u0000\u001f""#);
        assert_eq!(
            json_string("\u{2028}\u{ffff}\u{200c}"),
            r#""\u2028\uffff\u200c""#
        );
        assert_eq!(json_string("ü€😀"), "\"ü€😀\"");
    }

    #[test]
    fn frames() {
        assert_eq!(messages(&["a", "b"]), r#"a["a","b"]"#);
        assert_eq!(messages::<&str>(&[]), "a[]");
        assert_eq!(close(3000, "Go away!"), r#"c[3000,"Go away!"]"#);
    }

    #[test]
    fn batches_stay_within_the_frame_limit() {
        let own = |s: &str| Queued::Own(s.to_string());
        let mut queued: VecDeque<Queued> = ["aa", "bb", "cc"].map(own).into();
        // `a["aa","bb"]` is 12 bytes; the third would make it 17.
        assert_eq!(messages_within(&mut queued, 12), r#"a["aa","bb"]"#);
        assert_eq!(queued.len(), 1);
        // One message always goes, even above the limit.
        assert_eq!(messages_within(&mut queued, 1), r#"a["cc"]"#);
        assert!(queued.is_empty());
        let mut queued: VecDeque<Queued> = ["\u{1}"; 4].map(own).into();
        let limit = max_frame_len(1);
        assert_eq!(messages_within(&mut queued, limit), r#"a["\u0001"]"#);
        assert_eq!(limit, r#"a["\u0001"]"#.len());
    }

    #[test]
    fn shared_messages_are_encoded_once_and_batch_with_own_ones() {
        let shared = Encoded::new("x\"y");
        let mut queued: VecDeque<Queued> = [Queued::Shared(shared.clone())].into();
        let alone = messages_within(&mut queued, 1000);
        assert_eq!(alone, r#"a["x\"y"]"#);
        assert_eq!(
            alone.as_ptr(),
            shared.frame.as_ptr(),
            "the shared frame, not a copy"
        );
        let mut queued: VecDeque<Queued> =
            [Queued::Own("a".into()), Queued::Shared(shared.clone())].into();
        assert_eq!(messages_within(&mut queued, 1000), r#"a["a","x\"y"]"#);
        assert_eq!(Queued::Shared(shared).into_text(), "x\"y");
    }

    #[test]
    fn decodes_payloads() {
        assert_eq!(decode(br#"["a","b"]"#), Ok(vec!["a".into(), "b".into()]));
        assert_eq!(decode(b"[]"), Ok(vec![]));
        assert_eq!(decode(br#""x""#), Ok(vec!["x".into()]));
        assert_eq!(decode(b""), Err(DecodeError::Empty));
        assert_eq!(decode(b"  "), Err(DecodeError::Empty));
        assert_eq!(decode(br#"["a"#), Err(DecodeError::BrokenJson));
        assert_eq!(decode(b"[1]"), Err(DecodeError::BrokenJson));
        assert_eq!(decode(b"{}"), Err(DecodeError::BrokenJson));
        assert_eq!(decode(b"\xff"), Err(DecodeError::BrokenJson));
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        assert_eq!(decode(br#"["\ud800x"]"#), Ok(vec!["\u{fffd}x".into()]));
        assert_eq!(decode(br#"["\udc00"]"#), Ok(vec!["\u{fffd}".into()]));
        assert_eq!(decode(br#"["\ud83d\ude00"]"#), Ok(vec!["😀".into()]));
        assert_eq!(decode(br#"["\\ud800"]"#), Ok(vec!["\\ud800".into()]));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn decoding_never_panics(payload in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode(&payload);
        }

        #[test]
        fn encoded_messages_decode_to_themselves(batch in prop::collection::vec(any::<String>(), 0..8)) {
            let frame = messages(&batch);
            prop_assert_eq!(decode(&frame.as_bytes()[1..]), Ok(batch));
        }

        #[test]
        fn json_len_is_the_encoded_length(text in any::<String>()) {
            prop_assert_eq!(json_len(&text), json_string(&text).len());
            prop_assert!(json_string(&text).len() + 3 <= max_frame_len(text.len()));
        }

        #[test]
        fn batched_frames_fit_and_keep_order(
            batch in prop::collection::vec("[a-z\u{1}\u{2028}]{1,8}", 1..16),
            limit in 0usize..64,
        ) {
            let mut queued: VecDeque<Queued> = batch
                .iter()
                .enumerate()
                .map(|(i, m)| if i % 2 == 0 { Queued::Own(m.clone()) } else { Queued::Shared(Encoded::new(m)) })
                .collect();
            let mut seen = Vec::new();
            while !queued.is_empty() {
                let frame = messages_within(&mut queued, limit);
                let decoded = decode(&frame.as_bytes()[1..]).expect("own frames decode");
                prop_assert!(frame.len() <= limit || decoded.len() == 1);
                seen.extend(decoded);
            }
            prop_assert_eq!(seen, batch);
        }

        #[test]
        fn escaped_output_is_ascii_safe_for_the_protocol(text in any::<String>()) {
            let encoded = json_string(&text);
            prop_assert!(!encoded.chars().any(must_escape), "{encoded:?}");
            prop_assert_eq!(serde_json::from_str::<String>(&encoded).ok(), Some(text));
        }
    }
}
