//! Handing out one released document, by link or to the recipient's own account: a refusal is
//! audited and answered; an allow is counted against the link's limit, logged with time and
//! address and audited before the first byte, then streamed and hashed, the SHA-256 of the
//! released bytes written to the register once every byte has left.

use crate::usecases::transfers::Gathered;
use crate::{App, AppError, AuditEvent, DocumentDownload, Tx};
use custos_audit::Outcome;
use custos_domain::{DocumentId, RequestId};
use custos_policy::Rule;
use custos_store::{DownloadRow, ReleaseLinkRow};

/// One document to hand out under a release.
pub(crate) struct Delivery<'a> {
    /// The release link (its limit and its log of downloads).
    pub(crate) link: &'a ReleaseLinkRow,
    /// The document.
    pub(crate) document: custos_store::DocumentRow,
    /// Where the request came from.
    pub(crate) address: Option<std::net::IpAddr>,
    /// The request.
    pub(crate) request_id: RequestId,
    /// The recipient's account, when they signed in (`None`: a link's session).
    pub(crate) actor: Option<custos_domain::PersonId>,
}

impl App {
    /// An approval given on other facts is void for good: when a download finds the facts
    /// changed since the approvals, the released transfer is voided (so it does not come back
    /// when the facts do, e.g. a wall lifted again) and its requester is told.
    pub(crate) async fn void_stale_release(
        &self,
        tx: &mut dyn custos_store::StoreTx,
        t: &custos_store::TransferRow,
        fingerprint_matches: bool,
    ) -> Result<(), AppError> {
        if fingerprint_matches || t.status != custos_store::TransferStatus::Released {
            return Ok(());
        }
        let why = "the facts changed since the approvals (consent, agreement, documents or \
                   walls): the approvals are void";
        let voided = tx
            .close_transfer(
                t.id,
                custos_store::TransferStatus::Released,
                custos_store::TransferStatus::Voided,
                Some(why),
                self.now(),
            )
            .await?;
        if voided {
            self.notify(
                tx,
                &[t.requester],
                t.id,
                crate::usecases::notices::Notice::Voided,
            )
            .await?;
        }
        Ok(())
    }

    /// Hands out one document of a release once the policy decided: a refusal (or the limit
    /// reached by a concurrent download) is audited and answered; an allow is counted, logged
    /// with time and address and audited before the first byte, then streamed and hashed.
    pub(crate) async fn deliver(
        &self,
        mut tx: Tx,
        d: Delivery<'_>,
        g: &Gathered,
        decision: custos_policy::Decision,
    ) -> Result<DocumentDownload, AppError> {
        let now = self.now();
        let document = d.document.id;
        let detail = serde_json::json!({
            "document": document.to_string(),
            "address": d.address.map(|a| a.to_string()),
        });
        // A concurrent download may have taken the last one: counting is the final check.
        let counted = decision.is_allowed() && tx.count_download(d.link.id).await?;
        let (outcome, rule, message) = if counted {
            tx.insert_download(
                d.link.id,
                &DownloadRow {
                    document,
                    at: now,
                    address: d.address.map(|a| a.to_string()),
                },
            )
            .await?;
            let words = format!("document {document} downloaded by the recipient");
            (Outcome::Allow, Rule::Release, words)
        } else {
            let reason = decision
                .reasons()
                .first()
                .map(|r| (r.rule, r.message.clone()))
                .filter(|_| !decision.is_allowed())
                .unwrap_or((Rule::Release, "the download limit is reached".to_owned()));
            (Outcome::Deny, reason.0, reason.1)
        };
        self.audit_event(
            &mut *tx,
            AuditEvent {
                request_id: d.request_id,
                actor: d.actor,
                action: crate::vocabulary::ACTION_RELEASE_DOWNLOAD,
                resource: format!("transfer:{}", d.link.transfer),
                outcome,
                rule: rule.code(),
                message: message.clone(),
                detail,
            },
        )
        .await?;
        tx.commit().await?;
        if !counted {
            return Err(if decision.conceals_existence() {
                AppError::NotFound
            } else {
                AppError::Forbidden {
                    rule: rule.code().to_owned(),
                    message,
                }
            });
        }
        let Some(permit) = decision.into_permit() else {
            return Err(AppError::Internal("an allow without a permit".to_owned()));
        };
        let download = self.stream_document(&permit, d.document, &g.matter).await?;
        let give_back = GiveBack {
            app: Some(self.clone()),
            left: download.document.size,
            link: d.link.id,
            transfer: d.link.transfer,
            document,
        };
        Ok(self.hashed(download, d.link.transfer, document, give_back))
    }

