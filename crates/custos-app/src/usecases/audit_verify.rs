//! `custos audit verify`: the whole log checked from its stored entries (every entry's leaf
//! and chain hash, the Merkle root at every checkpoint's size, the stored tree, the
//! append-only triggers) and against heads and checkpoints kept outside the database.
//!
//! Two paths give the same verdict. The fast one (SQLite, [`custos_store::AuditRowReader`])
//! reads the rows as stored, on one connection per core, in stretches of 1,024 entries; each
//! thread checks its stretch on its own (leaf hashes from the stored text, each chain link
//! against the stored chain hash of the entry before it, the stretch's subtree root) while
//! this task joins the stretches in order (each must start from the chain hash the one before
//! ended with). A stretch it cannot vouch for (a row not in canonical form, a gap, a hash that
//! does not match) is read again on the exact path: decoded, encoded again and checked entry
//! by entry, which names the wrong entry. Entries appended after the fast pass began, and
//! every entry on PostgreSQL, are read on the exact path.

use crate::usecases::audit::{AuditHead, AuditVerification};
use crate::usecases::checkpoints::CheckpointTargets;
use crate::{App, AppError};
use custos_audit::merkle::{Frontier, Hash};
use custos_audit::{GENESIS, chain_hash, verify_chain};
use custos_store::{AuditFilter, AuditRowReader, StoreError};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Entries per stretch of the fast path: one whole subtree of the Merkle tree.
const STRETCH_HEIGHT: u32 = 10;
const STRETCH: u64 = 1 << STRETCH_HEIGHT;
/// Entries per read of the exact path.
const BATCH: u64 = 1000;

/// How far verification got: the entries checked so far, in order.
struct Walk {
    seq: u64,
    chain: Hash,
    tree: Frontier,
    /// False once a problem stopped the reading.
    read_all: bool,
    problems: Vec<String>,
}

impl Walk {
    fn check_heads(&mut self, known: &[AuditHead], seq: u64, chain: &Hash) {
        for head in known
            .iter()
            .filter(|h| h.seq == seq && h.chain_hash != *chain)
        {
            self.problems.push(format!(
                "entry {} differs from the recorded head {}",
                head.seq,
                head.to_line()
            ));
        }
    }
}

/// What one thread of the fast path found in one stretch (`first..=last`) of the log.
struct Stretch {
    first: u64,
    last: u64,
    /// Every entry was there, in order, in canonical form, and matched its stored hashes.
    ok: bool,
    leaves: Vec<Hash>,
    /// The stored chain hash of the entry before `first` (GENESIS before the first).
    before: Hash,
    /// The stored chain hash of entry `last`.
    after: Hash,
    /// The root of its leaves when the stretch is a whole subtree.
    subtree: Option<Hash>,
    /// The stored chain hashes of the entries recorded outside the database.
    watched: Vec<(u64, Hash)>,
}

/// Reads and checks one stretch on its own (a blocking call).
fn read_stretch(
    reader: &mut dyn AuditRowReader,
    (first, last): (u64, u64),
    watch: &[u64],
    scratch: &mut Vec<u8>,
) -> Result<Stretch, StoreError> {
    let mut s = Stretch {
        first,
        last,
        ok: true,
        leaves: Vec::with_capacity(usize::try_from(last + 1 - first).unwrap_or(0)),
        before: GENESIS,
        after: GENESIS,
        subtree: None,
        watched: Vec::new(),
    };
    // The entry before the stretch is read too, for the chain hash the stretch starts from.
    let from = if first > 1 { first - 1 } else { first };
    let mut expected = from;
    let mut prev = GENESIS;
    reader.visit(from, last, &mut |row| {
        let Some(row) = row.filter(|r| s.ok && u64::try_from(r.seq) == Ok(expected)) else {
            s.ok = false;
            return;
        };
        let seq = expected;
        expected += 1;
        let Ok(stored_chain) = Hash::try_from(row.chain_hash) else {
            s.ok = false;
            return;
        };
        if seq < first {
            s.before = stored_chain;
            prev = stored_chain;
            return;
        }
        match row.leaf_hash(scratch) {
            Some(leaf)
                if leaf[..] == *row.leaf_hash && chain_hash(&prev, &leaf) == stored_chain =>
            {
                s.leaves.push(leaf);
                prev = stored_chain;
                if watch.binary_search(&seq).is_ok() {
                    s.watched.push((seq, stored_chain));
                }
            }
            _ => s.ok = false,
        }
    })?;
    s.after = prev;
    s.ok &= s.leaves.len() as u64 == last + 1 - first;
    if s.ok && (first - 1) % STRETCH == 0 && s.leaves.len() as u64 == STRETCH {
        let mut tree = Frontier::default();
        for leaf in &s.leaves {
            tree.push(*leaf);
        }
        s.subtree = Some(tree.root());
    }
    Ok(s)
}

