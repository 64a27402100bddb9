//! `custos audit verify` on a log of several stretches (the fast path reads 1,024 entries at a
//! time, one thread per core), on SQLite and PostgreSQL: the verdict is the one the
//! entry-by-entry path gives. An
//! intact log and a row stored in an older but equivalent form verify; a change, a deleted
//! row, two rows swapped across a stretch boundary, a recorded head that differs and a cut
//! tail are each named by their sequence number, wherever they fall.

use crate::harness::TestResult;
use custos_app::{App, AuditHead};
use custos_audit::{AuditReason, AuditRecord, Outcome};
use custos_domain::{PersonId, RequestId};
use custos_store::{SqliteStore, Store};
use std::path::Path;
use std::sync::Arc;

const ENTRIES: u64 = 3_300;

fn record(n: u64) -> AuditRecord {
    AuditRecord {
        at_ms: 1_764_000_000_000 + i64::try_from(n).unwrap_or(0),
        request_id: RequestId::new(),
        actor: (!n.is_multiple_of(7)).then(PersonId::new),
        action: "document.read".to_owned(),
        resource: format!("document:{}", uuid::Uuid::now_v7()),
        outcome: if n.is_multiple_of(5) {
            Outcome::Deny
        } else {
            Outcome::Allow
        },
        reasons: vec![AuditReason {
            rule: "R1.need_to_know".to_owned(),
            message: format!("entry {n}: \"quoted\" — Zürich"),
        }],
        detail: if n.is_multiple_of(4) {
            serde_json::json!({ "shown": n, "withheld": 1 })
        } else {
            serde_json::Value::Null
        },
    }
}

/// Appends `ENTRIES` entries through the store, 100 per unit.
async fn write_log(store: &dyn Store) {
    let mut n = 0;
    while n < ENTRIES {
        let mut tx = store.begin().await.unwrap();
        for _ in 0..100 {
            n += 1;
            tx.append_audit(&record(n)).await.unwrap();
        }
        tx.commit().await.unwrap();
    }
}

fn app_on(store: Arc<dyn Store>, blobs: &Path) -> App {
    App::new(
        store,
        Arc::new(custos_store::LocalBlobStore::open(blobs).unwrap()),
        custos_crypto::Kek::generate().unwrap(),
        Arc::new(custos_domain::SystemClock),
        custos_app::AppSettings::default(),
    )
    .unwrap()
}

/// Entry `seq` as the store reads it.
async fn entry(store: &dyn Store, seq: u64) -> custos_audit::AuditEntry {
    let mut tx = store.begin_read().await.unwrap();
    let mut found = tx
        .audit_entries(&custos_store::AuditFilter::default(), seq - 1, 1)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    found.remove(0)
}

/// A change and what `custos audit verify` must say about it.
struct Case {
    kind: &'static str,
    statements: Vec<String>,
    known: Vec<AuditHead>,
    /// `Ok(entries)`, or the words the refusal must contain.
    verdict: Result<u64, &'static str>,
}

