//! The store conformance suite: behaviour every backend must share (invariant 8), written
//! against the `Store` trait only. Every case runs on SQLite and on PostgreSQL (a scratch
//! schema per test, from `CUSTOS_TEST_POSTGRES_URL`; skipped loudly when unset). Cases get two
//! handles on the store: on PostgreSQL two separate pools, as two app nodes would have.

use custos_domain::*;
use custos_store::testing::PgScratch;
use custos_store::*;
use std::sync::Arc;

mod audit;
mod audit_tip;
mod auth;
mod decisions;
mod facts;
mod jobs;
mod records;
mod transfers;

pub(crate) type TestResult = Result<(), Box<dyn std::error::Error>>;

pub(crate) fn now() -> Timestamp {
    time::OffsetDateTime::from_unix_timestamp(1_700_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

pub(crate) fn person(name: &str, role: Role) -> PersonRow {
    PersonRow {
        person: Person {
            id: PersonId::new(),
            user_name: UserName::parse(name).unwrap_or_else(|e| unreachable!("{e}")),
            display_name: name.to_owned(),
            role,
            status: PersonStatus::Active,
            created_at: now(),
            compliance: Compliance::default(),
        },
        password_hash: "$argon2id$fake".to_owned(),
        must_change_password: true,
        password_changed_at: now(),
    }
}

pub(crate) fn session_row(person: PersonId, hash: u8) -> SessionRow {
    SessionRow {
        id: uuid::Uuid::new_v4(),
        token_hash: [hash; 32],
        person,
        stage: SessionStage::Full,
        kind: SessionKind::Bearer,
        source: "192.0.2.1".to_owned(),
        created_at: now(),
        last_seen_at: now(),
        expires_at: now() + time::Duration::hours(12),
    }
}

/// A number no other row of a test process uses (rows made here skip the counters).
fn fresh_number() -> i64 {
    static NEXT: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(1_000_000);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

pub(crate) fn client(responsible: PersonId) -> ClientRow {
    ClientRow {
        id: ClientId::new(),
        number: fresh_number(),
        responsible,
        wrapped_key: vec![1, 2, 3],
        sealed_name: vec![4, 5],
        sealed_contact: vec![6],
        created_at: now(),
    }
}

pub(crate) fn matter(client: ClientId, team: TeamId, lead: PersonId) -> MatterRow {
    MatterRow {
        id: MatterId::new(),
        number: fresh_number(),
        client,
        team,
        lead,
        wrapped_key: vec![7],
        sealed_title: vec![8, 9],
        created_at: now(),
    }
}

pub(crate) async fn sqlite() -> Result<(tempfile::TempDir, Arc<dyn Store>), StoreError> {
    let dir = tempfile::tempdir().map_err(|e| StoreError::Database(e.to_string()))?;
    let store = SqliteStore::open(&dir.path().join("custos.db"), true).await?;
    Ok((dir, Arc::new(store)))
}

/// Runs a case on SQLite (one store, two handles) and on PostgreSQL (two pools).
macro_rules! on_every_backend {
    ($($module:ident :: $case:ident),* $(,)?) => {$(
        mod $case {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() -> super::TestResult {
                let (_dir, store) = super::sqlite().await?;
                super::$module::$case([store.clone(), store]).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() -> super::TestResult {
                let Some(scratch) = super::PgScratch::create(stringify!($case)).await else {
                    return Ok(());
                };
                let scratch = scratch?;
                let a = super::PgStore::connect(&scratch.url, 4, true).await?;
                let b = super::PgStore::connect(&scratch.url, 4, true).await?;
                let outcome = super::$module::$case([
                    std::sync::Arc::new(a.clone()) as std::sync::Arc<dyn super::Store>,
                    std::sync::Arc::new(b.clone()),
                ])
                .await;
                a.close().await;
                b.close().await;
                scratch.drop_schema().await;
                outcome
            }
        }
    )*};
}

on_every_backend!(
    records::round_trips_and_errors,
    records::concurrent_duplicates_conflict,
    records::numbers_are_unique_gapless_and_returned_on_rollback,
    audit::audit_order_is_total_and_gapless,
    audit::audit_filters,
    audit::read_units_share_audit_commits,
    audit::checkpoints_and_cosignatures,
    auth::auth_records,
    facts::read_units_see_a_snapshot_block_no_writer_and_audit_at_commit,
    facts::bulk_facts_match_the_single_queries,
    decisions::walls_compliance_and_break_glass,
    jobs::one_claim_wins_and_a_lapsed_lease_passes_on,
    transfers::approvals_of_one_transfer_serialize,
);
