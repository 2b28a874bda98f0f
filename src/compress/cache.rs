//! The encoded variants of small files, keyed by the file's entity tag (so
//! a new file version is a new key) and bounded in bytes: the oldest
//! entries go first when the budget is reached.

use super::Encoding;
use crate::util::lock;
use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// What every entry costs besides its key and bytes (map and queue slots).
const ENTRY_OVERHEAD: usize = 96;

type Key = (String, Encoding);

#[derive(Debug, Default)]
struct State {
    map: HashMap<Key, Bytes>,
    order: VecDeque<Key>,
    bytes: usize,
}

/// See the module documentation.
#[derive(Debug, Default)]
pub(super) struct VariantCache {
    budget: usize,
    state: Mutex<State>,
}

fn cost(tag: &str, bytes: &Bytes) -> usize {
    tag.len() * 2 + bytes.len() + ENTRY_OVERHEAD
}

impl VariantCache {
    pub(super) fn new(budget: usize) -> VariantCache {
        VariantCache {
            budget,
            state: Mutex::default(),
        }
    }

    pub(super) fn get(&self, tag: &str, encoding: Encoding) -> Option<Bytes> {
        lock(&self.state)
            .map
            .get(&(tag.to_owned(), encoding))
            .cloned()
    }

    pub(super) fn insert(&self, tag: &str, encoding: Encoding, bytes: Bytes) {
        let size = cost(tag, &bytes);
        if size > self.budget {
            return;
        }
        let mut state = lock(&self.state);
        let key = (tag.to_owned(), encoding);
        if state.map.contains_key(&key) {
            return;
        }
        while state.bytes + size > self.budget {
            let Some(oldest) = state.order.pop_front() else {
                break;
            };
            if let Some(gone) = state.map.remove(&oldest) {
                state.bytes -= cost(&oldest.0, &gone);
            }
        }
        state.bytes += size;
        state.order.push_back(key.clone());
        state.map.insert(key, bytes);
    }

    #[cfg(test)]
    fn bytes(&self) -> usize {
        lock(&self.state).bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_stay_within_the_budget_oldest_first_out() {
        let cache = VariantCache::new(3 * cost("\"t0\"", &Bytes::from(vec![0; 100])));
        for i in 0..10 {
            cache.insert(
                &format!("\"t{i}\""),
                Encoding::Brotli,
                Bytes::from(vec![0; 100]),
            );
            assert!(cache.bytes() <= cache.budget);
        }
        assert!(cache.get("\"t0\"", Encoding::Brotli).is_none());
        assert!(cache.get("\"t9\"", Encoding::Brotli).is_some());
        assert!(cache.get("\"t9\"", Encoding::Gzip).is_none());
    }
}
