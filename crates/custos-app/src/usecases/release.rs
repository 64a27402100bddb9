//! The recipient's side of a release (R12), with no account: the link's token names the
//! transfer; a one-time code mailed to the recipient's verified address (and the passphrase,
//! when one was agreed) opens a short session; each download is decided by the policy again
//! (link live, limit, consent, agreement, walls, approved facts), counted, logged and audited
//! before any byte leaves.

use crate::usecases::delivery::Delivery;
use crate::usecases::transfers::{fingerprint, stored_hash};
use crate::{App, AppError, AuditEvent, DocumentDownload, Tx};
use custos_audit::Outcome;
use custos_domain::{DocumentId, ReleaseLinkId, RequestId, Timestamp};
use custos_policy::{LinkFacts, Rule, decide_release};
use custos_store::{ReleaseLinkRow, StoreTx, TransferStatus};
use serde::Serialize;
use zeroize::Zeroizing;

/// Wrong codes after which a link is locked (revoked) for good.
pub const RELEASE_WRONG_CODES: u32 = 5;
/// Codes one link may send.
pub const RELEASE_CODES_SENT: u32 = 10;
/// How long a code is valid.
const CODE_LIFETIME: time::Duration = time::Duration::minutes(10);
/// How long a recipient's session lasts.
const SESSION_LIFETIME: time::Duration = time::Duration::minutes(30);

/// What the recipient sees of a release.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReleaseView {
    /// The firm's name.
    pub firm: String,
    /// Ends at.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub expires_at: Timestamp,
    /// Downloads left.
    pub downloads_left: u32,
    /// Whether a passphrase is asked.
    pub passphrase: bool,
    /// How many documents the link releases.
    pub document_count: usize,
    /// The documents (ids, sizes, types): once the code was proved (empty before).
    pub documents: Vec<ReleasedDocument>,
}

/// One released document, as the recipient sees it before downloading.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReleasedDocument {
    /// Id.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: DocumentId,
    /// Size in bytes.
    pub size: u64,
    /// Media type.
    pub media_type: String,
}

fn gone() -> AppError {
    AppError::Forbidden {
        rule: Rule::Release.code().to_owned(),
        message: "this link is no longer valid: ask the firm for a new one".to_owned(),
    }
}

fn code_hash(link: ReleaseLinkId, code: &str) -> String {
    stored_hash(&format!("{link}:{code}"))
}

impl App {
    #[expect(clippy::too_many_arguments, reason = "one audit entry's fields")]
    async fn release_event(
        &self,
        tx: &mut dyn StoreTx,
        request_id: RequestId,
        link: &ReleaseLinkRow,
        action: &str,
        outcome: Outcome,
        message: String,
        detail: serde_json::Value,
    ) -> Result<(), AppError> {
        self.audit_event(
            tx,
            AuditEvent {
                request_id,
                actor: None,
                action,
                resource: format!("transfer:{}", link.transfer),
                outcome,
                rule: Rule::Release.code(),
                message,
                detail,
            },
        )
        .await
    }

    /// The live link a token names, or "no longer valid" (an unknown token answers the same,
    /// so a guess learns nothing). A known link that no longer opens is audited as refused.
    async fn live_link(
        &self,
        tx: &mut dyn StoreTx,
        token: &str,
        audit: Option<(RequestId, &str)>,
    ) -> Result<ReleaseLinkRow, AppError> {
        let hash = stored_hash(token);
        let link = tx.link_by_token(&hash).await?.ok_or_else(gone)?;
        let status = tx.transfer(link.transfer).await?.map(|t| t.status);
        let why = if status != Some(TransferStatus::Released) {
            Some(format!(
                "the transfer is {}",
                status.map_or("gone", TransferStatus::as_str)
            ))
        } else if let Some((_, _, reason)) = &link.revoked {
            Some(format!("the link was revoked: {reason}"))
        } else if link.expires_at <= self.now() {
            Some("the link has expired".to_owned())
        } else {
            None
        };
        if let Some(why) = why {
            if let Some((request_id, action)) = audit {
                self.release_event(
                    tx,
                    request_id,
                    &link,
                    action,
                    Outcome::Deny,
                    why,
                    serde_json::Value::Null,
                )
                .await?;
            }
            return Err(gone());
        }
        Ok(link)
    }