    /// The download, hashed as it streams: once every byte has left, the SHA-256 of the
    /// released bytes is written to the transfer register (a failure to write it is logged; the
    /// download itself was audited before it began).
    fn hashed(
        &self,
        download: DocumentDownload,
        transfer: custos_domain::TransferId,
        document: DocumentId,
        give_back: GiveBack,
    ) -> DocumentDownload {
        use futures_util::StreamExt;
        let app = self.clone();
        let state = (
            download.content,
            Some(custos_crypto::ContentHash::new()),
            app,
            give_back,
        );
        let content = futures_util::stream::unfold(state, move |(mut inner, mut hash, app, mut give_back)| async move {
            match inner.next().await {
                Some(Ok(bytes)) => {
                    if let Some(h) = hash.as_mut() {
                        h.update(&bytes);
                    }
                    // Once the last byte is handed out the download is used, whatever happens
                    // to the connection after (a client cannot take every byte, then reset the
                    // stream before its end to get the download back).
                    give_back.produced(bytes.len() as u64);
                    Some((Ok(bytes), (inner, hash, app, give_back)))
                }
                Some(Err(e)) => Some((Err(e), (inner, None, app, give_back))),
                None => {
                    // Every byte left: the download is used for good.
                    give_back.disarm();
                    if let Some(h) = hash.take() {
                        let hex = h.finish_hex();
                        if let Err(e) = app.record_released_hash(transfer, document, &hex).await {
                            tracing::error!(%transfer, %document, error = %e, "released hash not recorded");
                        }
                    }
                    None
                }
            }
        })
        .boxed();
        DocumentDownload {
            document: download.document,
            content,
        }
    }

    /// Gives back the download a cut connection (or a failed read) did not complete, and
    /// says so in the log; the limit still holds for parallel downloads, which counted first.
    async fn give_back_download(
        &self,
        link: custos_domain::ReleaseLinkId,
        transfer: custos_domain::TransferId,
        document: DocumentId,
    ) -> Result<(), AppError> {
        let mut tx = self.store.begin().await?;
        if tx.uncount_download(link).await? {
            self.audit_event(
                &mut *tx,
                AuditEvent {
                    request_id: RequestId::new(),
                    actor: None,
                    action: crate::vocabulary::ACTION_RELEASE_DOWNLOAD_INTERRUPTED,
                    resource: format!("transfer:{transfer}"),
                    outcome: Outcome::Allow,
                    rule: Rule::Release.code(),
                    message: format!(
                        "the download of document {document} did not complete: given back"
                    ),
                    detail: serde_json::json!({ "document": document.to_string() }),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn record_released_hash(
        &self,
        transfer: custos_domain::TransferId,
        document: DocumentId,
        hex: &str,
    ) -> Result<(), AppError> {
        let mut tx = self.store.begin().await?;
        tx.set_released_hash(transfer, document, hex).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// A counted download until every byte has left: dropped before that (the connection cut, a
/// read failed), it gives the download back.
struct GiveBack {
    /// `None` once the download completed.
    app: Option<App>,
    /// Bytes not yet handed out.
    left: u64,
    link: custos_domain::ReleaseLinkId,
    transfer: custos_domain::TransferId,
    document: DocumentId,
}

impl GiveBack {
    /// Every byte left: nothing to give back.
    fn disarm(&mut self) {
        self.app = None;
    }

    /// `n` more bytes were handed out; the last one disarms.
    fn produced(&mut self, n: u64) {
        self.left = self.left.saturating_sub(n);
        if self.left == 0 {
            self.disarm();
        }
    }
}

impl Drop for GiveBack {
    fn drop(&mut self) {
        let Some(app) = self.app.take() else {
            return;
        };
        let (link, transfer, document) = (self.link, self.transfer, self.document);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = app.give_back_download(link, transfer, document).await {
                    tracing::error!(%transfer, %document, error = %e, "an interrupted download was not given back");
                }
            });
        }
    }
}
