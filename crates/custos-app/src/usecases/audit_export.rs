//! Audit exports with proofs (issue 15, R24): every entry about one client (its record, its
//! matters and their documents), one matter (and its documents) or one person (as actor), in
//! a date range, each with its inclusion proof, all against the latest signed checkpoint, in
//! one file that a client or an auditor checks offline (`custos audit verify-proof`, or their
//! own verifier written to docs/AUDIT-FORMAT.md). The confidentiality officer's (a query of the
//! whole log), audited like every query.

use crate::{App, AppError, Caller, Tx};
use custos_audit::proof::AuditExport;
use custos_domain::{ClientId, MatterId, PersonId};
use custos_policy::{Action, Resource};
use custos_store::AuditFilter;

/// What an export covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportScope {
    /// A client: its record, its matters, their documents.
    Client(ClientId),
    /// A matter and its documents.
    Matter(MatterId),
    /// Everything a person did.
    Person(PersonId),
}

/// The most entries one export holds (ask for a shorter date range beyond it).
pub const EXPORT_LIMIT: usize = 100_000;

impl App {
    /// The entries of `scope` between `from_ms` (inclusive) and `until_ms` (exclusive), as far
    /// as the latest signed checkpoint covers the log, each with its inclusion proof.
    pub async fn export_audit(
        &self,
        caller: &Caller,
        scope: ExportScope,
        from_ms: Option<i64>,
        until_ms: Option<i64>,
    ) -> Result<AuditExport, AppError> {
        if let (Some(from), Some(until)) = (from_ms, until_ms)
            && until <= from
        {
            return Err(AppError::BadInput(
                "the export's range ends before it starts".to_owned(),
            ));
        }
        let tx = self.store.begin_read().await?;
        let (mut tx, _permit) = self
            .gate(tx, caller, Action::QueryAudit, &Resource::Firm)
            .await?;
        let export = export_in(&mut tx, scope, from_ms, until_ms).await;
        tx.commit().await?;
        export
    }
}

/// The resources whose entries an export of `scope` holds (`None`: a person's, by actor).
async fn resources_of(tx: &mut Tx, scope: ExportScope) -> Result<Option<Vec<String>>, AppError> {
    let matters = match scope {
        ExportScope::Person(_) => return Ok(None),
        ExportScope::Client(client) => {
            if tx.client(client).await?.is_none() {
                return Err(AppError::NotFound);
            }
            tx.matters_of_client(client).await?
        }
        ExportScope::Matter(matter) => vec![tx.matter(matter).await?.ok_or(AppError::NotFound)?],
    };
    let mut resources = Vec::new();
    if let ExportScope::Client(client) = scope {
        resources.push(format!("client:{client}"));
    }
    for matter in matters {
        resources.push(format!("matter:{}", matter.id));
        let mut after = None;
        loop {
            let docs = tx.list_documents(matter.id, after, 500).await?;
            let Some(last) = docs.last() else { break };
            after = Some(last.id);
            resources.extend(docs.iter().map(|d| format!("document:{}", d.id)));
        }
    }
    Ok(Some(resources))
}

async fn export_in(
    tx: &mut Tx,
    scope: ExportScope,
    from_ms: Option<i64>,
    until_ms: Option<i64>,
) -> Result<AuditExport, AppError> {
    let latest = tx.latest_checkpoint().await?.ok_or_else(|| {
        AppError::Conflict("no checkpoint is signed yet: one is signed within a minute".into())
    })?;
    let size = latest.size;
    let filters: Vec<AuditFilter> = match resources_of(tx, scope).await? {
        None => {
            let ExportScope::Person(person) = scope else {
                return Err(AppError::Internal("an export without a scope".into()));
            };
            vec![AuditFilter {
                actor: Some(person),
                ..AuditFilter::default()
            }]
        }
        Some(resources) => resources
            .into_iter()
            .map(|resource| AuditFilter {
                resource: Some(resource),
                ..AuditFilter::default()
            })
            .collect(),
    };
    let mut entries = Vec::new();
    for filter in filters {
        let filter = AuditFilter {
            from_ms,
            until_ms,
            ..filter
        };
        let mut after = 0;
        'pages: loop {
            let page = tx.audit_entries(&filter, after, 500).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for entry in page {
                // Entries after the checkpoint wait for the next one.
                if entry.seq > size {
                    break 'pages;
                }
                entries.push(entry);
            }
            if entries.len() > EXPORT_LIMIT {
                return Err(AppError::BadInput(format!(
                    "more than {EXPORT_LIMIT} entries: export a shorter date range"
                )));
            }
        }
    }
    entries.sort_by_key(|e| e.seq);
    entries.dedup_by_key(|e| e.seq);
    let mut exported = Vec::with_capacity(entries.len());
    for entry in &entries {
        exported.push(super::checkpoints::prove_entry(tx, entry, size).await?);
    }
    let what = match scope {
        ExportScope::Client(c) => format!("client:{c}"),
        ExportScope::Matter(m) => format!("matter:{m}"),
        ExportScope::Person(p) => format!("person:{p}"),
    };
    let dates = match (from_ms, until_ms) {
        (None, None) => String::new(),
        (from, until) => format!(
            " at_ms {}..{}",
            from.map(|f| f.to_string()).unwrap_or_default(),
            until.map(|u| u.to_string()).unwrap_or_default()
        ),
    };
    Ok(AuditExport {
        scope: format!("{what}{dates}"),
        checkpoint: super::checkpoints::with_cosignatures(tx, &latest).await?.0,
        entries: exported,
    })
}