    /// What a link releases (no content, no titles): how many documents, and which (their
    /// ids, sizes and types) only to the session that proved the code (`session`).
    pub async fn release_info(
        &self,
        token: &str,
        session: Option<&str>,
    ) -> Result<ReleaseView, AppError> {
        let mut tx = self.store.begin_read().await?;
        let link = self.live_link(&mut *tx, token, None).await?;
        let proved = match session.filter(|s| !s.is_empty()) {
            Some(s) => tx.release_session(&stored_hash(s), self.now()).await? == Some(link.id),
            None => false,
        };
        let docs = tx.transfer_documents(link.transfer).await?;
        tx.commit().await?;
        let document_count = docs.len();
        let docs = if proved { docs } else { Vec::new() };
        Ok(ReleaseView {
            // Empty when none is set: the page says "the firm" in the reader's language.
            firm: self.settings.firm_name.trim().to_owned(),
            expires_at: link.expires_at,
            downloads_left: link.download_limit.saturating_sub(link.downloads),
            passphrase: link.passphrase_hash.is_some(),
            document_count,
            documents: docs
                .into_iter()
                .map(|(d, _)| ReleasedDocument {
                    id: d.id,
                    size: d.size,
                    media_type: d.media_type,
                })
                .collect(),
        })
    }

