//! What both SQL backends share: one SQL text per operation (placeholders `$n`, which SQLite
//! and PostgreSQL both accept), one row decoder, one error mapping. Only the unit-of-work
//! boundaries and the audit sequencer differ per backend.

mod decode;

pub(crate) use decode::{
    api_token_row, audit_entry, client_row, document_row, factor_row, matter_row, person_row,
    recovery_row, session_row, team, throttle_row, uuid_col, wall,
};

use crate::StoreError;

/// Column access shared by the backends' row types.
pub(crate) trait SqlRow {
    fn text(&self, col: &str) -> Result<String, StoreError>;
    fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError>;
    fn bytes(&self, col: &str) -> Result<Vec<u8>, StoreError>;
    fn opt_bytes(&self, col: &str) -> Result<Option<Vec<u8>>, StoreError>;
    fn int(&self, col: &str) -> Result<i64, StoreError>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError>;
}

macro_rules! impl_sql_row {
    ($row:ty) => {
        impl SqlRow for $row {
            fn text(&self, col: &str) -> Result<String, StoreError> {
                sqlx::Row::try_get(self, col).map_err(map_err)
            }
            fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError> {
                sqlx::Row::try_get(self, col).map_err(map_err)
            }
            fn bytes(&self, col: &str) -> Result<Vec<u8>, StoreError> {
                sqlx::Row::try_get(self, col).map_err(map_err)
            }
            fn opt_bytes(&self, col: &str) -> Result<Option<Vec<u8>>, StoreError> {
                sqlx::Row::try_get(self, col).map_err(map_err)
            }
            fn int(&self, col: &str) -> Result<i64, StoreError> {
                sqlx::Row::try_get(self, col).map_err(map_err)
            }
            fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError> {
                sqlx::Row::try_get(self, col).map_err(map_err)
            }
        }
    };
}

impl_sql_row!(sqlx::sqlite::SqliteRow);
impl_sql_row!(sqlx::postgres::PgRow);

/// PostgreSQL error classes that mean "the server went away or is refusing work for now":
/// connection exceptions (08), operator intervention (57: shutdown, termination), and
/// insufficient resources (53: too many connections).
fn unavailable_code(code: &str) -> bool {
    code.starts_with("08") || code.starts_with("57") || code.starts_with("53")
}

/// Transaction rollbacks forced by concurrency (serialization failure, deadlock): the unit of
/// work did not happen and may be retried.
fn contention_code(code: &str) -> bool {
    code == "40001" || code == "40P01"
}

/// Maps a driver error to a store error, the same way for every backend.
pub(crate) fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            if db.message().contains("append-only") {
                StoreError::AppendOnly
            } else if db.is_unique_violation() {
                StoreError::Conflict("already exists".to_owned())
            } else if db.is_foreign_key_violation() {
                StoreError::Conflict("refers to a record that does not exist".to_owned())
            } else if unavailable_code(&code)
                || contention_code(&code)
                || db.message().contains("locked")
                || db.message().contains("busy")
            {
                StoreError::Unavailable(db.message().to_owned())
            } else {
                StoreError::Database(db.message().to_owned())
            }
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
        _ => StoreError::Database(e.to_string()),
    }
}

/// A migration failure; a schema newer than this binary gets a message saying so.
pub(crate) fn migrate_err(e: sqlx::migrate::MigrateError) -> StoreError {
    match e {
        sqlx::migrate::MigrateError::VersionMissing(v) => StoreError::Database(format!(
            "the database has schema version {v}, which this binary does not know: \
             it was written by a newer Custos; upgrade this node"
        )),
        sqlx::migrate::MigrateError::Execute(e) => map_err(e),
        other => StoreError::Database(format!("migration failed: {other}")),
    }
}

pub(crate) fn ms(t: custos_domain::Timestamp) -> i64 {
    custos_audit::unix_ms(t)
}

/// The key after which a page starts: ids are stored as lower-case hyphenated text, so their
/// text order (byte order; `COLLATE "C"` on PostgreSQL) is their UUID order.
pub(crate) fn after_key(id: Option<uuid::Uuid>) -> String {
    id.map(|u| u.to_string()).unwrap_or_default()
}

pub(crate) fn ids<R: SqlRow, T>(
    rows: &[R],
    col: &str,
    wrap: impl Fn(uuid::Uuid) -> T,
) -> Result<Vec<T>, StoreError> {
    rows.iter()
        .map(|r| decode::uuid_col(r, col).map(&wrap))
        .collect()
}

/// An update that touched no row names what was missing.
pub(crate) fn found(rows_affected: u64, what: &'static str) -> Result<(), StoreError> {
    if rows_affected == 0 {
        Err(StoreError::NotFound(what))
    } else {
        Ok(())
    }
}

