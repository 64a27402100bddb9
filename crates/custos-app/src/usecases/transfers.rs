//! External transfers (R12, R13): a request checked before any approval, two approvals by two
//! different people (neither the requester), the checks run again at each approval; the second
//! approval releases the transfer as an expiring link mailed to the named recipient.

use crate::facts::{document_facts, matter_facts};
use crate::usecases::consents::bounded_text;
use crate::usecases::notices::Notice;
use crate::usecases::transfer_views::TransferView;
use crate::{App, AppError, AuditEvent, Caller, Tx, reject};
use custos_audit::Outcome;
use custos_domain::{
    ConsentId, Date, DocumentId, LegalBasis, MatterId, ThirdPartyId, TransferId, iso_date, purpose,
};
use custos_policy::{
    Action, Basis, ConsentFacts, Context, Principal, RecipientFacts, Resource, Rule, TransferCheck,
    TransferFacts, check_transfer,
};
use custos_store::{
    ConsentRow, ExceptionRow, MatterRow, StoreTx, ThirdPartyRow, TransferRow, TransferStatus,
};
use serde::Deserialize;
use zeroize::Zeroizing;

/// Most documents one transfer may carry.
pub const MAX_TRANSFER_DOCUMENTS: usize = 1000;

/// A disclosure without consent (R13).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewException {
    /// The legal basis.
    pub basis: LegalBasis,
    /// The order's or request's reference.
    pub reference: String,
    /// The order (or the regulator's letter), uploaded as a document of the matter; required
    /// for a court order.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    #[serde(default)]
    pub order: Option<DocumentId>,
    /// Whether the client is informed afterwards (`false`: the order forbids it).
    pub inform_client: bool,
    /// Until when the order forbids informing the client.
    #[serde(default, with = "iso_date::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub forbidden_until: Option<Date>,
}

/// A transfer to ask for (or to check first).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewTransfer {
    /// The matter the documents come from.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub matter: MatterId,
    /// The recipient.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub recipient: ThirdPartyId,
    /// Why (a purpose label the consent names, e.g. `expert_report`).
    #[cfg_attr(feature = "openapi", schema(pattern = "^[a-z][a-z0-9_]{1,47}$"))]
    pub purpose: String,
    /// The documents (1 to 1,000, all of the matter).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>, min_items = 1, max_items = 1000))]
    pub documents: Vec<DocumentId>,
    /// The consent it rests on...
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    #[serde(default)]
    pub consent: Option<ConsentId>,
    /// ...or the legal exception.
    #[serde(default)]
    pub exception: Option<NewException>,
    /// Days the link lasts (default 7, at most 30).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 30))]
    #[serde(default)]
    pub link_days: Option<u32>,
    /// Downloads the link allows (default 3, at most 100).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100))]
    #[serde(default)]
    pub download_limit: Option<u32>,
    /// A passphrase agreed with the recipient out of band (8 to 128 characters).
    #[serde(default)]
    pub passphrase: Option<String>,
}

/// A refusal or a revocation.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WithReason {
    /// Why (shown on the transfer).
    pub reason: String,
}

/// Which transfers to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferList {
    /// The register (officer and partners): every transfer, or those the filter keeps.
    Register(RegisterFilter),
    /// Those waiting for an approval the caller may give.
    Queue,
    /// The caller's own requests.
    Mine,
}

/// The register's filters; each one left out keeps everything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RegisterFilter {
    /// One client's transfers.
    pub client: Option<custos_domain::ClientId>,
    /// One recipient's.
    pub recipient: Option<ThirdPartyId>,
    /// Asked on or after this day (UTC).
    pub from: Option<Date>,
    /// Asked on or before this day (UTC).
    pub until: Option<Date>,
    /// Only disclosures without consent whose client is owed word of them now (R13).
    pub inform_due: bool,
}