impl App {
    /// Verifies the whole hash chain of the log; returns the number of entries checked.
    pub async fn verify_audit_log(&self) -> Result<u64, AppError> {
        Ok(self.verify_audit_log_against(&[]).await?.entries)
    }

    /// Verifies the log: the hash chain of every entry, the append-only triggers, that a
    /// database holding people has a log at all, and that every `known` head (a sequence number
    /// and chain hash recorded earlier, outside the database) is still in it unchanged, so a
    /// cut tail or an emptied log is reported. Every problem found is named.
    pub async fn verify_audit_log_against(
        &self,
        known: &[AuditHead],
    ) -> Result<AuditVerification, AppError> {
        self.verify_audit_log_with(known, &[]).await
    }

    /// [`App::verify_audit_log_against`], and the tree recomputed from the entries has the
    /// root of every stored checkpoint and of every `kept` one (a label for the report and a
    /// signed note each, e.g. read from a file): a log rewritten from scratch after a
    /// checkpoint was kept outside the database does not (a fork), and a log cut below a kept
    /// checkpoint's size is reported as cut. Checkpoints must verify with the log's key.
    pub async fn verify_audit_log_with(
        &self,
        known: &[AuditHead],
        kept: &[(String, String)],
    ) -> Result<AuditVerification, AppError> {
        self.verify_audit_log_signed(known, kept, 0).await
    }

    /// [`App::verify_audit_log_with`], and the database still holds a checkpoint of at least
    /// `signed` entries (the size the data directory saw signed, `audit.signed`): a log whose
    /// checkpoints were all removed, then rewritten, is not intact.
    pub async fn verify_audit_log_signed(
        &self,
        known: &[AuditHead],
        kept: &[(String, String)],
        signed: u64,
    ) -> Result<AuditVerification, AppError> {
        let mut checkpoints = self.checkpoint_targets(kept).await?;
        let mut walk = Walk {
            seq: 0,
            chain: GENESIS,
            tree: Frontier::default(),
            read_all: true,
            problems: Vec::new(),
        };
        let missing = self.store.missing_audit_guards().await?;
        if !missing.is_empty() {
            walk.problems.push(format!(
                "append-only trigger(s) missing: {}",
                missing.join(", ")
            ));
        }
        if let Some(reader) = self.store.audit_row_reader()? {
            self.fast_pass(reader, known, &mut walk, &mut checkpoints)
                .await?;
        }
        if walk.read_all {
            self.exact_pass(&mut walk, u64::MAX, known, &mut checkpoints)
                .await?;
        }
        let Walk {
            seq,
            chain,
            tree,
            read_all,
            mut problems,
        } = walk;
        if problems.is_empty() && seq > 0 {
            problems.extend(self.stored_tree_problem(&tree).await?);
        }
        let compared = checkpoints.compared;
        let stored_largest = checkpoints.stored_largest;
        problems.extend(if read_all {
            checkpoints.finish(seq)
        } else {
            checkpoints.problems
        });
        // Where the reading stopped at a bad row, the log does not end there: "cut" and
        // "emptied" are said only of a log read to its end.
        for head in known.iter().filter(|h| read_all && h.seq > seq) {
            problems.push(format!(
                "the log ends at entry {seq}, but entry {} was recorded ({}): entries were cut",
                head.seq,
                head.to_line()
            ));
        }
        if stored_largest < signed {
            problems.push(format!(
                "a checkpoint of {signed} entries was signed (recorded beside the head), but the \
                 database's largest is of {stored_largest} entries: checkpoints were removed \
                 (only witnesses or checkpoints kept elsewhere tell a rewrite from the real log)"
            ));
        }
        if read_all && seq == 0 {
            let mut tx = self.store.begin_read().await?;
            let people = tx.list_people(None, 1).await?;
            tx.commit().await?;
            if !people.is_empty() {
                problems.push(
                    "the log is empty but the database holds people: it was emptied".to_owned(),
                );
            }
        }
        if !problems.is_empty() {
            return Err(AppError::AuditTampered(problems.join("; ")));
        }
        Ok(AuditVerification {
            entries: seq,
            checkpoints: compared,
            head: (seq > 0).then_some(AuditHead {
                seq,
                chain_hash: chain,
            }),
        })
    }

