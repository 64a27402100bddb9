//! The transparency log's face (issue 15): signed checkpoints of the audit log's Merkle tree,
//! produced by a job and on demand, and inclusion and consistency proofs against them, for
//! people (audited, gated like the trail) and for the operator at the console (`custos audit
//! checkpoint`, `custos audit prove`: whoever holds the data directory, like `audit verify`).

use crate::jobs::{Job, JobReport, JobSpec};
use crate::log_key::LogKey;
use crate::{App, AppError, Caller, Tx};
use async_trait::async_trait;
use custos_audit::merkle;
use custos_audit::proof::{ConsistencyProof, InclusionProof, to_hex};
use custos_policy::{Action, Resource};
use custos_store::{AuditFilter, CheckpointRow};
use serde::Serialize;
use std::sync::Arc;

/// A signed checkpoint as served.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckpointView {
    /// The number of entries it commits to.
    pub size: u64,
    /// Their Merkle root, hex.
    pub root: String,
    /// The signed note (C2SP tlog-checkpoint, signed-note), followed by the witnesses'
    /// cosignature lines.
    pub note: String,
    /// When it was signed.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub signed_at: time::OffsetDateTime,
    /// The witnesses that cosigned it, by key name.
    pub witnesses: Vec<String>,
}

/// When a checkpoint is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    /// If the log grew by the configured number of entries, or grew and the configured time
    /// passed, since the last checkpoint (the job).
    WhenDue,
    /// If the log grew at all since the last checkpoint (on demand).
    Now,
}

/// Signs checkpoints when due (every 10 s it looks; the settings say when one is due).
#[derive(Debug)]
pub(crate) struct CheckpointJob;

#[async_trait]
impl Job for CheckpointJob {
    fn spec(&self) -> JobSpec {
        JobSpec {
            name: "audit.checkpoint",
            every: time::Duration::seconds(10),
            lease: time::Duration::minutes(2),
        }
    }

    /// A signed checkpoint is not audited as a change: its audit entry would grow the log it
    /// commits to, and so make the next checkpoint due, for ever. The checkpoint is its own
    /// record (signed, append-only).
    async fn run(&self, app: &App) -> Result<JobReport, AppError> {
        if app.log_key.is_none() {
            return Ok(JobReport::default());
        }
        let signed = app.sign_checkpoint(Signing::WhenDue).await?;
        Ok(JobReport {
            changed: 0,
            detail: serde_json::json!({ "signed": signed.map(|c| c.size) }),
        })
    }
}

impl App {
    /// The application with the audit log's signing key (without one it serves no
    /// checkpoints or proofs: tests and tools that do not need them).
    #[must_use]
    pub fn with_log_key(mut self, key: LogKey) -> Self {
        self.log_key = Some(Arc::new(key));
        self
    }

    /// The log's published verifier key, if this node has the log's key.
    pub fn log_verifier_key(&self) -> Option<&str> {
        self.log_key.as_deref().map(LogKey::verifier_key)
    }

    fn key(&self) -> Result<&LogKey, AppError> {
        self.log_key.as_deref().ok_or_else(|| {
            AppError::Conflict("this node has no audit log key: it signs no checkpoints".into())
        })
    }

