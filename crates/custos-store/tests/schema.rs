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

/// A log written before the audit tree existed (the migration adds an empty table) gets its
/// tree on the next append, rebuilt from its leaf hashes: the root then covers every entry.
#[tokio::test]
async fn sqlite_builds_the_tree_of_a_log_from_before_it() -> TestResult {
    use custos_audit::merkle;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("custos.db");
    let store = SqliteStore::open(&path, true).await?;
    for _ in 0..10 {
        one_entry(&store).await?;
    }
    store.close().await;
    {
        use sqlx::Connection;
        let mut conn =
            sqlx::SqliteConnection::connect(&format!("sqlite:{}", path.display())).await?;
        for sql in [
            "DROP TRIGGER audit_tree_no_delete",
            "DELETE FROM audit_tree",
        ] {
            sqlx::query(sql).execute(&mut conn).await?;
        }
        conn.close().await?;
    }
    let store = SqliteStore::open(&path, false).await?;
    one_entry(&store).await?;
    let mut tx = store.begin_read().await?;
    let entries = tx
        .audit_entries(&custos_store::AuditFilter::default(), 0, 100)
        .await?;
    assert_eq!(entries.len(), 11);
    let mut frontier = merkle::Frontier::default();
    entries.iter().for_each(|e| frontier.push(e.leaf_hash));
    let root = merkle::root(11, &tx.audit_tree_hashes(&merkle::root_needs(11)).await?)?;
    assert_eq!(root, frontier.root());
    let proof = merkle::inclusion_proof(
        11,
        3,
        &tx.audit_tree_hashes(&merkle::inclusion_needs(11, 3)?)
            .await?,
    )?;
    merkle::verify_inclusion(&proof, 11, &root, 3, &entries[3].leaf_hash)?;
    Ok(())
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
    PgStore::connect(&scratch.url, 2, true).await?.close().await;
    let store = PgStore::connect(&scratch.url, 2, true).await?;
    one_entry(&store).await?;
    store.close().await;
    let mut conn = scratch.connect().await?;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (99990101, 'from the future', true, '\\x00', 0)",
    )
    .execute(&mut conn)
    .await?;
    let err = PgStore::connect(&scratch.url, 2, true)
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
    let store = PgStore::connect(&scratch.url, 2, true).await?;
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
    let store = PgStore::connect(&scratch.url, 2, true).await?;
    // A unit of work in flight when its backend is terminated: its commit fails as
    // "unavailable", and nothing of it is kept.
    unit_in_flight_is_lost_in_a_restart(&store, &scratch).await?;
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

/// A unit of work in flight when every connection is ended: its commit fails as
/// "unavailable".
async fn unit_in_flight_is_lost_in_a_restart(store: &PgStore, scratch: &PgScratch) -> TestResult {
    let mut tx = store.begin().await?;
    tx.append_audit(&record()).await?;
    terminate_pools(scratch).await?;
    let failed = tx.commit().await;
    assert!(
        matches!(failed, Err(StoreError::Unavailable(_))),
        "{failed:?}"
    );
    Ok(())
}

/// Ends every connection of the test's pools (named after its schema), as a server restart
/// would, but the admin connection itself.
async fn terminate_pools(scratch: &PgScratch) -> TestResult {
    let mut admin = scratch.connect().await?;
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE application_name = $1 AND pid <> pg_backend_pid()",
    )
    .bind(&scratch.schema)
    .execute(&mut admin)
    .await?;
    Ok(())
}