    /// The fast path over the entries that were in the log when it began: stretches read and
    /// checked by one thread per core, joined here in order; a stretch that does not pass is
    /// checked again on the exact path, which names the problem and stops the reading.
    async fn fast_pass(
        &self,
        reader: Box<dyn AuditRowReader>,
        known: &[AuditHead],
        walk: &mut Walk,
        checkpoints: &mut CheckpointTargets,
    ) -> Result<(), AppError> {
        fn joined(e: impl std::fmt::Display) -> AppError {
            AppError::Internal(format!("reading the log: {e}"))
        }
        let (reader, last) = tokio::task::spawn_blocking(move || {
            let mut reader = reader;
            let last = reader.last_seq();
            (reader, last)
        })
        .await
        .map_err(joined)?;
        let last = last?;
        if last == 0 {
            return Ok(());
        }
        let stretches = last.div_ceil(STRETCH);
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4));
        let next = Arc::new(AtomicU64::new(0));
        let mut watch: Vec<u64> = known.iter().map(|h| h.seq).collect();
        watch.sort_unstable();
        let watch = Arc::new(watch);
        let (sender, mut received) = tokio::sync::mpsc::channel(threads * 4);
        let mut first_reader = Some(reader);
        for _ in 0..threads {
            let reader = first_reader.take();
            let (store, next, watch, sender) = (
                Arc::clone(&self.store),
                Arc::clone(&next),
                Arc::clone(&watch),
                sender.clone(),
            );
            // Each thread stops when every stretch is taken, or when this task stops
            // listening (a problem was found, or it failed).
            tokio::task::spawn_blocking(move || {
                let mut reader =
                    match reader.map_or_else(|| store.audit_row_reader(), |r| Ok(Some(r))) {
                        Ok(Some(reader)) => reader,
                        Ok(None) => return,
                        Err(e) => {
                            let _ = sender.blocking_send(Err(e));
                            return;
                        }
                    };
                let mut scratch = Vec::with_capacity(1024);
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= stretches {
                        break;
                    }
                    let range = (k * STRETCH + 1, ((k + 1) * STRETCH).min(last));
                    let read = read_stretch(&mut *reader, range, &watch, &mut scratch);
                    let failed = read.is_err();
                    if sender.blocking_send(read.map(|s| (k, s))).is_err() || failed {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let mut arrived = std::collections::BTreeMap::new();
        for k in 0..stretches {
            let stretch = loop {
                if let Some(s) = arrived.remove(&k) {
                    break s;
                }
                match received.recv().await {
                    Some(Ok((i, s))) => {
                        arrived.insert(i, s);
                    }
                    Some(Err(e)) => return Err(e.into()),
                    None => return Err(joined("a reader stopped")),
                }
            };
            if stretch.ok && stretch.first == walk.seq + 1 && stretch.before == walk.chain {
                for (seq, chain) in &stretch.watched {
                    walk.check_heads(known, *seq, chain);
                }
                // A whole subtree is added by its root, unless a checkpoint needs the root
                // at a size inside it.
                let whole = stretch
                    .subtree
                    .filter(|_| !checkpoints.any_within(stretch.first, stretch.last))
                    .is_some_and(|root| walk.tree.push_subtree(STRETCH_HEIGHT, root));
                if !whole {
                    for leaf in &stretch.leaves {
                        walk.tree.push(*leaf);
                        checkpoints.check(&walk.tree);
                    }
                }
                walk.seq = stretch.last;
                walk.chain = stretch.after;
            } else {
                self.exact_pass(walk, stretch.last, known, checkpoints)
                    .await?;
                if !walk.read_all {
                    break;
                }
            }
        }
        Ok(())
    }

    /// The exact path from where `walk` stands up to entry `until` (or the end): every entry
    /// decoded, its canonical bytes written again and checked in order, so that the first
    /// wrong entry is named. Batches are read ahead, two at a time, each by a task of its own
    /// on its own read connection, while the current one is hashed. Sequence numbers have no
    /// gap, so the batch after this one starts where it ends; a batch read from another place
    /// than where the previous one ended (a gap: verify_chain then names it) is read again
    /// from there.
    async fn exact_pass(
        &self,
        walk: &mut Walk,
        until: u64,
        known: &[AuditHead],
        checkpoints: &mut CheckpointTargets,
    ) -> Result<(), AppError> {
        let read_after = |after: u64| {
            let store = Arc::clone(&self.store);
            let limit = BATCH.min(until - after);
            let read = tokio::spawn(async move {
                let mut tx = store.begin_read().await?;
                let batch = tx
                    .audit_entries(&AuditFilter::default(), after, limit as u32)
                    .await?;
                tx.commit().await?;
                Ok::<_, StoreError>(batch)
            });
            (after + limit, read)
        };
        let mut ahead = std::collections::VecDeque::new();
        let mut from = walk.seq;
        loop {
            if walk.seq >= until {
                break;
            }
            if ahead
                .front()
                .is_some_and(|(_, start, _)| *start != walk.seq)
            {
                ahead.clear();
                from = walk.seq;
            }
            while ahead.len() < 2 && from < until {
                let (end, read) = read_after(from);
                ahead.push_back((end, from, read));
                from = end;
            }
            let Some((_, _, read)) = ahead.pop_front() else {
                break;
            };
            let read = read
                .await
                .map_err(|e| AppError::Internal(format!("reading the log: {e}")))?;
            let batch = match read {
                Ok(batch) => batch,
                Err(StoreError::Corrupt(what)) => {
                    walk.problems.push(what);
                    walk.read_all = false;
                    break;
                }
                Err(e) => return Err(e.into()),
            };
            let Some(last) = batch.last() else {
                break;
            };
            let last_seq = last.seq;
            for e in &batch {
                walk.check_heads(known, e.seq, &e.chain_hash);
            }
            match verify_chain(walk.seq, walk.chain, &batch) {
                Ok(next) => walk.chain = next,
                Err(e) => {
                    walk.problems.push(e.to_string());
                    walk.read_all = false;
                    break;
                }
            }
            for e in &batch {
                walk.tree.push(e.leaf_hash);
                checkpoints.check(&walk.tree);
            }
            walk.seq = last_seq;
        }
        Ok(())
    }

    /// Whether the Merkle tree stored with the log has the root of the entries' leaf hashes
    /// (`tree`, recomputed from the verified entries). A log from before the tree has none yet
    /// (it is built at its next entry): nothing to compare.
    async fn stored_tree_problem(
        &self,
        tree: &custos_audit::merkle::Frontier,
    ) -> Result<Option<String>, AppError> {
        use custos_audit::merkle;
        let size = tree.size();
        let mut tx = self.store.begin_read().await?;
        if tx.audit_tree_hashes(&[0]).await.is_err() {
            tx.commit().await?;
            return Ok(None);
        }
        let stored = match tx.audit_tree_hashes(&merkle::root_needs(size)).await {
            Ok(hashes) => merkle::root(size, &hashes).ok(),
            Err(custos_store::StoreError::Corrupt(_)) => None,
            Err(e) => return Err(e.into()),
        };
        tx.commit().await?;
        Ok((stored != Some(tree.root())).then(|| {
            format!(
                "the Merkle tree stored with the log does not match its {size} entries \
                 (root {} from the entries)",
                hex::encode(tree.root())
            )
        }))
    }
}