    /// Signs a checkpoint of the log as it is now and stores it, when `signing` says so;
    /// returns it (`None`: not due, or the log did not grow since the last one).
    pub async fn sign_checkpoint(
        &self,
        signing: Signing,
    ) -> Result<Option<CheckpointView>, AppError> {
        let key = self.key()?;
        let now = self.now();
        let mut tx = self.store.begin_read().await?;
        let size = tx.audit_head().await?.map_or(0, |(seq, _)| seq);
        let latest = tx.latest_checkpoint().await?;
        let (last_size, last_at) = latest
            .as_ref()
            .map_or((0, None), |c| (c.size, Some(c.signed_at)));
        let due = size > last_size
            && match signing {
                Signing::Now => true,
                Signing::WhenDue => {
                    size - last_size >= self.settings.checkpoint_entries
                        || last_at.is_none_or(|at| now - at >= self.settings.checkpoint_every)
                }
            };
        if !due {
            tx.commit().await?;
            return Ok(None);
        }
        tx.commit().await?;
        // Never sign on top of a tree that no longer has the previous signed root, nor when
        // checkpoints this node knows were signed are gone: the log was rewritten, and
        // signing would vouch for the forgery.
        if !self.still_holds_witnessed_head().await? {
            return Err(AppError::AuditTampered(
                "the log no longer holds the head this node recorded (entries after the last \
                 checkpoint were cut or rewritten): nothing is signed; run `custos audit \
                 verify`"
                    .to_owned(),
            ));
        }
        let floor = self.signed_floor.load(std::sync::atomic::Ordering::SeqCst);
        if last_size < floor {
            return Err(AppError::AuditTampered(format!(
                "a checkpoint of {floor} entries was signed, but the database's latest is of \
                 {last_size} entries: checkpoints were removed; nothing is signed until `custos \
                 audit verify` passes"
            )));
        }
        if let Some(previous) = &latest {
            self.check_note_against_tree(&previous.note, "the latest stored checkpoint")
                .await?;
        }
        let mut tx = self.store.begin_read().await?;
        let root = merkle::root(
            size,
            &tx.audit_tree_hashes(&merkle::root_needs(size)).await?,
        )
        .map_err(|e| AppError::Internal(e.to_string()))?;
        tx.commit().await?;
        let note = key.sign(size, &root)?;
        let mut tx = self.store.begin().await?;
        tx.save_checkpoint(size, &note, now).await?;
        tx.commit().await?;
        self.signed_floor
            .fetch_max(size, std::sync::atomic::Ordering::SeqCst);
        Ok(Some(CheckpointView {
            size,
            root: hex::encode(root),
            note,
            signed_at: now,
            witnesses: vec![],
        }))
    }

