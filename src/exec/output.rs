//! A build's output: read as bytes and decoded lossily (a stray non-UTF-8 byte
//! never stops the reading, which would kill the build with SIGPIPE), each
//! line and the whole kept output capped so a runaway build cannot fill
//! memory. What is cut is said in the text.

use std::collections::VecDeque;
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// Longest line kept; the rest of a longer line is counted, not kept.
pub(super) const MAX_LINE: usize = 4 * 1024;
/// Most output kept for the error report (the newest lines win): generous,
/// because the overlay should show the whole build output. The report
/// travels as one message; after its two JSON encodings (message, then
/// SockJS frame) output with escapes can double, which stays well inside
/// the SockJS module's 4 MiB cap on outgoing messages.
pub(super) const MAX_KEPT: usize = 1024 * 1024;

/// Reads lines of at most `max` bytes from a pipe.
///
/// Cancel-safe: a partial line lives in the reader, so [`LineReader::next_line`]
/// can sit in a `select!` beside other branches.
#[derive(Debug)]
pub(super) struct LineReader<R> {
    inner: R,
    max: usize,
    line: Vec<u8>,
    cut: usize,
    started: bool,
}

impl<R: AsyncBufRead + Unpin> LineReader<R> {
    /// A reader keeping at most `max` bytes of each line.
    pub(super) fn new(inner: R, max: usize) -> LineReader<R> {
        LineReader {
            inner,
            max,
            line: Vec::new(),
            cut: 0,
            started: false,
        }
    }

    /// The next line without its line ending; `None` at the end of the output.
    pub(super) async fn next_line(&mut self) -> std::io::Result<Option<String>> {
        loop {
            let buf = self.inner.fill_buf().await?;
            if buf.is_empty() {
                return Ok(self.started.then(|| self.take()));
            }
            let newline = buf.iter().position(|&b| b == b'\n');
            let end = newline.unwrap_or(buf.len());
            let keep = self.max.saturating_sub(self.line.len()).min(end);
            self.line.extend_from_slice(&buf[..keep]);
            self.cut += end - keep;
            self.started = true;
            self.inner.consume(newline.map_or(end, |i| i + 1));
            if newline.is_some() {
                return Ok(Some(self.take()));
            }
        }
    }

    fn take(&mut self) -> String {
        if self.cut == 0 && self.line.last() == Some(&b'\r') {
            self.line.pop();
        }
        let mut text = String::from_utf8_lossy(&self.line).into_owned();
        if self.cut > 0 {
            text.push_str(&format!("… {} bytes cut", thousands(self.cut)));
        }
        self.line.clear();
        self.cut = 0;
        self.started = false;
        text
    }
}

/// The newest lines of a build's output, at most `max` bytes in all.
#[derive(Debug)]
pub(super) struct Kept {
    lines: VecDeque<String>,
    bytes: usize,
    max: usize,
    dropped: usize,
}

impl Kept {
    /// Keep at most `max` bytes (line endings counted).
    pub(super) fn new(max: usize) -> Kept {
        Kept {
            lines: VecDeque::new(),
            bytes: 0,
            max,
            dropped: 0,
        }
    }

    /// Add a line, dropping the oldest ones while over the cap.
    pub(super) fn push(&mut self, line: String) {
        self.bytes += line.len() + 1;
        self.lines.push_back(line);
        while self.bytes > self.max {
            let Some(old) = self.lines.pop_front() else {
                break;
            };
            self.bytes -= old.len() + 1;
            self.dropped += old.len() + 1;
        }
    }

    /// The kept output, one line each, after a note of what was cut.
    pub(super) fn text(&self) -> String {
        let mut out = String::with_capacity(self.bytes + 40);
        if self.dropped > 0 {
            out.push_str(&format!(
                "… {} bytes cut (earlier output)\n",
                thousands(self.dropped)
            ));
        }
        for line in &self.lines {
            out.push_str(line);
            out.push('\n');
        }
        out
    }
}

/// `12345` as `12,345`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines(input: &[u8], max: usize) -> Vec<String> {
        // A small buffer, so lines span several reads.
        let mut reader = LineReader::new(tokio::io::BufReader::with_capacity(4, input), max);
        let mut out = Vec::new();
        while let Some(line) = reader.next_line().await.expect("read") {
            out.push(line);
        }
        out
    }

    #[tokio::test]
    async fn non_utf8_bytes_are_decoded_lossily_and_reading_goes_on() {
        assert_eq!(
            lines(b"caf\xe9\nnext\r\nlast", 100).await,
            ["caf\u{fffd}", "next", "last"]
        );
    }

    #[tokio::test]
    async fn a_long_line_is_cut_and_says_how_much() {
        let mut input = vec![b'x'; 12_355];
        input.extend_from_slice(b"\nshort\n");
        assert_eq!(
            lines(&input, 10).await,
            ["xxxxxxxxxx… 12,345 bytes cut", "short"]
        );
    }

    #[tokio::test]
    async fn empty_lines_are_kept_and_no_phantom_line_at_the_end() {
        assert_eq!(lines(b"\n\na\n", 10).await, ["", "", "a"]);
        assert!(lines(b"", 10).await.is_empty());
    }

    #[test]
    fn kept_output_keeps_the_newest_lines_and_says_what_was_cut() {
        let mut kept = Kept::new(13);
        for line in ["first", "second", "third"] {
            kept.push(line.to_string());
        }
        assert_eq!(
            kept.text(),
            "… 6 bytes cut (earlier output)\nsecond\nthird\n"
        );
        let mut small = Kept::new(100);
        small.push("only".into());
        assert_eq!(small.text(), "only\n");
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(12_345), "12,345");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
