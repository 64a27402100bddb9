//! The SQLite implementation of the store traits (WAL, full sync, foreign keys on).

mod decode;

use crate::rows::{AuditFilter, ClientRow, DocumentRow, MatterRow, PersonRow, SessionRow};
use crate::{Store, StoreError, StoreTx};
use async_trait::async_trait;
use custos_audit::{AuditEntry, AuditRecord, GENESIS, chain_hash, leaf_hash};
use custos_domain::{
    ClientId, DocumentId, MatterId, PersonId, PersonStatus, Team, TeamId, Wall, WallId, WallObject,
    WallSubject,
};
use decode::{
    audit_entry, client_row, document_row, matter_row, person_row, session_row, team, wall,
};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, Sqlite, SqlitePool, Transaction};
use std::path::Path;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The embedded default store: one SQLite file in the data directory.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if asked) the database at `path` and runs pending migrations; refuses a
    /// database whose schema is newer than this binary.
    pub async fn open(path: &Path, create: bool) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("secure_delete", "on");
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(15))
            .connect_with(options)
            .await
            .map_err(map_err)?;
        MIGRATOR.run(&pool).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::VersionMissing(v) => StoreError::Database(format!(
                "the database has schema version {v}, which this binary does not know: \
                 it was written by a newer Custos"
            )),
            other => StoreError::Database(format!("migration failed: {other}")),
        })?;
        Ok(SqliteStore { pool })
    }

    /// Closes every connection (checkpointing the WAL).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn begin(&self) -> Result<Box<dyn StoreTx>, StoreError> {
        let tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)?;
        Ok(Box::new(SqliteTx { tx }))
    }

    async fn session_and_status(
        &self,
        token_hash: &[u8; 32],
    ) -> Result<Option<(SessionRow, PersonStatus)>, StoreError> {
        let row = sqlx::query(
            "SELECT s.token_hash, s.person_id, s.created_at, s.expires_at, p.status
             FROM sessions s JOIN people p ON p.id = s.person_id
             WHERE s.token_hash = ?",
        )
        .bind(&token_hash[..])
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.map(|r| {
            let status: String = r.try_get("status").map_err(map_err)?;
            let status = PersonStatus::parse(&status)
                .map_err(|_| StoreError::Corrupt("status".to_owned()))?;
            Ok((session_row(&r)?, status))
        })
        .transpose()
    }
}

struct SqliteTx {
    tx: Transaction<'static, Sqlite>,
}

pub(crate) fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) => {
            if db.message().contains("append-only") {
                StoreError::AppendOnly
            } else if db.is_unique_violation() {
                StoreError::Conflict("already exists".to_owned())
            } else if db.is_foreign_key_violation() {
                StoreError::Conflict("refers to a record that does not exist".to_owned())
            } else if db.message().contains("locked") || db.message().contains("busy") {
                StoreError::Unavailable(db.message().to_owned())
            } else {
                StoreError::Database(db.message().to_owned())
            }
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Database(e.to_string()),
    }
}

fn ms(t: custos_domain::Timestamp) -> i64 {
    custos_audit::unix_ms(t)
}

fn after_key(id: Option<uuid::Uuid>) -> String {
    id.map(|u| u.to_string()).unwrap_or_default()
}

fn uuids(rows: &[sqlx::sqlite::SqliteRow]) -> Result<Vec<uuid::Uuid>, StoreError> {
    rows.iter().map(|r| decode::uuid_col(r, 0)).collect()
}

