//! Client records: clients, matters and documents (their metadata; contents are blobs).

use crate::StoreError;
use crate::rows::{ClientRow, DocumentRow, MatterRow};
use crate::sql::exec::{SqlTx, q};
use crate::sql::{Prefixed, SqlRow, after_key, client_row, document_row, ids, matter_row, ms};
use async_trait::async_trait;
use custos_domain::{ClientId, DocumentId, MatterId, PersonId, TeamId, Timestamp};

/// The matters a person reaches through their own grounds at `$2` (Unix ms): those they lead,
/// those of the teams they lead, those they are staffed on, those of their open break-glass
/// accesses. `$1` is the person's id. Kept beside `custos_policy::listing_reach`'s rules.
macro_rules! reached_matters {
    () => {
        "SELECT id FROM matters WHERE lead_id = $1
         UNION SELECT m.id FROM matters m JOIN teams t ON t.id = m.team_id WHERE t.lead_id = $1
         UNION SELECT matter_id FROM matter_members WHERE person_id = $1
         UNION SELECT matter_id FROM break_glass WHERE person_id = $1 AND expires_at > $2"
    };
}

/// The clients a person reaches: those they are responsible for and those of the matters they
/// reach (`$1`, `$2` as in `reached_matters!`).
macro_rules! reached_clients {
    () => {
        concat!(
            "SELECT id FROM clients WHERE responsible_id = $1
             UNION SELECT client_id FROM matters WHERE id IN (",
            reached_matters!(),
            ")"
        )
    };
}

/// One page's worth of reached clients after `$3`, at most `$4` (`$1`, `$2` as above).
macro_rules! reached_clients_page {
    () => {
        concat!(
            "SELECT id FROM clients WHERE id > $3 AND id IN (",
            reached_clients!(),
            ") ORDER BY id LIMIT $4"
        )
    };
}

/// The kinds of record the firm numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberKind {
    /// Clients (`C-0007`).
    Client,
    /// Matters (`M-0042`).
    Matter,
}

impl NumberKind {
    fn counter(self) -> &'static str {
        match self {
            NumberKind::Client => "client",
            NumberKind::Matter => "matter",
        }
    }
}

/// Client records: clients, matters and documents (their metadata; contents are blobs).
#[async_trait]
#[expect(
    private_bounds,
    reason = "sealed: only this crate's units of work (SqlTx) have these operations"
)]
pub trait RecordsTx: SqlTx {
    /// Takes the next number of a kind of record (clients, matters): numbers start at 1, and
    /// none is handed out twice (concurrent writers on PostgreSQL wait for the counter row).
    async fn next_number(&mut self, kind: NumberKind) -> Result<i64, StoreError> {
        q("UPDATE counters SET value = value + 1 WHERE name = $1 RETURNING value")
            .bind(kind.counter())
            .one(self.conn())
            .await?
            .int("value")
    }