/// The sequence number and chain hash of the last entry, read from a row with columns `seq`
/// and `chain_hash` (NULL chain before the first entry).
pub(crate) fn audit_head(row: &impl SqlRow) -> Result<(u64, [u8; 32]), StoreError> {
    let seq = u64::try_from(row.int("seq")?).map_err(|_| StoreError::Corrupt("seq".into()))?;
    let chain = match row.opt_bytes("chain_hash")? {
        Some(bytes) => bytes
            .try_into()
            .map_err(|_| StoreError::Corrupt("chain hash length".into()))?,
        None if seq == 0 => custos_audit::GENESIS,
        None => return Err(StoreError::Corrupt("chain hash missing".into())),
    };
    Ok((seq, chain))
}

/// The entry that follows `prev` (`None`: the log is empty).
pub(crate) fn next_entry(
    prev: Option<(u64, [u8; 32])>,
    record: custos_audit::AuditRecord,
) -> custos_audit::AuditEntry {
    let (prev_seq, prev_chain) = prev.unwrap_or((0, custos_audit::GENESIS));
    let seq = prev_seq + 1;
    let leaf = custos_audit::leaf_hash(&record.canonical_bytes(seq));
    custos_audit::AuditEntry {
        seq,
        record,
        leaf_hash: leaf,
        chain_hash: custos_audit::chain_hash(&prev_chain, &leaf),
    }
}

/// A person's teams, led teams and staffed matters, tagged by `kind`.
pub(crate) const MEMBERSHIPS: &str = "SELECT 'team' AS kind, team_id AS id FROM team_members \
     WHERE person_id = $1
     UNION ALL SELECT 'led' AS kind, id FROM teams WHERE lead_id = $1
     UNION ALL SELECT 'staffed' AS kind, matter_id AS id FROM matter_members WHERE person_id = $1
     ORDER BY kind, id";

/// The walls whose subject is a person or a team they belong to.
pub(crate) const WALLS_OF_PRINCIPAL: &str = "SELECT * FROM walls
     WHERE (subject_kind = 'person' AND subject_id = $1)
        OR (subject_kind = 'team'
            AND subject_id IN (SELECT team_id FROM team_members WHERE person_id = $1))
     ORDER BY id";

/// Appends one numbered audit entry.
pub(crate) const INSERT_AUDIT: &str = "INSERT INTO audit_log (seq, at_ms, request_id, actor_id, \
     action, resource, outcome, reasons, detail, leaf_hash, chain_hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

/// The last entry's sequence number and chain hash.
pub(crate) const AUDIT_HEAD: &str =
    "SELECT seq, chain_hash FROM audit_log ORDER BY seq DESC LIMIT 1";

/// Binds an entry to [`INSERT_AUDIT`], for any backend.
pub(crate) fn bind_audit_entry<'q, DB: sqlx::Database>(
    query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>,
    entry: &custos_audit::AuditEntry,
) -> Result<sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>, StoreError>
where
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'static str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let record = &entry.record;
    let reasons =
        serde_json::to_string(&record.reasons).map_err(|e| StoreError::Database(e.to_string()))?;
    Ok(query
        .bind(i64::try_from(entry.seq).map_err(|_| StoreError::Corrupt("seq".into()))?)
        .bind(record.at_ms)
        .bind(record.request_id.to_string())
        .bind(record.actor.map(|a| a.to_string()))
        .bind(record.action.clone())
        .bind(record.resource.clone())
        .bind(record.outcome.as_str())
        .bind(reasons)
        .bind(record.detail.to_string())
        .bind(entry.leaf_hash.to_vec())
        .bind(entry.chain_hash.to_vec()))
}

