//! Teams and staffing: teams, their members and leads, and who is staffed on which matter.

use crate::StoreError;
use crate::sql::exec::{SqlTx, q};
use crate::sql::{after_key, ids, team};
use async_trait::async_trait;
use custos_domain::{MatterId, PersonId, Team, TeamId};

/// Teams and staffing: teams, their members and leads, and who is staffed on which matter.
#[async_trait]
#[expect(
    private_bounds,
    reason = "sealed: only this crate's units of work (SqlTx) have these operations"
)]
pub trait StaffingTx: SqlTx {
    /// Adds a team.
    async fn insert_team(&mut self, t: &Team) -> Result<(), StoreError> {
        q("INSERT INTO teams (id, name, lead_id) VALUES ($1, $2, $3)")
            .bind(t.id.to_string())
            .bind(&t.name)
            .bind(t.lead.map(|l| l.to_string()))
            .run(self.conn())
            .await?;
        Ok(())
    }

    /// A team by id.
    async fn team(&mut self, id: TeamId) -> Result<Option<Team>, StoreError> {
        q("SELECT * FROM teams WHERE id = $1")
            .bind(id.to_string())
            .get(self.conn(), team)
            .await
    }

    /// Teams ordered by id, after `after`.
    async fn list_teams(
        &mut self,
        after: Option<TeamId>,
        limit: u32,
    ) -> Result<Vec<Team>, StoreError> {
        q("SELECT * FROM teams WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after_key(after.map(|a| a.0)))
            .bind(i64::from(limit))
            .list(self.conn(), team)
            .await
    }

    /// Adds a member to a team (no-op when already a member).
    async fn add_team_member(&mut self, t: TeamId, person: PersonId) -> Result<(), StoreError> {
        q("INSERT INTO team_members (team_id, person_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(t.to_string())
            .bind(person.to_string())
            .run(self.conn())
            .await?;
        Ok(())
    }

    /// Removes a member; returns whether they were one.
    async fn remove_team_member(
        &mut self,
        t: TeamId,
        person: PersonId,
    ) -> Result<bool, StoreError> {
        let done = q("DELETE FROM team_members WHERE team_id = $1 AND person_id = $2")
            .bind(t.to_string())
            .bind(person.to_string())
            .run(self.conn())
            .await?;
        Ok(done > 0)
    }

    /// Members of a team.
    async fn team_members(&mut self, t: TeamId) -> Result<Vec<PersonId>, StoreError> {
        let rows = q("SELECT person_id FROM team_members WHERE team_id = $1 ORDER BY person_id")
            .bind(t.to_string())
            .all(self.conn())
            .await?;
        ids(&rows, "person_id", PersonId)
    }

    /// Teams a person belongs to.
    async fn teams_of(&mut self, person: PersonId) -> Result<Vec<TeamId>, StoreError> {
        let rows = q("SELECT team_id FROM team_members WHERE person_id = $1 ORDER BY team_id")
            .bind(person.to_string())
            .all(self.conn())
            .await?;
        ids(&rows, "team_id", TeamId)
    }

    /// Teams a person leads.
    async fn teams_led_by(&mut self, person: PersonId) -> Result<Vec<TeamId>, StoreError> {
        let rows = q("SELECT id FROM teams WHERE lead_id = $1 ORDER BY id")
            .bind(person.to_string())
            .all(self.conn())
            .await?;
        ids(&rows, "id", TeamId)
    }

    /// Staffs a person on a matter (no-op when already staffed).
    async fn add_matter_member(&mut self, m: MatterId, person: PersonId) -> Result<(), StoreError> {
        q("INSERT INTO matter_members (matter_id, person_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(m.to_string())
            .bind(person.to_string())
            .run(self.conn()).await?;
        Ok(())
    }

    /// Removes a person from a matter; returns whether they were staffed.
    async fn remove_matter_member(
        &mut self,
        m: MatterId,
        person: PersonId,
    ) -> Result<bool, StoreError> {
        let done = q("DELETE FROM matter_members WHERE matter_id = $1 AND person_id = $2")
            .bind(m.to_string())
            .bind(person.to_string())
            .run(self.conn())
            .await?;
        Ok(done > 0)
    }

    /// People staffed on a matter.
    async fn matter_members(&mut self, m: MatterId) -> Result<Vec<PersonId>, StoreError> {
        let rows =
            q("SELECT person_id FROM matter_members WHERE matter_id = $1 ORDER BY person_id")
                .bind(m.to_string())
                .all(self.conn())
                .await?;
        ids(&rows, "person_id", PersonId)
    }

    /// Matters a person is staffed on.
    async fn staffed_matters(&mut self, person: PersonId) -> Result<Vec<MatterId>, StoreError> {
        let rows =
            q("SELECT matter_id FROM matter_members WHERE person_id = $1 ORDER BY matter_id")
                .bind(person.to_string())
                .all(self.conn())
                .await?;
        ids(&rows, "matter_id", MatterId)
    }
}

impl<T: SqlTx> StaffingTx for T {}
