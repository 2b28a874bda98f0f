//! The coalescer task: stamped batches from the watcher thread in, change
//! sets out. It runs on the caller's tokio runtime and ends when the watcher
//! thread is gone (after flushing) or when the receiver was dropped.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::types::{Batch, InFlight};
use super::{ChangeSet, Coalescer};

/// At most this many queued batches are absorbed before the cap is re-checked.
const DRAIN_LIMIT: usize = 1024;
/// How often a due set is looked at again while events are still in flight.
const CATCH_UP: Duration = Duration::from_millis(1);

/// Whether the consumer still listens.
enum Flow {
    Open,
    Closed,
}

/// The task body.
pub(super) async fn run(
    mut rx: mpsc::UnboundedReceiver<Batch>,
    tx: mpsc::Sender<ChangeSet>,
    mut co: Coalescer,
    in_flight: InFlight,
) {
    loop {
        let next = match co.deadline() {
            None => rx.recv().await,
            Some(deadline) => {
                tokio::select! {
                    biased;
                    batch = rx.recv() => batch,
                    () = tokio::time::sleep_until(deadline.into()) => {
                        if !in_flight.is_idle() {
                            // An event stamped before the deadline may still be
                            // on its way: let the watcher thread catch up.
                            tokio::time::sleep(CATCH_UP).await;
                            continue;
                        }
                        if let Flow::Closed = emit(co.take_if_due(Instant::now()), &tx).await {
                            return;
                        }
                        continue;
                    }
                }
            }
        };
        let Some(batch) = next else {
            break;
        };
        match drain(&mut co, batch, &mut rx, &tx).await {
            Drained::All => {}
            Drained::More => {
                tokio::task::yield_now().await;
                continue;
            }
            Drained::Disconnected => break,
            Drained::ReceiverGone => return,
        }
        // With events still in flight, the timer branch decides once they land.
        if in_flight.is_idle() {
            if let Flow::Closed = emit(co.take_if_due(Instant::now()), &tx).await {
                return;
            }
        }
    }
    // The watcher thread stopped: hand over what is pending.
    let _ = emit(co.take(), &tx).await;
}

/// How far the backlog was absorbed.
enum Drained {
    /// The queue is empty.
    All,
    /// `DRAIN_LIMIT` reached; more is queued.
    More,
    /// The watcher thread is gone.
    Disconnected,
    /// The change-set receiver was dropped.
    ReceiverGone,
}

/// Absorb `batch` and the backlog before looking at the clock: queued batches
/// carry earlier stamps and may still belong to the pending set (the task can
/// run late on a busy runtime).
async fn drain(
    co: &mut Coalescer,
    batch: Batch,
    rx: &mut mpsc::UnboundedReceiver<Batch>,
    tx: &mpsc::Sender<ChangeSet>,
) -> Drained {
    if let Flow::Closed = absorb(co, batch, tx).await {
        return Drained::ReceiverGone;
    }
    for _ in 0..DRAIN_LIMIT {
        match rx.try_recv() {
            Ok(batch) => {
                if let Flow::Closed = absorb(co, batch, tx).await {
                    return Drained::ReceiverGone;
                }
            }
            Err(mpsc::error::TryRecvError::Empty) => return Drained::All,
            Err(mpsc::error::TryRecvError::Disconnected) => return Drained::Disconnected,
        }
    }
    Drained::More
}

/// Send a set if there is one.
async fn emit(set: Option<ChangeSet>, tx: &mpsc::Sender<ChangeSet>) -> Flow {
    let Some(set) = set else {
        return Flow::Open;
    };
    match tx.send(set).await {
        Ok(()) => Flow::Open,
        Err(_) => Flow::Closed,
    }
}

/// Add one batch at its own time stamp, first emitting the pending set if it
/// was already due by then.
async fn absorb(co: &mut Coalescer, batch: Batch, tx: &mpsc::Sender<ChangeSet>) -> Flow {
    if let Flow::Closed = emit(co.take_if_due(batch.at), tx).await {
        return Flow::Closed;
    }
    if batch.rescan {
        co.push_rescan(batch.at);
    }
    for retarget in batch.retargeted {
        co.push_retarget(retarget, batch.at);
    }
    for change in batch.changes {
        co.record(change.path, change.kind, batch.at);
    }
    Flow::Open
}