impl RegisterFilter {
    /// The store's filter (days as UTC half-open time ranges).
    pub(crate) fn store(&self) -> Result<custos_store::TransferFilter, AppError> {
        if let (Some(from), Some(until)) = (self.from, self.until)
            && until < from
        {
            return Err(AppError::BadInput(
                "the range ends before it begins (from must be on or before until)".to_owned(),
            ));
        }
        let midnight = |d: Date| d.midnight().assume_utc();
        Ok(custos_store::TransferFilter::Register {
            client: self.client,
            recipient: self.recipient,
            from: self.from.map(midnight),
            until: self.until.and_then(|d| d.next_day()).map(midnight),
            uninformed: self.inform_due,
        })
    }
}

/// The facts of a transfer gathered in one unit of work.
pub(crate) struct Gathered {
    pub(crate) facts: TransferFacts,
    pub(crate) recipient: ThirdPartyRow,
    pub(crate) matter: MatterRow,
    pub(crate) requester: (Principal, Context),
    pub(crate) documents: Vec<(custos_store::DocumentRow, Option<String>)>,
}

pub(crate) fn consent_facts(c: &ConsentRow) -> ConsentFacts {
    ConsentFacts {
        id: c.id,
        client: c.client,
        purposes: c.purposes.clone(),
        recipient: c.recipient,
        category: c.category,
        matters: c.matters.clone(),
        given_on: c.given_on,
        expires_on: c.expires_on,
        revoked: c.revoked.is_some(),
    }
}

/// The SHA-256 (hex) a secret (link token, code, session) or a fingerprint is stored as.
pub(crate) fn stored_hash(text: &str) -> String {
    hex::encode(custos_crypto::token_hash(text))
}

pub(crate) fn fingerprint(g: &Gathered) -> String {
    stored_hash(&g.facts.fingerprint(&g.requester.1.walls))
}

/// What a sealed free text of a transfer (a legal reference, a refusal's or revocation's
/// reason) is bound to: its kind and its record's id.
pub(crate) fn sealed_context(what: &str, id: impl std::fmt::Display) -> String {
    format!("transfer.{what}:{id}")
}

impl App {
    /// Everything the checks of a stored transfer depend on, read now.
    pub(crate) async fn gather(
        &self,
        tx: &mut dyn StoreTx,
        t: &TransferRow,
    ) -> Result<Gathered, AppError> {
        let missing = || AppError::Internal("a transfer's record vanished".to_owned());
        let matter = tx.matter(t.matter).await?.ok_or_else(missing)?;
        let recipient = self
            .recipient(&mut *tx, t.recipient)
            .await?
            .ok_or_else(missing)?;
        let basis = match (&t.consent, &t.exception) {
            (Some(c), _) => {
                Basis::Consent(consent_facts(&tx.consent(*c).await?.ok_or_else(missing)?))
            }
            (None, Some(e)) => Basis::Exception(e.basis),
            (None, None) => Basis::None,
        };
        let documents = tx.transfer_documents(t.id).await?;
        let requester = self.principal_context(tx, t.requester).await?;
        let facts = TransferFacts {
            matter: matter_facts(&matter),
            recipient: self.recipient_facts(tx, &recipient).await?,
            purpose: t.purpose.clone(),
            basis,
            documents: documents
                .iter()
                .map(|(d, _)| document_facts(d, &matter))
                .collect(),
        };
        Ok(Gathered {
            facts,
            recipient,
            matter,
            requester,
            documents,
        })
    }

    pub(crate) async fn recipient_facts(
        &self,
        tx: &mut dyn StoreTx,
        r: &ThirdPartyRow,
    ) -> Result<RecipientFacts, AppError> {
        let walls = match r.person {
            Some(p) => self.principal_context(tx, p).await?.1.walls,
            None => Vec::new(),
        };
        Ok(RecipientFacts {
            id: r.id,
            category: r.category,
            address_verified: r.verified.is_some(),
            agreement_signed_on: r.agreement_signed_on,
            agreement_expires_on: r.agreement_expires_on,
            person: r.person,
            walls,
        })
    }

    /// Checks a transfer before it is asked for: what the request form shows.
    pub async fn check_transfer(
        &self,
        caller: &Caller,
        input: NewTransfer,
    ) -> Result<TransferCheck, AppError> {
        let (tx, _, check) = self.prepare_transfer(caller, &input).await?;
        tx.commit().await?;
        Ok(check)
    }

