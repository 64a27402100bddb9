//! Outside recipients (R11): registered by the officer, a partner or a team lead; vetted
//! (address verified, agreement recorded, account linked) by the confidentiality officer
//! only, so that whoever registers a recipient and approves transfers to them is never the
//! only one who vouched for them.

use crate::usecases::consents::bounded_text;
use crate::{App, AppError, AuditEvent, Caller, reject};
use custos_audit::Outcome;
use custos_domain::{
    Date, DocumentId, PersonId, RecipientCategory, Role, ThirdPartyId, email_address, iso_date,
};
use custos_policy::{Action, Resource, Rule};
use custos_store::ThirdPartyRow;
use serde::{Deserialize, Serialize};

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
    /// The signed agreement, uploaded first as a document of the matter it was signed for.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    #[serde(default)]
    pub agreement_document: Option<DocumentId>,
    /// How the address was verified (e.g. "called the expert's office, read back the
    /// address"): records the address as verified.
    #[serde(default)]
    pub address_verified_how: Option<String>,
    /// Their own account (an `external` person), for a recipient who signs in to receive
    /// what is released to them instead of opening mailed links.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    #[serde(default)]
    pub account: Option<PersonId>,
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
    /// SHA-256 (hex) of the signed agreement kept on file.
    pub agreement_sha256: Option<String>,
    /// The signed agreement, a document of a matter.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub agreement_document: Option<DocumentId>,
    /// Their own account, when linked.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub account: Option<PersonId>,
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

pub(crate) fn agreement_in_force(t: &ThirdPartyRow, today: Date) -> bool {
    t.agreement_signed_on.is_some_and(|s| s <= today)
        && t.agreement_expires_on.is_none_or(|u| u >= today)
}

pub(crate) fn third_party_view(
    app: &App,
    t: ThirdPartyRow,
    today: Date,
) -> Result<ThirdPartyView, AppError> {
    let context = recipient_context("verified_how", t.id);
    Ok(ThirdPartyView {
        agreement_in_force: agreement_in_force(&t, today),
        id: t.id,
        name: t.name,
        organisation: t.organisation,
        category: t.category,
        email: t.email,
        address_verified: t.verified.is_some(),
        verified_how: t
            .verified
            .map(|v| app.open_note(&context, &v.2))
            .transpose()?,
        agreement_signed_on: t.agreement_signed_on,
        agreement_expires_on: t.agreement_expires_on,
        agreement_sha256: t.agreement_sha256,
        agreement_document: t.agreement_document,
        account: t.person,
    })
}

/// What a sealed part of a recipient is bound to: the part and the recipient's id.
fn recipient_context(part: &str, id: ThirdPartyId) -> String {
    format!("third_party.{part}:{id}")
}

impl App {
    /// A stored recipient with its name, organisation and address opened (rows of earlier
    /// versions hold them in clear and are shown as they are).
    pub(crate) fn open_recipient(&self, t: ThirdPartyRow) -> Result<ThirdPartyRow, AppError> {
        Ok(ThirdPartyRow {
            name: self.open_note(&recipient_context("name", t.id), &t.name)?,
            organisation: self
                .open_note(&recipient_context("organisation", t.id), &t.organisation)?,
            email: self.open_note(&recipient_context("email", t.id), &t.email)?,
            ..t
        })
    }

