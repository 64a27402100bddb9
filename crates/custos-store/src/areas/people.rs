//! People: accounts, their status and password, and a person's facts for a decision (teams, staffing, walls).

use crate::StoreError;
use crate::rows::{PersonRow, PrincipalRow};
use crate::sql::exec::{SqlTx, q};
use crate::sql::{PRINCIPAL_FACTS, SqlRow, after_key, found, ms, person_row, principal_facts};
use async_trait::async_trait;
use custos_domain::{Compliance, PersonId, PersonStatus, Timestamp};

/// People: accounts, their status and password, and a person's facts for a decision (teams, staffing, walls).
#[async_trait]
#[expect(
    private_bounds,
    reason = "sealed: only this crate's units of work (SqlTx) have these operations"
)]
pub trait PeopleTx: SqlTx {
    /// Adds a person.
    async fn insert_person(&mut self, row: &PersonRow) -> Result<(), StoreError> {
        let p = &row.person;
        q(
            "INSERT INTO people (id, user_name, display_name, role, status, password_hash, created_at,
                                 must_change_password, password_changed_at, agreement_signed_on,
                                 training_valid_until)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(p.id.to_string())
        .bind(p.user_name.as_str())
        .bind(&p.display_name)
        .bind(p.role.as_str())
        .bind(p.status.as_str())
        .bind(&row.password_hash)
        .bind(ms(p.created_at))
        .bind(i64::from(row.must_change_password))
        .bind(ms(row.password_changed_at))
        .bind(p.compliance.agreement_signed_on.map(custos_domain::iso))
        .bind(p.compliance.training_valid_until.map(custos_domain::iso))
        .run(self.conn()).await?;
        Ok(())
    }

    /// A person by id.
    async fn person(&mut self, id: PersonId) -> Result<Option<PersonRow>, StoreError> {
        q("SELECT * FROM people WHERE id = $1")
            .bind(id.to_string())
            .get(self.conn(), person_row)
            .await
    }

    /// A person by user name.
    async fn person_by_user_name(&mut self, name: &str) -> Result<Option<PersonRow>, StoreError> {
        q("SELECT * FROM people WHERE user_name = $1")
            .bind(name)
            .get(self.conn(), person_row)
            .await
    }

    /// People ordered by id, after `after`.
    async fn list_people(
        &mut self,
        after: Option<PersonId>,
        limit: u32,
    ) -> Result<Vec<PersonRow>, StoreError> {
        q("SELECT * FROM people WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after_key(after.map(|a| a.0)))
            .bind(i64::from(limit))
            .list(self.conn(), person_row)
            .await
    }

    /// Changes a person's status ([`StoreError::NotFound`] if there is no such person).
    async fn set_person_status(
        &mut self,
        id: PersonId,
        status: PersonStatus,
    ) -> Result<(), StoreError> {
        let done = q("UPDATE people SET status = $1 WHERE id = $2")
            .bind(status.as_str())
            .bind(id.to_string())
            .run(self.conn())
            .await?;
        found(done, "person")
    }

    /// Replaces the password only if it is still `expected` (the hash its holder just proved):
    /// `false` when another change (a reset, a recipient's account linked) came in between.
    async fn replace_password(
        &mut self,
        id: PersonId,
        expected: &str,
        hash: &str,
        changed_at: Timestamp,
    ) -> Result<bool, StoreError> {
        let done = q(
            "UPDATE people SET password_hash = $1, must_change_password = 0, password_changed_at = $3
             WHERE id = $2 AND password_hash = $4",
        )
        .bind(hash)
        .bind(id.to_string())
        .bind(ms(changed_at))
        .bind(expected)
        .run(self.conn())
        .await?;
        Ok(done == 1)
    }

    /// Replaces a person's password hash, whether it must be changed at next login, and when it
    /// was set ([`StoreError::NotFound`] if there is no such person).
    async fn set_password(
        &mut self,
        id: PersonId,
        hash: &str,
        must_change: bool,
        changed_at: Timestamp,
    ) -> Result<(), StoreError> {
        let done = q(
            "UPDATE people SET password_hash = $1, must_change_password = $3, password_changed_at = $4
             WHERE id = $2",
        )
            .bind(hash)
            .bind(id.to_string())
            .bind(i64::from(must_change))
            .bind(ms(changed_at))
            .run(self.conn()).await?;
        found(done, "person")
    }

    /// Records a person's agreement and training (R4; [`StoreError::NotFound`] if there is no
    /// such person).
    async fn set_compliance(
        &mut self,
        id: PersonId,
        compliance: &Compliance,
    ) -> Result<(), StoreError> {
        let done = q(
            "UPDATE people SET agreement_signed_on = $1, training_valid_until = $2 WHERE id = $3",
        )
        .bind(compliance.agreement_signed_on.map(custos_domain::iso))
        .bind(compliance.training_valid_until.map(custos_domain::iso))
        .bind(id.to_string())
        .run(self.conn())
        .await?;
        found(done, "person")
    }

    /// What every decision needs to know about a person at `now`: their role, status and R4
    /// dates, teams, led teams, staffing, the walls that may apply to them, their open
    /// break-glass accesses and the firm policy version in force, in one statement whatever
    /// the number of teams or walls (`None`: no such person).
    async fn principal(
        &mut self,
        id: PersonId,
        now: Timestamp,
    ) -> Result<Option<PrincipalRow>, StoreError> {
        let rows = q(PRINCIPAL_FACTS)
            .bind(id.to_string())
            .bind(ms(now))
            .all(self.conn())
            .await?;
        principal_facts(&rows)
    }

    /// Sets (or, with `None`, removes) a person's mail address for notices.
    async fn set_mail_address(
        &mut self,
        person: PersonId,
        email: Option<&str>,
        by: PersonId,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        match email {
            Some(email) => {
                q(
                    "INSERT INTO mail_addresses (person_id, email, set_by, set_at)
                   VALUES ($1, $2, $3, $4)
                   ON CONFLICT (person_id) DO UPDATE
                   SET email = excluded.email, set_by = excluded.set_by, set_at = excluded.set_at",
                )
                .bind(person.to_string())
                .bind(email)
                .bind(by.to_string())
                .bind(ms(at))
                .run(self.conn())
                .await?;
            }
            None => {
                q("DELETE FROM mail_addresses WHERE person_id = $1")
                    .bind(person.to_string())
                    .run(self.conn())
                    .await?;
            }
        }
        Ok(())
    }

    /// A person's mail address for notices, if they gave one.
    async fn mail_address(&mut self, person: PersonId) -> Result<Option<String>, StoreError> {
        q("SELECT email FROM mail_addresses WHERE person_id = $1")
            .bind(person.to_string())
            .get(self.conn(), |r| r.text("email"))
            .await
    }

    /// The active people of a role (a few: officers, partners).
    async fn active_with_role(
        &mut self,
        role: custos_domain::Role,
    ) -> Result<Vec<PersonId>, StoreError> {
        q("SELECT id FROM people WHERE role = $1 AND status = 'active' ORDER BY id LIMIT 100")
            .bind(role.as_str())
            .list(self.conn(), |r| crate::sql::uuid_col(r, "id").map(PersonId))
            .await
    }
}

impl<T: SqlTx> PeopleTx for T {}