    /// The latest signed checkpoint with its cosignatures, for anyone signed in (audited as
    /// a look at their own trail: it says nothing about anyone).
    pub async fn latest_checkpoint(
        &self,
        caller: &Caller,
    ) -> Result<Option<CheckpointView>, AppError> {
        let (mut tx, _permit) = self.gate_own_trail(caller).await?;
        let view = latest_view(&mut tx).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// The confidentiality officer asks for a checkpoint now (audited); returns the latest,
    /// new or not.
    pub async fn request_checkpoint(&self, caller: &Caller) -> Result<CheckpointView, AppError> {
        self.key()?;
        let tx = self.store.begin_read().await?;
        let (tx, _permit) = self
            .gate(tx, caller, Action::QueryAudit, &Resource::Firm)
            .await?;
        tx.commit().await?;
        self.sign_checkpoint(Signing::Now).await?;
        self.checkpoint_console()
            .await?
            .ok_or_else(|| AppError::Conflict("the audit log is empty".into()))
    }

    /// The latest checkpoint, for the operator at the console (not audited).
    pub async fn checkpoint_console(&self) -> Result<Option<CheckpointView>, AppError> {
        let mut tx = self.store.begin_read().await?;
        let view = latest_view(&mut tx).await?;
        tx.commit().await?;
        Ok(view)
    }

    async fn gate_own_trail(
        &self,
        caller: &Caller,
    ) -> Result<(Tx, custos_policy::Permit), AppError> {
        let tx = self.store.begin_read().await?;
        self.gate(
            tx,
            caller,
            Action::ViewOwnAudit,
            &Resource::AuditTrailOf(caller.person),
        )
        .await
    }

    /// The proof that entry `seq` is in the latest signed checkpoint. Anyone may have the
    /// proof of an entry of their own trail whose every fact they were told (a denial that
    /// answered "no such record", or a listing, is proved to the officer only); the officer
    /// (query of the whole log) any entry's.
    pub async fn inclusion_proof(
        &self,
        caller: &Caller,
        seq: u64,
    ) -> Result<InclusionProof, AppError> {
        let mut tx = self.store.begin_read().await?;
        let entry = entry_at(&mut tx, seq).await?;
        // Their own entry, every fact of which they were told (not a denial that answered "no
        // such record", hidden or missing alike, nor a listing's count of withheld records): a
        // look at their own trail. Anyone else's, or one of those: a query of the whole log.
        let own = entry.as_ref().is_none_or(|e| {
            e.record.actor == Some(caller.person) && super::audit::provable_by_actor(&e.record)
        });
        let (mut tx, _permit) = if own {
            self.gate(
                tx,
                caller,
                Action::ViewOwnAudit,
                &Resource::AuditTrailOf(caller.person),
            )
            .await?
        } else {
            self.gate(tx, caller, Action::QueryAudit, &Resource::Firm)
                .await?
        };
        let Some(entry) = entry else {
            tx.commit().await?;
            return Err(AppError::NotFound);
        };
        let proof = inclusion_in(&mut tx, entry).await;
        tx.commit().await?;
        proof
    }

    /// [`App::inclusion_proof`] for the operator at the console (not audited).
    pub async fn inclusion_proof_console(&self, seq: u64) -> Result<InclusionProof, AppError> {
        let mut tx = self.store.begin_read().await?;
        let entry = entry_at(&mut tx, seq).await?.ok_or(AppError::NotFound)?;
        let proof = inclusion_in(&mut tx, entry).await;
        tx.commit().await?;
        proof
    }

    /// The proof that the tree of `from` entries is a prefix of the latest signed checkpoint's
    /// (anyone signed in: it names no entry).
    pub async fn consistency_proof(
        &self,
        caller: &Caller,
        from: u64,
    ) -> Result<ConsistencyProof, AppError> {
        let (mut tx, _permit) = self.gate_own_trail(caller).await?;
        let proof = consistency_in(&mut tx, from).await;
        tx.commit().await?;
        proof
    }

    /// [`App::consistency_proof`] for the operator at the console (not audited).
    pub async fn consistency_proof_console(&self, from: u64) -> Result<ConsistencyProof, AppError> {
        let mut tx = self.store.begin_read().await?;
        let proof = consistency_in(&mut tx, from).await;
        tx.commit().await?;
        proof
    }
}

async fn entry_at(tx: &mut Tx, seq: u64) -> Result<Option<custos_audit::AuditEntry>, AppError> {
    if seq == 0 {
        return Ok(None);
    }
    Ok(tx
        .audit_entries(&AuditFilter::default(), seq - 1, 1)
        .await?
        .into_iter()
        .next()
        .filter(|e| e.seq == seq))
}

/// The note of `row` followed by its cosignature lines, and the witnesses' names.
pub(crate) async fn with_cosignatures(
    tx: &mut Tx,
    row: &CheckpointRow,
) -> Result<(String, Vec<String>), AppError> {
    let mut note = row.note.clone();
    let mut witnesses = Vec::new();
    for c in tx.cosignatures(row.size).await? {
        note.push_str(&c.line);
        note.push('\n');
        witnesses.push(c.witness);
    }
    Ok((note, witnesses))
}

async fn latest_view(tx: &mut Tx) -> Result<Option<CheckpointView>, AppError> {
    let Some(row) = tx.latest_checkpoint().await? else {
        return Ok(None);
    };
    let body = custos_audit::checkpoint::Checkpoint::parse(
        custos_audit::checkpoint::note_body(row.note.as_bytes()).unwrap_or_default(),
    );
    let root = body
        .ok()
        .filter(|b| b.size == row.size)
        .map(|b| hex::encode(b.root))
        .ok_or_else(|| {
            AppError::AuditTampered(format!(
                "the stored checkpoint of {} entries is malformed",
                row.size
            ))
        })?;
    let (note, witnesses) = with_cosignatures(tx, &row).await?;
    Ok(Some(CheckpointView {
        size: row.size,
        root,
        note,
        signed_at: row.signed_at,
        witnesses,
    }))
}

/// The latest checkpoint, which must cover `size` entries.
async fn covering(tx: &mut Tx, size: u64) -> Result<(CheckpointRow, String), AppError> {
    match tx.latest_checkpoint().await? {
        Some(row) if row.size >= size => {
            let (note, _) = with_cosignatures(tx, &row).await?;
            Ok((row, note))
        }
        latest => Err(AppError::Conflict(format!(
            "not yet in a signed checkpoint (the latest covers {} entries; the next is signed \
             within a minute)",
            latest.map_or(0, |c| c.size)
        ))),
    }
}

fn internal(e: merkle::ProofError) -> AppError {
    AppError::Internal(e.to_string())
}

async fn inclusion_in(
    tx: &mut Tx,
    entry: custos_audit::AuditEntry,
) -> Result<InclusionProof, AppError> {
    let (row, note) = covering(tx, entry.seq).await?;
    let proved = prove_entry(tx, &entry, row.size).await?;
    Ok(InclusionProof {
        seq: proved.seq,
        canonical: proved.canonical,
        proof: proved.proof,
        checkpoint: note,
    })
}

/// `entry`'s canonical bytes (checked against its recorded leaf hash) and its audit path in
/// the tree of `size` entries: what a proof file and an export hold for each entry.
pub(crate) async fn prove_entry(
    tx: &mut Tx,
    entry: &custos_audit::AuditEntry,
    size: u64,
) -> Result<custos_audit::proof::ExportedEntry, AppError> {
    let canonical = entry.record.canonical_bytes(entry.seq);
    if custos_audit::leaf_hash(&canonical) != entry.leaf_hash {
        return Err(AppError::AuditTampered(format!(
            "entry {} does not have its recorded hash: run `custos audit verify`",
            entry.seq
        )));
    }
    let index = entry.seq - 1;
    let needed = merkle::inclusion_needs(size, index).map_err(internal)?;
    let proof = merkle::inclusion_proof(size, index, &tx.audit_tree_hashes(&needed).await?)
        .map_err(internal)?;
    Ok(custos_audit::proof::ExportedEntry {
        seq: entry.seq,
        canonical: String::from_utf8(canonical).map_err(|e| AppError::Internal(e.to_string()))?,
        proof: to_hex(&proof),
    })
}

async fn consistency_in(tx: &mut Tx, from: u64) -> Result<ConsistencyProof, AppError> {
    if from == 0 {
        return Err(AppError::BadInput(
            "a consistency proof starts from a tree of at least one entry".into(),
        ));
    }
    let (row, note) = covering(tx, from).await?;
    let needed = merkle::consistency_needs(from, row.size).map_err(internal)?;
    let proof = merkle::consistency_proof(from, row.size, &tx.audit_tree_hashes(&needed).await?)
        .map_err(internal)?;
    let from_checkpoint = tx
        .checkpoints_after(from - 1, 1)
        .await?
        .into_iter()
        .find(|c| c.size == from)
        .map(|c| c.note);
    Ok(ConsistencyProof {
        from,
        proof: to_hex(&proof),
        checkpoint: note,
        from_checkpoint,
    })
}

/// Checkpoints to compare with the tree `custos audit verify` recomputes from the entries:
/// every stored one (signed by this log's key) and those kept outside the database.
/// A signed checkpoint's size and root, verified with this log's key or, after a restore
/// without the key file, one it had before (then named); the error is the current key's.
fn verify_with_log_keys(
    key: &LogKey,
    note: &[u8],
) -> Result<(u64, merkle::Hash, Option<String>), String> {
    let open = |verifier: &str| {
        custos_audit::checkpoint::verify(note, verifier)
            .and_then(|body| body.root().map(|root| (body.size, root)))
    };
    let mut verifiers = key.verifiers();
    let current = verifiers.next().unwrap_or_default();
    match open(current) {
        Ok((size, root)) => Ok((size, root, None)),
        Err(e) => verifiers
            .find_map(|former| {
                open(former)
                    .ok()
                    .map(|(size, root)| (size, root, Some(former.to_owned())))
            })
            .ok_or_else(|| e.to_string()),
    }
}

#[derive(Debug, Default)]
pub(crate) struct CheckpointTargets {
    /// By size: what to call each checkpoint in a report, and its root.
    targets: std::collections::BTreeMap<u64, Vec<(String, merkle::Hash)>>,
    /// Checkpoints refused before any comparison (bad signature, malformed), then those
    /// that did not match.
    pub(crate) problems: Vec<String>,
    /// Checkpoints the entries matched.
    pub(crate) compared: u64,
    /// The size of the largest checkpoint the database holds (0: none).
    pub(crate) stored_largest: u64,
}

impl CheckpointTargets {
    /// Adds a signed checkpoint, or the reason it is refused.
    /// `stored_as`: the size a stored checkpoint is filed under, which must be its own.
    /// Signed with a former key of the log (a restore without the key file), it is named so.
    fn add(&mut self, key: &LogKey, label: String, note: &[u8], stored_as: Option<u64>) {
        match verify_with_log_keys(key, note) {
            Ok((size, _, _)) if stored_as.is_some_and(|filed| filed != size) => self
                .problems
                .push(format!("{label} is stored under the wrong size {size}")),
            Ok((size, root, former)) => {
                let label = match former {
                    Some(former) => format!("{label} (signed with the former key {former})"),
                    None => label,
                };
                self.targets.entry(size).or_default().push((label, root));
            }
            Err(e) => self.problems.push(format!("{label}: {e}")),
        }
    }

