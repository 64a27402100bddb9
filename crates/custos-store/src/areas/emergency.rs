//! Break-glass (R6): emergency accesses, their review, and the facts "who can access this
//! matter" needs about everyone at once.

use crate::StoreError;
use crate::rows::{BreakGlassReview, BreakGlassRow, PersonRow};
use crate::sql::exec::{SqlTx, q};
use crate::sql::{SqlRow, after_key, break_glass_row, ms, person_row, uuid_col};
use async_trait::async_trait;
use custos_domain::{BreakGlassId, ClientId, MatterId, PersonId, TeamId, Timestamp};

/// Which break-glass accesses to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakGlassFilter {
    /// Those still waiting for the officer's review.
    AwaitingReview,
    /// One person's.
    OpenedBy(PersonId),
    /// All of them.
    All,
}

/// Everyone's facts about one matter, for "who can access it, and why".
#[derive(Debug, Clone, Default)]
pub struct MatterAudience {
    /// Every person (any status).
    pub people: Vec<PersonRow>,
    /// (person, team) memberships.
    pub members: Vec<(PersonId, TeamId)>,
    /// (lead, team) of every team with a lead.
    pub leads: Vec<(PersonId, TeamId)>,
    /// People staffed on the matter.
    pub staffed: Vec<PersonId>,
    /// Break-glass accesses to the matter open at the time asked.
    pub emergency: Vec<BreakGlassRow>,
}

/// Everyone's facts about the matters of one client.
#[derive(Debug, Clone)]
pub struct ClientAudience {
    /// Every person (any status).
    pub people: Vec<PersonRow>,
    /// (person, team) memberships.
    pub members: Vec<(PersonId, TeamId)>,
    /// (lead, team) of every team with a lead.
    pub leads: Vec<(PersonId, TeamId)>,
    /// (person, matter) staffing on the client's matters.
    pub staffed: Vec<(PersonId, MatterId)>,
    /// Break-glass accesses to the client's matters open at the time asked.
    pub emergency: Vec<BreakGlassRow>,
}

