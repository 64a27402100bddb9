//! Group commit of the audit entries of units that only read.
//!
//! An audited read changes nothing but the log, so its entries need not be written in a
//! transaction of their own: units that commit at the same time hand their entries to one
//! writer, which writes all of them in one transaction (one sync to disk) and answers each
//! unit with that transaction's outcome. No unit returns before its entries are durable: a
//! unit whose batch fails gets the error (fail closed), and so does every other unit of that
//! batch, none of whose entries were written (one transaction).
//!
//! There is no timer and no background task: the first unit to find the writer free becomes
//! the leader, takes every entry waiting at that moment and writes them; units that arrive
//! while it writes wait for the next leader. Under no concurrency a batch is one unit, as
//! before; under load, batches grow to whatever arrived during one commit.

use crate::StoreError;
use custos_audit::AuditRecord;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::oneshot;

/// Writes one batch of entries in one transaction (the backend's short audit write).
pub(crate) type WriteBatch = Box<
    dyn FnOnce(Vec<AuditRecord>) -> Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send>>
        + Send,
>;

/// How many batches were written and how many units and entries they carried.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuditBatches {
    /// Transactions written by the group committer (successful or not).
    pub batches: u64,
    /// Units of work whose entries went through it.
    pub units: u64,
    /// Entries in them.
    pub entries: u64,
}

/// A unit waiting for its entries to be written.
struct Waiting {
    records: Vec<AuditRecord>,
    done: oneshot::Sender<Result<(), StoreError>>,
}

/// The queue of waiting units and the writer's turn.
#[derive(Debug, Default)]
pub(crate) struct GroupCommit {
    queue: std::sync::Mutex<Vec<Waiting>>,
    turn: Arc<tokio::sync::Mutex<()>>,
    batches: AtomicU64,
    units: AtomicU64,
    entries: AtomicU64,
}

impl std::fmt::Debug for Waiting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Waiting({} entries)", self.records.len())
    }
}

impl GroupCommit {
    /// Counters since the store was opened.
    pub(crate) fn stats(&self) -> AuditBatches {
        AuditBatches {
            batches: self.batches.load(Ordering::Relaxed),
            units: self.units.load(Ordering::Relaxed),
            entries: self.entries.load(Ordering::Relaxed),
        }
    }

    /// The queue of waiting units.
    fn queue(&self) -> Result<std::sync::MutexGuard<'_, Vec<Waiting>>, StoreError> {
        self.queue
            .lock()
            .map_err(|_| StoreError::Database("audit queue poisoned".into()))
    }

    /// Units waiting for a writer now (tests hold the writer and wait for a full batch).
    pub(crate) fn waiting(&self) -> usize {
        self.queue.lock().map(|q| q.len()).unwrap_or_default()
    }

    /// Returns once `records` are durable in the log, or with the error that kept their batch
    /// from being written. `write` is used if this unit becomes the leader of a batch.
    ///
    /// The batch is written by a task of its own: a leader whose request is abandoned (the
    /// client went away) does not abandon the other units of its batch.
    pub(crate) async fn submit(
        &self,
        records: Vec<AuditRecord>,
        write: WriteBatch,
    ) -> Result<(), StoreError> {
        let (done, mut outcome) = oneshot::channel();
        self.queue()?.push(Waiting { records, done });
        let mut write = Some(write);
        loop {
            tokio::select! {
                biased;
                result = &mut outcome => {
                    return result.unwrap_or_else(|_| {
                        Err(StoreError::Unavailable("the audit write was abandoned".into()))
                    });
                }
                turn = Arc::clone(&self.turn).lock_owned() => {
                    let batch = std::mem::take(&mut *self.queue()?);
                    // Empty: an earlier leader took this unit's entries and has answered.
                    let (false, Some(write)) = (batch.is_empty(), write.take()) else {
                        continue;
                    };
                    let mut records = Vec::new();
                    let mut answers = Vec::with_capacity(batch.len());
                    for waiting in batch {
                        records.extend(waiting.records);
                        answers.push(waiting.done);
                    }
                    self.batches.fetch_add(1, Ordering::Relaxed);
                    self.units.fetch_add(answers.len() as u64, Ordering::Relaxed);
                    self.entries.fetch_add(records.len() as u64, Ordering::Relaxed);
                    tokio::spawn(async move {
                        let result = write(records).await;
                        for answer in answers {
                            let _ = answer.send(result.clone());
                        }
                        // The next leader starts only after every unit of this batch has its answer.
                        drop(turn);
                    });
                }
            }
        }
    }
}
