//! Sharing outside the firm (R10-R13): outside recipients, consents, transfer requests with
//! their approvals. Their release (links, codes, sessions, downloads, outbox) is in
//! [`super::release`].

use crate::StoreError;
use crate::rows::DocumentRow;
use crate::sql::exec::{SqlTx, q};
use crate::sql::{SqlRow, document_row, ms, uuid_col};
use crate::{from_ms, sql::found};
use async_trait::async_trait;
use custos_domain::{
    ClientId, ConsentId, Date, DocumentId, LegalBasis, MatterId, PersonId, ThirdPartyId, Timestamp,
    TransferId, iso, parse_date,
};

pub(super) fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_owned())
}

pub(super) fn opt_id(row: &impl SqlRow, col: &str) -> Result<Option<uuid::Uuid>, StoreError> {
    row.opt_text(col)?
        .map(|s| uuid::Uuid::parse_str(&s).map_err(|_| corrupt(col)))
        .transpose()
}

pub(super) fn date(row: &impl SqlRow, col: &str) -> Result<Option<Date>, StoreError> {
    row.opt_text(col)?
        .map(|s| parse_date("date", &s).map_err(|_| corrupt(col)))
        .transpose()
}

pub(super) fn opt_time(row: &impl SqlRow, col: &str) -> Result<Option<Timestamp>, StoreError> {
    row.opt_int(col)?.map(from_ms).transpose()
}

pub(super) fn json_list(row: &impl SqlRow, col: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(&row.text(col)?).map_err(|_| corrupt(col))
}

pub(super) fn json_matters(row: &impl SqlRow, col: &str) -> Result<Vec<MatterId>, StoreError> {
    json_list(row, col)?
        .iter()
        .map(|m| {
            uuid::Uuid::parse_str(m)
                .map(MatterId)
                .map_err(|_| corrupt(col))
        })
        .collect()
}

pub(super) fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The state of a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferStatus {
    /// Waiting for its approvals.
    Pending,
    /// Both approvals given; its link was issued.
    Released,
    /// An approver refused it.
    Refused,
    /// A change of facts voided it (consent revoked, agreement expired...).
    Voided,
}

impl TransferStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TransferStatus::Pending => "pending",
            TransferStatus::Released => "released",
            TransferStatus::Refused => "refused",
            TransferStatus::Voided => "voided",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "pending" => TransferStatus::Pending,
            "released" => TransferStatus::Released,
            "refused" => TransferStatus::Refused,
            "voided" => TransferStatus::Voided,
            _ => return Err(corrupt("status")),
        })
    }
}

/// A legal exception recorded on a transfer (R13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionRow {
    /// The basis.
    pub basis: LegalBasis,
    /// Court order reference, regulator's letter...
    pub reference: String,
    /// The order, uploaded as a document of the matter.
    pub order: Option<DocumentId>,
    /// Whether the client is informed afterwards; `false`: the order forbids it.
    pub inform_client: bool,
    /// Until when the order forbids informing the client.
    pub forbidden_until: Option<Date>,
    /// When and by whom the client was told of the disclosure afterwards.
    pub informed: Option<(Timestamp, PersonId)>,
}

/// A request to send documents outside the firm (R12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRow {
    /// Id.
    pub id: TransferId,
    /// The matter.
    pub matter: MatterId,
    /// Its client.
    pub client: ClientId,
    /// Who asked.
    pub requester: PersonId,
    /// Who receives.
    pub recipient: ThirdPartyId,
    /// Purpose label.
    pub purpose: String,
    /// The consent it rests on.
    pub consent: Option<ConsentId>,
    /// Or the legal exception.
    pub exception: Option<ExceptionRow>,
    /// State.
    pub status: TransferStatus,
    /// Why it was refused or voided.
    pub status_reason: Option<String>,
    /// How many days the release link lasts (1 to 30).
    pub link_days: u32,
    /// Downloads the link allows.
    pub download_limit: u32,
    /// Argon2 PHC string of the passphrase agreed with the recipient out of band, if any.
    pub passphrase_hash: Option<String>,
    /// Asked at.
    pub requested_at: Timestamp,
    /// Released, refused or voided at.
    pub closed_at: Option<Timestamp>,
}