/// Pooled connections are not pinged on every use, yet one ended by a restart is not used: a
/// connection idle for a second is pinged first, and so is every one for a while after any
/// connection was found lost (the others went with the same restart).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_dead_idle_connections_are_replaced_before_use() -> TestResult {
    let Some(scratch) = PgScratch::create("postgres_dead_idle").await else {
        return Ok(());
    };
    let scratch = scratch?;
    let store = PgStore::connect(&scratch.url, 2, true).await?;
    let both = || async {
        let (a, b) = tokio::join!(one_entry(&store), one_entry(&store));
        a.and(b)
    };
    // A quiet restart: both connections idle for over a second, then ended.
    both().await?;
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    terminate_pools(&scratch).await?;
    one_entry(&store).await?;
    both().await?;
    // A restart under load: one connection in a unit, the other idle for a moment only.
    unit_in_flight_is_lost_in_a_restart(&store, &scratch).await?;
    // That loss makes the idle one suspect: it is pinged, found dead and replaced.
    both().await?;
    store.close().await;
    scratch.drop_schema().await;
    Ok(())
}

/// The URL of `admin_url` for another user (trust auth on the test server).
fn as_user(admin_url: &str, user: &str) -> String {
    let (scheme, rest) = admin_url
        .split_once("://")
        .unwrap_or(("postgres", admin_url));
    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    format!("{scheme}://{user}@{host}")
}

#[tokio::test]
async fn postgres_app_role_of_the_grants_script_can_only_append_to_the_audit_log() -> TestResult {
    let Some(scratch) = PgScratch::create("postgres_app_role").await else {
        return Ok(());
    };
    let scratch = scratch?;
    // Without DDL rights and before any migration, a node says what to do.
    let err = PgStore::connect(&scratch.url, 1, false)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("custos db migrate"), "{err}");

    // The owner migrates, then runs the documented grants script for a fresh role.
    PgStore::connect(&scratch.url, 1, true).await?.close().await;
    let role = scratch.schema.replace("custos_test_", "custos_app_");
    let script = include_str!("../../../scripts/postgres-grants.sql").replace("custos_app", &role);
    let mut owner = scratch.connect().await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(script))
        .execute(&mut owner)
        .await?;

    let app_url = as_user(&scratch.url, &role);
    let outcome = async {
        // The application role runs the store (schema checked, not migrated)...
        let store = PgStore::connect(&app_url, 2, false).await?;
        one_entry(&store).await?;
        one_entry(&store).await?;
        let mut tx = store.begin().await?;
        assert_eq!(
            tx.audit_entries(&custos_store::AuditFilter::default(), 0, 10)
                .await?
                .len(),
            2
        );
        drop(tx);
        store.close().await;
        // ...but has no right to rewrite history, before any trigger is reached.
        use sqlx::Connection;
        let mut app = sqlx::PgConnection::connect(&app_url).await?;
        for attack in [
            "UPDATE audit_log SET action = 'rewritten'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
            "DROP TRIGGER audit_log_no_update_delete ON audit_log",
            "ALTER TABLE audit_log DISABLE TRIGGER ALL",
        ] {
            let err = sqlx::query(attack).execute(&mut app).await.err();
            let message = err.map(|e| e.to_string()).unwrap_or_default();
            assert!(
                message.contains("permission denied") || message.contains("must be owner"),
                "{attack}: {message:?}"
            );
        }
        app.close().await?;
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
    drop(owner);
    let admin_url = std::env::var(custos_store::testing::PG_ENV)?;
    scratch.drop_schema().await;
    {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP OWNED BY {role}")))
            .execute(&mut admin)
            .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP ROLE {role}")))
            .execute(&mut admin)
            .await?;
    }
    outcome
}