    /// Asks for a transfer: refused unless every check holds; then it waits for its two
    /// approvals.
    pub async fn request_transfer(
        &self,
        caller: &Caller,
        input: NewTransfer,
    ) -> Result<TransferView, AppError> {
        let passphrase = match input.passphrase.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(p) if p.chars().any(char::is_control) => {
                return Err(AppError::BadInput(
                    "passphrase may not contain control characters".to_owned(),
                ));
            }
            Some(p) if (8..=128).contains(&p.chars().count()) => {
                Some(self.passwords.hash(Zeroizing::new(p.to_owned())).await?)
            }
            Some(_) => {
                return Err(AppError::BadInput(
                    "passphrase must be 8 to 128 characters".to_owned(),
                ));
            }
        };
        let (mut tx, row, check) = self.prepare_transfer(caller, &input).await?;
        if let Some(failed) = check.first_failure() {
            let message = format!("the transfer cannot be asked for: {}", failed.message);
            self.audit_event(
                &mut *tx,
                AuditEvent {
                    request_id: caller.request_id,
                    actor: Some(caller.person),
                    action: Action::RequestTransfer.as_str(),
                    resource: format!("matter:{}", input.matter),
                    outcome: Outcome::Deny,
                    rule: failed.rule.code(),
                    message: message.clone(),
                    detail: serde_json::json!({ "recipient": input.recipient.to_string() }),
                },
            )
            .await?;
            tx.commit().await?;
            return Err(AppError::Forbidden {
                rule: failed.rule.code().to_owned(),
                message,
            });
        }
        let mut row = TransferRow {
            passphrase_hash: passphrase,
            ..row
        };
        // The legal-exception reference may name the client or the case: sealed at rest.
        if let Some(e) = row.exception.as_mut() {
            e.reference =
                self.seal_note(&sealed_context("legal_reference", row.id), &e.reference)?;
        }
        tx.insert_transfer(&row, &input.documents).await?;
        let rule = if row.exception.is_some() {
            Rule::LegalException
        } else {
            Rule::Consent
        };
        self.audit_event(
            &mut *tx,
            AuditEvent {
                request_id: caller.request_id,
                actor: Some(caller.person),
                action: crate::vocabulary::ACTION_TRANSFER_CREATE,
                resource: format!("transfer:{}", row.id),
                outcome: Outcome::Allow,
                rule: rule.code(),
                message: format!(
                    "transfer of {} document(s) of matter {} to recipient {} for `{}` asked; \
                     it waits for two approvals",
                    input.documents.len(),
                    row.matter,
                    row.recipient,
                    row.purpose
                ),
                detail: serde_json::json!({
                    "matter": row.matter.to_string(),
                    "legal_exception": row.exception.as_ref().map(|e| e.basis.as_str()),
                }),
            },
        )
        .await?;
        let g = self.gather(&mut *tx, &row).await?;
        let a = self.approval_facts(&mut *tx, &row, &g).await?;
        let approvers = self.approvers_of(&mut *tx, &g, &a).await?;
        self.notify(&mut *tx, &approvers, row.id, Notice::ApprovalWaiting)
            .await?;
        // The caller is the requester: the facts just gathered are the viewer's.
        let viewer = g.requester.clone();
        let view = self.transfer_view_of(&mut *tx, row, g, &viewer).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Validates a request, gates it (`RequestTransfer` on the matter) and runs the checks.
    async fn prepare_transfer(
        &self,
        caller: &Caller,
        input: &NewTransfer,
    ) -> Result<(Tx, TransferRow, TransferCheck), AppError> {
        let purpose = purpose(&input.purpose)?;
        let link_days = input.link_days.unwrap_or(7);
        let download_limit = input.download_limit.unwrap_or(3);
        let mut problems = Vec::new();
        if !(1..=30).contains(&link_days) {
            problems.push("link_days must be 1 to 30".to_owned());
        }
        if !(1..=100).contains(&download_limit) {
            problems.push("download_limit must be 1 to 100".to_owned());
        }
        let mut unique = input.documents.clone();
        unique.sort();
        unique.dedup();
        if unique.is_empty() || unique.len() != input.documents.len() {
            problems.push("name each document once, at least one".to_owned());
        }
        if input.documents.len() > MAX_TRANSFER_DOCUMENTS {
            problems.push(format!(
                "at most {MAX_TRANSFER_DOCUMENTS} documents per transfer"
            ));
        }
        let exception = match (&input.consent, &input.exception) {
            (Some(_), Some(_)) | (None, None) => {
                problems.push("name either a consent or a legal exception".to_owned());
                None
            }
            (Some(_), None) => None,
            (None, Some(e)) => {
                if e.basis == LegalBasis::CourtOrder && e.order.is_none() {
                    problems.push("a court order is uploaded and named as `order`".to_owned());
                }
                if e.forbidden_until
                    .is_some_and(|u| u < self.today(self.now()))
                {
                    problems.push(
                        "forbidden_until is a day to come: an order that no longer forbids \
                         informing the client forbids nothing"
                            .to_owned(),
                    );
                }
                if e.inform_client && e.forbidden_until.is_some() {
                    problems.push(
                        "forbidden_until is only for an order that forbids informing the client"
                            .to_owned(),
                    );
                }
                Some(ExceptionRow {
                    basis: e.basis,
                    reference: bounded_text("reference", &e.reference, 500)?,
                    order: e.order,
                    inform_client: e.inform_client,
                    forbidden_until: e.forbidden_until,
                    informed: None,
                })
            }
        };
        if !problems.is_empty() {
            return Err(AppError::BadInput(problems.join("; ")));
        }
        let action = Action::RequestTransfer;
        let mut tx = self.store.begin().await?;
        let loaded = tx.matter(input.matter).await?;
        let (mut tx, matter) = self
            .found(
                tx,
                caller,
                action,
                || format!("matter:{}", input.matter),
                loaded,
            )
            .await?;
        let facts = self.facts(&mut *tx, caller, action).await?;
        let resource = Resource::Matter(matter_facts(&matter));
        let (mut tx, _permit) = self
            .gate_with(tx, caller, action, &resource, &facts)
            .await?;
        let Some(recipient) = self.recipient(&mut *tx, input.recipient).await? else {
            let e = AppError::UnknownReference(format!("no recipient {}", input.recipient));
            return Err(reject(tx, e).await);
        };
        let basis = match input.consent {
            Some(c) => match tx.consent(c).await? {
                Some(row) => Basis::Consent(consent_facts(&row)),
                None => {
                    let e = AppError::UnknownReference(format!("no consent {c}"));
                    return Err(reject(tx, e).await);
                }
            },
            None => exception
                .as_ref()
                .map_or(Basis::None, |e| Basis::Exception(e.basis)),
        };
        let on_matter = tx.matter_documents(matter.id).await?;
        let mut documents = Vec::with_capacity(unique.len());
        for id in &input.documents {
            match on_matter.binary_search_by(|d| d.id.cmp(id)) {
                Ok(i) => documents.push(document_facts(&on_matter[i], &matter)),
                Err(_) => {
                    let e = AppError::UnknownReference(format!(
                        "document {id} is not a document of this matter"
                    ));
                    return Err(reject(tx, e).await);
                }
            }
        }
        if let Some(order) = exception.as_ref().and_then(|e| e.order)
            && on_matter.binary_search_by(|d| d.id.cmp(&order)).is_err()
        {
            let e = AppError::UnknownReference(format!(
                "the order {order} is not a document of this matter"
            ));
            return Err(reject(tx, e).await);
        }
        let transfer = TransferFacts {
            matter: matter_facts(&matter),
            recipient: self.recipient_facts(&mut *tx, &recipient).await?,
            purpose: purpose.clone(),
            basis,
            documents,
        };
        let check = check_transfer(&facts.0, &transfer, &facts.1);
        let row = TransferRow {
            id: TransferId::new(),
            matter: matter.id,
            client: matter.client,
            requester: caller.person,
            recipient: recipient.id,
            purpose,
            consent: input.consent,
            exception,
            status: TransferStatus::Pending,
            status_reason: None,
            link_days,
            download_limit,
            passphrase_hash: None,
            requested_at: self.now(),
            closed_at: None,
        };
        Ok((tx, row, check))
    }
}
