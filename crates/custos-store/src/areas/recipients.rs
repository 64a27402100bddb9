//! Outside recipients (R11) and clients' consents (R10): registered, vetted, recorded,
//! revoked. Transfers resting on them are in [`super::transfers`].

use super::transfers::{corrupt, date, json_list, json_matters, opt_id, opt_time};
use crate::StoreError;
use crate::sql::exec::{SqlTx, q};
use crate::sql::{SqlRow, ms, uuid_col};
use crate::{from_ms, sql::found};
use async_trait::async_trait;
use custos_domain::{
    ClientId, ConsentId, Date, DocumentId, MatterId, PersonId, RecipientCategory, ThirdPartyId,
    Timestamp, iso,
};

fn opt_iso(d: Option<Date>) -> Option<String> {
    d.map(iso)
}

/// An outside recipient (R11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThirdPartyRow {
    /// Id.
    pub id: ThirdPartyId,
    /// Name.
    pub name: String,
    /// Organisation.
    pub organisation: String,
    /// Kind of party.
    pub category: RecipientCategory,
    /// Contact address (lowercase).
    pub email: String,
    /// A keyed lookup tag of the address (unique), when the address is sealed.
    pub email_key: Option<String>,
    /// When, by whom and how the address was verified.
    pub verified: Option<(Timestamp, PersonId, String)>,
    /// Agreement signed on.
    pub agreement_signed_on: Option<Date>,
    /// Agreement's last valid day.
    pub agreement_expires_on: Option<Date>,
    /// SHA-256 (hex) of the signed agreement.
    pub agreement_sha256: Option<String>,
    /// The signed agreement, a document of a matter (sealed like any document).
    pub agreement_document: Option<DocumentId>,
    /// Their account, if any.
    pub person: Option<PersonId>,
    /// Registered by.
    pub created_by: PersonId,
    /// Registered at.
    pub created_at: Timestamp,
}

fn third_party_row(row: &impl SqlRow) -> Result<ThirdPartyRow, StoreError> {
    let verified = match (opt_time(row, "verified_at")?, opt_id(row, "verified_by")?) {
        (Some(at), Some(by)) => Some((
            at,
            PersonId(by),
            row.opt_text("verified_how")?.unwrap_or_default(),
        )),
        _ => None,
    };
    Ok(ThirdPartyRow {
        id: ThirdPartyId(uuid_col(row, "id")?),
        name: row.text("name")?,
        organisation: row.text("organisation")?,
        category: RecipientCategory::parse(&row.text("category")?)
            .map_err(|_| corrupt("category"))?,
        email: row.text("email")?,
        email_key: row.opt_text("email_key")?,
        verified,
        agreement_signed_on: date(row, "agreement_signed_on")?,
        agreement_expires_on: date(row, "agreement_expires_on")?,
        agreement_sha256: row.opt_text("agreement_sha256")?,
        agreement_document: opt_id(row, "agreement_document_id")?.map(DocumentId),
        person: opt_id(row, "person_id")?.map(PersonId),
        created_by: PersonId(uuid_col(row, "created_by")?),
        created_at: from_ms(row.int("created_at")?)?,
    })
}

/// A client's consent (R10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRow {
    /// Id.
    pub id: ConsentId,
    /// Whose.
    pub client: ClientId,
    /// Purpose labels.
    pub purposes: Vec<String>,
    /// The recipient it names.
    pub recipient: Option<ThirdPartyId>,
    /// The category it allows.
    pub category: Option<RecipientCategory>,
    /// Matters covered; empty: all of the client's.
    pub matters: Vec<MatterId>,
    /// The signed copy (a document of one of the client's matters); `None`: electronic.
    pub document: Option<DocumentId>,
    /// Given on.
    pub given_on: Date,
    /// Last valid day.
    pub expires_on: Option<Date>,
    /// Recorded by.
    pub recorded_by: PersonId,
    /// Recorded at.
    pub recorded_at: Timestamp,
    /// When, by whom and why it was revoked.
    pub revoked: Option<(Timestamp, PersonId, String)>,
}

fn consent_row(row: &impl SqlRow) -> Result<ConsentRow, StoreError> {
    let revoked = match (opt_time(row, "revoked_at")?, opt_id(row, "revoked_by")?) {
        (Some(at), Some(by)) => Some((
            at,
            PersonId(by),
            row.opt_text("revoke_reason")?.unwrap_or_default(),
        )),
        _ => None,
    };
    Ok(ConsentRow {
        id: ConsentId(uuid_col(row, "id")?),
        client: ClientId(uuid_col(row, "client_id")?),
        purposes: json_list(row, "purposes")?,
        recipient: opt_id(row, "recipient_id")?.map(ThirdPartyId),
        category: row
            .opt_text("category")?
            .map(|c| RecipientCategory::parse(&c).map_err(|_| corrupt("category")))
            .transpose()?,
        matters: json_matters(row, "matters")?,
        document: opt_id(row, "document_id")?.map(DocumentId),
        given_on: date(row, "given_on")?.ok_or_else(|| corrupt("given_on"))?,
        expires_on: date(row, "expires_on")?,
        recorded_by: PersonId(uuid_col(row, "recorded_by")?),
        recorded_at: from_ms(row.int("recorded_at")?)?,
        revoked,
    })
}