    /// Mails a fresh one-time code to the recipient's verified address (replacing any earlier
    /// one); at most [`RELEASE_CODES_SENT`] per link.
    pub async fn release_send_code(
        &self,
        token: &str,
        request_id: RequestId,
    ) -> Result<(), AppError> {
        let mut tx = self.store.begin().await?;
        let audit = Some((request_id, crate::vocabulary::ACTION_RELEASE_CODE));
        let link = match self.live_link(&mut *tx, token, audit).await {
            Ok(l) => l,
            Err(e) => return Err(crate::reject(tx, e).await),
        };
        if link.codes_sent >= RELEASE_CODES_SENT {
            let e = AppError::Throttled {
                retry_after_secs: u64::try_from((link.expires_at - self.now()).whole_seconds())
                    .unwrap_or(0),
            };
            return Err(crate::reject(tx, e).await);
        }
        let transfer = tx.transfer(link.transfer).await?.ok_or_else(gone)?;
        let recipient = self
            .recipient(&mut *tx, transfer.recipient)
            .await?
            .ok_or_else(gone)?;
        let n = u32::from_le_bytes(custos_crypto::random_bytes::<4>()?) % 1_000_000;
        let code = Zeroizing::new(format!("{n:06}"));
        let now = self.now();
        tx.put_code(
            link.id,
            &code_hash(link.id, &code),
            now + CODE_LIFETIME,
            now,
        )
        .await?;
        let firm = self.firm_in_words();
        self.queue_mail(
            &mut *tx,
            &recipient.email,
            format!("Your one-time code for {firm}"),
            format!(
                "Your one-time code is {}. It works once, for 10 minutes. Nobody from the firm \
                 will ask you for it.",
                code.as_str()
            ),
        )
        .await?;
        self.release_event(
            &mut *tx,
            request_id,
            &link,
            crate::vocabulary::ACTION_RELEASE_CODE,
            Outcome::Allow,
            "one-time code mailed to the recipient's verified address".to_owned(),
            serde_json::Value::Null,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Checks the code (and passphrase) and opens a session on the link: its token, to be
    /// kept by the recipient's browser. A code works once; [`RELEASE_WRONG_CODES`] wrong
    /// codes lock the link for good.
    pub async fn release_open(
        &self,
        token: &str,
        code: &str,
        passphrase: Option<&str>,
        request_id: RequestId,
    ) -> Result<Zeroizing<String>, AppError> {
        let mut tx = self.store.begin().await?;
        let audit = Some((request_id, crate::vocabulary::ACTION_RELEASE_OPEN));
        let link = match self.live_link(&mut *tx, token, audit).await {
            Ok(l) => l,
            Err(e) => return Err(crate::reject(tx, e).await),
        };
        let now = self.now();
        let stored = tx.code_of(link.id).await?;
        let code_ok = stored.as_ref().is_some_and(|c| {
            c.used_at.is_none()
                && c.expires_at > now
                && c.code_hash == code_hash(link.id, code.trim())
        });
        let phrase_ok = match &link.passphrase_hash {
            None => true,
            Some(hash) => {
                let given = Zeroizing::new(passphrase.unwrap_or_default().trim().to_owned());
                self.passwords.verify(given, Some(hash.clone())).await?
            }
        };
        if !(code_ok && phrase_ok) {
            return Err(self.wrong_code(tx, &link, request_id, now).await);
        }
        if !tx.use_code(link.id, now).await? {
            return Err(self.wrong_code(tx, &link, request_id, now).await);
        }
        let session = custos_crypto::random_token()?;
        let ends = (now + SESSION_LIFETIME).min(link.expires_at);
        tx.insert_release_session(&stored_hash(&session), link.id, ends)
            .await?;
        self.release_event(
            &mut *tx,
            request_id,
            &link,
            crate::vocabulary::ACTION_RELEASE_OPEN,
            Outcome::Allow,
            "the recipient proved control of their address".to_owned(),
            serde_json::Value::Null,
        )
        .await?;
        tx.commit().await?;
        Ok(session)
    }

    /// Counts a wrong (expired, used or mistyped) code; locks the link at the limit.
    async fn wrong_code(
        &self,
        mut tx: Tx,
        link: &ReleaseLinkRow,
        request_id: RequestId,
        now: Timestamp,
    ) -> AppError {
        let outcome: Result<AppError, AppError> = async {
            let wrong = tx.count_wrong_code(link.id).await?;
            let locked = wrong >= RELEASE_WRONG_CODES;
            if locked {
                tx.revoke_link(link.id, None, now, "locked after repeated wrong codes")
                    .await?;
            }
            self.release_event(
                &mut *tx,
                request_id,
                link,
                crate::vocabulary::ACTION_RELEASE_OPEN,
                Outcome::Deny,
                if locked {
                    format!("wrong code {wrong} of {RELEASE_WRONG_CODES}: the link is locked")
                } else {
                    format!("wrong, expired or used code ({wrong} of {RELEASE_WRONG_CODES})")
                },
                serde_json::Value::Null,
            )
            .await?;
            Ok(if locked { gone() } else { AppError::WrongCode })
        }
        .await;
        let err = match outcome {
            Ok(e) => e,
            Err(e) => return e,
        };
        match tx.commit().await {
            Ok(()) => err,
            Err(e) => e.into(),
        }
    }

    /// Streams one released document to the recipient of a session on the link: the policy
    /// decides again (link live, code proved, limit, consent, agreement, walls, approved
    /// facts); the download is counted, logged and audited before any byte leaves.
    pub async fn release_download(
        &self,
        token: &str,
        session: &str,
        document: DocumentId,
        address: Option<std::net::IpAddr>,
        request_id: RequestId,
    ) -> Result<DocumentDownload, AppError> {
        let mut tx = self.store.begin().await?;
        let audit = Some((request_id, crate::vocabulary::ACTION_RELEASE_DOWNLOAD));
        let link = match self.live_link(&mut *tx, token, audit).await {
            Ok(l) => l,
            Err(e) => return Err(crate::reject(tx, e).await),
        };
        let now = self.now();
        let session_link = tx.release_session(&stored_hash(session), now).await?;
        let t = tx.transfer(link.transfer).await?.ok_or_else(gone)?;
        let g = self.gather(&mut *tx, &t).await?;
        let approvals = tx.approvals(t.id).await?;
        let print = fingerprint(&g);
        let facts = LinkFacts {
            released: t.status == TransferStatus::Released && approvals.len() >= 2,
            expires_at: link.expires_at,
            revoked: link.revoked.is_some(),
            downloads: link.downloads,
            download_limit: link.download_limit,
            code_verified: session_link == Some(link.id),
            fingerprint_matches: approvals.iter().all(|a| a.fingerprint == print),
        };
        // Only the recipient (the code proved) makes a void permanent, never a stranger's probe.
        if facts.code_verified {
            self.void_stale_release(&mut *tx, &t, facts.fingerprint_matches)
                .await?;
        }
        let Some((doc, _)) = g.documents.iter().find(|(d, _)| d.id == document) else {
            self.release_event(
                &mut *tx,
                request_id,
                &link,
                crate::vocabulary::ACTION_RELEASE_DOWNLOAD,
                Outcome::Deny,
                format!("document {document} is not part of this transfer"),
                serde_json::Value::Null,
            )
            .await?;
            return Err(crate::reject(tx, AppError::NotFound).await);
        };
        let resource = crate::facts::document_facts(doc, &g.matter);
        // The requester's context: firm policies about where a request comes from are about
        // the firm's people, not the recipient's network.
        let (principal, ctx) = &g.requester;
        let decision = decide_release(principal, &g.facts, &facts, &resource, ctx);
        let doc = doc.clone();
        let delivery = Delivery {
            link: &link,
            document: doc,
            address,
            request_id,
            actor: None,
        };
        self.deliver(tx, delivery, &g, decision).await
    }
}