    /// Compares the recomputed tree, when it has the size of a checkpoint, with its root.
    pub(crate) fn check(&mut self, tree: &merkle::Frontier) {
        let size = tree.size();
        if let Some(expected) = self.targets.remove(&size) {
            let root = tree.root();
            for (label, want) in expected {
                if want == root {
                    self.compared += 1;
                } else {
                    self.problems.push(format!(
                        "{label} does not match the log's first {size} entries (their root is \
                         {}): the log was rewritten after it was signed (a fork)",
                        hex::encode(root)
                    ));
                }
            }
        }
    }

    /// Whether a checkpoint commits to a size in `first..=last` (its root is then needed
    /// inside that stretch of entries).
    pub(crate) fn any_within(&self, first: u64, last: u64) -> bool {
        self.targets.range(first..=last).next().is_some()
    }

    /// The checkpoints larger than the log (`size` entries): entries were cut.
    pub(crate) fn finish(mut self, size: u64) -> Vec<String> {
        for (at, expected) in std::mem::take(&mut self.targets) {
            for (label, _) in expected {
                self.problems.push(format!(
                    "{label} commits to {at} entries, but the log ends at entry {size}: \
                     entries were cut"
                ));
            }
        }
        self.problems
    }
}

impl App {
    /// The checkpoints `custos audit verify` compares with the entries: every stored one, and
    /// `kept` (a label and a signed note each), all of which must verify with this log's key
    /// or one it had before (`<key file>.former`).
    pub(crate) async fn checkpoint_targets(
        &self,
        kept: &[(String, String)],
    ) -> Result<CheckpointTargets, AppError> {
        let mut out = CheckpointTargets::default();
        let Some(key) = self.log_key.as_deref() else {
            if !kept.is_empty() {
                out.problems
                    .push("this node has no audit log key to check the checkpoints with".into());
            }
            return Ok(out);
        };
        for (label, note) in kept {
            out.add(key, label.clone(), note.as_bytes(), None);
        }
        let mut after = 0;
        loop {
            let mut tx = self.store.begin_read().await?;
            let rows = tx.checkpoints_after(after, 1000).await?;
            tx.commit().await?;
            let Some(last) = rows.last() else { break };
            after = last.size;
            out.stored_largest = out.stored_largest.max(last.size);
            for row in &rows {
                let label = format!(
                    "the stored checkpoint of {} entries (signed {})",
                    row.size, row.signed_at
                );
                out.add(key, label, row.note.as_bytes(), Some(row.size));
            }
        }
        Ok(out)
    }
}

impl App {
    /// Refuses to serve a log whose stored tree no longer has the root of `note`, the signed
    /// checkpoint recorded outside the database (`audit.checkpoint`): entries cut below it or
    /// rewritten after it. A cheap check for every start (it reads `log2 n` stored hashes; the
    /// entries themselves are compared with the tree by `custos audit verify`).
    pub async fn check_recorded_checkpoint(&self, note: &str) -> Result<(), AppError> {
        let label = format!(
            "the checkpoint recorded in {}",
            crate::AUDIT_CHECKPOINT_FILE
        );
        self.check_note_against_tree(note, &label).await
    }