/// One schema, two dialects (issue 32): after every migration, SQLite and PostgreSQL have the
/// same tables, the same columns with the same nullability, and the same indexes created by
/// name, so the two cannot drift (types differ by dialect: TEXT/BLOB against TEXT/BYTEA,
/// INTEGER against BIGINT; the conformance suite checks the values).
#[tokio::test]
async fn sqlite_and_postgres_schemas_are_the_same_after_migration() -> TestResult {
    use std::collections::BTreeSet;
    let Some(scratch) = PgScratch::create("sqlite_and_postgres_schemas_are_the_same").await else {
        return Ok(());
    };
    let scratch = scratch?;
    PgStore::connect(&scratch.url, 2, true).await?.close().await;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("custos.db");
    SqliteStore::open(&path, true).await?.close().await;

    let mut lite_columns = BTreeSet::new();
    let mut lite_indexes = BTreeSet::new();
    {
        use sqlx::Connection;
        let mut conn =
            sqlx::SqliteConnection::connect(&format!("sqlite:{}", path.display())).await?;
        let tables: Vec<(String,)> = sqlx::query_as(
            "SELECT name FROM sqlite_master WHERE type = 'table'
               AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx_%'",
        )
        .fetch_all(&mut conn)
        .await?;
        for (table,) in tables {
            let columns: Vec<(String, i64, i64)> =
                sqlx::query_as("SELECT name, \"notnull\", pk FROM pragma_table_info($1)")
                    .bind(&table)
                    .fetch_all(&mut conn)
                    .await?;
            for (column, not_null, pk) in columns {
                lite_columns.insert((table.clone(), column, not_null == 1 || pk > 0));
            }
        }
        let indexes: Vec<(String,)> = sqlx::query_as(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
        )
        .fetch_all(&mut conn)
        .await?;
        lite_indexes.extend(indexes.into_iter().map(|(n,)| n));
        conn.close().await?;
    }

    let mut pg_columns = BTreeSet::new();
    let mut pg_indexes = BTreeSet::new();
    {
        use sqlx::Connection;
        let mut conn = scratch.connect().await?;
        let columns: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT table_name::text, column_name::text, is_nullable::text
               FROM information_schema.columns
              WHERE table_schema = $1 AND table_name NOT LIKE '\\_sqlx\\_%'",
        )
        .bind(&scratch.schema)
        .fetch_all(&mut conn)
        .await?;
        for (table, column, nullable) in columns {
            pg_columns.insert((table, column, nullable == "NO"));
        }
        // Indexes created by name (not those PostgreSQL makes for a primary key or a UNIQUE
        // constraint, which SQLite makes without a name of ours).
        let indexes: Vec<(String,)> = sqlx::query_as(
            "SELECT indexname::text FROM pg_indexes WHERE schemaname = $1
               AND indexname NOT IN (SELECT conname FROM pg_constraint
                                      WHERE connamespace = $1::regnamespace)",
        )
        .bind(&scratch.schema)
        .fetch_all(&mut conn)
        .await?;
        pg_indexes.extend(indexes.into_iter().map(|(n,)| n));
        conn.close().await?;
    }
    scratch.drop_schema().await;

    // The differences there are, each for a reason; anything else is drift.
    // - `audit_head` is PostgreSQL's sequencer row (SQLite's writer lock plays its part);
    // - `clients.number` and `matters.number` were added to existing tables: SQLite's
    //   ALTER TABLE cannot add a NOT NULL column without a default, so the store sets them
    //   on every insert (the conformance suite reads them back on both).
    pg_columns.retain(|(table, _, _)| table != "audit_head");
    for table in ["clients", "matters"] {
        if pg_columns.remove(&(table.to_owned(), "number".to_owned(), true)) {
            pg_columns.insert((table.to_owned(), "number".to_owned(), false));
        }
    }

    let only = |a: &BTreeSet<(String, String, bool)>, b: &BTreeSet<(String, String, bool)>| {
        a.difference(b).cloned().collect::<Vec<_>>()
    };
    assert!(
        lite_columns == pg_columns,
        "columns (table, column, not null) only in SQLite: {:?}; only in PostgreSQL: {:?}",
        only(&lite_columns, &pg_columns),
        only(&pg_columns, &lite_columns)
    );
    assert!(
        lite_indexes == pg_indexes,
        "indexes only in SQLite: {:?}; only in PostgreSQL: {:?}",
        lite_indexes.difference(&pg_indexes).collect::<Vec<_>>(),
        pg_indexes.difference(&lite_indexes).collect::<Vec<_>>()
    );
    assert!(
        lite_columns.len() > 100,
        "{} columns read",
        lite_columns.len()
    );
    Ok(())
}