/// The cases, on a log read through `store`; `bytea` writes bytes as the dialect's literal.
async fn cases(store: &dyn Store, bytea: fn(&[u8]) -> String) -> Vec<Case> {
    let head_at = |e: custos_audit::AuditEntry| AuditHead {
        seq: e.seq,
        chain_hash: e.chain_hash,
    };
    let recorded = head_at(entry(store, 2_100).await);
    let last = head_at(entry(store, ENTRIES).await);
    // Entry 2,601 turned around and its leaf hash written again to match (its chain hash
    // left): only the chain catches it.
    let mut turned = entry(store, 2_601).await.record;
    turned.outcome = Outcome::Deny;
    let forged = format!(
        "UPDATE audit_log SET outcome = 'deny', leaf_hash = {} WHERE seq = 2601",
        bytea(&custos_audit::leaf_hash(&turned.canonical_bytes(2_601)))
    );
    let case = |kind, statements: &[&str], known: Vec<AuditHead>, verdict| Case {
        kind,
        statements: statements.iter().map(|s| (*s).to_owned()).collect(),
        known,
        verdict,
    };
    vec![
        case("intact", &[], vec![], Ok(ENTRIES)),
        case(
            "recorded heads kept",
            &[],
            vec![recorded, last],
            Ok(ENTRIES),
        ),
        // Entry 1,500 written by an older version: its detail's keys in another order. Same
        // entry, same canonical bytes: it verifies (read again on the exact path).
        case(
            "an older but equivalent row",
            &[r#"UPDATE audit_log SET detail = '{"withheld":1,"shown":1500}' WHERE seq = 1500"#],
            vec![],
            Ok(ENTRIES),
        ),
        Case {
            kind: "a decision turned around, its leaf hash written again",
            statements: vec![forged],
            known: vec![],
            verdict: Err("audit entry 2601 does not match its hash"),
        },
        case(
            "a decision turned around",
            &["UPDATE audit_log SET outcome = 'deny' WHERE seq = 2601"],
            vec![],
            Err("audit entry 2601 does not match its hash"),
        ),
        case(
            "a detail changed",
            &[r#"UPDATE audit_log SET detail = '{"shown":1500,"withheld":0}' WHERE seq = 1500"#],
            vec![],
            Err("audit entry 1500 does not match its hash"),
        ),
        case(
            "a row deleted",
            &["DELETE FROM audit_log WHERE seq = 1030"],
            vec![],
            Err("audit entry 1031 follows 1029"),
        ),
        case(
            "two rows swapped across a stretch boundary",
            &[
                "UPDATE audit_log SET seq = -2048 WHERE seq = 2048",
                "UPDATE audit_log SET seq = 2048 WHERE seq = 2049",
                "UPDATE audit_log SET seq = 2049 WHERE seq = -2048",
            ],
            vec![],
            Err("audit entry 2048 does not match its hash"),
        ),
        case(
            "a head recorded outside differs",
            &[],
            vec![AuditHead {
                chain_hash: [7; 32],
                ..recorded
            }],
            Err("entry 2100 differs from the recorded head"),
        ),
        case(
            "the tail cut",
            &["DELETE FROM audit_log WHERE seq > 3000"],
            vec![last],
            Err("the log ends at entry 3000, but entry 3300 was recorded"),
        ),
    ]
}

fn check(case: &Case, verdict: Result<u64, String>) {
    match (&case.verdict, verdict) {
        (Ok(entries), Ok(got)) => assert_eq!(*entries, got, "{}", case.kind),
        (Err(named), Err(message)) => {
            assert!(message.contains(named), "{}: {message}", case.kind);
        }
        (want, got) => panic!("{}: wanted {want:?}, got {got:?}", case.kind),
    }
}

async fn verify(app: &App, known: &[AuditHead]) -> Result<u64, String> {
    app.verify_audit_log_against(known)
        .await
        .map(|v| v.entries)
        .map_err(|e| format!("{e} ({e:?})"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_verify_of_several_stretches_gets_the_entry_by_entry_verdict() -> TestResult {
    let dir = tempfile::tempdir()?;
    let original = dir.path().join("custos.db");
    let store = SqliteStore::open(&original, true).await?;
    write_log(&store).await;
    let cases = cases(&store, |b| format!("X'{}'", hex(b))).await;
    store.close().await;
    for case in &cases {
        // Each change on a copy of the log, as a hostile administrator would make it (the
        // append-only triggers dropped, then put back).
        let copy = tempfile::tempdir()?;
        let path = copy.path().join("custos.db");
        std::fs::copy(&original, &path)?;
        {
            let conn = rusqlite::Connection::open(&path)?;
            let triggers: Vec<(String, String)> = conn
                .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")?
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<Result<_, _>>()?;
            for (name, _) in &triggers {
                conn.execute_batch(&format!("DROP TRIGGER {name}"))?;
            }
            for statement in &case.statements {
                conn.execute_batch(statement)?;
            }
            for (_, sql) in &triggers {
                conn.execute_batch(sql)?;
            }
        }
        let app = app_on(
            Arc::new(SqliteStore::open(&path, false).await?),
            copy.path(),
        );
        check(case, verify(&app, &case.known).await);
        app.close().await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_verify_of_several_stretches_gets_the_entry_by_entry_verdict() -> TestResult {
    use custos_store::testing::PgScratch;
    let Some(scratch) =
        PgScratch::create("postgres_verify_of_several_stretches_gets_the_entry_by_entry_verdict")
            .await
    else {
        return Ok(());
    };
    let scratch = scratch?;
    let store = Arc::new(custos_store::PgStore::connect(&scratch.url, 4, true).await?);
    write_log(&*store).await;
    let cases = cases(&*store, |b| format!("'\\x{}'::bytea", hex(b))).await;
    let mut conn = scratch.connect().await?;
    sqlx::raw_sql("CREATE TABLE pristine AS SELECT * FROM audit_log")
        .execute(&mut conn)
        .await?;
    let blobs = tempfile::tempdir()?;
    let app = app_on(store, blobs.path());
    for case in &cases {
        // The log put back as written, then changed with the triggers off (a superuser's
        // session_replication_role), as a hostile administrator would.
        let mut script = String::from(
            "SET session_replication_role = replica; DELETE FROM audit_log; \
             INSERT INTO audit_log SELECT * FROM pristine;",
        );
        for statement in &case.statements {
            script.push_str(statement);
            script.push(';');
        }
        script.push_str("SET session_replication_role = origin;");
        sqlx::raw_sql(sqlx::AssertSqlSafe(script))
            .execute(&mut conn)
            .await?;
        check(case, verify(&app, &case.known).await);
    }
    app.close().await;
    scratch.drop_schema().await;
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
