//! The release of a transfer (R12): its link with one-time codes, sessions and downloads, and
//! the mail outbox. Secrets (link tokens, codes, sessions) are stored as SHA-256 hashes only.

use super::transfers::{count, opt_id, opt_time};
use crate::StoreError;
use crate::from_ms;
use crate::sql::exec::{SqlTx, q};
use crate::sql::found;
use crate::sql::{SqlRow, ms, uuid_col};
use async_trait::async_trait;
use custos_domain::{DocumentId, PersonId, ReleaseLinkId, Timestamp, TransferId};

/// A release link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseLinkRow {
    /// Id.
    pub id: ReleaseLinkId,
    /// Its transfer.
    pub transfer: TransferId,
    /// SHA-256 of the link's token.
    pub token_hash: String,
    /// Argon2 PHC string of the passphrase agreed out of band, if any.
    pub passphrase_hash: Option<String>,
    /// Ends at.
    pub expires_at: Timestamp,
    /// Downloads allowed.
    pub download_limit: u32,
    /// Downloads so far.
    pub downloads: u32,
    /// Wrong codes so far.
    pub wrong_codes: u32,
    /// Codes sent so far.
    pub codes_sent: u32,
    /// When, by whom and why it was revoked (`None` by: locked by the system).
    pub revoked: Option<(Timestamp, Option<PersonId>, String)>,
    /// Issued at.
    pub created_at: Timestamp,
}

fn link_row(row: &impl SqlRow) -> Result<ReleaseLinkRow, StoreError> {
    Ok(ReleaseLinkRow {
        id: ReleaseLinkId(uuid_col(row, "id")?),
        transfer: TransferId(uuid_col(row, "transfer_id")?),
        token_hash: row.text("token_hash")?,
        passphrase_hash: row.opt_text("passphrase_hash")?,
        expires_at: from_ms(row.int("expires_at")?)?,
        download_limit: count(row.int("download_limit")?),
        downloads: count(row.int("downloads")?),
        wrong_codes: count(row.int("wrong_codes")?),
        codes_sent: count(row.int("codes_sent")?),
        revoked: opt_time(row, "revoked_at")?
            .map(|at| -> Result<_, StoreError> {
                Ok((
                    at,
                    opt_id(row, "revoked_by")?.map(PersonId),
                    row.opt_text("revoke_reason")?.unwrap_or_default(),
                ))
            })
            .transpose()?,
        created_at: from_ms(row.int("created_at")?)?,
    })
}

/// A one-time code sent for a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseCodeRow {
    /// SHA-256 of link id and code.
    pub code_hash: String,
    /// Ends at.
    pub expires_at: Timestamp,
    /// Used at (a code works once).
    pub used_at: Option<Timestamp>,
}

/// One download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadRow {
    /// The document.
    pub document: DocumentId,
    /// When.
    pub at: Timestamp,
    /// From which address.
    pub address: Option<String>,
}

/// A mail waiting in (or sent from) the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailRow {
    /// Id.
    pub id: uuid::Uuid,
    /// To.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Body (never client content).
    pub body: String,
    /// Queued at.
    pub created_at: Timestamp,
    /// Sent at.
    pub sent_at: Option<Timestamp>,
    /// Attempts so far.
    pub attempts: i64,
    /// The relay's last refusal.
    pub last_error: Option<String>,
}

fn mail_row(row: &impl SqlRow) -> Result<MailRow, StoreError> {
    Ok(MailRow {
        id: uuid_col(row, "id")?,
        to: row.text("to_address")?,
        subject: row.text("subject")?,
        body: row.text("body")?,
        created_at: from_ms(row.int("created_at")?)?,
        sent_at: opt_time(row, "sent_at")?,
        attempts: row.int("attempts")?,
        last_error: row.opt_text("last_error")?,
    })
}

