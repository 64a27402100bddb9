//! Reading the audit log: one's own trail, the officer's query, and verifying the chain.

use crate::{App, AppError, Caller, NO_SUCH_RECORD, Page, TrailEntry};
use custos_audit::{AuditEntry, GENESIS, verify_chain};
use custos_audit::{AuditReason, Outcome};
use custos_policy::{Action, Resource};
use custos_store::AuditFilter;

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

    async fn audit_page(
        &self,
        caller: &Caller,
        action: Action,
        resource: Resource,
        filter: &AuditFilter,
        after: u64,
        limit: u32,
    ) -> Result<Page<AuditEntry>, AppError> {
        let limit = limit.clamp(1, 500);
        let tx = self.store.begin().await?;
        let (mut tx, _permit) = self.gate(tx, caller, action, &resource).await?;
        let items = tx.audit_entries(filter, after, limit).await?;
        tx.commit().await?;
        let next_cursor = (items.len() == limit as usize)
            .then(|| items.last().map(|e| e.seq.to_string()))
            .flatten();
        Ok(Page { items, next_cursor })
    }

    /// Verifies the whole hash chain of the log; returns the number of entries checked.
    pub async fn verify_audit_log(&self) -> Result<u64, AppError> {
        let mut seq = 0u64;
        let mut chain = GENESIS;
        loop {
            let mut tx = self.store.begin().await?;
            let batch = tx.audit_entries(&AuditFilter::default(), seq, 1000).await?;
            tx.commit().await?;
            let Some(last) = batch.last() else {
                return Ok(seq);
            };
            let last_seq = last.seq;
            chain = verify_chain(seq, chain, &batch)
                .map_err(|e| AppError::AuditTampered(e.to_string()))?;
            seq = last_seq;
        }
    }
}

/// What the actor of an entry may see of it. A denial is shown as "no such record" unless it
/// was answered visibly (`hidden: false`: a 403 that named its rule); entries written before
/// denials recorded this are shown the cautious way. Authentication events are the person's
/// own and shown whole. Listings drop the count of withheld records.
fn own_view(entry: AuditEntry) -> TrailEntry {
    let mut record = entry.record;
    let visible = record.detail.get("hidden") == Some(&serde_json::Value::Bool(false));
    if record.outcome == Outcome::Deny && !record.action.starts_with("auth.") && !visible {
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
    }
}
