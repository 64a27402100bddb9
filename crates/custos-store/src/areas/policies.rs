//! Firm policies (Cedar text), versioned: the highest version is in force.

use crate::StoreError;
use crate::sql::exec::{SqlTx, q};
use crate::sql::{SqlRow, ms, uuid_col};
use async_trait::async_trait;
use custos_domain::{PersonId, Timestamp};

/// One saved version of the firm's policies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirmPolicyRow {
    /// 1, 2, 3...
    pub version: i64,
    /// The Cedar text.
    pub text: String,
    /// What the officer said about the change ("restored version 3"...).
    pub note: String,
    /// Who saved it.
    pub created_by: PersonId,
    /// When.
    pub created_at: Timestamp,
}

fn firm_policy_row(row: &impl SqlRow) -> Result<FirmPolicyRow, StoreError> {
    Ok(FirmPolicyRow {
        version: row.int("version")?,
        text: row.text("text")?,
        note: row.text("note")?,
        created_by: PersonId(uuid_col(row, "created_by")?),
        created_at: crate::from_ms(row.int("created_at")?)?,
    })
}

/// Firm policies.
#[async_trait]
#[expect(
    private_bounds,
    reason = "sealed: only this crate's units of work (SqlTx) have these operations"
)]
pub trait PoliciesTx: SqlTx {
    /// The version in force (0: none saved yet).
    async fn firm_policy_version(&mut self) -> Result<i64, StoreError> {
        q("SELECT COALESCE(MAX(version), 0) AS v FROM firm_policies")
            .one(self.conn())
            .await?
            .int("v")
    }

    /// One version.
    async fn firm_policy(&mut self, version: i64) -> Result<Option<FirmPolicyRow>, StoreError> {
        q("SELECT * FROM firm_policies WHERE version = $1")
            .bind(version)
            .get(self.conn(), firm_policy_row)
            .await
    }

    /// Saves a new version (its number: one more than the highest; two writers at once:
    /// one gets a conflict).
    async fn insert_firm_policy(
        &mut self,
        text: &str,
        note: &str,
        by: PersonId,
        at: Timestamp,
    ) -> Result<i64, StoreError> {
        let version = self.firm_policy_version().await? + 1;
        q(
            "INSERT INTO firm_policies (version, text, note, created_by, created_at)
           VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(version)
        .bind(text)
        .bind(note)
        .bind(by.to_string())
        .bind(ms(at))
        .run(self.conn())
        .await?;
        Ok(version)
    }

    /// Versions, newest first, below `before`.
    async fn list_firm_policies(
        &mut self,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<FirmPolicyRow>, StoreError> {
        q("SELECT * FROM firm_policies WHERE version < $1 ORDER BY version DESC LIMIT $2")
            .bind(before.unwrap_or(i64::MAX))
            .bind(i64::from(limit))
            .list(self.conn(), firm_policy_row)
            .await
    }
}

impl<T: SqlTx> PoliciesTx for T {}