/// Which of `expected` are not among `present` (trigger names).
pub(crate) fn missing_guards(expected: &[&'static str], present: &[String]) -> Vec<&'static str> {
    expected
        .iter()
        .filter(|name| !present.iter().any(|p| p == *name))
        .copied()
        .collect()
}

/// The per-request session check: one statement, the same on both backends.
pub(crate) const SESSION_AND_STATUS: &str = "SELECT s.*, p.status
     FROM sessions s JOIN people p ON p.id = s.person_id
     WHERE s.token_hash = $1";

/// The per-request API token check.
pub(crate) const API_TOKEN_AND_STATUS: &str = "SELECT t.*, p.status
     FROM api_tokens t JOIN people p ON p.id = t.person_id
     WHERE t.token_hash = $1";

/// Moves a session's last-seen time forward (never back).
pub(crate) const TOUCH_SESSION: &str =
    "UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1 AND last_seen_at < $2";

/// A row of [`API_TOKEN_AND_STATUS`].
pub(crate) fn api_token_and_status_row(
    row: &impl SqlRow,
) -> Result<(crate::ApiTokenRow, custos_domain::PersonStatus), StoreError> {
    let status = custos_domain::PersonStatus::parse(&row.text("status")?)
        .map_err(|_| StoreError::Corrupt("status".to_owned()))?;
    Ok((api_token_row(row)?, status))
}

/// A row of [`SESSION_AND_STATUS`].
pub(crate) fn session_and_status_row(
    row: &impl SqlRow,
) -> Result<(crate::SessionRow, custos_domain::PersonStatus), StoreError> {
    let status = custos_domain::PersonStatus::parse(&row.text("status")?)
        .map_err(|_| StoreError::Corrupt("status".to_owned()))?;
    Ok((session_row(row)?, status))
}

/// Implements [`crate::StoreTx`] for a backend's transaction type (a struct with a field
/// `tx: sqlx::Transaction<'static, DB>`): the shared operations, plus the backend's own
/// `commit`, `append_audit` and `audit_entries` given as `$extra` (they may call the shared
/// helper `select_audit_entries`, and write entries with [`INSERT_AUDIT`]).
macro_rules! impl_store_tx {
    ($tx:ty, { $($extra:tt)* }) => {
        impl $tx {
            async fn select_audit_entries(
                &mut self,
                filter: &AuditFilter,
                after: u64,
                limit: u32,
            ) -> Result<Vec<AuditEntry>, StoreError> {
                // Optional filters are written as `(CAST($n AS TEXT) IS NULL OR col = $n)`, so the SQL
                // text is fixed and the same on every backend.
                let actor = filter.actor.map(|a| a.to_string());
                let request = filter.request_id.map(|r| r.to_string());
                let outcome = filter.outcome.map(|o| o.as_str());
                sqlx::query(
                    "SELECT * FROM audit_log
                     WHERE seq > $1
                       AND (CAST($2 AS TEXT) IS NULL OR actor_id = $2)
                       AND (CAST($3 AS TEXT) IS NULL OR resource = $3)
                       AND (CAST($4 AS TEXT) IS NULL OR request_id = $4)
                       AND (CAST($5 AS TEXT) IS NULL OR outcome = $5)
                     ORDER BY seq LIMIT $6",
                )
                .bind(i64::try_from(after).unwrap_or(i64::MAX))
                .bind(actor)
                .bind(filter.resource.clone())
                .bind(request)
                .bind(outcome)
                .bind(i64::from(limit))
                .fetch_all(&mut *self.tx)
                .await
                .map_err(map_err)?
                .iter()
                .map(audit_entry)
                .collect()
            }
        }

        #[async_trait::async_trait]
        impl $crate::StoreTx for $tx {
            $($extra)*

            async fn audit_head(&mut self) -> Result<Option<(u64, [u8; 32])>, StoreError> {
                sqlx::query($crate::sql::AUDIT_HEAD)
                    .fetch_optional(&mut *self.tx)
                    .await
                    .map_err(map_err)?
                    .map(|r| audit_head(&r))
                    .transpose()
            }

            async fn insert_person(&mut self, row: &PersonRow) -> Result<(), StoreError> {
                let p = &row.person;
                sqlx::query(
                    "INSERT INTO people (id, user_name, display_name, role, status, password_hash, created_at,
                                         must_change_password, password_changed_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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
                .execute(&mut *self.tx)
                .await
                .map_err(map_err)?;
                Ok(())
            }

            async fn person(&mut self, id: PersonId) -> Result<Option<PersonRow>, StoreError> {
                sqlx::query("SELECT * FROM people WHERE id = $1")
                    .bind(id.to_string())
                    .fetch_optional(&mut *self.tx)
                    .await
                    .map_err(map_err)?
                    .map(|r| person_row(&r))
                    .transpose()
            }

            async fn person_by_user_name(&mut self, name: &str) -> Result<Option<PersonRow>, StoreError> {
                sqlx::query("SELECT * FROM people WHERE user_name = $1")
                    .bind(name)
                    .fetch_optional(&mut *self.tx)
                    .await
                    .map_err(map_err)?
                    .map(|r| person_row(&r))
                    .transpose()
            }

            async fn list_people(
                &mut self,
                after: Option<PersonId>,
                limit: u32,
            ) -> Result<Vec<PersonRow>, StoreError> {
                sqlx::query("SELECT * FROM people WHERE id > $1 ORDER BY id LIMIT $2")
                    .bind(after_key(after.map(|a| a.0)))
                    .bind(i64::from(limit))
                    .fetch_all(&mut *self.tx)
                    .await
                    .map_err(map_err)?
                    .iter()
                    .map(person_row)
                    .collect()
            }

            async fn set_person_status(
                &mut self,
                id: PersonId,
                status: PersonStatus,
            ) -> Result<(), StoreError> {
                let done = sqlx::query("UPDATE people SET status = $1 WHERE id = $2")
                    .bind(status.as_str())
                    .bind(id.to_string())
                    .execute(&mut *self.tx)
                    .await
                    .map_err(map_err)?;
                found(done.rows_affected(), "person")
            }

            async fn set_password(
                &mut self,
                id: PersonId,
                hash: &str,
                must_change: bool,
                changed_at: custos_domain::Timestamp,
            ) -> Result<(), StoreError> {
                let done = sqlx::query(
                    "UPDATE people SET password_hash = $1, must_change_password = $3, password_changed_at = $4
                     WHERE id = $2",
                )
                    .bind(hash)
                    .bind(id.to_string())
                    .bind(i64::from(must_change))
                    .bind(ms(changed_at))
                    .execute(&mut *self.tx)
                    .await
                    .map_err(map_err)?;
                found(done.rows_affected(), "person")
            }

            async fn insert_team(&mut self, t: &Team) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO teams (id, name, lead_id) VALUES ($1, $2, $3)")
                    .bind(t.id.to_string())
                    .bind(&t.name)
                    .bind(t.lead.map(|l| l.to_string()))
                    .execute(&mut *self.tx)
                    .await
                    .map_err(map_err)?;
                Ok(())
            }

            async fn principal(
                &mut self,
                id: PersonId,
            ) -> Result<Option<$crate::PrincipalRow>, StoreError> {
                let Some(person) = self.person(id).await? else {
                    return Ok(None);
                };
                let rows = sqlx::query($crate::sql::MEMBERSHIPS)
                    .bind(id.to_string())
                    .fetch_all(&mut *self.tx)
                    .await
                    .map_err(map_err)?;
                let (mut teams, mut led_teams, mut staffed_matters) = (vec![], vec![], vec![]);
                for row in &rows {
                    let of = $crate::sql::uuid_col(row, "id")?;
                    match row.text("kind")?.as_str() {
                        "team" => teams.push(TeamId(of)),
                        "led" => led_teams.push(TeamId(of)),
                        _ => staffed_matters.push(MatterId(of)),
                    }
                }
                let walls = sqlx::query($crate::sql::WALLS_OF_PRINCIPAL)
                    .bind(id.to_string())
                    .fetch_all(&mut *self.tx)
                    .await
                    .map_err(map_err)?
                    .iter()
                    .map(wall)
                    .collect::<Result<_, _>>()?;
                Ok(Some($crate::PrincipalRow {
                    person,
                    teams,
                    led_teams,
                    staffed_matters,
                    walls,
                }))
            }

            async fn team(&mut self, id: TeamId) -> Result<Option<Team>, StoreError> {
                sqlx::query("SELECT * FROM teams WHERE id = $1")
                    .bind(id.to_string())
                    .fetch_optional(&mut *self.tx)
                    .await
                    .map_err(map_err)?
                    .map(|r| team(&r))
                    .transpose()
            }

            async fn list_teams(
                &mut self,
                after: Option<TeamId>,
                limit: u32,
            ) -> Result<Vec<Team>, StoreError> {
                sqlx::query("SELECT * FROM teams WHERE id > $1 ORDER BY id LIMIT $2")
                    .bind(after_key(after.map(|a| a.0)))
                    .bind(i64::from(limit))
                    .fetch_all(&mut *self.tx)
                    .await
                    .map_err(map_err)?
                    .iter()
                    .map(team)
                    .collect()
            }

            async fn add_team_member(&mut self, t: TeamId, person: PersonId) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO team_members (team_id, person_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(t.to_string())
                    .bind(person.to_string())
                    .execute(&mut *self.tx)
                    .await
                    .map_err(map_err)?;
                Ok(())
            }

            async fn remove_team_member(
                &mut self,
                t: TeamId,
                person: PersonId,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query("DELETE FROM team_members WHERE team_id = $1 AND person_id = $2")
                    .bind(t.to_string())
                    .bind(person.to_string())
                    .execute(&mut *self.tx)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn team_members(&mut self, t: TeamId) -> Result<Vec<PersonId>, StoreError> {
                let rows =
                    sqlx::query("SELECT person_id FROM team_members WHERE team_id = $1 ORDER BY person_id")
                        .bind(t.to_string())
                        .fetch_all(&mut *self.tx)
                        .await
                        .map_err(map_err)?;
                ids(&rows, "person_id", PersonId)
            }

            async fn teams_of(&mut self, person: PersonId) -> Result<Vec<TeamId>, StoreError> {
                let rows =
                    sqlx::query("SELECT team_id FROM team_members WHERE person_id = $1 ORDER BY team_id")
                        .bind(person.to_string())
                        .fetch_all(&mut *self.tx)
                        .await
                        .map_err(map_err)?;
                ids(&rows, "team_id", TeamId)
            }

            async fn teams_led_by(&mut self, person: PersonId) -> Result<Vec<TeamId>, StoreError> {
                let rows = sqlx::query("SELECT id FROM teams WHERE lead_id = $1 ORDER BY id")
                    .bind(person.to_string())
                    .fetch_all(&mut *self.tx)
                    .await
                    .map_err(map_err)?;
                ids(&rows, "id", TeamId)
            }

            async fn insert_client(&mut self, row: &ClientRow) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO clients (id, responsible_id, wrapped_key, sealed_name, sealed_contact, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(row.id.to_string())
                .bind(row.responsible.to_string())
                .bind(&row.wrapped_key)
                .bind(&row.sealed_name)
                .bind(&row.sealed_contact)
                .bind(ms(row.created_at))
                .execute(&mut *self.tx)
                .await
                .map_err(map_err)?;
                Ok(())
            }

            async fn client(&mut self, id: ClientId) -> Result<Option<ClientRow>, StoreError> {
                sqlx::query("SELECT * FROM clients WHERE id = $1")
                    .bind(id.to_string())
                    .fetch_optional(&mut *self.tx)
                    .await
                    .map_err(map_err)?
                    .map(|r| client_row(&r))
                    .transpose()
            }

            async fn list_clients(
                &mut self,
                after: Option<ClientId>,
                limit: u32,
            ) -> Result<Vec<ClientRow>, StoreError> {
                sqlx::query("SELECT * FROM clients WHERE id > $1 ORDER BY id LIMIT $2")
                    .bind(after_key(after.map(|a| a.0)))
                    .bind(i64::from(limit))
                    .fetch_all(&mut *self.tx)
                    .await
                    .map_err(map_err)?
                    .iter()
                    .map(client_row)
                    .collect()
            }

            async fn matters_of_clients_between(
                &mut self,
                first: ClientId,
                last: ClientId,
            ) -> Result<Vec<MatterRow>, StoreError> {
                sqlx::query(
                    "SELECT * FROM matters WHERE client_id >= $1 AND client_id <= $2
                     ORDER BY client_id, id",
                )
                .bind(first.to_string())
                .bind(last.to_string())
                .fetch_all(&mut *self.tx)
                .await
                .map_err(map_err)?
                .iter()
                .map(matter_row)
                .collect()
            }

            async fn matters_of_client(&mut self, client: ClientId) -> Result<Vec<MatterRow>, StoreError> {
                sqlx::query("SELECT * FROM matters WHERE client_id = $1 ORDER BY id")
                    .bind(client.to_string())
                    .fetch_all(&mut *self.tx)
                    .await
                    .map_err(map_err)?
                    .iter()
                    .map(matter_row)
                    .collect()
            }

            async fn insert_matter(&mut self, row: &MatterRow) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO matters (id, client_id, team_id, lead_id, wrapped_key, sealed_title, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(row.id.to_string())
                .bind(row.client.to_string())
                .bind(row.team.to_string())
                .bind(row.lead.to_string())
                .bind(&row.wrapped_key)
                .bind(&row.sealed_title)
                .bind(ms(row.created_at))
                .execute(&mut *self.tx)
                .await
                .map_err(map_err)?;
                Ok(())
            }

            async fn matter(&mut self, id: MatterId) -> Result<Option<MatterRow>, StoreError> {
                sqlx::query("SELECT * FROM matters WHERE id = $1")
                    .bind(id.to_string())
                    .fetch_optional(&mut *self.tx)
                    .await
                    .map_err(map_err)?
                    .map(|r| matter_row(&r))
                    .transpose()
            }

            async fn list_matters(
                &mut self,
                after: Option<MatterId>,
                limit: u32,
            ) -> Result<Vec<MatterRow>, StoreError> {
                sqlx::query("SELECT * FROM matters WHERE id > $1 ORDER BY id LIMIT $2")
                    .bind(after_key(after.map(|a| a.0)))
                    .bind(i64::from(limit))
                    .fetch_all(&mut *self.tx)
                    .await
                    .map_err(map_err)?
                    .iter()
                    .map(matter_row)
                    .collect()
            }

            async fn add_matter_member(&mut self, m: MatterId, person: PersonId) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO matter_members (matter_id, person_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(m.to_string())
                    .bind(person.to_string())
                    .execute(&mut *self.tx)
                    .await
                    .map_err(map_err)?;
                Ok(())
            }

            async fn remove_matter_member(
                &mut self,
                m: MatterId,
                person: PersonId,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query("DELETE FROM matter_members WHERE matter_id = $1 AND person_id = $2")
                    .bind(m.to_string())
                    .bind(person.to_string())
                    .execute(&mut *self.tx)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn matter_members(&mut self, m: MatterId) -> Result<Vec<PersonId>, StoreError> {
                let rows = sqlx::query(
                    "SELECT person_id FROM matter_members WHERE matter_id = $1 ORDER BY person_id",
                )
                .bind(m.to_string())
                .fetch_all(&mut *self.tx)
                .await
                .map_err(map_err)?;
                ids(&rows, "person_id", PersonId)
            }

            async fn staffed_matters(&mut self, person: PersonId) -> Result<Vec<MatterId>, StoreError> {
                let rows = sqlx::query(
                    "SELECT matter_id FROM matter_members WHERE person_id = $1 ORDER BY matter_id",
                )
                .bind(person.to_string())
                .fetch_all(&mut *self.tx)
                .await
                .map_err(map_err)?;
                ids(&rows, "matter_id", MatterId)
            }

            async fn insert_document(&mut self, row: &DocumentRow) -> Result<(), StoreError> {
                let size =
                    i64::try_from(row.size).map_err(|_| StoreError::Conflict("size too large".into()))?;
                sqlx::query(
                    "INSERT INTO documents (id, matter_id, classification, sealed_title, sealed_provenance,
                                            media_type, size, created_by, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(row.id.to_string())
                .bind(row.matter.to_string())
                .bind(row.classification.as_str())
                .bind(&row.sealed_title)
                .bind(&row.sealed_provenance)
                .bind(&row.media_type)
                .bind(size)
                .bind(row.created_by.to_string())
                .bind(ms(row.created_at))
                .execute(&mut *self.tx)
                .await
                .map_err(map_err)?;
                Ok(())
            }

            async fn document(&mut self, id: DocumentId) -> Result<Option<DocumentRow>, StoreError> {
                sqlx::query("SELECT * FROM documents WHERE id = $1")
                    .bind(id.to_string())
                    .fetch_optional(&mut *self.tx)
                    .await
                    .map_err(map_err)?
                    .map(|r| document_row(&r))
                    .transpose()
            }

            async fn list_documents(
                &mut self,
                m: MatterId,
                after: Option<DocumentId>,
                limit: u32,
            ) -> Result<Vec<DocumentRow>, StoreError> {
                sqlx::query("SELECT * FROM documents WHERE matter_id = $1 AND id > $2 ORDER BY id LIMIT $3")
                    .bind(m.to_string())
                    .bind(after_key(after.map(|a| a.0)))
                    .bind(i64::from(limit))
                    .fetch_all(&mut *self.tx)
                    .await
                    .map_err(map_err)?
                    .iter()
                    .map(document_row)
                    .collect()
            }

            async fn document_ids_between(
                &mut self,
                first: DocumentId,
                last: DocumentId,
            ) -> Result<Vec<DocumentId>, StoreError> {
                let rows = sqlx::query("SELECT id FROM documents WHERE id >= $1 AND id <= $2 ORDER BY id")
                    .bind(first.to_string())
                    .bind(last.to_string())
                    .fetch_all(&mut *self.tx)
                    .await
                    .map_err(map_err)?;
                ids(&rows, "id", DocumentId)
            }

            async fn insert_wall(&mut self, w: &Wall) -> Result<(), StoreError> {
                let (subject_kind, subject_id) = match w.subject {
                    WallSubject::Person(p) => ("person", p.0),
                    WallSubject::Team(t) => ("team", t.0),
                };
                let (object_kind, object_id) = match w.object {
                    WallObject::Client(c) => ("client", c.0),
                    WallObject::Matter(m) => ("matter", m.0),
                };
                sqlx::query(
                    "INSERT INTO walls (id, subject_kind, subject_id, object_kind, object_id, reason, created_by, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(w.id.to_string())
                .bind(subject_kind)
                .bind(subject_id.to_string())
                .bind(object_kind)
                .bind(object_id.to_string())
                .bind(&w.reason)
                .bind(w.created_by.to_string())
                .bind(ms(w.created_at))
                .execute(&mut *self.tx)
                .await
                .map_err(map_err)?;
                Ok(())
            }

            async fn list_walls(
                &mut self,
                after: Option<WallId>,
                limit: u32,
            ) -> Result<Vec<Wall>, StoreError> {
                sqlx::query("SELECT * FROM walls WHERE id > $1 ORDER BY id LIMIT $2")
                    .bind(after_key(after.map(|a| a.0)))
                    .bind(i64::from(limit))
                    .fetch_all(&mut *self.tx)
                    .await
                    .map_err(map_err)?
                    .iter()
                    .map(wall)
                    .collect()
            }

            async fn walls_screening(
                &mut self,
                person: PersonId,
                teams: &[TeamId],
            ) -> Result<Vec<Wall>, StoreError> {
                let mut out: Vec<Wall> = sqlx::query(
                    "SELECT * FROM walls WHERE subject_kind = 'person' AND subject_id = $1 ORDER BY id",
                )
                .bind(person.to_string())
                .fetch_all(&mut *self.tx)
                .await
                .map_err(map_err)?
                .iter()
                .map(wall)
                .collect::<Result<_, _>>()?;
                for t in teams {
                    let rows = sqlx::query(
                        "SELECT * FROM walls WHERE subject_kind = 'team' AND subject_id = $1 ORDER BY id",
                    )
                    .bind(t.to_string())
                    .fetch_all(&mut *self.tx)
                    .await
                    .map_err(map_err)?;
                    for r in &rows {
                        out.push(wall(r)?);
                    }
                }
                Ok(out)
            }

            async fn walls_of_team(&mut self, t: TeamId) -> Result<Vec<Wall>, StoreError> {
                sqlx::query(
                    "SELECT * FROM walls WHERE subject_kind = 'team' AND subject_id = $1 ORDER BY id",
                )
                .bind(t.to_string())
                .fetch_all(&mut *self.tx)
                .await
                .map_err(map_err)?
                .iter()
                .map(wall)
                .collect()
            }

            async fn insert_session(&mut self, row: &SessionRow) -> Result<(), StoreError> {
                sqlx::query(
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
                .execute(&mut *self.tx)
                .await
                .map_err(map_err)?;
                Ok(())
            }

            async fn session(&mut self, token_hash: &[u8; 32]) -> Result<Option<SessionRow>, StoreError> {
                sqlx::query("SELECT * FROM sessions WHERE token_hash = $1")
                    .bind(&token_hash[..])
                    .fetch_optional(&mut *self.tx)
                    .await
                    .map_err(map_err)?
                    .map(|r| session_row(&r))
                    .transpose()
            }

            async fn sessions_of(&mut self, person: PersonId) -> Result<Vec<SessionRow>, StoreError> {
                sqlx::query("SELECT * FROM sessions WHERE person_id = $1 ORDER BY created_at, id")
                    .bind(person.to_string())
                    .fetch_all(&mut *self.tx)
                    .await
                    .map_err(map_err)?
                    .iter()
                    .map(session_row)
                    .collect()
            }

            async fn delete_session_of(&mut self, person: PersonId, id: uuid::Uuid) -> Result<bool, StoreError> {
                let done = sqlx::query("DELETE FROM sessions WHERE person_id = $1 AND id = $2")
                    .bind(person.to_string())
                    .bind(id.to_string())
                    .execute(&mut *self.tx)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn delete_other_sessions(&mut self, person: PersonId, keep: uuid::Uuid) -> Result<u64, StoreError> {
                let done = sqlx::query("DELETE FROM sessions WHERE person_id = $1 AND id <> $2")
                    .bind(person.to_string())
                    .bind(keep.to_string())
                    .execute(&mut *self.tx)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected())
            }

            async fn set_session_stage(
                &mut self,
                id: uuid::Uuid,
                stage: $crate::SessionStage,
                expires_at: custos_domain::Timestamp,
            ) -> Result<(), StoreError> {
                let done = sqlx::query("UPDATE sessions SET stage = $2, expires_at = $3 WHERE id = $1")
                    .bind(id.to_string())
                    .bind(stage.as_str())
                    .bind(ms(expires_at))
                    .execute(&mut *self.tx)
                    .await
                    .map_err(map_err)?;
                found(done.rows_affected(), "session")
            }

            async fn insert_factor(&mut self, row: &$crate::FactorRow) -> Result<(), StoreError> {
                sqlx::query(
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
                .execute(&mut *self.tx)
                .await
                .map_err(map_err)?;
                Ok(())
            }

            async fn factors_of(&mut self, person: PersonId) -> Result<Vec<$crate::FactorRow>, StoreError> {
                sqlx::query("SELECT * FROM second_factors WHERE person_id = $1 ORDER BY created_at, id")
                    .bind(person.to_string())
                    .fetch_all(&mut *self.tx)
                    .await
                    .map_err(map_err)?
                    .iter()
                    .map(factor_row)
                    .collect()
            }

            async fn activate_factor(&mut self, id: uuid::Uuid) -> Result<(), StoreError> {
                let done = sqlx::query("UPDATE second_factors SET active = 1 WHERE id = $1")
                    .bind(id.to_string())
                    .execute(&mut *self.tx)
                    .await
                    .map_err(map_err)?;
                found(done.rows_affected(), "second factor")
            }

            async fn delete_factors_of(&mut self, person: PersonId, which: $crate::FactorSelection) -> Result<u64, StoreError> {
                let done = sqlx::query(
                    "DELETE FROM second_factors WHERE person_id = $1 AND (active = 0 OR $2 = 0)",
                )
                    .bind(person.to_string())
                    .bind(i64::from(which == $crate::FactorSelection::PendingOnly))
                    .execute(&mut *self.tx)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected())
            }

            async fn advance_factor_step(&mut self, id: uuid::Uuid, step: i64) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "UPDATE second_factors SET last_step = $2 WHERE id = $1 AND last_step < $2",
                )
                    .bind(id.to_string())
                    .bind(step)
                    .execute(&mut *self.tx)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn replace_recovery_codes(&mut self, person: PersonId, hashes: &[[u8; 32]]) -> Result<(), StoreError> {
                sqlx::query("DELETE FROM recovery_codes WHERE person_id = $1")
                    .bind(person.to_string())
                    .execute(&mut *self.tx)
                    .await
                    .map_err(map_err)?;
                for h in hashes {
                    sqlx::query("INSERT INTO recovery_codes (person_id, code_hash) VALUES ($1, $2)")
                        .bind(person.to_string())
                        .bind(&h[..])
                        .execute(&mut *self.tx)
                        .await
                        .map_err(map_err)?;
                }
                Ok(())
            }

            async fn use_recovery_code(
                &mut self,
                person: PersonId,
                hash: &[u8; 32],
                at: custos_domain::Timestamp,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "UPDATE recovery_codes SET used_at = $3
                     WHERE person_id = $1 AND code_hash = $2 AND used_at IS NULL",
                )
                    .bind(person.to_string())
                    .bind(&hash[..])
                    .bind(ms(at))
                    .execute(&mut *self.tx)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn unused_recovery_codes(&mut self, person: PersonId) -> Result<u64, StoreError> {
                let row = sqlx::query(
                    "SELECT COUNT(*) AS n FROM recovery_codes WHERE person_id = $1 AND used_at IS NULL",
                )
                    .bind(person.to_string())
                    .fetch_one(&mut *self.tx)
                    .await
                    .map_err(map_err)?;
                u64::try_from(row.int("n")?).map_err(|_| StoreError::Corrupt("count".to_owned()))
            }

            async fn throttle(&mut self, key: &str) -> Result<Option<$crate::ThrottleRow>, StoreError> {
                sqlx::query("SELECT * FROM login_throttle WHERE key = $1")
                    .bind(key)
                    .fetch_optional(&mut *self.tx)
                    .await
                    .map_err(map_err)?
                    .map(|r| throttle_row(&r))
                    .transpose()
            }

            async fn add_failure(
                &mut self,
                key: &str,
                at: custos_domain::Timestamp,
                forget_before: custos_domain::Timestamp,
            ) -> Result<u32, StoreError> {
                let row = sqlx::query(
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
                    .fetch_one(&mut *self.tx)
                    .await
                    .map_err(map_err)?;
                u32::try_from(row.int("failures")?).map_err(|_| StoreError::Corrupt("failures".to_owned()))
            }

            async fn lock_until(&mut self, key: &str, until: custos_domain::Timestamp) -> Result<(), StoreError> {
                let done = sqlx::query("UPDATE login_throttle SET locked_until = $2 WHERE key = $1")
                    .bind(key)
                    .bind(ms(until))
                    .execute(&mut *self.tx)
                    .await
                    .map_err(map_err)?;
                found(done.rows_affected(), "throttle")
            }

            async fn clear_throttle(&mut self, key: &str) -> Result<bool, StoreError> {
                let done = sqlx::query("DELETE FROM login_throttle WHERE key = $1")
                    .bind(key)
                    .execute(&mut *self.tx)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn locked_throttles(
                &mut self,
                prefix: &str,
                at: custos_domain::Timestamp,
            ) -> Result<Vec<$crate::ThrottleRow>, StoreError> {
                sqlx::query(
                    "SELECT * FROM login_throttle WHERE locked_until > $2 AND substr(key, 1, length($1)) = $1
                     ORDER BY key",
                )
                    .bind(prefix)
                    .bind(ms(at))
                    .fetch_all(&mut *self.tx)
                    .await
                    .map_err(map_err)?
                    .iter()
                    .map(throttle_row)
                    .collect()
            }

            async fn insert_api_token(&mut self, row: &$crate::ApiTokenRow) -> Result<(), StoreError> {
                sqlx::query(
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
                .execute(&mut *self.tx)
                .await
                .map_err(map_err)?;
                Ok(())
            }

            async fn api_tokens_of(&mut self, person: PersonId) -> Result<Vec<$crate::ApiTokenRow>, StoreError> {
                sqlx::query("SELECT * FROM api_tokens WHERE person_id = $1 ORDER BY created_at, id")
                    .bind(person.to_string())
                    .fetch_all(&mut *self.tx)
                    .await
                    .map_err(map_err)?
                    .iter()
                    .map(api_token_row)
                    .collect()
            }

            async fn revoke_api_token(
                &mut self,
                person: PersonId,
                id: uuid::Uuid,
                at: custos_domain::Timestamp,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "UPDATE api_tokens SET revoked_at = $3 WHERE person_id = $1 AND id = $2 AND revoked_at IS NULL",
                )
                    .bind(person.to_string())
                    .bind(id.to_string())
                    .bind(ms(at))
                    .execute(&mut *self.tx)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn revoke_api_tokens_of(
                &mut self,
                person: PersonId,
                at: custos_domain::Timestamp,
            ) -> Result<u64, StoreError> {
                let done = sqlx::query(
                    "UPDATE api_tokens SET revoked_at = $2 WHERE person_id = $1 AND revoked_at IS NULL",
                )
                    .bind(person.to_string())
                    .bind(ms(at))
                    .execute(&mut *self.tx)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected())
            }

            async fn upsert_recovery(&mut self, row: &$crate::RecoveryRow) -> Result<(), StoreError> {
                sqlx::query(
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
                .execute(&mut *self.tx)
                .await
                .map_err(map_err)?;
                Ok(())
            }

            async fn recovery(&mut self, person: PersonId) -> Result<Option<$crate::RecoveryRow>, StoreError> {
                sqlx::query("SELECT * FROM account_recoveries WHERE person_id = $1")
                    .bind(person.to_string())
                    .fetch_optional(&mut *self.tx)
                    .await
                    .map_err(map_err)?
                    .map(|r| recovery_row(&r))
                    .transpose()
            }

            async fn delete_recovery(&mut self, person: PersonId) -> Result<bool, StoreError> {
                let done = sqlx::query("DELETE FROM account_recoveries WHERE person_id = $1")
                    .bind(person.to_string())
                    .execute(&mut *self.tx)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn delete_session(&mut self, token_hash: &[u8; 32]) -> Result<bool, StoreError> {
                let done = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                    .bind(&token_hash[..])
                    .execute(&mut *self.tx)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn delete_sessions_of(&mut self, person: PersonId) -> Result<u64, StoreError> {
                let done = sqlx::query("DELETE FROM sessions WHERE person_id = $1")
                    .bind(person.to_string())
                    .execute(&mut *self.tx)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected())
            }
        }
    };
}

pub(crate) use impl_store_tx;

/// Writes one numbered entry in the unit's transaction.
pub(crate) async fn insert_audit_row<'c, DB: sqlx::Database>(
    conn: &'c mut <DB as sqlx::Database>::Connection,
    entry: &custos_audit::AuditEntry,
) -> Result<(), StoreError>
where
    &'c mut <DB as sqlx::Database>::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'static str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
{
    bind_audit_entry(sqlx::query::<DB>(INSERT_AUDIT), entry)?
        .execute(conn)
        .await
        .map_err(map_err)?;
    Ok(())
}
