//! What a transfer looks like to those who take part in it: documents with their titles as
//! the viewer may see them, approvals, the link (never its token), downloads, and the checks
//! run now; and the register's CSV.

use crate::usecases::transfers::{Gathered, sealed_context};
use crate::{App, AppError};
use custos_domain::{
    ClientId, ConsentId, DocumentId, LegalBasis, MatterId, PersonId, ThirdPartyId, Timestamp,
    TransferId,
};
use custos_policy::{Action, Check, Context, Principal, Resource, Scope, check_transfer};
use custos_store::{ReleaseLinkRow, StoreTx, TransferRow};
use serde::Serialize;

/// One document of a transfer.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransferDocumentView {
    /// Document.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: DocumentId,
    /// Classification.
    pub classification: custos_domain::Classification,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 (hex) of the bytes the recipient downloaded, once downloaded.
    pub released_sha256: Option<String>,
    /// Its title, when the viewer may read it (absent: the viewer may see only that it
    /// exists, e.g. behind a wall or above their role's cap).
    pub title: Option<String>,
}

/// One approval.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApprovalView {
    /// Who.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub person: PersonId,
    /// `lead` or `officer`.
    pub slot: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
}

/// A release link (never its token).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkView {
    /// Its transfer.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub transfer: TransferId,
    /// Ends at.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub expires_at: Timestamp,
    /// Downloads allowed.
    pub download_limit: u32,
    /// Downloads so far.
    pub downloads: u32,
    /// Whether a passphrase is asked.
    pub passphrase: bool,
    /// Whether it still opens (not revoked, not expired).
    pub live: bool,
    /// When it was revoked.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub revoked_at: Option<Timestamp>,
    /// Why.
    pub revoke_reason: Option<String>,
}

/// One download by the recipient.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DownloadView {
    /// Document.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub document: DocumentId,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
    /// From which address.
    pub address: Option<String>,
}

/// A transfer with everything needed to decide on it, on one screen.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransferView {
    /// Id.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: TransferId,
    /// Matter.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub matter: MatterId,
    /// The matter's number.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub matter_number: custos_domain::MatterNumber,
    /// The matter's client.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub client: ClientId,
    /// Who asked.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub requester: PersonId,
    /// Recipient.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub recipient: ThirdPartyId,
    /// Recipient's name and organisation.
    pub recipient_name: String,
    /// Purpose label.
    pub purpose: String,
    /// Channel (`link`).
    pub channel: &'static str,
    /// The consent it rests on.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub consent: Option<ConsentId>,
    /// The legal basis of a disclosure without consent (flagged in the register).
    pub legal_basis: Option<LegalBasis>,
    /// Its reference.
    pub legal_reference: Option<String>,
    /// Whether the client is informed afterwards.
    pub inform_client: Option<bool>,
    /// The order or letter, a document of the matter.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub legal_order: Option<DocumentId>,
    /// Until when the order forbids informing the client.
    #[serde(with = "custos_domain::iso_date::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub forbidden_until: Option<custos_domain::Date>,
    /// When the client was told of the disclosure afterwards.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub client_informed_at: Option<Timestamp>,
    /// The client is owed word of this disclosure now (released on a legal basis, not yet
    /// told, and no order forbids it today).
    pub inform_due: bool,
    /// `pending`, `released`, `refused` or `voided`.
    pub status: &'static str,
    /// Why it was refused or voided.
    pub status_reason: Option<String>,
    /// Asked at.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub requested_at: Timestamp,
    /// Documents.
    pub documents: Vec<TransferDocumentView>,
    /// Approvals given.
    pub approvals: Vec<ApprovalView>,
    /// The checks, run now.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub checks: Vec<Check>,
    /// The link, once released.
    pub link: Option<LinkView>,
    /// Downloads so far.
    pub downloads: Vec<DownloadView>,
}

pub(crate) fn link_view(
    app: &App,
    l: &ReleaseLinkRow,
    now: Timestamp,
) -> Result<LinkView, AppError> {
    let context = crate::usecases::transfers::sealed_context("revoke_reason", l.id);
    Ok(LinkView {
        transfer: l.transfer,
        expires_at: l.expires_at,
        download_limit: l.download_limit,
        downloads: l.downloads,
        passphrase: l.passphrase_hash.is_some(),
        live: l.revoked.is_none() && l.expires_at > now,
        revoked_at: l.revoked.as_ref().map(|r| r.0),
        revoke_reason: l
            .revoked
            .as_ref()
            .map(|r| app.open_note(&context, &r.2))
            .transpose()?,
    })
}

/// Whether the client is owed word of a disclosure without consent on `today` (R13): released,
/// not yet told, and no order forbids it (any more).
pub(crate) fn inform_due(t: &TransferRow, today: custos_domain::Date) -> bool {
    t.status == custos_store::TransferStatus::Released
        && t.exception.as_ref().is_some_and(|e| {
            e.informed.is_none()
                && (e.inform_client || e.forbidden_until.is_some_and(|until| until < today))
        })
}

