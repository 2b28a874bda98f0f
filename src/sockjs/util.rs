//! Small helpers the rest of the module shares.

use std::sync::{Mutex, MutexGuard};

/// Lock `mutex`, using the data as is when a panic poisoned it: every
/// critical section in this module leaves its state consistent at each
/// step, so a poisoned lock holds nothing later code cannot handle.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
