//! Consents (R10): recorded, shown, revoked. A revocation takes
//! effect at once: the transfers resting on the consent are voided in the same unit of work,
//! and their links stop on the next request.

use crate::facts::client_facts;
use crate::{App, AppError, AuditEvent, Caller, reject};
use custos_audit::Outcome;
use custos_domain::{
    ClientId, ConsentId, Date, DocumentId, MatterId, PersonId, RecipientCategory, ThirdPartyId,
    Timestamp, iso_date, purpose,
};
use custos_policy::{Action, Resource, Rule};
use custos_store::ConsentRow;
use serde::{Deserialize, Serialize};

/// A consent to record.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewConsent {
    /// Purpose labels it allows (e.g. `expert_report`).
    pub purposes: Vec<String>,
    /// The recipient it names...
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    #[serde(default)]
    pub recipient: Option<ThirdPartyId>,
    /// ...or the category of recipients it allows.
    #[serde(default)]
    pub category: Option<RecipientCategory>,
    /// Matters it covers; empty: every matter of the client.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    #[serde(default)]
    pub matters: Vec<MatterId>,
    /// The signed consent, uploaded as a document of one of the client's matters; absent:
    /// electronic acceptance.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    #[serde(default)]
    pub document: Option<DocumentId>,
    /// The day it was given.
    #[serde(with = "iso_date")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub given_on: Date,
    /// Its last valid day.
    #[serde(default, with = "iso_date::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub expires_on: Option<Date>,
}

/// A consent as shown.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsentView {
    /// Id.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: ConsentId,
    /// Whose.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub client: ClientId,
    /// Purposes.
    pub purposes: Vec<String>,
    /// Recipient named.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub recipient: Option<ThirdPartyId>,
    /// Category allowed.
    pub category: Option<RecipientCategory>,
    /// Matters covered (empty: all).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub matters: Vec<MatterId>,
    /// `written` or `electronic`.
    pub form: &'static str,
    /// The signed copy.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub document: Option<DocumentId>,
    /// Given on.
    #[serde(with = "iso_date")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub given_on: Date,
    /// Last valid day.
    #[serde(with = "iso_date::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub expires_on: Option<Date>,
    /// Whether it is in force today.
    pub in_force: bool,
    /// When it was revoked.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub revoked_at: Option<Timestamp>,
    /// Why.
    pub revoke_reason: Option<String>,
    /// Recorded by.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub recorded_by: PersonId,
}

/// Free text of at least one character and at most `max`.
pub(crate) fn bounded_text(field: &'static str, raw: &str, max: usize) -> Result<String, AppError> {
    super::checked_text(field, raw, 1, max)
}

pub(crate) fn consent_in_force(c: &ConsentRow, today: Date) -> bool {
    c.revoked.is_none() && c.given_on <= today && c.expires_on.is_none_or(|u| u >= today)
}

/// What a consent's sealed revocation reason is bound to.
fn revoke_reason_context(id: ConsentId) -> String {
    format!("consent.revoke_reason:{id}")
}

fn consent_view(app: &App, c: ConsentRow, today: Date) -> Result<ConsentView, AppError> {
    let context = revoke_reason_context(c.id);
    Ok(ConsentView {
        in_force: consent_in_force(&c, today),
        id: c.id,
        client: c.client,
        purposes: c.purposes,
        recipient: c.recipient,
        category: c.category,
        matters: c.matters,
        form: if c.document.is_some() {
            "written"
        } else {
            "electronic"
        },
        document: c.document,
        given_on: c.given_on,
        expires_on: c.expires_on,
        revoked_at: c.revoked.as_ref().map(|r| r.0),
        revoke_reason: c
            .revoked
            .map(|r| app.open_note(&context, &r.2))
            .transpose()?,
        recorded_by: c.recorded_by,
    })
}

/// The most purposes one consent may name (the vocabulary is short; a longer list is a
/// mistake, not a consent).
const MAX_PURPOSES: usize = 20;

