//! Reading the audit log: one's own trail, the officer's query, and verifying the chain.

use crate::{App, AppError, Caller, NO_SUCH_RECORD, Page, TrailEntry};
use custos_audit::AuditEntry;
use custos_audit::{AuditReason, Outcome};
use custos_domain::{ClientNumber, MatterNumber};
use custos_policy::{Action, Resource};
use custos_store::AuditFilter;
use std::collections::HashMap;

/// What an audit entry's resource is, as the explorer names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceLabel {
    /// A client, by its number.
    Client(ClientNumber),
    /// A matter, by its number.
    Matter(MatterNumber),
    /// A document, by its matter's number.
    DocumentIn(MatterNumber),
}

/// The label of `resource` (`client:<id>`, `matter:<id>`, `document:<id>`), if it names a
/// record that exists.
async fn resource_label(
    tx: &mut dyn custos_store::StoreTx,
    resource: &str,
) -> Result<Option<ResourceLabel>, AppError> {
    let Some((kind, id)) = resource.split_once(':') else {
        return Ok(None);
    };
    let Ok(id) = id.parse::<uuid::Uuid>() else {
        return Ok(None);
    };
    Ok(match kind {
        "client" => tx
            .client(custos_domain::ClientId(id))
            .await?
            .map(|c| ResourceLabel::Client(ClientNumber(c.number))),
        "matter" => tx
            .matter(custos_domain::MatterId(id))
            .await?
            .map(|m| ResourceLabel::Matter(MatterNumber(m.number))),
        "document" => tx
            .document_with_matter(custos_domain::DocumentId(id))
            .await?
            .map(|(_, m)| ResourceLabel::DocumentIn(MatterNumber(m.number))),
        _ => None,
    })
}

