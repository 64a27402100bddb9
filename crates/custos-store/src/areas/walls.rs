//! Ethical walls.

use crate::StoreError;
use crate::sql::exec::{SqlTx, q};
use crate::sql::{after_key, ms, wall};
use async_trait::async_trait;
use custos_domain::{Lifted, PersonId, TeamId, Wall, WallId, WallObject, WallSubject};

/// Ethical walls.
#[async_trait]
#[expect(
    private_bounds,
    reason = "sealed: only this crate's units of work (SqlTx) have these operations"
)]
pub trait WallsTx: SqlTx {
    /// Raises a wall.
    async fn insert_wall(&mut self, w: &Wall) -> Result<(), StoreError> {
        let (subject_kind, subject_id) = match w.subject {
            WallSubject::Person(p) => ("person", p.0),
            WallSubject::Team(t) => ("team", t.0),
        };
        let (object_kind, object_id) = match w.object {
            WallObject::Client(c) => ("client", c.0),
            WallObject::Matter(m) => ("matter", m.0),
        };
        q(
            "INSERT INTO walls (id, subject_kind, subject_id, object_kind, object_id, reason, created_by, created_at, kind)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(w.id.to_string())
        .bind(subject_kind)
        .bind(subject_id.to_string())
        .bind(object_kind)
        .bind(object_id.to_string())
        .bind(&w.reason)
        .bind(w.created_by.to_string())
        .bind(ms(w.created_at))
        .bind(w.kind.as_str())
        .run(self.conn()).await?;
        Ok(())
    }

    /// A wall by id, lifted or not.
    async fn wall(&mut self, id: WallId) -> Result<Option<Wall>, StoreError> {
        q("SELECT * FROM walls WHERE id = $1")
            .bind(id.to_string())
            .get(self.conn(), wall)
            .await
    }

    /// Lifts an active wall; `false` when it is already lifted or does not exist.
    async fn lift_wall(&mut self, id: WallId, lifted: &Lifted) -> Result<bool, StoreError> {
        let done = q(
            "UPDATE walls SET lifted_by = $1, lifted_at = $2, lift_reason = $3
             WHERE id = $4 AND lifted_at IS NULL",
        )
        .bind(lifted.by.to_string())
        .bind(ms(lifted.at))
        .bind(&lifted.reason)
        .bind(id.to_string())
        .run(self.conn())
        .await?;
        Ok(done == 1)
    }

    /// Every active wall (the firm's screens as of now; the officer's "who can access").
    async fn active_walls(&mut self) -> Result<Vec<Wall>, StoreError> {
        q("SELECT * FROM walls WHERE lifted_at IS NULL ORDER BY id")
            .list(self.conn(), wall)
            .await
    }

    /// Walls ordered by id, after `after`.
    async fn list_walls(
        &mut self,
        after: Option<WallId>,
        limit: u32,
    ) -> Result<Vec<Wall>, StoreError> {
        q("SELECT * FROM walls WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after_key(after.map(|a| a.0)))
            .bind(i64::from(limit))
            .list(self.conn(), wall)
            .await
    }

    /// Active walls whose subject is `person` or one of `teams`.
    async fn walls_screening(
        &mut self,
        person: PersonId,
        teams: &[TeamId],
    ) -> Result<Vec<Wall>, StoreError> {
        let mut out: Vec<Wall> =
            q("SELECT * FROM walls WHERE subject_kind = 'person' AND subject_id = $1 AND lifted_at IS NULL ORDER BY id")
                .bind(person.to_string())
                .all(self.conn())
                .await?
                .iter()
                .map(wall)
                .collect::<Result<_, _>>()?;
        for t in teams {
            let rows = q(
                "SELECT * FROM walls WHERE subject_kind = 'team' AND subject_id = $1 AND lifted_at IS NULL ORDER BY id",
            )
            .bind(t.to_string())
            .all(self.conn())
            .await?;
            for r in &rows {
                out.push(wall(r)?);
            }
        }
        Ok(out)
    }

    /// Active walls whose subject is `team`.
    async fn walls_of_team(&mut self, t: TeamId) -> Result<Vec<Wall>, StoreError> {
        q("SELECT * FROM walls WHERE subject_kind = 'team' AND subject_id = $1 AND lifted_at IS NULL ORDER BY id")
            .bind(t.to_string())
            .list(self.conn(), wall)
            .await
    }
}

impl<T: SqlTx> WallsTx for T {}