/// Break-glass accesses and their review.
#[async_trait]
#[expect(
    private_bounds,
    reason = "sealed: only this crate's units of work (SqlTx) have these operations"
)]
pub trait EmergencyTx: SqlTx {
    /// Records a break-glass access.
    async fn insert_break_glass(&mut self, b: &BreakGlassRow) -> Result<(), StoreError> {
        q("INSERT INTO break_glass (id, person_id, matter_id, justification, opened_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(b.id.to_string())
        .bind(b.person.to_string())
        .bind(b.matter.to_string())
        .bind(&b.justification)
        .bind(ms(b.opened_at))
        .bind(ms(b.expires_at))
        .run(self.conn())
        .await?;
        Ok(())
    }

    /// A break-glass access by id.
    async fn break_glass(&mut self, id: BreakGlassId) -> Result<Option<BreakGlassRow>, StoreError> {
        q("SELECT * FROM break_glass WHERE id = $1")
            .bind(id.to_string())
            .get(self.conn(), break_glass_row)
            .await
    }

    /// Break-glass accesses, newest first (ids are UUIDv7), before `before`.
    async fn list_break_glass(
        &mut self,
        filter: BreakGlassFilter,
        before: Option<BreakGlassId>,
        limit: u32,
    ) -> Result<Vec<BreakGlassRow>, StoreError> {
        let before = before.map_or_else(|| "~".to_owned(), |b| b.to_string());
        let query = match filter {
            BreakGlassFilter::AwaitingReview => q(
                "SELECT * FROM break_glass WHERE id < $1 AND reviewed_at IS NULL
                 ORDER BY id DESC LIMIT $2",
            ),
            BreakGlassFilter::All => {
                q("SELECT * FROM break_glass WHERE id < $1 ORDER BY id DESC LIMIT $2")
            }
            BreakGlassFilter::OpenedBy(_) => {
                q("SELECT * FROM break_glass WHERE id < $1 AND person_id = $3
                 ORDER BY id DESC LIMIT $2")
            }
        }
        .bind(before)
        .bind(i64::from(limit));
        let query = match filter {
            BreakGlassFilter::OpenedBy(p) => query.bind(p.to_string()),
            _ => query,
        };
        query.list(self.conn(), break_glass_row).await
    }

    /// How many break-glass accesses wait for review.
    async fn count_awaiting_review(&mut self) -> Result<i64, StoreError> {
        q("SELECT COUNT(*) AS n FROM break_glass WHERE reviewed_at IS NULL")
            .one(self.conn())
            .await?
            .int("n")
    }

    /// Closes the review of a break-glass access; `false` when it was already reviewed or does
    /// not exist.
    async fn review_break_glass(
        &mut self,
        id: BreakGlassId,
        review: &BreakGlassReview,
    ) -> Result<bool, StoreError> {
        let done = q(
            "UPDATE break_glass SET reviewed_by = $1, reviewed_at = $2, verdict = $3, review_comment = $4
             WHERE id = $5 AND reviewed_at IS NULL",
        )
        .bind(review.by.to_string())
        .bind(ms(review.at))
        .bind(if review.justified { "justified" } else { "unjustified" })
        .bind(&review.comment)
        .bind(id.to_string())
        .run(self.conn())
        .await?;
        Ok(done == 1)
    }

    /// Ends an open break-glass access at `now` (the officer's decision, or an "unjustified"
    /// verdict); `false` when it had already ended.
    async fn end_break_glass(
        &mut self,
        id: BreakGlassId,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let done = q("UPDATE break_glass SET expires_at = $2 WHERE id = $1 AND expires_at > $2")
            .bind(id.to_string())
            .bind(ms(now))
            .run(self.conn())
            .await?;
        Ok(done == 1)
    }

    /// Everyone's facts about `matter` at `now`, in five statements whatever the firm's size.
    async fn matter_audience(
        &mut self,
        matter: MatterId,
        now: Timestamp,
    ) -> Result<MatterAudience, StoreError> {
        let (people, members, leads) = people_and_teams(self).await?;
        let staffed = q("SELECT person_id FROM matter_members WHERE matter_id = $1")
            .bind(matter.to_string())
            .all(self.conn())
            .await?
            .iter()
            .map(|r| uuid_col(r, "person_id").map(PersonId))
            .collect::<Result<_, _>>()?;
        let emergency =
            q("SELECT * FROM break_glass WHERE matter_id = $1 AND expires_at > $2 ORDER BY id")
                .bind(matter.to_string())
                .bind(ms(now))
                .list(self.conn(), break_glass_row)
                .await?;
        Ok(MatterAudience {
            people,
            members,
            leads,
            staffed,
            emergency,
        })
    }

    /// Everyone's facts about the matters of `client` at `now` (staffing and open break-glass
    /// accesses on any of them), in five statements whatever the firm's size.
    async fn client_audience(
        &mut self,
        client: ClientId,
        now: Timestamp,
    ) -> Result<ClientAudience, StoreError> {
        let (people, members, leads) = people_and_teams(self).await?;
        let staffed = q("SELECT mm.person_id, mm.matter_id FROM matter_members mm
                          JOIN matters m ON m.id = mm.matter_id WHERE m.client_id = $1")
        .bind(client.to_string())
        .all(self.conn())
        .await?
        .iter()
        .map(|r| {
            Ok((
                PersonId(uuid_col(r, "person_id")?),
                MatterId(uuid_col(r, "matter_id")?),
            ))
        })
        .collect::<Result<_, StoreError>>()?;
        let emergency = q(
            "SELECT b.* FROM break_glass b JOIN matters m ON m.id = b.matter_id
                            WHERE m.client_id = $1 AND b.expires_at > $2 ORDER BY b.id",
        )
        .bind(client.to_string())
        .bind(ms(now))
        .list(self.conn(), break_glass_row)
        .await?;
        Ok(ClientAudience {
            people,
            members,
            leads,
            staffed,
            emergency,
        })
    }
}

/// Everyone, every team membership and every team's lead: three statements.
async fn people_and_teams<T: SqlTx + ?Sized>(
    tx: &mut T,
) -> Result<
    (
        Vec<PersonRow>,
        Vec<(PersonId, TeamId)>,
        Vec<(PersonId, TeamId)>,
    ),
    StoreError,
> {
    let people = q("SELECT * FROM people WHERE id > $1 ORDER BY id")
        .bind(after_key(None))
        .list(tx.conn(), person_row)
        .await?;
    let pair = |row: &crate::sql::exec::Row, a: &str, b: &str| -> Result<_, StoreError> {
        Ok((PersonId(uuid_col(row, a)?), TeamId(uuid_col(row, b)?)))
    };
    let members = q("SELECT person_id, team_id FROM team_members ORDER BY person_id")
        .all(tx.conn())
        .await?
        .iter()
        .map(|r| pair(r, "person_id", "team_id"))
        .collect::<Result<_, _>>()?;
    let leads = q("SELECT lead_id, id FROM teams WHERE lead_id IS NOT NULL ORDER BY id")
        .all(tx.conn())
        .await?
        .iter()
        .map(|r| pair(r, "lead_id", "id"))
        .collect::<Result<_, _>>()?;
    Ok((people, members, leads))
}

impl<T: SqlTx> EmergencyTx for T {}
