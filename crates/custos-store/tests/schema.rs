//! Schema guards on both backends: history is append-only in the database itself, a schema
//! newer than the binary is refused with a clear message, and (PostgreSQL) a lost connection is
//! a clear "unavailable" from which the store recovers by itself.

use custos_audit::{AuditRecord, Outcome};
use custos_domain::RequestId;
use custos_store::testing::PgScratch;
use custos_store::{PgStore, SqliteStore, Store, StoreError};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn record() -> AuditRecord {
    AuditRecord {
        at_ms: 1,
        request_id: RequestId::new(),
        actor: None,
        action: "test".into(),
        resource: "r".into(),
        outcome: Outcome::Allow,
        reasons: vec![],
        detail: serde_json::Value::Null,
    }
}

async fn one_entry(store: &dyn Store) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    tx.append_audit(&record()).await?;
    tx.commit().await
}

#[tokio::test]
async fn sqlite_refuses_a_newer_schema() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("custos.db");
    SqliteStore::open(&path, true).await?.close().await;
    {
        use sqlx::Connection;
        let mut conn =
            sqlx::SqliteConnection::connect(&format!("sqlite:{}", path.display())).await?;
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (99990101, 'from the future', 1, x'00', 0)",
        )
        .execute(&mut conn)
        .await?;
        conn.close().await?;
    }
    let err = SqliteStore::open(&path, false)
        .await
        .err()
        .map(|e| e.to_string());
    let err = err.unwrap_or_default();
    assert!(
        err.contains("99990101") && err.contains("newer Custos"),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn postgres_refuses_a_newer_schema_and_migrates_an_older_one() -> TestResult {
    let Some(scratch) = PgScratch::create("postgres_refuses_a_newer_schema").await else {
        return Ok(());
    };
    let scratch = scratch?;
    // An empty schema (older than any binary) is migrated; opening again changes nothing.
    PgStore::connect(&scratch.url, 2).await?.close().await;
    let store = PgStore::connect(&scratch.url, 2).await?;
    one_entry(&store).await?;
    store.close().await;
    let mut conn = scratch.connect().await?;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (99990101, 'from the future', true, '\\x00', 0)",
    )
    .execute(&mut conn)
    .await?;
    let err = PgStore::connect(&scratch.url, 2)
        .await
        .err()
        .map(|e| e.to_string());
    let err = err.unwrap_or_default();
    assert!(
        err.contains("99990101") && err.contains("newer Custos"),
        "{err}"
    );
    drop(conn);
    scratch.drop_schema().await;
    Ok(())
}

#[tokio::test]
async fn postgres_audit_log_is_append_only() -> TestResult {
    let Some(scratch) = PgScratch::create("postgres_audit_log_is_append_only").await else {
        return Ok(());
    };
    let scratch = scratch?;
    let store = PgStore::connect(&scratch.url, 2).await?;
    one_entry(&store).await?;
    one_entry(&store).await?;
    let mut conn = scratch.connect().await?;
    for attack in [
        "UPDATE audit_log SET action = 'rewritten' WHERE seq = 1",
        "DELETE FROM audit_log WHERE seq = 2",
        "TRUNCATE audit_log",
    ] {
        let err = sqlx::query(attack).execute(&mut conn).await.err();
        let message = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("append-only"), "{attack}: {message:?}");
    }
    let mut tx = store.begin().await?;
    let entries = tx
        .audit_entries(&custos_store::AuditFilter::default(), 0, 10)
        .await?;
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].record.action, "test");
    drop(tx);
    store.close().await;
    drop(conn);
    scratch.drop_schema().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connection_loss_is_unavailable_then_recovers() -> TestResult {
    let Some(scratch) = PgScratch::create("postgres_connection_loss").await else {
        return Ok(());
    };
    let scratch = scratch?;
    let store = PgStore::connect(&scratch.url, 2).await?;
    // A unit of work in flight when its backend is terminated: its commit fails as
    // "unavailable", and nothing of it is kept.
    let mut tx = store.begin().await?;
    tx.append_audit(&record()).await?;
    let mut admin = scratch.connect().await?;
    // Terminate every backend of this test's pools (named after its schema), as a server
    // restart would, except the admin connection itself.
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE application_name = $1 AND pid <> pg_backend_pid()",
    )
    .bind(&scratch.schema)
    .execute(&mut admin)
    .await?;
    let failed = tx.commit().await;
    assert!(
        matches!(failed, Err(StoreError::Unavailable(_))),
        "{failed:?}"
    );
    // The pool replaces dead connections by itself: the next unit works.
    one_entry(&store).await?;
    let mut tx = store.begin().await?;
    let entries = tx
        .audit_entries(&custos_store::AuditFilter::default(), 0, 10)
        .await?;
    assert_eq!(entries.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1]);
    drop(tx);
    store.close().await;
    scratch.drop_schema().await;
    Ok(())
}
