//! `Range: bytes=…` parsing for a single range (RFC 9110 §14). Pure.
//!
//! Multi-range requests are ignored (served as a full 200), as are syntactically invalid
//! values and other units, exactly as RFC 9110 allows ("a server MAY ignore the Range header").

/// What to do with a request's Range header for a representation of a given length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RangeDecision {
    /// No usable Range: serve the whole representation (200).
    Full,
    /// Serve bytes `start..=end` (206). `end < len` always holds.
    Partial {
        /// First byte offset.
        start: u64,
        /// Last byte offset, inclusive.
        end: u64,
    },
    /// 416 with `Content-Range: bytes */len`.
    Unsatisfiable,
}

impl RangeDecision {
    /// Number of bytes a partial response carries.
    pub(crate) fn partial_len(start: u64, end: u64) -> u64 {
        end - start + 1
    }
}

/// Digits only (no sign, no spaces); overflowing values saturate to `u64::MAX`.
fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.parse::<u64>().unwrap_or(u64::MAX))
}

/// Decide how to answer `Range: <value>` for a representation of `len` bytes.
pub(crate) fn parse_range(value: &str, len: u64) -> RangeDecision {
    let v = value.trim();
    let Some((unit, spec)) = v.split_once('=') else {
        return RangeDecision::Full;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return RangeDecision::Full;
    }
    if spec.contains(',') {
        // Multiple ranges (or a list with empty members): ignored, never multipart.
        return RangeDecision::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeDecision::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    match (first.is_empty(), last.is_empty()) {
        // `-n`: the last n bytes
        (true, false) => match digits(last) {
            None => RangeDecision::Full,
            Some(0) => RangeDecision::Unsatisfiable,
            Some(_) if len == 0 => RangeDecision::Unsatisfiable,
            Some(n) => RangeDecision::Partial {
                start: len - n.min(len),
                end: len - 1,
            },
        },
        // `a-`
        (false, true) => match digits(first) {
            None => RangeDecision::Full,
            Some(a) if a >= len => RangeDecision::Unsatisfiable,
            Some(a) => RangeDecision::Partial {
                start: a,
                end: len - 1,
            },
        },
        // `a-b`
        (false, false) => match (digits(first), digits(last)) {
            (Some(a), Some(b)) if a <= b => {
                if a >= len {
                    RangeDecision::Unsatisfiable
                } else {
                    RangeDecision::Partial {
                        start: a,
                        end: b.min(len - 1),
                    }
                }
            }
            _ => RangeDecision::Full,
        },
        (true, true) => RangeDecision::Full,
    }
}

#[cfg(test)]
mod tests {
    use super::RangeDecision::{Full, Partial, Unsatisfiable};
    use super::*;

    #[test]
    fn single_ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Partial { start: 0, end: 9 });
        assert_eq!(
            parse_range("bytes=90-", 100),
            Partial { start: 90, end: 99 }
        );
        assert_eq!(
            parse_range("bytes=-10", 100),
            Partial { start: 90, end: 99 }
        );
        assert_eq!(
            parse_range("bytes=-1000", 100),
            Partial { start: 0, end: 99 }
        );
        assert_eq!(
            parse_range("bytes=50-1000", 100),
            Partial { start: 50, end: 99 }
        );
        assert_eq!(
            parse_range("Bytes = 1-1 ", 100),
            Partial { start: 1, end: 1 }
        );
        assert_eq!(
            parse_range("bytes=0-99999999999999999999999", 100),
            Partial { start: 0, end: 99 }
        );
        assert_eq!(RangeDecision::partial_len(90, 99), 10);
    }

    #[test]
    fn unsatisfiable() {
        assert_eq!(parse_range("bytes=100-", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=100-200", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-", 0), Unsatisfiable);
        assert_eq!(parse_range("bytes=-5", 0), Unsatisfiable);
        assert_eq!(
            parse_range("bytes=99999999999999999999999-", 100),
            Unsatisfiable
        );
    }

    #[test]
    fn ignored() {
        for v in [
            "bytes=0-1,5-6",
            "bytes=0-1,",
            "bytes=5-1",
            "bytes=a-b",
            "bytes=+1-2",
            "bytes=-",
            "bytes=",
            "bytes",
            "items=0-1",
            "bytes=1--2",
            "",
        ] {
            assert_eq!(parse_range(v, 100), Full, "{v:?}");
        }
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn partial_ranges_lie_inside_the_file(value in "[a-z= ,0-9-]{0,24}", len in 0u64..10_000) {
            if let RangeDecision::Partial { start, end } = parse_range(&value, len) {
                prop_assert!(start <= end && end < len, "{value} on {len}: {start}-{end}");
            }
        }

        #[test]
        fn well_formed_ranges_are_honoured(a in 0u64..5000, b in 0u64..5000, len in 1u64..5000) {
            let (start, end) = (a.min(b), a.max(b));
            let decision = parse_range(&format!("bytes={start}-{end}"), len);
            if start < len {
                prop_assert_eq!(decision, RangeDecision::Partial { start, end: end.min(len - 1) });
            } else {
                prop_assert_eq!(decision, RangeDecision::Unsatisfiable);
            }
        }
    }
}