impl App {
    /// Records a client's consent (R10). The caller acts for the client (or is the officer);
    /// a written consent's signed copy is a document of one of the client's matters; named
    /// matters are the client's; a named recipient exists.
    pub async fn record_consent(
        &self,
        caller: &Caller,
        client: ClientId,
        input: NewConsent,
    ) -> Result<ConsentView, AppError> {
        let action = Action::ManageConsents;
        let mut tx = self.store.begin().await?;
        let loaded = tx.client(client).await?;
        let (mut tx, row) = self
            .found(tx, caller, action, || format!("client:{client}"), loaded)
            .await?;
        let facts = client_facts(&mut *tx, &row).await?;
        let resource = Resource::Client(facts.clone());
        let (mut tx, _permit) = self.gate(tx, caller, action, &resource).await?;
        let now = self.now();
        let today = self.today(now);
        if input.purposes.len() > MAX_PURPOSES {
            let e = AppError::BadInput(format!(
                "a consent names at most {MAX_PURPOSES} purposes ({} given)",
                input.purposes.len()
            ));
            return Err(reject(tx, e).await);
        }
        let mut purposes = Vec::new();
        for p in &input.purposes {
            match purpose(p) {
                Ok(p) if !purposes.contains(&p) => purposes.push(p),
                Ok(_) => {}
                Err(e) => return Err(reject(tx, e.into()).await),
            }
        }
        let problem = if purposes.is_empty() {
            Some("a consent names at least one purpose".to_owned())
        } else if input.recipient.is_none() && input.category.is_none() {
            Some("a consent names a recipient or a category of recipients".to_owned())
        } else if input.recipient.is_some() && input.category.is_some() {
            Some("a consent names a recipient or a category of recipients, not both".to_owned())
        } else if input.given_on > today {
            Some("a consent cannot be given in the future".to_owned())
        } else if input.expires_on.is_some_and(|u| u < input.given_on) {
            Some("a consent cannot expire before it is given".to_owned())
        } else if let Some(u) = input.expires_on.filter(|u| *u < today) {
            Some(format!(
                "this consent expired on {}: only a consent in force is recorded",
                custos_domain::iso(u)
            ))
        } else {
            input
                .matters
                .iter()
                .find(|m| !facts.matters.iter().any(|f| f.id == **m))
                .map(|m| format!("matter {m} is not a matter of this client"))
        };
        if let Some(problem) = problem {
            return Err(reject(tx, AppError::BadInput(problem)).await);
        }
        if let Some(r) = input.recipient
            && tx.third_party(r).await?.is_none()
        {
            let e = AppError::UnknownReference(format!("no recipient {r}"));
            return Err(reject(tx, e).await);
        }
        if let Some(d) = input.document {
            let on_client = tx
                .document_with_matter(d)
                .await?
                .is_some_and(|(_, m)| m.client == client);
            if !on_client {
                let e = AppError::UnknownReference(format!(
                    "document {d} is not a document of this client's matters"
                ));
                return Err(reject(tx, e).await);
            }
        }
        let stored = ConsentRow {
            id: ConsentId::new(),
            client,
            purposes,
            recipient: input.recipient,
            category: if input.recipient.is_some() {
                None
            } else {
                input.category
            },
            matters: input.matters,
            document: input.document,
            given_on: input.given_on,
            expires_on: input.expires_on,
            recorded_by: caller.person,
            recorded_at: now,
            revoked: None,
        };
        tx.insert_consent(&stored).await?;
        self.audit_event(
            &mut *tx,
            AuditEvent {
                request_id: caller.request_id,
                actor: Some(caller.person),
                action: crate::vocabulary::ACTION_CONSENT_RECORD,
                resource: format!("consent:{}", stored.id),
                outcome: Outcome::Allow,
                rule: Rule::Consent.code(),
                message: format!(
                    "consent of client {client} recorded ({}) for {}",
                    if stored.document.is_some() {
                        "written"
                    } else {
                        "electronic"
                    },
                    stored.purposes.join(", ")
                ),
                detail: serde_json::json!({ "client": client.to_string() }),
            },
        )
        .await?;
        tx.commit().await?;
        consent_view(self, stored, today)
    }