fn transfer_row(row: &impl SqlRow) -> Result<TransferRow, StoreError> {
    let exception = match row.opt_text("legal_basis")? {
        None => None,
        Some(b) => Some(ExceptionRow {
            basis: LegalBasis::parse(&b).map_err(|_| corrupt("legal_basis"))?,
            reference: row.opt_text("legal_reference")?.unwrap_or_default(),
            order: opt_id(row, "order_document_id")?.map(DocumentId),
            inform_client: row.opt_text("inform_client")?.as_deref() != Some("forbidden"),
            forbidden_until: date(row, "forbidden_until")?,
            informed: match (
                opt_time(row, "client_informed_at")?,
                opt_id(row, "client_informed_by")?,
            ) {
                (Some(at), Some(by)) => Some((at, PersonId(by))),
                _ => None,
            },
        }),
    };
    Ok(TransferRow {
        id: TransferId(uuid_col(row, "id")?),
        matter: MatterId(uuid_col(row, "matter_id")?),
        client: ClientId(uuid_col(row, "client_id")?),
        requester: PersonId(uuid_col(row, "requester_id")?),
        recipient: ThirdPartyId(uuid_col(row, "recipient_id")?),
        purpose: row.text("purpose")?,
        consent: opt_id(row, "consent_id")?.map(ConsentId),
        exception,
        status: TransferStatus::parse(&row.text("status")?)?,
        status_reason: row.opt_text("status_reason")?,
        link_days: count(row.int("link_days")?),
        download_limit: count(row.int("download_limit")?),
        passphrase_hash: row.opt_text("passphrase_hash")?,
        requested_at: from_ms(row.int("requested_at")?)?,
        closed_at: opt_time(row, "closed_at")?,
    })
}

/// One approval of a transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRow {
    /// Who approved.
    pub person: PersonId,
    /// `lead` or `officer`.
    pub slot: String,
    /// The facts it was given on (SHA-256 hex of the policy's fingerprint).
    pub fingerprint: String,
    /// When.
    pub at: Timestamp,
}

/// Which transfers to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferFilter {
    /// The register: every transfer, or those of one client, one recipient, asked within a
    /// time range (`from` inclusive, `until` exclusive).
    Register {
        /// One client's.
        client: Option<ClientId>,
        /// One recipient's.
        recipient: Option<ThirdPartyId>,
        /// Asked at or after.
        from: Option<Timestamp>,
        /// Asked before.
        until: Option<Timestamp>,
        /// Only those released on a legal basis whose client was not told yet (the app
        /// decides which of them are due today).
        uninformed: bool,
    },
    /// Those waiting for approvals.
    Pending,
    /// Those one person asked for.
    RequestedBy(PersonId),
    /// Those released to one recipient (what their account shows).
    ReleasedTo(ThirdPartyId),
}

fn opt_iso(d: Option<Date>) -> Option<String> {
    d.map(iso)
}

/// Sharing outside the firm.
#[async_trait]
#[expect(
    private_bounds,
    reason = "sealed: only this crate's units of work (SqlTx) have these operations"
)]
pub trait TransfersTx: SqlTx {
    /// Records that the client was told of a disclosure without consent (R13); `false` when
    /// it already was.
    async fn set_client_informed(
        &mut self,
        id: TransferId,
        by: PersonId,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let n = q(
            "UPDATE transfers SET client_informed_at = $3, client_informed_by = $2
             WHERE id = $1 AND legal_basis IS NOT NULL AND client_informed_at IS NULL",
        )
        .bind(id.to_string())
        .bind(by.to_string())
        .bind(ms(at))
        .run(self.conn())
        .await?;
        Ok(n == 1)
    }