/// Outside recipients and consents.
#[async_trait]
#[expect(
    private_bounds,
    reason = "sealed: only this crate's units of work (SqlTx) have these operations"
)]
pub trait RecipientsTx: SqlTx {
    /// Registers an outside recipient.
    async fn insert_third_party(&mut self, t: &ThirdPartyRow) -> Result<(), StoreError> {
        q(
            "INSERT INTO third_parties (id, name, organisation, category, email,
               agreement_signed_on, agreement_expires_on, agreement_sha256, person_id,
               created_by, created_at, email_key)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(t.id.to_string())
        .bind(t.name.as_str())
        .bind(t.organisation.as_str())
        .bind(t.category.as_str())
        .bind(t.email.as_str())
        .bind(opt_iso(t.agreement_signed_on))
        .bind(opt_iso(t.agreement_expires_on))
        .bind(t.agreement_sha256.clone())
        .bind(t.person.map(|p| p.to_string()))
        .bind(t.created_by.to_string())
        .bind(ms(t.created_at))
        .bind(t.email_key.clone())
        .run(self.conn())
        .await?;
        Ok(())
    }

    /// An outside recipient.
    async fn third_party(&mut self, id: ThirdPartyId) -> Result<Option<ThirdPartyRow>, StoreError> {
        q("SELECT * FROM third_parties WHERE id = $1")
            .bind(id.to_string())
            .get(self.conn(), third_party_row)
            .await
    }

    /// Outside recipients in id order, after `after`.
    async fn list_third_parties(
        &mut self,
        after: Option<ThirdPartyId>,
        limit: u32,
    ) -> Result<Vec<ThirdPartyRow>, StoreError> {
        q("SELECT * FROM third_parties WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after.map_or_else(String::new, |a| a.to_string()))
            .bind(i64::from(limit))
            .list(self.conn(), third_party_row)
            .await
    }

    /// Records a recipient's agreement (dates, the signed copy's hash and document).
    async fn set_third_party_agreement(
        &mut self,
        id: ThirdPartyId,
        signed_on: Date,
        expires_on: Option<Date>,
        sha256: Option<&str>,
        document: Option<DocumentId>,
    ) -> Result<(), StoreError> {
        let n = q(
            "UPDATE third_parties SET agreement_signed_on = $2, agreement_expires_on = $3,
                   agreement_sha256 = $4, agreement_document_id = $5 WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(iso(signed_on))
        .bind(opt_iso(expires_on))
        .bind(sha256)
        .bind(document.map(|d| d.to_string()))
        .run(self.conn())
        .await?;
        found(n, "third party")
    }

    /// Records how a recipient's address was verified.
    async fn verify_third_party(
        &mut self,
        id: ThirdPartyId,
        by: PersonId,
        at: Timestamp,
        how: &str,
    ) -> Result<(), StoreError> {
        let n = q(
            "UPDATE third_parties SET verified_at = $2, verified_by = $3, verified_how = $4
                   WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(ms(at))
        .bind(by.to_string())
        .bind(how)
        .run(self.conn())
        .await?;
        found(n, "third party")
    }

    /// The recipient whose account is `person`, if any.
    async fn third_party_of_person(
        &mut self,
        person: PersonId,
    ) -> Result<Option<ThirdPartyRow>, StoreError> {
        q("SELECT * FROM third_parties WHERE person_id = $1")
            .bind(person.to_string())
            .get(self.conn(), third_party_row)
            .await
    }

    /// Links a recipient to their account (`Conflict`: the account is another recipient's).
    async fn set_third_party_person(
        &mut self,
        id: ThirdPartyId,
        person: PersonId,
    ) -> Result<(), StoreError> {
        let n = q("UPDATE third_parties SET person_id = $2 WHERE id = $1")
            .bind(id.to_string())
            .bind(person.to_string())
            .run(self.conn())
            .await?;
        found(n, "third party")
    }

    /// Records a consent.
    async fn insert_consent(&mut self, c: &ConsentRow) -> Result<(), StoreError> {
        let purposes = serde_json::to_string(&c.purposes).map_err(|_| corrupt("purposes"))?;
        let matters: Vec<String> = c.matters.iter().map(ToString::to_string).collect();
        let matters = serde_json::to_string(&matters).map_err(|_| corrupt("matters"))?;
        q(
            "INSERT INTO consents (id, client_id, purposes, recipient_id, category, matters, form,
               document_id, given_on, expires_on, recorded_by, recorded_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(c.id.to_string())
        .bind(c.client.to_string())
        .bind(purposes)
        .bind(c.recipient.map(|r| r.to_string()))
        .bind(c.category.map(RecipientCategory::as_str))
        .bind(matters)
        .bind(if c.document.is_some() {
            "written"
        } else {
            "electronic"
        })
        .bind(c.document.map(|d| d.to_string()))
        .bind(iso(c.given_on))
        .bind(opt_iso(c.expires_on))
        .bind(c.recorded_by.to_string())
        .bind(ms(c.recorded_at))
        .run(self.conn())
        .await?;
        Ok(())
    }

    /// A consent.
    async fn consent(&mut self, id: ConsentId) -> Result<Option<ConsentRow>, StoreError> {
        q("SELECT * FROM consents WHERE id = $1")
            .bind(id.to_string())
            .get(self.conn(), consent_row)
            .await
    }

    /// A client's consents, oldest first.
    async fn client_consents(&mut self, client: ClientId) -> Result<Vec<ConsentRow>, StoreError> {
        q("SELECT * FROM consents WHERE client_id = $1 ORDER BY id")
            .bind(client.to_string())
            .list(self.conn(), consent_row)
            .await
    }

    /// Revokes a consent; `false` when it was already revoked.
    async fn revoke_consent(
        &mut self,
        id: ConsentId,
        by: PersonId,
        at: Timestamp,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let n = q(
            "UPDATE consents SET revoked_at = $2, revoked_by = $3, revoke_reason = $4
                   WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(id.to_string())
        .bind(ms(at))
        .bind(by.to_string())
        .bind(reason)
        .run(self.conn())
        .await?;
        Ok(n == 1)
    }
}

impl<T: SqlTx> RecipientsTx for T {}