#[async_trait]
impl StoreTx for SqliteTx {
    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(map_err)
    }

    async fn insert_person(&mut self, row: &PersonRow) -> Result<(), StoreError> {
        let p = &row.person;
        sqlx::query(
            "INSERT INTO people (id, user_name, display_name, role, status, password_hash, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(p.id.to_string())
        .bind(p.user_name.as_str())
        .bind(&p.display_name)
        .bind(p.role.as_str())
        .bind(p.status.as_str())
        .bind(&row.password_hash)
        .bind(ms(p.created_at))
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn person(&mut self, id: PersonId) -> Result<Option<PersonRow>, StoreError> {
        sqlx::query("SELECT * FROM people WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_err)?
            .map(|r| person_row(&r))
            .transpose()
    }

    async fn person_by_user_name(&mut self, name: &str) -> Result<Option<PersonRow>, StoreError> {
        sqlx::query("SELECT * FROM people WHERE user_name = ?")
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
        sqlx::query("SELECT * FROM people WHERE id > ? ORDER BY id LIMIT ?")
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
        sqlx::query("UPDATE people SET status = ? WHERE id = ?")
            .bind(status.as_str())
            .bind(id.to_string())
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn set_password_hash(&mut self, id: PersonId, hash: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE people SET password_hash = ? WHERE id = ?")
            .bind(hash)
            .bind(id.to_string())
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn insert_team(&mut self, t: &Team) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO teams (id, name, lead_id) VALUES (?, ?, ?)")
            .bind(t.id.to_string())
            .bind(&t.name)
            .bind(t.lead.map(|l| l.to_string()))
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn team(&mut self, id: TeamId) -> Result<Option<Team>, StoreError> {
        sqlx::query("SELECT * FROM teams WHERE id = ?")
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
        sqlx::query("SELECT * FROM teams WHERE id > ? ORDER BY id LIMIT ?")
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
        sqlx::query("INSERT OR IGNORE INTO team_members (team_id, person_id) VALUES (?, ?)")
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
        let done = sqlx::query("DELETE FROM team_members WHERE team_id = ? AND person_id = ?")
            .bind(t.to_string())
            .bind(person.to_string())
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn team_members(&mut self, t: TeamId) -> Result<Vec<PersonId>, StoreError> {
        let rows =
            sqlx::query("SELECT person_id FROM team_members WHERE team_id = ? ORDER BY person_id")
                .bind(t.to_string())
                .fetch_all(&mut *self.tx)
                .await
                .map_err(map_err)?;
        Ok(uuids(&rows)?.into_iter().map(PersonId).collect())
    }

    async fn teams_of(&mut self, person: PersonId) -> Result<Vec<TeamId>, StoreError> {
        let rows =
            sqlx::query("SELECT team_id FROM team_members WHERE person_id = ? ORDER BY team_id")
                .bind(person.to_string())
                .fetch_all(&mut *self.tx)
                .await
                .map_err(map_err)?;
        Ok(uuids(&rows)?.into_iter().map(TeamId).collect())
    }

    async fn teams_led_by(&mut self, person: PersonId) -> Result<Vec<TeamId>, StoreError> {
        let rows = sqlx::query("SELECT id FROM teams WHERE lead_id = ? ORDER BY id")
            .bind(person.to_string())
            .fetch_all(&mut *self.tx)
            .await
            .map_err(map_err)?;
        Ok(uuids(&rows)?.into_iter().map(TeamId).collect())
    }

    async fn insert_client(&mut self, row: &ClientRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO clients (id, responsible_id, wrapped_key, sealed_name, sealed_contact, created_at)
             VALUES (?, ?, ?, ?, ?, ?)",
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
        sqlx::query("SELECT * FROM clients WHERE id = ?")
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
        sqlx::query("SELECT * FROM clients WHERE id > ? ORDER BY id LIMIT ?")
            .bind(after_key(after.map(|a| a.0)))
            .bind(i64::from(limit))
            .fetch_all(&mut *self.tx)
            .await
            .map_err(map_err)?
            .iter()
            .map(client_row)
            .collect()
    }

    async fn matters_of_client(&mut self, client: ClientId) -> Result<Vec<MatterRow>, StoreError> {
        sqlx::query("SELECT * FROM matters WHERE client_id = ? ORDER BY id")
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
             VALUES (?, ?, ?, ?, ?, ?, ?)",
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
        sqlx::query("SELECT * FROM matters WHERE id = ?")
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
        sqlx::query("SELECT * FROM matters WHERE id > ? ORDER BY id LIMIT ?")
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
        sqlx::query("INSERT OR IGNORE INTO matter_members (matter_id, person_id) VALUES (?, ?)")
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
        let done = sqlx::query("DELETE FROM matter_members WHERE matter_id = ? AND person_id = ?")
            .bind(m.to_string())
            .bind(person.to_string())
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn matter_members(&mut self, m: MatterId) -> Result<Vec<PersonId>, StoreError> {
        let rows = sqlx::query(
            "SELECT person_id FROM matter_members WHERE matter_id = ? ORDER BY person_id",
        )
        .bind(m.to_string())
        .fetch_all(&mut *self.tx)
        .await
        .map_err(map_err)?;
        Ok(uuids(&rows)?.into_iter().map(PersonId).collect())
    }

    async fn staffed_matters(&mut self, person: PersonId) -> Result<Vec<MatterId>, StoreError> {
        let rows = sqlx::query(
            "SELECT matter_id FROM matter_members WHERE person_id = ? ORDER BY matter_id",
        )
        .bind(person.to_string())
        .fetch_all(&mut *self.tx)
        .await
        .map_err(map_err)?;
        Ok(uuids(&rows)?.into_iter().map(MatterId).collect())
    }

    async fn insert_document(&mut self, row: &DocumentRow) -> Result<(), StoreError> {
        let size =
            i64::try_from(row.size).map_err(|_| StoreError::Conflict("size too large".into()))?;
        sqlx::query(
            "INSERT INTO documents (id, matter_id, classification, sealed_title, sealed_provenance,
                                    media_type, size, created_by, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        sqlx::query("SELECT * FROM documents WHERE id = ?")
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
        sqlx::query("SELECT * FROM documents WHERE matter_id = ? AND id > ? ORDER BY id LIMIT ?")
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
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
        sqlx::query("SELECT * FROM walls WHERE id > ? ORDER BY id LIMIT ?")
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
            "SELECT * FROM walls WHERE subject_kind = 'person' AND subject_id = ? ORDER BY id",
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
                "SELECT * FROM walls WHERE subject_kind = 'team' AND subject_id = ? ORDER BY id",
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

    async fn insert_session(&mut self, row: &SessionRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, person_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
        )
        .bind(&row.token_hash[..])
        .bind(row.person.to_string())
        .bind(ms(row.created_at))
        .bind(ms(row.expires_at))
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn session(&mut self, token_hash: &[u8; 32]) -> Result<Option<SessionRow>, StoreError> {
        sqlx::query("SELECT * FROM sessions WHERE token_hash = ?")
            .bind(&token_hash[..])
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_err)?
            .map(|r| session_row(&r))
            .transpose()
    }

    async fn delete_session(&mut self, token_hash: &[u8; 32]) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
            .bind(&token_hash[..])
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_sessions_of(&mut self, person: PersonId) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE person_id = ?")
            .bind(person.to_string())
            .execute(&mut *self.tx)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected())
    }

    async fn append_audit(&mut self, record: &AuditRecord) -> Result<AuditEntry, StoreError> {
        let last = sqlx::query("SELECT seq, chain_hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_err)?;
        let (prev_seq, prev_chain) = match last {
            Some(r) => {
                let seq: i64 = r.try_get(0).map_err(map_err)?;
                let chain: Vec<u8> = r.try_get(1).map_err(map_err)?;
                let chain: [u8; 32] = chain
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("chain hash length".into()))?;
                (
                    u64::try_from(seq).map_err(|_| StoreError::Corrupt("seq".into()))?,
                    chain,
                )
            }
            None => (0, GENESIS),
        };
        let seq = prev_seq + 1;
        let leaf = leaf_hash(&record.canonical_bytes(seq));
        let chain = chain_hash(&prev_chain, &leaf);
        let reasons = serde_json::to_string(&record.reasons)
            .map_err(|e| StoreError::Database(e.to_string()))?;
        sqlx::query(
            "INSERT INTO audit_log (seq, at_ms, request_id, actor_id, action, resource, outcome,
                                    reasons, detail, leaf_hash, chain_hash)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(i64::try_from(seq).map_err(|_| StoreError::Corrupt("seq".into()))?)
        .bind(record.at_ms)
        .bind(record.request_id.to_string())
        .bind(record.actor.map(|a| a.to_string()))
        .bind(&record.action)
        .bind(&record.resource)
        .bind(record.outcome.as_str())
        .bind(reasons)
        .bind(record.detail.to_string())
        .bind(&leaf[..])
        .bind(&chain[..])
        .execute(&mut *self.tx)
        .await
        .map_err(map_err)?;
        Ok(AuditEntry {
            seq,
            record: record.clone(),
            leaf_hash: leaf,
            chain_hash: chain,
        })
    }

    async fn audit_entries(
        &mut self,
        filter: &AuditFilter,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        // Optional filters are written as `(? IS NULL OR col = ?)`, so the SQL text is fixed.
        let actor = filter.actor.map(|a| a.to_string());
        let request = filter.request_id.map(|r| r.to_string());
        let outcome = filter.outcome.map(|o| o.as_str());
        sqlx::query(
            "SELECT * FROM audit_log
             WHERE seq > ?
               AND (? IS NULL OR actor_id = ?)
               AND (? IS NULL OR resource = ?)
               AND (? IS NULL OR request_id = ?)
               AND (? IS NULL OR outcome = ?)
             ORDER BY seq LIMIT ?",
        )
        .bind(i64::try_from(after).unwrap_or(i64::MAX))
        .bind(actor.clone())
        .bind(actor)
        .bind(filter.resource.clone())
        .bind(filter.resource.clone())
        .bind(request.clone())
        .bind(request)
        .bind(outcome)
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
