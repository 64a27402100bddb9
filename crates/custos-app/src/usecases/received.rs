//! An outside recipient with their own account (`external` role, R11): they see the transfers
//! released to them while the release holds, and download each document under the same
//! decision as a release link's ([`custos_policy::decide_release_to_account`]: their own
//! active account stands in for the mailed code; link live, limit, consent, agreement, walls
//! and approved facts still apply). Nothing else of the firm is open to them.

use crate::usecases::delivery::Delivery;
use crate::usecases::release::ReleasedDocument;
use crate::usecases::transfers::fingerprint;
use crate::{App, AppError, Caller, DocumentDownload, reject};
use custos_domain::{DocumentId, Timestamp, TransferId};
use custos_policy::{Action, LinkFacts, Resource, decide_release_to_account};
use custos_store::{TransferFilter, TransferStatus};
use serde::Serialize;

/// A transfer released to the signed-in recipient.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReceivedView {
    /// The transfer.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub transfer: TransferId,
    /// Why it was sent (the purpose label).
    pub purpose: String,
    /// Until when it opens.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub expires_at: Timestamp,
    /// Downloads left.
    pub downloads_left: u32,
    /// The documents (ids, sizes, types).
    pub documents: Vec<ReleasedDocument>,
}

impl App {
    /// The transfers released to the caller's account whose link still opens, newest first.
    pub async fn received(&self, caller: &Caller) -> Result<Vec<ReceivedView>, AppError> {
        let tx = self.store.begin_read().await?;
        let (mut tx, _permit) = self
            .gate(tx, caller, Action::ReceiveTransfers, &Resource::Firm)
            .await?;
        let Some(me) = tx.third_party_of_person(caller.person).await? else {
            tx.commit().await?;
            return Ok(Vec::new());
        };
        let now = self.now();
        let mut out = Vec::new();
        let mut before = None;
        loop {
            let page = tx
                .list_transfers(TransferFilter::ReleasedTo(me.id), before, 200)
                .await?;
            before = page.last().map(|t| t.id);
            let done = page.len() < 200;
            for t in page {
                let Some(link) = tx.link_of(t.id).await? else {
                    continue;
                };
                if link.revoked.is_some() || link.expires_at <= now {
                    continue;
                }
                let documents = tx
                    .transfer_documents(t.id)
                    .await?
                    .into_iter()
                    .map(|(d, _)| ReleasedDocument {
                        id: d.id,
                        size: d.size,
                        media_type: d.media_type,
                    })
                    .collect();
                out.push(ReceivedView {
                    transfer: t.id,
                    purpose: t.purpose,
                    expires_at: link.expires_at,
                    downloads_left: link.download_limit.saturating_sub(link.downloads),
                    documents,
                });
            }
            if done {
                break;
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Streams one document of a transfer released to the caller's account. A transfer that
    /// is not theirs answers "not found"; every other refusal says which rule failed.
    pub async fn receive_document(
        &self,
        caller: &Caller,
        transfer: TransferId,
        document: DocumentId,
        address: Option<std::net::IpAddr>,
    ) -> Result<DocumentDownload, AppError> {
        let action = Action::ReceiveTransfers;
        let mut tx = self.store.begin().await?;
        let facts = self.facts(&mut *tx, caller, action).await?;
        let (mut tx, _permit) = self
            .gate_with(tx, caller, action, &Resource::Firm, &facts)
            .await?;
        let t = tx.transfer(transfer).await?;
        let link = match &t {
            Some(t) => tx.link_of(t.id).await?,
            None => None,
        };
        let (Some(t), Some(link)) = (t, link) else {
            return Err(reject(tx, AppError::NotFound).await);
        };
        let g = self.gather(&mut *tx, &t).await?;
        let Some((doc, _)) = g.documents.iter().find(|(d, _)| d.id == document) else {
            return Err(reject(tx, AppError::NotFound).await);
        };
        let approvals = tx.approvals(t.id).await?;
        let print = fingerprint(&g);
        let link_facts = LinkFacts {
            released: t.status == TransferStatus::Released && approvals.len() >= 2,
            expires_at: link.expires_at,
            revoked: link.revoked.is_some(),
            downloads: link.downloads,
            download_limit: link.download_limit,
            code_verified: false,
            fingerprint_matches: approvals.iter().all(|a| a.fingerprint == print),
        };
        // Only the transfer's own recipient makes a void permanent, never another account.
        let recipient = tx.third_party_of_person(caller.person).await?;
        if recipient.is_some_and(|r| r.id == t.recipient) {
            self.void_stale_release(&mut *tx, &t, link_facts.fingerprint_matches)
                .await?;
        }
        let resource = crate::facts::document_facts(doc, &g.matter);
        let (requester, ctx) = &g.requester;
        let decision =
            decide_release_to_account(&facts.0, requester, &g.facts, &link_facts, &resource, ctx);
        let delivery = Delivery {
            link: &link,
            document: doc.clone(),
            address,
            request_id: caller.request_id,
            actor: Some(caller.person),
        };
        self.deliver(tx, delivery, &g, decision).await
    }
}
