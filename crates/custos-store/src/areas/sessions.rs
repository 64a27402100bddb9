//! Sign-in state: sessions and the failed-login throttle.

use crate::StoreError;
use crate::rows::{SessionRow, ThrottleRow};
use crate::sql::exec::{SqlTx, q};
use crate::sql::{SqlRow, found, ms, session_row, throttle_row};
use async_trait::async_trait;
use custos_domain::SessionStage;
use custos_domain::{PersonId, Timestamp};

/// Sign-in state: sessions and the failed-login throttle.
#[async_trait]
#[expect(
    private_bounds,
    reason = "sealed: only this crate's units of work (SqlTx) have these operations"
)]
pub trait SessionsTx: SqlTx {
    /// Records a session.
    async fn insert_session(&mut self, row: &SessionRow) -> Result<(), StoreError> {
        q(
            "INSERT INTO sessions (id, token_hash, person_id, stage, kind, source, created_at, last_seen_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(row.id.to_string())
        .bind(&row.token_hash[..])
        .bind(row.person.to_string())
        .bind(row.stage.as_str())
        .bind(row.kind.as_str())
        .bind(&row.source)
        .bind(ms(row.created_at))
        .bind(ms(row.last_seen_at))
        .bind(ms(row.expires_at))
        .run(self.conn()).await?;
        Ok(())
    }

    /// A session by the hash of its token.
    async fn session(&mut self, token_hash: &[u8; 32]) -> Result<Option<SessionRow>, StoreError> {
        q("SELECT * FROM sessions WHERE token_hash = $1")
            .bind(&token_hash[..])
            .get(self.conn(), session_row)
            .await
    }

    /// Sessions of a person, oldest first.
    async fn sessions_of(&mut self, person: PersonId) -> Result<Vec<SessionRow>, StoreError> {
        q("SELECT * FROM sessions WHERE person_id = $1 ORDER BY created_at, id")
            .bind(person.to_string())
            .list(self.conn(), session_row)
            .await
    }

    /// Ends one session of a person by its public id; returns whether it existed.
    async fn delete_session_of(
        &mut self,
        person: PersonId,
        id: uuid::Uuid,
    ) -> Result<bool, StoreError> {
        let done = q("DELETE FROM sessions WHERE person_id = $1 AND id = $2")
            .bind(person.to_string())
            .bind(id.to_string())
            .run(self.conn())
            .await?;
        Ok(done > 0)
    }

    /// Ends every session of a person but `keep`.
    async fn delete_other_sessions(
        &mut self,
        person: PersonId,
        keep: uuid::Uuid,
    ) -> Result<u64, StoreError> {
        let done = q("DELETE FROM sessions WHERE person_id = $1 AND id <> $2")
            .bind(person.to_string())
            .bind(keep.to_string())
            .run(self.conn())
            .await?;
        Ok(done)
    }

    /// Moves a session to another stage, with its new absolute expiry.
    async fn set_session_stage(
        &mut self,
        id: uuid::Uuid,
        stage: SessionStage,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let done = q("UPDATE sessions SET stage = $2, expires_at = $3 WHERE id = $1")
            .bind(id.to_string())
            .bind(stage.as_str())
            .bind(ms(expires_at))
            .run(self.conn())
            .await?;
        found(done, "session")
    }

    /// Ends a session; returns whether it existed.
    async fn delete_session(&mut self, token_hash: &[u8; 32]) -> Result<bool, StoreError> {
        let done = q("DELETE FROM sessions WHERE token_hash = $1")
            .bind(&token_hash[..])
            .run(self.conn())
            .await?;
        Ok(done > 0)
    }

    /// Ends every session of a person.
    async fn delete_sessions_of(&mut self, person: PersonId) -> Result<u64, StoreError> {
        q("DELETE FROM sessions WHERE person_id = $1")
            .bind(person.to_string())
            .run(self.conn())
            .await
    }

    /// The failed-login counter of a key.
    async fn throttle(&mut self, key: &str) -> Result<Option<ThrottleRow>, StoreError> {
        q("SELECT * FROM login_throttle WHERE key = $1")
            .bind(key)
            .get(self.conn(), throttle_row)
            .await
    }

    /// Counts one more failure for a key (atomic); returns the new count. A key whose last
    /// failure was before `forget_before` starts again from one (counters decay).
    async fn add_failure(
        &mut self,
        key: &str,
        at: Timestamp,
        forget_before: Timestamp,
    ) -> Result<u32, StoreError> {
        let row = q(
            "INSERT INTO login_throttle (key, failures, locked_until, last_failure_at) VALUES ($1, 1, 0, $2)
             ON CONFLICT (key) DO UPDATE
             SET failures = CASE WHEN login_throttle.last_failure_at < $3 THEN 1
                                 ELSE login_throttle.failures + 1 END,
                 last_failure_at = $2
             RETURNING failures",
        )
            .bind(key)
            .bind(ms(at))
            .bind(ms(forget_before))
            .one(self.conn()).await?;
        u32::try_from(row.int("failures")?).map_err(|_| StoreError::Corrupt("failures".to_owned()))
    }

    /// Refuses a key until `until`.
    async fn lock_until(&mut self, key: &str, until: Timestamp) -> Result<(), StoreError> {
        let done = q("UPDATE login_throttle SET locked_until = $2 WHERE key = $1")
            .bind(key)
            .bind(ms(until))
            .run(self.conn())
            .await?;
        found(done, "throttle")
    }

    /// Forgets a key's failures; returns whether there were any.
    async fn clear_throttle(&mut self, key: &str) -> Result<bool, StoreError> {
        let done = q("DELETE FROM login_throttle WHERE key = $1")
            .bind(key)
            .run(self.conn())
            .await?;
        Ok(done > 0)
    }

    /// Keys starting with `prefix` locked after `at`.
    async fn locked_throttles(
        &mut self,
        prefix: &str,
        at: Timestamp,
    ) -> Result<Vec<ThrottleRow>, StoreError> {
        q(
            "SELECT * FROM login_throttle WHERE locked_until > $2 AND substr(key, 1, length($1)) = $1
             ORDER BY key",
        )
            .bind(prefix)
            .bind(ms(at))
            .list(self.conn(), throttle_row).await
    }

    /// Removes sessions that can no longer be used: past their absolute expiry at `now`, or
    /// unused since before `idle_before`; returns how many.
    async fn delete_dead_sessions(
        &mut self,
        now: Timestamp,
        idle_before: Timestamp,
    ) -> Result<u64, StoreError> {
        q("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at < $2")
            .bind(ms(now))
            .bind(ms(idle_before))
            .run(self.conn())
            .await
    }

    /// Removes failed-login counters that no longer count: not locked at `now` and with no
    /// failure since `forget_before` (a new failure would start again from one anyway).
    async fn forget_throttles(
        &mut self,
        now: Timestamp,
        forget_before: Timestamp,
    ) -> Result<u64, StoreError> {
        q("DELETE FROM login_throttle WHERE locked_until <= $1 AND last_failure_at < $2")
            .bind(ms(now))
            .bind(ms(forget_before))
            .run(self.conn())
            .await
    }
}

impl<T: SqlTx> SessionsTx for T {}