impl App {
    /// A transfer with its documents, approvals, link, downloads and the checks run now, its
    /// titles as `viewer` may see them.
    pub(crate) async fn transfer_view(
        &self,
        tx: &mut dyn StoreTx,
        id: TransferId,
        viewer: &(Principal, Context),
    ) -> Result<TransferView, AppError> {
        let t = tx.transfer(id).await?.ok_or(AppError::NotFound)?;
        let g = self.gather(tx, &t).await?;
        self.transfer_view_of(tx, t, g, viewer).await
    }

    /// The titles of a transfer's documents as `viewer` may see them: each decided like a
    /// listing of the matter's documents (walls, role caps, need-to-know); opened only under
    /// a full permit.
    fn titles_for(
        &self,
        g: &Gathered,
        viewer: &(Principal, Context),
    ) -> Result<Vec<Option<String>>, AppError> {
        let mut key = None;
        let mut out = Vec::with_capacity(g.documents.len());
        for (row, facts) in g.documents.iter().zip(&g.facts.documents) {
            let decision = Self::decide(
                &viewer.0,
                Action::ViewDocument,
                &Resource::Document(*facts),
                &viewer.1,
            );
            let Some(permit) = decision.permit().filter(|p| p.scope() == Scope::Full) else {
                out.push(None);
                continue;
            };
            if key.is_none() {
                key = Some(self.matter_key(permit, &g.matter)?);
            }
            let title = match &key {
                Some(k) => Some(crate::usecases::documents::open_title(
                    k,
                    row.0.id,
                    &row.0.sealed_title,
                )?),
                None => None,
            };
            out.push(title);
        }
        Ok(out)
    }

    /// [`App::transfer_view`] of a transfer whose facts are already gathered.
    pub(crate) async fn transfer_view_of(
        &self,
        tx: &mut dyn StoreTx,
        t: TransferRow,
        g: Gathered,
        viewer: &(Principal, Context),
    ) -> Result<TransferView, AppError> {
        let id = t.id;
        let titles = self.titles_for(&g, viewer)?;
        let inform_due = inform_due(&t, self.today(self.now()));
        let checks = check_transfer(&g.requester.0, &g.facts, &g.requester.1).checks;
        let approvals = tx.approvals(id).await?;
        let link = tx.link_of(id).await?;
        let downloads = match &link {
            Some(l) => tx.downloads(l.id).await?,
            None => Vec::new(),
        };
        let now = self.now();
        Ok(TransferView {
            id: t.id,
            matter: t.matter,
            matter_number: custos_domain::MatterNumber(g.matter.number),
            client: t.client,
            requester: t.requester,
            recipient: t.recipient,
            recipient_name: format!("{} ({})", g.recipient.name, g.recipient.organisation),
            purpose: t.purpose,
            channel: "link",
            consent: t.consent,
            legal_basis: t.exception.as_ref().map(|e| e.basis),
            legal_reference: t
                .exception
                .as_ref()
                .filter(|e| {
                    let today = self.today(now);
                    let told = e.inform_client && e.forbidden_until.is_none_or(|u| u < today);
                    let sight = custos_policy::TransferSight {
                        id: t.id,
                        requester: t.requester,
                        matter: crate::facts::matter_facts(&g.matter),
                    };
                    custos_policy::may_read_legal_reference(&viewer.0, &sight, told)
                })
                .map(|e| self.open_note(&sealed_context("legal_reference", t.id), &e.reference))
                .transpose()?,
            inform_client: t.exception.as_ref().map(|e| e.inform_client),
            legal_order: t.exception.as_ref().and_then(|e| e.order),
            forbidden_until: t.exception.as_ref().and_then(|e| e.forbidden_until),
            client_informed_at: t.exception.as_ref().and_then(|e| e.informed.map(|i| i.0)),
            inform_due,
            status: t.status.as_str(),
            status_reason: t
                .status_reason
                .map(|r| self.open_note(&sealed_context("status_reason", t.id), &r))
                .transpose()?,
            requested_at: t.requested_at,
            documents: g
                .documents
                .into_iter()
                .zip(titles)
                .map(|((d, sha), title)| TransferDocumentView {
                    id: d.id,
                    classification: d.classification,
                    size: d.size,
                    released_sha256: sha,
                    title,
                })
                .collect(),
            approvals: approvals
                .into_iter()
                .map(|a| ApprovalView {
                    person: a.person,
                    slot: a.slot,
                    at: a.at,
                })
                .collect(),
            checks,
            link: link.as_ref().map(|l| link_view(self, l, now)).transpose()?,
            downloads: downloads
                .into_iter()
                .map(|d| DownloadView {
                    document: d.document,
                    at: d.at,
                    address: d.address,
                })
                .collect(),
        })
    }
}
