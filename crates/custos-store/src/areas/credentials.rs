//! Credentials besides the password: second factors, recovery codes, API tokens and pending two-person recoveries.

use crate::StoreError;
use crate::rows::{ApiTokenRow, FactorRow, FactorSelection, RecoveryRow};
use crate::sql::exec::{SqlTx, q};
use crate::sql::{SqlRow, api_token_row, factor_row, found, ms, recovery_row};
use async_trait::async_trait;
use custos_domain::{PersonId, Timestamp};

/// Credentials besides the password: second factors, recovery codes, API tokens and pending two-person recoveries.
#[async_trait]
#[expect(
    private_bounds,
    reason = "sealed: only this crate's units of work (SqlTx) have these operations"
)]
pub trait CredentialsTx: SqlTx {
    /// Adds a second factor (pending or active).
    async fn insert_factor(&mut self, row: &FactorRow) -> Result<(), StoreError> {
        q(
            "INSERT INTO second_factors (id, person_id, kind, sealed_secret, active, last_step, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(row.id.to_string())
        .bind(row.person.to_string())
        .bind(&row.kind)
        .bind(&row.sealed_secret)
        .bind(i64::from(row.active))
        .bind(row.last_step)
        .bind(ms(row.created_at))
        .run(self.conn()).await?;
        Ok(())
    }

    /// Second factors of a person, oldest first.
    async fn factors_of(&mut self, person: PersonId) -> Result<Vec<FactorRow>, StoreError> {
        q("SELECT * FROM second_factors WHERE person_id = $1 ORDER BY created_at, id")
            .bind(person.to_string())
            .list(self.conn(), factor_row)
            .await
    }

    /// Makes a pending factor active.
    async fn activate_factor(&mut self, id: uuid::Uuid) -> Result<(), StoreError> {
        let done = q("UPDATE second_factors SET active = 1 WHERE id = $1")
            .bind(id.to_string())
            .run(self.conn())
            .await?;
        found(done, "second factor")
    }

    /// Removes a person's factors: the pending ones, or all.
    async fn delete_factors_of(
        &mut self,
        person: PersonId,
        which: FactorSelection,
    ) -> Result<u64, StoreError> {
        let done = q("DELETE FROM second_factors WHERE person_id = $1 AND (active = 0 OR $2 = 0)")
            .bind(person.to_string())
            .bind(i64::from(which == FactorSelection::PendingOnly))
            .run(self.conn())
            .await?;
        Ok(done)
    }

    /// Records that TOTP step `step` was used, if and only if it is later than every step
    /// used before (atomic: of two units presenting the same code, one wins).
    async fn advance_factor_step(&mut self, id: uuid::Uuid, step: i64) -> Result<bool, StoreError> {
        let done = q("UPDATE second_factors SET last_step = $2 WHERE id = $1 AND last_step < $2")
            .bind(id.to_string())
            .bind(step)
            .run(self.conn())
            .await?;
        Ok(done > 0)
    }

    /// Replaces a person's recovery codes (hashes).
    async fn replace_recovery_codes(
        &mut self,
        person: PersonId,
        hashes: &[[u8; 32]],
    ) -> Result<(), StoreError> {
        q("DELETE FROM recovery_codes WHERE person_id = $1")
            .bind(person.to_string())
            .run(self.conn())
            .await?;
        for h in hashes {
            q("INSERT INTO recovery_codes (person_id, code_hash) VALUES ($1, $2)")
                .bind(person.to_string())
                .bind(&h[..])
                .run(self.conn())
                .await?;
        }
        Ok(())
    }

    /// Marks a recovery code used, if it exists and was unused (atomic).
    async fn use_recovery_code(
        &mut self,
        person: PersonId,
        hash: &[u8; 32],
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let done = q("UPDATE recovery_codes SET used_at = $3
             WHERE person_id = $1 AND code_hash = $2 AND used_at IS NULL")
        .bind(person.to_string())
        .bind(&hash[..])
        .bind(ms(at))
        .run(self.conn())
        .await?;
        Ok(done > 0)
    }

    /// How many recovery codes of a person are left.
    async fn unused_recovery_codes(&mut self, person: PersonId) -> Result<u64, StoreError> {
        let row =
            q("SELECT COUNT(*) AS n FROM recovery_codes WHERE person_id = $1 AND used_at IS NULL")
                .bind(person.to_string())
                .one(self.conn())
                .await?;
        u64::try_from(row.int("n")?).map_err(|_| StoreError::Corrupt("count".to_owned()))
    }

    /// Adds a personal API token.
    async fn insert_api_token(&mut self, row: &ApiTokenRow) -> Result<(), StoreError> {
        q(
            "INSERT INTO api_tokens (id, token_hash, person_id, name, scopes, created_at, expires_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(row.id.to_string())
        .bind(&row.token_hash[..])
        .bind(row.person.to_string())
        .bind(&row.name)
        .bind(&row.scopes)
        .bind(ms(row.created_at))
        .bind(ms(row.expires_at))
        .bind(row.revoked_at.map(ms))
        .run(self.conn()).await?;
        Ok(())
    }

    /// API tokens of a person, oldest first.
    async fn api_tokens_of(&mut self, person: PersonId) -> Result<Vec<ApiTokenRow>, StoreError> {
        q("SELECT * FROM api_tokens WHERE person_id = $1 ORDER BY created_at, id")
            .bind(person.to_string())
            .list(self.conn(), api_token_row)
            .await
    }

    /// Revokes a token of a person; returns whether it was live.
    async fn revoke_api_token(
        &mut self,
        person: PersonId,
        id: uuid::Uuid,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let done = q(
            "UPDATE api_tokens SET revoked_at = $3 WHERE person_id = $1 AND id = $2 AND revoked_at IS NULL",
        )
            .bind(person.to_string())
            .bind(id.to_string())
            .bind(ms(at))
            .run(self.conn()).await?;
        Ok(done > 0)
    }

    /// Revokes every live token of a person (credential reset, suspension, "end everything");
    /// returns how many.
    async fn revoke_api_tokens_of(
        &mut self,
        person: PersonId,
        at: Timestamp,
    ) -> Result<u64, StoreError> {
        let done =
            q("UPDATE api_tokens SET revoked_at = $2 WHERE person_id = $1 AND revoked_at IS NULL")
                .bind(person.to_string())
                .bind(ms(at))
                .run(self.conn())
                .await?;
        Ok(done)
    }

    /// Records a pending two-person account recovery (replacing an earlier one of the person).
    async fn upsert_recovery(&mut self, row: &RecoveryRow) -> Result<(), StoreError> {
        q(
            "INSERT INTO account_recoveries (person_id, started_by, sealed_half, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (person_id) DO UPDATE
             SET started_by = $2, sealed_half = $3, created_at = $4, expires_at = $5",
        )
        .bind(row.person.to_string())
        .bind(row.started_by.to_string())
        .bind(&row.sealed_half)
        .bind(ms(row.created_at))
        .bind(ms(row.expires_at))
        .run(self.conn()).await?;
        Ok(())
    }

    /// The pending recovery of a person.
    async fn recovery(&mut self, person: PersonId) -> Result<Option<RecoveryRow>, StoreError> {
        q("SELECT * FROM account_recoveries WHERE person_id = $1")
            .bind(person.to_string())
            .get(self.conn(), recovery_row)
            .await
    }

    /// Forgets a person's pending recovery; returns whether there was one.
    async fn delete_recovery(&mut self, person: PersonId) -> Result<bool, StoreError> {
        let done = q("DELETE FROM account_recoveries WHERE person_id = $1")
            .bind(person.to_string())
            .run(self.conn())
            .await?;
        Ok(done > 0)
    }
}

impl<T: SqlTx> CredentialsTx for T {}