    /// The recipient `id`, opened.
    pub(crate) async fn recipient(
        &self,
        tx: &mut dyn custos_store::StoreTx,
        id: ThirdPartyId,
    ) -> Result<Option<ThirdPartyRow>, AppError> {
        tx.third_party(id)
            .await?
            .map(|t| self.open_recipient(t))
            .transpose()
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
        let id = ThirdPartyId::new();
        let row = ThirdPartyRow {
            id,
            name: self.seal_note(&recipient_context("name", id), &name)?,
            organisation: self.seal_note(&recipient_context("organisation", id), &organisation)?,
            category: input.category,
            email_key: Some(
                self.kek
                    .lookup_tag("third_party.email", &email.to_lowercase()),
            ),
            email: self.seal_note(&recipient_context("email", id), &email)?,
            verified: None,
            agreement_signed_on: None,
            agreement_expires_on: None,
            agreement_sha256: None,
            agreement_document: None,
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
        self.third_party_event(
            &mut *tx,
            caller,
            Action::ManageThirdParties,
            row.id,
            "registered",
        )
        .await?;
        tx.commit().await?;
        third_party_view(self, self.open_recipient(row)?, self.today(now))
    }

    /// Records a recipient's agreement, how their address was verified and/or their account
    /// (the confidentiality officer only).
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
        let action = Action::VetThirdParty;
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
            if let Some(doc) = input.agreement_document
                && tx.document(doc).await?.is_none()
            {
                let e = AppError::UnknownReference(format!("no document {doc}"));
                return Err(reject(tx, e).await);
            }
            tx.set_third_party_agreement(
                id,
                signed,
                input.agreement_expires_on,
                sha.as_deref(),
                input.agreement_document,
            )
            .await?;
            what.push("agreement recorded");
        } else if input.agreement_expires_on.is_some()
            || sha.is_some()
            || input.agreement_document.is_some()
        {
            let e = AppError::BadInput("agreement_signed_on is missing".to_owned());
            return Err(reject(tx, e).await);
        }
        if let Some(how) = how {
            let sealed = self.seal_note(&recipient_context("verified_how", id), &how)?;
            tx.verify_third_party(id, caller.person, now, &sealed)
                .await?;
            what.push("address verified");
        }
        if let Some(account) = input.account {
            let person = tx.person(account).await?.map(|p| p.person);
            let Some(person) = person.filter(|p| p.role == Role::External) else {
                let e = AppError::BadInput(
                    "account must be an existing person with the `external` role".to_owned(),
                );
                return Err(reject(tx, e).await);
            };
            // The account will receive client content: it must be the recipient's alone. One
            // that anyone has signed in to (whoever created it, admin/IT included) is refused,
            // and linking replaces the password its creator was given with one mailed to the
            // recipient's verified address.
            if !tx.factors_of(account).await?.is_empty()
                || !tx.sessions_of(account).await?.is_empty()
            {
                let e = AppError::Conflict(format!(
                    "the account `{}` has been signed in to: only an account no one has used \
                     yet may receive transfers; create a new one for this recipient",
                    person.user_name
                ));
                return Err(reject(tx, e).await);
            }
            let row = self.recipient(&mut *tx, id).await?;
            let Some(row) = row.filter(|r| r.verified.is_some()) else {
                let e = AppError::Conflict(
                    "verify the recipient's address first: the account's password is mailed \
                     there"
                        .to_owned(),
                );
                return Err(reject(tx, e).await);
            };
            if let Err(e) = tx.set_third_party_person(id, account).await {
                let e = match e {
                    custos_store::StoreError::Conflict(_) => {
                        AppError::Conflict("this account is already another recipient's".to_owned())
                    }
                    e => e.into(),
                };
                return Err(reject(tx, e).await);
            }
            self.mail_account_password(&mut tx, &person, &row.email)
                .await?;
            what.push("account linked, its password mailed to the verified address");
        }
        if what.is_empty() {
            let e = AppError::BadInput("nothing to record".to_owned());
            return Err(reject(tx, e).await);
        }
        self.third_party_event(&mut *tx, caller, action, id, &what.join(", "))
            .await?;
        let row = self
            .recipient(&mut *tx, id)
            .await?
            .ok_or_else(|| AppError::Internal("recipient vanished".to_owned()))?;
        tx.commit().await?;
        third_party_view(self, row, today)
    }

    /// Replaces a linked account's password with a new one-time password, mailed (sealed in
    /// the outbox) to the recipient's verified address; every session and token of the account
    /// ends. With a relay the body is erased once sent; without one the officer is the
    /// courier and can read it in the outbox, as she can read release links and codes there
    /// (SECURITY.md).
    async fn mail_account_password(
        &self,
        tx: &mut crate::Tx,
        person: &custos_domain::Person,
        to: &str,
    ) -> Result<(), AppError> {
        let password = crate::usecases::people::one_time_password()?;
        let hash = self.passwords.hash(password.clone()).await?;
        tx.set_password(person.id, &hash, true, self.now()).await?;
        self.end_access(tx, person.id).await?;
        let firm = self.firm_in_words();
        let body = format!(
            "{firm} has opened an account for you in Custos, to receive documents it releases \
             to you.\n\nSign in at {}/ with the user name {} and the one-time password {}.\n\
             You will choose your own password and set up an authenticator app.\n\n\
             If you did not expect this, do not sign in and tell {firm}.",
            self.settings.public_url,
            person.user_name,
            password.as_str()
        );
        self.queue_mail(&mut **tx, to, format!("Your account at {firm}"), body)
            .await
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
            for t in page {
                out.push(third_party_view(self, self.open_recipient(t)?, today)?);
            }
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
        action: Action,
        id: ThirdPartyId,
        what: &str,
    ) -> Result<(), AppError> {
        self.audit_event(
            tx,
            AuditEvent {
                request_id: caller.request_id,
                actor: Some(caller.person),
                action: action.as_str(),
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