impl App {
    /// The caller's own audit trail (entries where they are the actor), oldest first, saying
    /// no more than the answers they got (see [`TrailEntry`]).
    pub async fn my_audit_trail(
        &self,
        caller: &Caller,
        after: u64,
        limit: u32,
    ) -> Result<Page<TrailEntry>, AppError> {
        let filter = AuditFilter {
            actor: Some(caller.person),
            ..AuditFilter::default()
        };
        let page = self
            .audit_page(
                caller,
                Action::ViewOwnAudit,
                Resource::AuditTrailOf(caller.person),
                &filter,
                after,
                limit,
            )
            .await?;
        Ok(Page {
            items: page.items.into_iter().map(own_view).collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// The documents the caller opened most recently (newest first, each once, at most
    /// `limit`), found in their own trail; documents they may no longer see are left out.
    /// Each one shown is an audited view of its metadata, like any other.
    pub async fn recently_opened(
        &self,
        caller: &Caller,
        limit: usize,
    ) -> Result<Vec<crate::DocumentView>, AppError> {
        let filter = AuditFilter {
            actor: Some(caller.person),
            action: Some(Action::ReadDocumentContent.as_str().to_owned()),
            outcome: Some(custos_audit::Outcome::Allow),
            newest_first: true,
            ..AuditFilter::default()
        };
        let page = self
            .audit_page(
                caller,
                Action::ViewOwnAudit,
                Resource::AuditTrailOf(caller.person),
                &filter,
                0,
                100,
            )
            .await?;
        let mut ids: Vec<custos_domain::DocumentId> = Vec::new();
        for entry in &page.items {
            let id = entry
                .record
                .resource
                .strip_prefix("document:")
                .and_then(|id| id.parse().ok())
                .map(custos_domain::DocumentId);
            if let Some(id) = id
                && !ids.contains(&id)
            {
                ids.push(id);
            }
        }
        let mut docs = Vec::new();
        for id in ids.into_iter().take(limit) {
            match self.get_document(caller, id).await {
                Ok(doc) => docs.push(doc),
                Err(AppError::NotFound | AppError::Forbidden { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(docs)
    }

    /// The confidentiality officer's query over the whole log.
    pub async fn query_audit(
        &self,
        caller: &Caller,
        filter: &AuditFilter,
        after: u64,
        limit: u32,
    ) -> Result<Page<AuditEntry>, AppError> {
        self.audit_page(
            caller,
            Action::QueryAudit,
            Resource::Firm,
            filter,
            after,
            limit,
        )
        .await
    }

    /// The officer's query, with the firm's number of each client and matter the page names
    /// (a document: its matter's), read in the same unit, so that the explorer shows
    /// `C-0007` and `M-0042` instead of ids. Titles are not shown (they are sealed, and the
    /// log is read without opening records).
    pub async fn query_audit_labelled(
        &self,
        caller: &Caller,
        filter: &AuditFilter,
        after: u64,
        limit: u32,
    ) -> Result<(Page<AuditEntry>, HashMap<String, ResourceLabel>), AppError> {
        let mut labels = HashMap::new();
        let page = self
            .audit_page_with(
                caller,
                Action::QueryAudit,
                Resource::Firm,
                filter,
                (after, limit),
                Some(&mut labels),
            )
            .await?;
        Ok((page, labels))
    }

    async fn audit_page(
        &self,
        caller: &Caller,
        action: Action,
        resource: Resource,
        filter: &AuditFilter,
        after: u64,
        limit: u32,
    ) -> Result<Page<AuditEntry>, AppError> {
        self.audit_page_with(caller, action, resource, filter, (after, limit), None)
            .await
    }

    async fn audit_page_with(
        &self,
        caller: &Caller,
        action: Action,
        resource: Resource,
        filter: &AuditFilter,
        (after, limit): (u64, u32),
        labels: Option<&mut HashMap<String, ResourceLabel>>,
    ) -> Result<Page<AuditEntry>, AppError> {
        let limit = limit.clamp(1, 500);
        let tx = self.store.begin_read().await?;
        let (mut tx, _permit) = self.gate(tx, caller, action, &resource).await?;
        let items = tx.audit_entries(filter, after, limit).await?;
        if let Some(labels) = labels {
            for entry in &items {
                let resource = &entry.record.resource;
                if labels.contains_key(resource) {
                    continue;
                }
                if let Some(label) = resource_label(&mut *tx, resource).await? {
                    labels.insert(resource.clone(), label);
                }
            }
        }
        tx.commit().await?;
        let next_cursor = (items.len() == limit as usize)
            .then(|| items.last().map(|e| e.seq.to_string()))
            .flatten();
        Ok(Page { items, next_cursor })
    }

    /// The last entry of the log (to record it outside the database).
    pub async fn audit_head(&self) -> Result<Option<AuditHead>, AppError> {
        let mut tx = self.store.begin_read().await?;
        let head = tx.audit_head().await?;
        tx.commit().await?;
        Ok(head.map(|(seq, chain_hash)| AuditHead { seq, chain_hash }))
    }

    /// The head to record outside the database now, once the log still holds `recorded` (the
    /// head recorded before, unchanged) and its triggers: a log cut or rewritten below the
    /// recorded head is never recorded over, and this node signs nothing more (until a
    /// restart after `custos audit verify`).
    pub async fn witness_head(
        &self,
        recorded: Option<AuditHead>,
    ) -> Result<Option<AuditHead>, AppError> {
        if let Err(e) = self.check_audit_log_at_start(recorded).await {
            self.tampered
                .store(true, std::sync::atomic::Ordering::SeqCst);
            return Err(e);
        }
        let head = self.audit_head().await?;
        if let (Some(head), Ok(mut w)) = (head, self.witnessed.lock()) {
            *w = Some(head);
        }
        Ok(head)
    }

    /// Whether the log still holds the head this node last witnessed (none witnessed: yes);
    /// a log that does not is marked tampered on this node.
    pub(crate) async fn still_holds_witnessed_head(&self) -> Result<bool, AppError> {
        if self.tampered.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(false);
        }
        let witnessed = self.witnessed.lock().ok().and_then(|w| *w);
        let holds = match witnessed {
            None => true,
            Some(h) => self.check_audit_log_at_start(Some(h)).await.is_ok(),
        };
        if !holds {
            self.tampered
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(holds)
    }

    /// Refuses to serve a log that lost its append-only triggers, or that no longer holds the
    /// head recorded outside the database (a cut tail): cheap checks for every start.
    pub async fn check_audit_log_at_start(
        &self,
        recorded: Option<AuditHead>,
    ) -> Result<(), AppError> {
        let missing = self.store.missing_audit_guards().await?;
        if !missing.is_empty() {
            return Err(AppError::AuditTampered(format!(
                "append-only trigger(s) missing: {}; restore them (migrations) and run `custos \
                 audit verify` before serving",
                missing.join(", ")
            )));
        }
        let Some(recorded) = recorded else {
            return Ok(());
        };
        let mut tx = self.store.begin_read().await?;
        let entry = tx
            .audit_entries(&AuditFilter::default(), recorded.seq - 1, 1)
            .await?;
        tx.commit().await?;
        match entry.first() {
            Some(e) if e.seq == recorded.seq && e.chain_hash == recorded.chain_hash => Ok(()),
            _ => Err(AppError::AuditTampered(format!(
                "the audit log no longer holds the recorded head {}: entries were cut or \
                 rewritten; run `custos audit verify`",
                recorded.to_line()
            ))),
        }
    }
}

/// A position in the log: an entry's sequence number and chain hash. Written as
/// `<seq>:<64 hex digits>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditHead {
    /// Sequence number (from 1).
    pub seq: u64,
    /// Chain hash up to and including that entry.
    pub chain_hash: [u8; 32],
}

impl AuditHead {
    /// Parses `<seq>:<hex>`.
    pub fn parse(text: &str) -> Result<AuditHead, AppError> {
        let bad = || {
            AppError::BadInput(format!(
                "audit head `{}`: expected <sequence number>:<64 hex digits>",
                text.trim()
            ))
        };
        let (seq, hash) = text.trim().split_once(':').ok_or_else(bad)?;
        let seq: u64 = seq.parse().map_err(|_| bad())?;
        let hash: [u8; 32] = hex::decode(hash)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(bad)?;
        if seq == 0 {
            return Err(bad());
        }
        Ok(AuditHead {
            seq,
            chain_hash: hash,
        })
    }

    /// `<seq>:<hex>`.
    pub fn to_line(&self) -> String {
        format!("{}:{}", self.seq, hex::encode(self.chain_hash))
    }
}

/// What a verification found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditVerification {
    /// Entries checked.
    pub entries: u64,
    /// The last entry (`None`: empty log).
    pub head: Option<AuditHead>,
    /// Signed checkpoints the entries were found to match.
    pub checkpoints: u64,
}

/// Whether a denial of this record answered "no such record" (then the actor is told nothing
/// more of it, whether the record exists or not).
fn conceals(record: &custos_audit::AuditRecord) -> bool {
    let visible = record.detail.get("hidden") == Some(&serde_json::Value::Bool(false));
    record.outcome == Outcome::Deny && !record.action.starts_with("auth.") && !visible
}

/// Whether the actor of an entry may have its inclusion proof (which shows the entry whole):
/// not for a denial that answered "no such record" (whether it existed or not, so the answer
/// tells nothing), nor for a listing (the count of records withheld from it).
pub(crate) fn provable_by_actor(record: &custos_audit::AuditRecord) -> bool {
    !conceals(record) && record.detail.get("withheld").is_none()
}

/// What the actor of an entry may see of it. A denial is shown as "no such record" unless it
/// was answered visibly (`hidden: false`: a 403 that named its rule); entries written before
/// denials recorded this are shown the cautious way. Authentication events are the person's
/// own and shown whole. Listings drop the count of withheld records.
fn own_view(entry: AuditEntry) -> TrailEntry {
    let provable = provable_by_actor(&entry.record);
    let mut record = entry.record;
    if conceals(&record) {
        record.reasons = vec![AuditReason {
            rule: NO_SUCH_RECORD.0.to_owned(),
            message: NO_SUCH_RECORD.1.to_owned(),
        }];
        record.detail = serde_json::json!({ "hidden": true });
    }
    if let Some(detail) = record.detail.as_object_mut() {
        detail.remove("withheld");
    }
    TrailEntry {
        seq: entry.seq,
        record,
        provable,
    }
}