    /// Adds a client.
    async fn insert_client(&mut self, row: &ClientRow) -> Result<(), StoreError> {
        q(
            "INSERT INTO clients (id, number, responsible_id, wrapped_key, sealed_name, sealed_contact, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(row.id.to_string())
        .bind(row.number)
        .bind(row.responsible.to_string())
        .bind(&row.wrapped_key)
        .bind(&row.sealed_name)
        .bind(&row.sealed_contact)
        .bind(ms(row.created_at))
        .run(self.conn()).await?;
        Ok(())
    }

    /// A client by id.
    async fn client(&mut self, id: ClientId) -> Result<Option<ClientRow>, StoreError> {
        q("SELECT * FROM clients WHERE id = $1")
            .bind(id.to_string())
            .get(self.conn(), client_row)
            .await
    }

    /// A client by its number (`C-0007` is 7).
    async fn client_by_number(&mut self, number: i64) -> Result<Option<ClientRow>, StoreError> {
        q("SELECT * FROM clients WHERE number = $1")
            .bind(number)
            .get(self.conn(), client_row)
            .await
    }

    /// Clients ordered by id, after `after`.
    async fn list_clients(
        &mut self,
        after: Option<ClientId>,
        limit: u32,
    ) -> Result<Vec<ClientRow>, StoreError> {
        q("SELECT * FROM clients WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after_key(after.map(|a| a.0)))
            .bind(i64::from(limit))
            .list(self.conn(), client_row)
            .await
    }

    /// Every matter of the clients whose ids lie between `first` and `last` (inclusive),
    /// ordered by client: a listing's batch of clients in one statement.
    async fn matters_of_clients_between(
        &mut self,
        first: ClientId,
        last: ClientId,
    ) -> Result<Vec<MatterRow>, StoreError> {
        q(
            "SELECT * FROM matters WHERE client_id >= $1 AND client_id <= $2
             ORDER BY client_id, id",
        )
        .bind(first.to_string())
        .bind(last.to_string())
        .list(self.conn(), matter_row)
        .await
    }

    /// The clients `person` reaches through their own grounds at `now` (responsible for it,
    /// or reaching one of its matters: see `custos_policy::Reach::OwnGrounds`), ordered by id,
    /// after `after`, with every matter of those clients (ordered by client): a listing's batch
    /// in two statements whatever the firm's size.
    async fn list_clients_reached(
        &mut self,
        person: PersonId,
        now: Timestamp,
        after: Option<ClientId>,
        limit: u32,
    ) -> Result<(Vec<ClientRow>, Vec<MatterRow>), StoreError> {
        let clients = q(concat!(
            "SELECT * FROM clients WHERE id IN (",
            reached_clients_page!(),
            ") ORDER BY id"
        ))
        .bind(person.to_string())
        .bind(ms(now))
        .bind(after_key(after.map(|a| a.0)))
        .bind(i64::from(limit))
        .list(self.conn(), client_row)
        .await?;
        let matters = q(concat!(
            "SELECT * FROM matters WHERE client_id IN (",
            reached_clients_page!(),
            ") ORDER BY client_id, id"
        ))
        .bind(person.to_string())
        .bind(ms(now))
        .bind(after_key(after.map(|a| a.0)))
        .bind(i64::from(limit))
        .list(self.conn(), matter_row)
        .await?;
        Ok((clients, matters))
    }

    /// Every matter of a client.
    async fn matters_of_client(&mut self, client: ClientId) -> Result<Vec<MatterRow>, StoreError> {
        q("SELECT * FROM matters WHERE client_id = $1 ORDER BY id")
            .bind(client.to_string())
            .list(self.conn(), matter_row)
            .await
    }

    /// Adds a matter.
    async fn insert_matter(&mut self, row: &MatterRow) -> Result<(), StoreError> {
        q(
            "INSERT INTO matters (id, number, client_id, team_id, lead_id, wrapped_key, sealed_title, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(row.id.to_string())
        .bind(row.number)
        .bind(row.client.to_string())
        .bind(row.team.to_string())
        .bind(row.lead.to_string())
        .bind(&row.wrapped_key)
        .bind(&row.sealed_title)
        .bind(ms(row.created_at))
        .run(self.conn()).await?;
        Ok(())
    }

    /// A matter by its number (`M-0042` is 42).
    async fn matter_by_number(&mut self, number: i64) -> Result<Option<MatterRow>, StoreError> {
        q("SELECT * FROM matters WHERE number = $1")
            .bind(number)
            .get(self.conn(), matter_row)
            .await
    }

    /// A matter by id.
    async fn matter(&mut self, id: MatterId) -> Result<Option<MatterRow>, StoreError> {
        q("SELECT * FROM matters WHERE id = $1")
            .bind(id.to_string())
            .get(self.conn(), matter_row)
            .await
    }

    /// The first `limit` matters of a team, by id.
    async fn matters_of_team(
        &mut self,
        team: TeamId,
        limit: u32,
    ) -> Result<Vec<MatterRow>, StoreError> {
        q("SELECT * FROM matters WHERE team_id = $1 ORDER BY id LIMIT $2")
            .bind(team.to_string())
            .bind(i64::from(limit))
            .list(self.conn(), matter_row)
            .await
    }

    /// Matters ordered by id, after `after`.
    async fn list_matters(
        &mut self,
        after: Option<MatterId>,
        limit: u32,
    ) -> Result<Vec<MatterRow>, StoreError> {
        q("SELECT * FROM matters WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after_key(after.map(|a| a.0)))
            .bind(i64::from(limit))
            .list(self.conn(), matter_row)
            .await
    }

    /// The matters `person` reaches through their own grounds at `now` (see
    /// `custos_policy::Reach::OwnGrounds`), ordered by id, after `after`.
    async fn list_matters_reached(
        &mut self,
        person: PersonId,
        now: Timestamp,
        after: Option<MatterId>,
        limit: u32,
    ) -> Result<Vec<MatterRow>, StoreError> {
        q(concat!(
            "SELECT * FROM matters WHERE id > $3 AND id IN (",
            reached_matters!(),
            ") ORDER BY id LIMIT $4"
        ))
        .bind(person.to_string())
        .bind(ms(now))
        .bind(after_key(after.map(|a| a.0)))
        .bind(i64::from(limit))
        .list(self.conn(), matter_row)
        .await
    }

    /// Adds a document's metadata (its blob must already be durable).
    async fn insert_document(&mut self, row: &DocumentRow) -> Result<(), StoreError> {
        let size =
            i64::try_from(row.size).map_err(|_| StoreError::Conflict("size too large".into()))?;
        q(
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
        .run(self.conn())
        .await?;
        Ok(())
    }

    /// A document by id.
    async fn document(&mut self, id: DocumentId) -> Result<Option<DocumentRow>, StoreError> {
        q("SELECT * FROM documents WHERE id = $1")
            .bind(id.to_string())
            .get(self.conn(), document_row)
            .await
    }

    /// A document with its matter, in one statement (a decision on a document needs both).
    async fn document_with_matter(
        &mut self,
        id: DocumentId,
    ) -> Result<Option<(DocumentRow, MatterRow)>, StoreError> {
        q(
            "SELECT d.*, m.id AS m_id, m.number AS m_number, m.client_id AS m_client_id,
                  m.team_id AS m_team_id, m.lead_id AS m_lead_id, m.wrapped_key AS m_wrapped_key,
                  m.sealed_title AS m_sealed_title, m.created_at AS m_created_at
             FROM documents d JOIN matters m ON m.id = d.matter_id
            WHERE d.id = $1",
        )
        .bind(id.to_string())
        .get(self.conn(), |row| {
            Ok((document_row(row)?, matter_row(&Prefixed(row, "m_"))?))
        })
        .await
    }

    /// The ids of the documents whose ids lie between `first` and `last` (inclusive), in order:
    /// a batch of candidates checked in one statement.
    async fn document_ids_between(
        &mut self,
        first: DocumentId,
        last: DocumentId,
    ) -> Result<Vec<DocumentId>, StoreError> {
        let rows = q("SELECT id FROM documents WHERE id >= $1 AND id <= $2 ORDER BY id")
            .bind(first.to_string())
            .bind(last.to_string())
            .all(self.conn())
            .await?;
        ids(&rows, "id", DocumentId)
    }

    /// Documents of a matter ordered by id, after `after`.
    async fn list_documents(
        &mut self,
        m: MatterId,
        after: Option<DocumentId>,
        limit: u32,
    ) -> Result<Vec<DocumentRow>, StoreError> {
        q("SELECT * FROM documents WHERE matter_id = $1 AND id > $2 ORDER BY id LIMIT $3")
            .bind(m.to_string())
            .bind(after_key(after.map(|a| a.0)))
            .bind(i64::from(limit))
            .list(self.conn(), document_row)
            .await
    }
}

impl<T: SqlTx> RecordsTx for T {}