    /// Records a transfer request and its documents.
    async fn insert_transfer(
        &mut self,
        t: &TransferRow,
        documents: &[DocumentId],
    ) -> Result<(), StoreError> {
        let e = t.exception.as_ref();
        q(
            "INSERT INTO transfers (id, matter_id, client_id, requester_id, recipient_id, purpose,
               channel, consent_id, legal_basis, legal_reference, order_document_id,
               inform_client, forbidden_until, status, link_days, download_limit,
               passphrase_hash, requested_at)
           VALUES ($1, $2, $3, $4, $5, $6, 'link', $7, $8, $9, $10, $11, $12, 'pending', $13, $14,
               $15, $16)",
        )
        .bind(t.id.to_string())
        .bind(t.matter.to_string())
        .bind(t.client.to_string())
        .bind(t.requester.to_string())
        .bind(t.recipient.to_string())
        .bind(t.purpose.as_str())
        .bind(t.consent.map(|c| c.to_string()))
        .bind(e.map(|e| e.basis.as_str()))
        .bind(e.map(|e| e.reference.clone()))
        .bind(e.and_then(|e| e.order).map(|d| d.to_string()))
        .bind(e.map(|e| {
            if e.inform_client {
                "after"
            } else {
                "forbidden"
            }
        }))
        .bind(e.and_then(|e| opt_iso(e.forbidden_until)))
        .bind(i64::from(t.link_days))
        .bind(i64::from(t.download_limit))
        .bind(t.passphrase_hash.clone())
        .bind(ms(t.requested_at))
        .run(self.conn())
        .await?;
        for d in documents {
            q("INSERT INTO transfer_documents (transfer_id, document_id) VALUES ($1, $2)")
                .bind(t.id.to_string())
                .bind(d.to_string())
                .run(self.conn())
                .await?;
        }
        Ok(())
    }

    /// A transfer.
    async fn transfer(&mut self, id: TransferId) -> Result<Option<TransferRow>, StoreError> {
        q("SELECT * FROM transfers WHERE id = $1")
            .bind(id.to_string())
            .get(self.conn(), transfer_row)
            .await
    }

    /// Transfers, newest first, before `before`.
    async fn list_transfers(
        &mut self,
        filter: TransferFilter,
        before: Option<TransferId>,
        limit: u32,
    ) -> Result<Vec<TransferRow>, StoreError> {
        let before = before.map_or_else(|| "~".to_owned(), |b| b.to_string());
        let query = match filter {
            TransferFilter::Register {
                client,
                recipient,
                from,
                until,
                uninformed,
            } => q("SELECT * FROM transfers WHERE id < $1
                 AND (CAST($3 AS TEXT) IS NULL OR client_id = $3)
                 AND (CAST($4 AS TEXT) IS NULL OR recipient_id = $4)
                 AND requested_at >= $5 AND requested_at < $6
                 AND ($7 = 0 OR (status = 'released' AND legal_basis IS NOT NULL
                                 AND client_informed_at IS NULL))
                 ORDER BY id DESC LIMIT $2")
            .bind(before)
            .bind(i64::from(limit))
            .bind(client.map(|c| c.to_string()))
            .bind(recipient.map(|r| r.to_string()))
            .bind(from.map_or(i64::MIN, ms))
            .bind(until.map_or(i64::MAX, ms))
            .bind(i64::from(uninformed)),
            TransferFilter::Pending => q("SELECT * FROM transfers WHERE id < $1
                 AND status = 'pending' ORDER BY id DESC LIMIT $2")
            .bind(before)
            .bind(i64::from(limit)),
            TransferFilter::RequestedBy(p) => q("SELECT * FROM transfers WHERE id < $1
                 AND requester_id = $3 ORDER BY id DESC LIMIT $2")
            .bind(before)
            .bind(i64::from(limit))
            .bind(p.to_string()),
            TransferFilter::ReleasedTo(r) => q("SELECT * FROM transfers WHERE id < $1
                 AND recipient_id = $3 AND status = 'released' ORDER BY id DESC LIMIT $2")
            .bind(before)
            .bind(i64::from(limit))
            .bind(r.to_string()),
        };
        query.list(self.conn(), transfer_row).await
    }

    /// The transfers still pending or released on a consent (a revocation voids them).
    async fn open_transfers_on_consent(
        &mut self,
        consent: ConsentId,
    ) -> Result<Vec<TransferRow>, StoreError> {
        q("SELECT * FROM transfers WHERE consent_id = $1 AND status IN ('pending','released')")
            .bind(consent.to_string())
            .list(self.conn(), transfer_row)
            .await
    }

    /// The documents of a transfer with the SHA-256 of their released bytes (once released).
    async fn transfer_documents(
        &mut self,
        id: TransferId,
    ) -> Result<Vec<(DocumentRow, Option<String>)>, StoreError> {
        let rows = q(
            "SELECT d.*, t.sha256 AS released_sha256 FROM transfer_documents t
                      JOIN documents d ON d.id = t.document_id
                      WHERE t.transfer_id = $1 ORDER BY d.id",
        )
        .bind(id.to_string())
        .all(self.conn())
        .await?;
        rows.iter()
            .map(|r| Ok((document_row(r)?, r.opt_text("released_sha256")?)))
            .collect()
    }

    /// Every document of a matter (the documents a request may name).
    async fn matter_documents(&mut self, matter: MatterId) -> Result<Vec<DocumentRow>, StoreError> {
        q("SELECT * FROM documents WHERE matter_id = $1 ORDER BY id")
            .bind(matter.to_string())
            .list(self.conn(), document_row)
            .await
    }

    /// Records the SHA-256 of a released document's bytes.
    async fn set_released_hash(
        &mut self,
        id: TransferId,
        document: DocumentId,
        sha256: &str,
    ) -> Result<(), StoreError> {
        let n = q("UPDATE transfer_documents SET sha256 = $3
                   WHERE transfer_id = $1 AND document_id = $2")
        .bind(id.to_string())
        .bind(document.to_string())
        .bind(sha256)
        .run(self.conn())
        .await?;
        found(n, "transfer document")
    }

    /// Moves a transfer out of `from`; `false` when it was no longer in that state.
    async fn close_transfer(
        &mut self,
        id: TransferId,
        from: TransferStatus,
        to: TransferStatus,
        reason: Option<&str>,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let n = q(
            "UPDATE transfers SET status = $3, status_reason = $4, closed_at = $5
                   WHERE id = $1 AND status = $2",
        )
        .bind(id.to_string())
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(reason)
        .bind(ms(at))
        .run(self.conn())
        .await?;
        Ok(n == 1)
    }

    /// Takes the transfer's row lock while it is pending (PostgreSQL: concurrent approvals,
    /// refusals and voids of one transfer wait for each other; SQLite's writer is already
    /// alone); `false` when it is no longer pending.
    async fn lock_pending_transfer(&mut self, id: TransferId) -> Result<bool, StoreError> {
        let n = q("UPDATE transfers SET status = status WHERE id = $1 AND status = 'pending'")
            .bind(id.to_string())
            .run(self.conn())
            .await?;
        Ok(n == 1)
    }

    /// Voids a transfer still pending or released (a consent revoked); `false` when it was
    /// already closed otherwise.
    async fn void_transfer(
        &mut self,
        id: TransferId,
        reason: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let n = q(
            "UPDATE transfers SET status = 'voided', status_reason = $2, closed_at = $3
                   WHERE id = $1 AND status IN ('pending','released')",
        )
        .bind(id.to_string())
        .bind(reason)
        .bind(ms(at))
        .run(self.conn())
        .await?;
        Ok(n == 1)
    }

    /// Records an approval; a second approval by the same person or for the same slot is a
    /// conflict (the table's keys).
    async fn insert_approval(&mut self, id: TransferId, a: &ApprovalRow) -> Result<(), StoreError> {
        q(
            "INSERT INTO transfer_approvals (transfer_id, person_id, slot, fingerprint, at)
           VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id.to_string())
        .bind(a.person.to_string())
        .bind(a.slot.as_str())
        .bind(a.fingerprint.as_str())
        .bind(ms(a.at))
        .run(self.conn())
        .await?;
        Ok(())
    }

    /// The approvals of a transfer, in order.
    async fn approvals(&mut self, id: TransferId) -> Result<Vec<ApprovalRow>, StoreError> {
        q("SELECT * FROM transfer_approvals WHERE transfer_id = $1 ORDER BY at, slot")
            .bind(id.to_string())
            .list(self.conn(), |r| {
                Ok(ApprovalRow {
                    person: PersonId(uuid_col(r, "person_id")?),
                    slot: r.text("slot")?,
                    fingerprint: r.text("fingerprint")?,
                    at: from_ms(r.int("at")?)?,
                })
            })
            .await
    }
}

impl<T: SqlTx> TransfersTx for T {}