    /// Whether the stored tree still has the root the signed `note` commits to (`label` names
    /// the note in the refusal).
    async fn check_note_against_tree(&self, note: &str, label: &str) -> Result<(), AppError> {
        let key = self.key()?;
        let tampered = |why: String| {
            AppError::AuditTampered(format!("{label} {why}; run `custos audit verify`"))
        };
        let (signed, want, _) = verify_with_log_keys(key, note.as_bytes())
            .map_err(|e| tampered(format!("is refused ({e})")))?;
        let mut tx = self.store.begin_read().await?;
        let size = tx.audit_head().await?.map_or(0, |(seq, _)| seq);
        if size < signed {
            tx.commit().await?;
            return Err(tampered(format!(
                "commits to {} entries, but the log ends at entry {size}: entries were cut",
                signed
            )));
        }
        let root = match tx.audit_tree_hashes(&merkle::root_needs(signed)).await {
            Ok(hashes) => merkle::root(signed, &hashes).ok(),
            Err(custos_store::StoreError::Corrupt(_)) => None,
            Err(e) => return Err(e.into()),
        };
        tx.commit().await?;
        if root != Some(want) {
            return Err(tampered(format!(
                "does not match the log's tree of {} entries: the log was rewritten",
                signed
            )));
        }
        Ok(())
    }
}

impl App {
    /// Refuses to serve a log whose signed part can no longer be vouched for: checkpoints
    /// gone below `signed` (the size this node's data directory saw signed, `audit.signed`),
    /// the latest stored checkpoint's root no longer the stored tree's, or an entry after it
    /// that no longer matches its hashes. A log with entries that was never signed is signed
    /// now. The entries below the checkpoint are compared with the tree by `audit verify`.
    pub async fn check_signed_tail(&self, signed: u64) -> Result<(), AppError> {
        if self.log_key.is_none() {
            return Ok(());
        }
        self.signed_floor
            .fetch_max(signed, std::sync::atomic::Ordering::SeqCst);
        let mut tx = self.store.begin_read().await?;
        let head = tx.audit_head().await?;
        let latest = tx.latest_checkpoint().await?;
        tx.commit().await?;
        let Some((size, _)) = head else {
            return Ok(());
        };
        let vanished = |latest: u64| {
            AppError::AuditTampered(format!(
                "a checkpoint of {signed} entries was signed (recorded in {}), but the \
                 database's latest is of {latest} entries (log of {size}): checkpoints were \
                 removed; run `custos audit verify` and compare with the witnesses",
                crate::config::AUDIT_SIGNED_FILE
            ))
        };
        let Some(latest) = latest else {
            if signed > 0 {
                return Err(vanished(0));
            }
            self.sign_checkpoint(Signing::Now).await?;
            return Ok(());
        };
        if latest.size < signed {
            return Err(vanished(latest.size));
        }
        self.signed_floor
            .fetch_max(latest.size, std::sync::atomic::Ordering::SeqCst);
        self.check_note_against_tree(&latest.note, "the latest stored checkpoint")
            .await?;
        let mut tx = self.store.begin_read().await?;
        let mut chain = match entry_at(&mut tx, latest.size).await? {
            Some(e) => e.chain_hash,
            None => {
                tx.commit().await?;
                return Err(AppError::AuditTampered(format!(
                    "entry {} of the latest checkpoint is missing; run `custos audit verify`",
                    latest.size
                )));
            }
        };
        let mut after = latest.size;
        loop {
            let batch = tx
                .audit_entries(&custos_store::AuditFilter::default(), after, 1000)
                .await?;
            let Some(last) = batch.last().map(|e| e.seq) else {
                break;
            };
            chain = custos_audit::verify_chain(after, chain, &batch).map_err(|e| {
                AppError::AuditTampered(format!(
                    "an entry after the latest checkpoint ({} entries) no longer matches its \
                     hashes ({e}); run `custos audit verify`",
                    latest.size
                ))
            })?;
            after = last;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// What to send a witness: the latest checkpoint with the proof from the size it last
/// cosigned (C2SP `tlog-witness` `add-checkpoint`).
#[derive(Debug, Clone)]
pub struct WitnessRequest {
    /// The checkpoint's size.
    pub size: u64,
    /// The checkpoint's signed note, as the log signed it.
    pub note: String,
    /// The request body.
    pub body: String,
}

impl App {
    /// The request that asks witness `name` to cosign the latest checkpoint, from the size it
    /// last cosigned (`old`: the size the witness said it holds, after a conflict); `None`
    /// when it cosigned the latest already or nothing is signed yet.
    pub async fn witness_request(
        &self,
        name: &str,
        old: Option<u64>,
    ) -> Result<Option<WitnessRequest>, AppError> {
        let mut tx = self.store.begin_read().await?;
        let Some(latest) = tx.latest_checkpoint().await? else {
            tx.commit().await?;
            return Ok(None);
        };
        let cosigned = tx.latest_cosigned(name).await?;
        let old = old.unwrap_or(cosigned);
        if cosigned >= latest.size && old == cosigned {
            tx.commit().await?;
            return Ok(None);
        }
        if old > latest.size {
            tx.commit().await?;
            return Err(AppError::AuditTampered(format!(
                "the witness {name} holds a checkpoint of {old} entries, larger than the log's \
                 latest ({}): entries were cut, or the witness follows another log",
                latest.size
            )));
        }
        let proof = if old == 0 || old == latest.size {
            vec![]
        } else {
            let needed = merkle::consistency_needs(old, latest.size).map_err(internal)?;
            merkle::consistency_proof(old, latest.size, &tx.audit_tree_hashes(&needed).await?)
                .map_err(internal)?
        };
        tx.commit().await?;
        Ok(Some(WitnessRequest {
            size: latest.size,
            body: custos_audit::witness::add_checkpoint_request(old, &proof, &latest.note),
            note: latest.note,
        }))
    }

    /// Stores witness `witness_key`'s cosignature `line` of the checkpoint `note` of `size`
    /// entries, after checking it with the witness's verifier key.
    pub async fn add_cosignature(
        &self,
        witness_key: &str,
        size: u64,
        note: &str,
        line: &str,
    ) -> Result<(), AppError> {
        let body = custos_audit::checkpoint::note_body(note.as_bytes()).unwrap_or_default();
        custos_audit::witness::verify_cosignature(witness_key, body, line)
            .map_err(|e| AppError::BadInput(format!("cosignature refused: {e}")))?;
        let name = witness_key.split('+').next().unwrap_or_default();
        let mut tx = self.store.begin().await?;
        tx.add_cosignature(size, name, line.trim_end_matches('\n'), self.now())
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