/// Releasing a transfer.
#[async_trait]
#[expect(
    private_bounds,
    reason = "sealed: only this crate's units of work (SqlTx) have these operations"
)]
pub trait ReleaseTx: SqlTx {
    /// Issues a release link.
    async fn insert_link(&mut self, l: &ReleaseLinkRow) -> Result<(), StoreError> {
        q(
            "INSERT INTO release_links (id, transfer_id, token_hash, passphrase_hash, expires_at,
               download_limit, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(l.id.to_string())
        .bind(l.transfer.to_string())
        .bind(l.token_hash.as_str())
        .bind(l.passphrase_hash.clone())
        .bind(ms(l.expires_at))
        .bind(i64::from(l.download_limit))
        .bind(ms(l.created_at))
        .run(self.conn())
        .await?;
        Ok(())
    }

    /// The link whose token hashes to `token_hash`.
    async fn link_by_token(
        &mut self,
        token_hash: &str,
    ) -> Result<Option<ReleaseLinkRow>, StoreError> {
        q("SELECT * FROM release_links WHERE token_hash = $1")
            .bind(token_hash)
            .get(self.conn(), link_row)
            .await
    }

    /// The link of a transfer.
    async fn link_of(
        &mut self,
        transfer: TransferId,
    ) -> Result<Option<ReleaseLinkRow>, StoreError> {
        q("SELECT * FROM release_links WHERE transfer_id = $1")
            .bind(transfer.to_string())
            .get(self.conn(), link_row)
            .await
    }

    /// Links neither revoked nor expired at `now`, soonest expiry first.
    async fn live_links(&mut self, now: Timestamp) -> Result<Vec<ReleaseLinkRow>, StoreError> {
        q(
            "SELECT * FROM release_links WHERE revoked_at IS NULL AND expires_at > $1
           ORDER BY expires_at LIMIT 500",
        )
        .bind(ms(now))
        .list(self.conn(), link_row)
        .await
    }

    /// Revokes a link (`by` `None`: the system, e.g. after wrong codes); `false` when it was
    /// already revoked.
    async fn revoke_link(
        &mut self,
        id: ReleaseLinkId,
        by: Option<PersonId>,
        at: Timestamp,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let n = q(
            "UPDATE release_links SET revoked_at = $2, revoked_by = $3, revoke_reason = $4
                   WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(id.to_string())
        .bind(ms(at))
        .bind(by.map(|p| p.to_string()))
        .bind(reason)
        .run(self.conn())
        .await?;
        Ok(n == 1)
    }

    /// Counts one download; `false` when the limit was already reached.
    async fn count_download(&mut self, id: ReleaseLinkId) -> Result<bool, StoreError> {
        let n = q("UPDATE release_links SET downloads = downloads + 1
                   WHERE id = $1 AND downloads < download_limit")
        .bind(id.to_string())
        .run(self.conn())
        .await?;
        Ok(n == 1)
    }

    /// Gives back one download of a link (one that did not complete).
    async fn uncount_download(&mut self, id: ReleaseLinkId) -> Result<bool, StoreError> {
        let n = q("UPDATE release_links SET downloads = downloads - 1
                   WHERE id = $1 AND downloads > 0")
        .bind(id.to_string())
        .run(self.conn())
        .await?;
        Ok(n == 1)
    }

    /// Counts one wrong code and returns how many there were.
    async fn count_wrong_code(&mut self, id: ReleaseLinkId) -> Result<u32, StoreError> {
        q("UPDATE release_links SET wrong_codes = wrong_codes + 1 WHERE id = $1")
            .bind(id.to_string())
            .run(self.conn())
            .await?;
        q("SELECT wrong_codes FROM release_links WHERE id = $1")
            .bind(id.to_string())
            .one(self.conn())
            .await?
            .int("wrong_codes")
            .map(count)
    }

    /// Stores the link's one live code (replacing an earlier one) and counts it as sent.
    async fn put_code(
        &mut self,
        link: ReleaseLinkId,
        code_hash: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        q("DELETE FROM release_codes WHERE link_id = $1")
            .bind(link.to_string())
            .run(self.conn())
            .await?;
        q(
            "INSERT INTO release_codes (link_id, code_hash, expires_at, created_at)
           VALUES ($1, $2, $3, $4)",
        )
        .bind(link.to_string())
        .bind(code_hash)
        .bind(ms(expires_at))
        .bind(ms(now))
        .run(self.conn())
        .await?;
        q("UPDATE release_links SET codes_sent = codes_sent + 1 WHERE id = $1")
            .bind(link.to_string())
            .run(self.conn())
            .await?;
        Ok(())
    }

    /// The link's live code.
    async fn code_of(&mut self, link: ReleaseLinkId) -> Result<Option<ReleaseCodeRow>, StoreError> {
        q("SELECT * FROM release_codes WHERE link_id = $1")
            .bind(link.to_string())
            .get(self.conn(), |r| {
                Ok(ReleaseCodeRow {
                    code_hash: r.text("code_hash")?,
                    expires_at: from_ms(r.int("expires_at")?)?,
                    used_at: opt_time(r, "used_at")?,
                })
            })
            .await
    }

    /// Marks the link's code used; `false` when it already was (a replay).
    async fn use_code(&mut self, link: ReleaseLinkId, at: Timestamp) -> Result<bool, StoreError> {
        let n = q("UPDATE release_codes SET used_at = $2 WHERE link_id = $1 AND used_at IS NULL")
            .bind(link.to_string())
            .bind(ms(at))
            .run(self.conn())
            .await?;
        Ok(n == 1)
    }

    /// Opens a recipient's session on a link.
    async fn insert_release_session(
        &mut self,
        token_hash: &str,
        link: ReleaseLinkId,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        q("INSERT INTO release_sessions (token_hash, link_id, expires_at) VALUES ($1, $2, $3)")
            .bind(token_hash)
            .bind(link.to_string())
            .bind(ms(expires_at))
            .run(self.conn())
            .await?;
        Ok(())
    }

    /// The link of a recipient's session still open at `now`.
    async fn release_session(
        &mut self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<ReleaseLinkId>, StoreError> {
        q("SELECT link_id FROM release_sessions WHERE token_hash = $1 AND expires_at > $2")
            .bind(token_hash)
            .bind(ms(now))
            .get(self.conn(), |r| Ok(ReleaseLinkId(uuid_col(r, "link_id")?)))
            .await
    }

    /// Logs one download.
    async fn insert_download(
        &mut self,
        link: ReleaseLinkId,
        d: &DownloadRow,
    ) -> Result<(), StoreError> {
        q(
            "INSERT INTO release_downloads (id, link_id, document_id, at, address)
           VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(link.to_string())
        .bind(d.document.to_string())
        .bind(ms(d.at))
        .bind(d.address.clone())
        .run(self.conn())
        .await?;
        Ok(())
    }

    /// The downloads of a link, in order.
    async fn downloads(&mut self, link: ReleaseLinkId) -> Result<Vec<DownloadRow>, StoreError> {
        q("SELECT * FROM release_downloads WHERE link_id = $1 ORDER BY at, id")
            .bind(link.to_string())
            .list(self.conn(), |r| {
                Ok(DownloadRow {
                    document: DocumentId(uuid_col(r, "document_id")?),
                    at: from_ms(r.int("at")?)?,
                    address: r.opt_text("address")?,
                })
            })
            .await
    }

    /// Queues a mail.
    async fn queue_mail(&mut self, m: &MailRow) -> Result<(), StoreError> {
        q(
            "INSERT INTO outbox (id, to_address, subject, body, created_at)
           VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(m.id.to_string())
        .bind(m.to.as_str())
        .bind(m.subject.as_str())
        .bind(m.body.as_str())
        .bind(ms(m.created_at))
        .run(self.conn())
        .await?;
        Ok(())
    }

    /// Queued mail, oldest first, tried fewer than `max_attempts` times.
    async fn unsent_mail(
        &mut self,
        max_attempts: i64,
        limit: u32,
    ) -> Result<Vec<MailRow>, StoreError> {
        q("SELECT * FROM outbox WHERE sent_at IS NULL AND attempts < $1 ORDER BY id LIMIT $2")
            .bind(max_attempts)
            .bind(i64::from(limit))
            .list(self.conn(), mail_row)
            .await
    }

    /// Marks a mail sent and erases its body (codes and links do not outlive delivery).
    async fn mark_mail_sent(&mut self, id: uuid::Uuid, at: Timestamp) -> Result<(), StoreError> {
        let n = q(
            "UPDATE outbox SET sent_at = $2, body = '', last_error = NULL,
                   attempts = attempts + 1 WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(ms(at))
        .run(self.conn())
        .await?;
        found(n, "mail")
    }

    /// Counts a failed attempt with the relay's answer (never the body).
    async fn mark_mail_failed(&mut self, id: uuid::Uuid, error: &str) -> Result<(), StoreError> {
        let error: String = error.chars().take(500).collect();
        let n = q("UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1")
            .bind(id.to_string())
            .bind(error)
            .run(self.conn())
            .await?;
        found(n, "mail")
    }

    /// The outbox, newest first, before `before`.
    async fn list_outbox(
        &mut self,
        before: Option<uuid::Uuid>,
        limit: u32,
    ) -> Result<Vec<MailRow>, StoreError> {
        q("SELECT * FROM outbox WHERE id < $1 ORDER BY id DESC LIMIT $2")
            .bind(before.map_or_else(|| "~".to_owned(), |b| b.to_string()))
            .bind(i64::from(limit))
            .list(self.conn(), mail_row)
            .await
    }
}

impl<T: SqlTx> ReleaseTx for T {}
