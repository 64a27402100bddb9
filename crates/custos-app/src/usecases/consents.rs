//! Consents (R10) and outside recipients (R11): recorded, shown, revoked. A revocation takes
//! effect at once: the transfers resting on the consent are voided in the same unit of work,
//! and their links stop on the next request.

use crate::facts::client_facts;
use crate::{App, AppError, AuditEvent, Caller, reject};
use custos_audit::Outcome;
use custos_domain::{
    ClientId, ConsentId, Date, DocumentId, MatterId, PersonId, RecipientCategory, ThirdPartyId,
    Timestamp, email_address, iso_date, purpose,
};
use custos_policy::{Action, Resource, Rule};
use custos_store::{ConsentRow, ThirdPartyRow};
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

/// An outside recipient to register.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewThirdParty {
    /// Name.
    pub name: String,
    /// Organisation.
    pub organisation: String,
    /// Kind of party.
    pub category: RecipientCategory,
    /// Contact address (one-time codes go there once it is verified).
    pub email: String,
}

/// A recipient's agreement, or the verification of their address.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ThirdPartyUpdate {
    /// The day they signed their confidentiality agreement.
    #[serde(default, with = "iso_date::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub agreement_signed_on: Option<Date>,
    /// Its last valid day.
    #[serde(default, with = "iso_date::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub agreement_expires_on: Option<Date>,
    /// SHA-256 (hex) of the signed agreement kept on file.
    #[serde(default)]
    pub agreement_sha256: Option<String>,
    /// How the address was verified (e.g. "called the expert's office, read back the
    /// address"): records the address as verified.
    #[serde(default)]
    pub address_verified_how: Option<String>,
}

/// An outside recipient as shown.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ThirdPartyView {
    /// Id.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: ThirdPartyId,
    /// Name.
    pub name: String,
    /// Organisation.
    pub organisation: String,
    /// Kind.
    pub category: RecipientCategory,
    /// Address.
    pub email: String,
    /// Whether the address was verified.
    pub address_verified: bool,
    /// How.
    pub verified_how: Option<String>,
    /// Agreement signed on.
    #[serde(with = "iso_date::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub agreement_signed_on: Option<Date>,
    /// Its last valid day.
    #[serde(with = "iso_date::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub agreement_expires_on: Option<Date>,
    /// Whether the agreement is in force today.
    pub agreement_in_force: bool,
}

/// Free text of at least one character and at most `max`.
pub(crate) fn bounded_text(field: &'static str, raw: &str, max: usize) -> Result<String, AppError> {
    super::checked_text(field, raw, 1, max)
}

fn sha256_hex(raw: Option<&str>) -> Result<Option<String>, AppError> {
    raw.map(|h| {
        let h = h.trim().to_ascii_lowercase();
        if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(h)
        } else {
            Err(AppError::BadInput(
                "agreement_sha256 must be 64 hexadecimal digits".to_owned(),
            ))
        }
    })
    .transpose()
}

pub(crate) fn consent_in_force(c: &ConsentRow, today: Date) -> bool {
    c.revoked.is_none() && c.given_on <= today && c.expires_on.is_none_or(|u| u >= today)
}

pub(crate) fn agreement_in_force(t: &ThirdPartyRow, today: Date) -> bool {
    t.agreement_signed_on.is_some_and(|s| s <= today)
        && t.agreement_expires_on.is_none_or(|u| u >= today)
}

fn consent_view(c: ConsentRow, today: Date) -> ConsentView {
    ConsentView {
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
        revoke_reason: c.revoked.map(|r| r.2),
        recorded_by: c.recorded_by,
    }
}

