//! Signed checkpoints of the audit log and witnesses' cosignatures (issue 15). The store keeps
//! the signed notes as they were signed; it never sees the log's signing key, and it does not
//! check signatures (the application and any outside verifier do). Both tables are
//! append-only, by trigger.

use crate::StoreError;
use crate::sql::exec::{SqlTx, q};
use crate::sql::{SqlRow, ms};
use async_trait::async_trait;
use custos_domain::Timestamp;

/// A stored checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRow {
    /// The tree size it commits to.
    pub size: u64,
    /// The signed note (body, blank line, the log's signature line).
    pub note: String,
    /// When it was signed.
    pub signed_at: Timestamp,
}

/// A witness's cosignature of a stored checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignatureRow {
    /// The checkpoint's tree size.
    pub size: u64,
    /// The witness's key name.
    pub witness: String,
    /// The signature line (`— <name> <base64>`).
    pub line: String,
}

fn size_of(row: &impl SqlRow) -> Result<u64, StoreError> {
    u64::try_from(row.int("size")?).map_err(|_| StoreError::Corrupt("checkpoint size".into()))
}

fn checkpoint_row(row: &impl SqlRow) -> Result<CheckpointRow, StoreError> {
    Ok(CheckpointRow {
        size: size_of(row)?,
        note: row.text("note")?,
        signed_at: crate::from_ms(row.int("signed_at")?)?,
    })
}

fn cosignature_row(row: &impl SqlRow) -> Result<CosignatureRow, StoreError> {
    Ok(CosignatureRow {
        size: size_of(row)?,
        witness: row.text("witness")?,
        line: row.text("line")?,
    })
}

fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Checkpoints and cosignatures.
#[async_trait]
#[expect(
    private_bounds,
    reason = "sealed: only this crate's units of work (SqlTx) have these operations"
)]
pub trait CheckpointsTx: SqlTx {
    /// Stores a signed checkpoint of `size` entries; returns false if one of that size is
    /// stored already (another node signed it: the signatures are deterministic, the stored
    /// one stays).
    async fn save_checkpoint(
        &mut self,
        size: u64,
        note: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let added = q(
            "INSERT INTO audit_checkpoints (size, note, signed_at) VALUES ($1, $2, $3)
             ON CONFLICT (size) DO NOTHING",
        )
        .bind(int(size))
        .bind(note)
        .bind(ms(at))
        .run(self.conn())
        .await?;
        Ok(added == 1)
    }

    /// The checkpoint of the largest size, if any.
    async fn latest_checkpoint(&mut self) -> Result<Option<CheckpointRow>, StoreError> {
        q("SELECT * FROM audit_checkpoints ORDER BY size DESC LIMIT 1")
            .get(self.conn(), checkpoint_row)
            .await
    }

    /// Checkpoints of sizes above `after`, smallest first, at most `limit`.
    async fn checkpoints_after(
        &mut self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<CheckpointRow>, StoreError> {
        q("SELECT * FROM audit_checkpoints WHERE size > $1 ORDER BY size LIMIT $2")
            .bind(int(after))
            .bind(i64::from(limit))
            .list(self.conn(), checkpoint_row)
            .await
    }

    /// Stores witness `witness`'s cosignature line of the checkpoint of `size` entries;
    /// returns false if that witness's cosignature of it is stored already.
    async fn add_cosignature(
        &mut self,
        size: u64,
        witness: &str,
        line: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let added = q(
            "INSERT INTO audit_cosignatures (size, witness, line, added_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (size, witness) DO NOTHING",
        )
        .bind(int(size))
        .bind(witness)
        .bind(line)
        .bind(ms(at))
        .run(self.conn())
        .await?;
        Ok(added == 1)
    }

    /// The largest checkpoint size witness `witness` cosigned (0: none).
    async fn latest_cosigned(&mut self, witness: &str) -> Result<u64, StoreError> {
        let size = q("SELECT MAX(size) AS size FROM audit_cosignatures WHERE witness = $1")
            .bind(witness)
            .get(self.conn(), |row| row.opt_int("size"))
            .await?
            .flatten()
            .unwrap_or(0);
        u64::try_from(size).map_err(|_| StoreError::Corrupt("cosigned size".into()))
    }

    /// The cosignatures of the checkpoint of `size` entries, by witness name.
    async fn cosignatures(&mut self, size: u64) -> Result<Vec<CosignatureRow>, StoreError> {
        q("SELECT * FROM audit_cosignatures WHERE size = $1 ORDER BY witness")
            .bind(int(size))
            .list(self.conn(), cosignature_row)
            .await
    }
}

impl<T: SqlTx> CheckpointsTx for T {}