    /// A client's consents, for those who may see the client in full.
    pub async fn list_consents(
        &self,
        caller: &Caller,
        client: ClientId,
    ) -> Result<Vec<ConsentView>, AppError> {
        let action = Action::ManageConsents;
        // Only reads: a snapshot that neither waits for writers nor blocks them.
        let mut tx = self.store.begin_read().await?;
        let loaded = tx.client(client).await?;
        let (mut tx, row) = self
            .found(tx, caller, action, || format!("client:{client}"), loaded)
            .await?;
        let facts = client_facts(&mut *tx, &row).await?;
        let (mut tx, _permit) = self
            .gate(tx, caller, action, &Resource::Client(facts))
            .await?;
        let today = self.today(self.now());
        let rows = tx.client_consents(client).await?;
        tx.commit().await?;
        rows.into_iter()
            .map(|c| consent_view(self, c, today))
            .collect()
    }

    /// Revokes a consent at once: every transfer pending or released on it is voided in the
    /// same unit of work (its link stops on the next request), each audited.
    pub async fn revoke_consent(
        &self,
        caller: &Caller,
        id: ConsentId,
        reason: &str,
    ) -> Result<ConsentView, AppError> {
        let action = Action::ManageConsents;
        let reason = bounded_text("reason", reason, 2000)?;
        let mut tx = self.store.begin().await?;
        let loaded = match tx.consent(id).await? {
            Some(c) => tx.client(c.client).await?.map(|row| (c, row)),
            None => None,
        };
        let (mut tx, (_, client)) = self
            .found(tx, caller, action, || format!("consent:{id}"), loaded)
            .await?;
        let facts = client_facts(&mut *tx, &client).await?;
        let (mut tx, _permit) = self
            .gate(tx, caller, action, &Resource::Client(facts))
            .await?;
        let now = self.now();
        let sealed = self.seal_note(&revoke_reason_context(id), &reason)?;
        if !tx.revoke_consent(id, caller.person, now, &sealed).await? {
            let e = AppError::Conflict("this consent was already revoked".to_owned());
            return Err(reject(tx, e).await);
        }
        let affected = tx.open_transfers_on_consent(id).await?;
        self.audit_event(
            &mut *tx,
            AuditEvent {
                request_id: caller.request_id,
                actor: Some(caller.person),
                action: crate::vocabulary::ACTION_CONSENT_REVOKE,
                resource: format!("consent:{id}"),
                outcome: Outcome::Allow,
                rule: Rule::Consent.code(),
                message: format!(
                    "consent revoked; {} transfer(s) resting on it voided",
                    affected.len()
                ),
                detail: serde_json::json!({ "client": client.id.to_string() }),
            },
        )
        .await?;
        for t in affected {
            let why = format!("consent {id} was revoked: {reason}");
            let why = self.seal_note(
                &crate::usecases::transfers::sealed_context("status_reason", t.id),
                &why,
            )?;
            // Pending or released, whichever it is once a concurrent approval committed.
            tx.void_transfer(t.id, &why, now).await?;
            self.notify(
                &mut *tx,
                &[t.requester],
                t.id,
                crate::usecases::notices::Notice::Voided,
            )
            .await?;
            if let Some(link) = tx.link_of(t.id).await? {
                tx.revoke_link(link.id, None, now, "the consent was revoked")
                    .await?;
            }
            self.audit_event(
                &mut *tx,
                AuditEvent {
                    request_id: caller.request_id,
                    actor: Some(caller.person),
                    action: crate::vocabulary::ACTION_TRANSFER_VOID,
                    resource: format!("transfer:{}", t.id),
                    outcome: Outcome::Deny,
                    rule: Rule::Consent.code(),
                    message: format!("voided: consent {id} was revoked"),
                    detail: serde_json::json!({ "consent": id.to_string() }),
                },
            )
            .await?;
        }
        let row = tx
            .consent(id)
            .await?
            .ok_or_else(|| AppError::Internal("revoked consent vanished".to_owned()))?;
        tx.commit().await?;
        consent_view(self, row, self.today(now))
    }
}