pub(crate) fn third_party_view(t: ThirdPartyRow, today: Date) -> ThirdPartyView {
    ThirdPartyView {
        agreement_in_force: agreement_in_force(&t, today),
        id: t.id,
        name: t.name,
        organisation: t.organisation,
        category: t.category,
        email: t.email,
        address_verified: t.verified.is_some(),
        verified_how: t.verified.map(|v| v.2),
        agreement_signed_on: t.agreement_signed_on,
        agreement_expires_on: t.agreement_expires_on,
    }
}

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
        } else if input.given_on > today {
            Some("a consent cannot be given in the future".to_owned())
        } else if input.expires_on.is_some_and(|u| u < input.given_on) {
            Some("a consent cannot expire before it is given".to_owned())
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
        Ok(consent_view(stored, today))
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
        Ok(rows.into_iter().map(|c| consent_view(c, today)).collect())
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
        if !tx.revoke_consent(id, caller.person, now, &reason).await? {
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
            // Pending or released, whichever it is once a concurrent approval committed.
            tx.void_transfer(t.id, &why, now).await?;
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
        Ok(consent_view(row, self.today(now)))
    }

    /// Registers an outside recipient (R11). Their address is not verified and no agreement
    /// is on file until recorded.
    pub async fn create_third_party(
        &self,
        caller: &Caller,
        input: NewThirdParty,
    ) -> Result<ThirdPartyView, AppError> {
        let name = bounded_text("name", &input.name, 200)?;
        let organisation = bounded_text("organisation", &input.organisation, 200)?;
        let email = email_address(&input.email)?;
        let tx = self.store.begin().await?;
        let (mut tx, _permit) = self
            .gate(tx, caller, Action::ManageThirdParties, &Resource::Firm)
            .await?;
        let now = self.now();
        let row = ThirdPartyRow {
            id: ThirdPartyId::new(),
            name,
            organisation,
            category: input.category,
            email,
            verified: None,
            agreement_signed_on: None,
            agreement_expires_on: None,
            agreement_sha256: None,
            person: None,
            created_by: caller.person,
            created_at: now,
        };
        if let Err(e) = tx.insert_third_party(&row).await {
            let e = match e {
                custos_store::StoreError::Conflict(_) => AppError::Conflict(
                    "a recipient with this address is already registered".to_owned(),
                ),
                e => e.into(),
            };
            return Err(reject(tx, e).await);
        }
        self.third_party_event(&mut *tx, caller, row.id, "registered")
            .await?;
        tx.commit().await?;
        Ok(third_party_view(row, self.today(now)))
    }

    /// Records a recipient's agreement and/or how their address was verified.
    pub async fn update_third_party(
        &self,
        caller: &Caller,
        id: ThirdPartyId,
        input: ThirdPartyUpdate,
    ) -> Result<ThirdPartyView, AppError> {
        let sha = sha256_hex(input.agreement_sha256.as_deref())?;
        let how = input
            .address_verified_how
            .as_deref()
            .map(|h| bounded_text("address_verified_how", h, 500))
            .transpose()?;
        let action = Action::ManageThirdParties;
        let tx = self.store.begin().await?;
        let (mut tx, _permit) = self.gate(tx, caller, action, &Resource::Firm).await?;
        let now = self.now();
        let today = self.today(now);
        if tx.third_party(id).await?.is_none() {
            return Err(reject(tx, AppError::NotFound).await);
        }
        let mut what = Vec::new();
        if let Some(signed) = input.agreement_signed_on {
            if signed > today || input.agreement_expires_on.is_some_and(|u| u < signed) {
                let e = AppError::BadInput(
                    "an agreement is signed today or earlier and expires after it is signed"
                        .to_owned(),
                );
                return Err(reject(tx, e).await);
            }
            tx.set_third_party_agreement(id, signed, input.agreement_expires_on, sha.as_deref())
                .await?;
            what.push("agreement recorded");
        } else if input.agreement_expires_on.is_some() || sha.is_some() {
            let e = AppError::BadInput("agreement_signed_on is missing".to_owned());
            return Err(reject(tx, e).await);
        }
        if let Some(how) = how {
            tx.verify_third_party(id, caller.person, now, &how).await?;
            what.push("address verified");
        }
        if what.is_empty() {
            let e = AppError::BadInput("nothing to record".to_owned());
            return Err(reject(tx, e).await);
        }
        self.third_party_event(&mut *tx, caller, id, &what.join(", "))
            .await?;
        let row = tx
            .third_party(id)
            .await?
            .ok_or_else(|| AppError::Internal("recipient vanished".to_owned()))?;
        tx.commit().await?;
        Ok(third_party_view(row, today))
    }

    /// Every outside recipient.
    pub async fn list_third_parties(
        &self,
        caller: &Caller,
    ) -> Result<Vec<ThirdPartyView>, AppError> {
        let tx = self.store.begin_read().await?;
        let (mut tx, _permit) = self
            .gate(tx, caller, Action::ViewThirdParties, &Resource::Firm)
            .await?;
        let today = self.today(self.now());
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let page = tx.list_third_parties(after, 200).await?;
            after = page.last().map(|t| t.id);
            let done = page.len() < 200;
            out.extend(page.into_iter().map(|t| third_party_view(t, today)));
            if done {
                break;
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn third_party_event(
        &self,
        tx: &mut dyn custos_store::StoreTx,
        caller: &Caller,
        id: ThirdPartyId,
        what: &str,
    ) -> Result<(), AppError> {
        self.audit_event(
            tx,
            AuditEvent {
                request_id: caller.request_id,
                actor: Some(caller.person),
                action: Action::ManageThirdParties.as_str(),
                resource: format!("third_party:{id}"),
                outcome: Outcome::Allow,
                rule: Rule::RecipientAgreement.code(),
                message: format!("outside recipient {what}"),
                detail: serde_json::Value::Null,
            },
        )
        .await
    }
}
