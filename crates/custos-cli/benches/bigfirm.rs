//! Benchmark (not a test): `cargo bench -p custos-cli --bench bigfirm`.
//!
//! The decision point at a big firm's size (issue 14): 2,000 people, 500 teams, 20,000 matters,
//! 1,000,000 documents, 200 walls, 20 firm policies, on SQLite in `CUSTOS_BENCH_DIR`
//! (default `/dev/shm`, tmpfs: the figures are CPU and SQLite, not fsync), against a small
//! firm in its own database (the same people and teams, 200 matters of 50 clients, 10,000
//! documents, 20 walls: enough that every page measured is full in both); in each, a lawyer is
//! staffed on 30 matters. Each figure is reported for both and as big/small; rounds
//! (`CUSTOS_BENCH_ROUNDS`, default 4) alternate between the two firms so that drift of the
//! machine hits both alike. Rows are written straight through the store with real keys and
//! sealed fields (the application's own keys: the KEK is loaded twice from one key file), so
//! every read opens what it would open in use.
//!
//! Measured in process (`App` calls, each opening a unit, deciding, auditing, committing):
//! an authorised metadata read (matter, document), a page of 50 documents, a page of matters
//! and of clients for the lawyer and for the officer, and "who can access this matter" for the
//! officer; median and p99 of `CUSTOS_BENCH_N` (default 200) runs each.
//! `CUSTOS_BENCH_SMOKE=1` shrinks everything (the test command runs it so that it cannot rot).
//! Writes `bench-results/bigfirm.json`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    reason = "a benchmark binary"
)]

use custos_app::{App, AppSettings, Caller, PageRequest, Via};
use custos_crypto::Kek;
use custos_domain::{
    Classification, ClientId, Compliance, DocumentId, MatterId, Person, PersonId, PersonStatus,
    RequestId, Role, SystemClock, Team, TeamId, UserName, Wall, WallId, WallKind, WallObject,
    WallSubject,
};
use custos_policy::KeyScope;
use custos_store::{
    ClientRow, DocumentRow, LocalBlobStore, MatterRow, PersonRow, SqliteStore, Store,
};
use serde_json::json;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

fn smoke() -> bool {
    std::env::var("CUSTOS_BENCH_SMOKE").is_ok()
}

fn runs() -> usize {
    std::env::var("CUSTOS_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

/// Sizes: (people, teams, small matters, big matters, small documents, big documents, walls).
struct Sizes {
    people: usize,
    teams: usize,
    matters: [usize; 2],
    documents: [usize; 2],
    walls: usize,
}

fn sizes() -> Sizes {
    if smoke() {
        Sizes {
            people: 60,
            teams: 12,
            matters: [200, 400],
            documents: [400, 2_000],
            walls: 10,
        }
    } else {
        Sizes {
            people: 2_000,
            teams: 500,
            matters: [200, 20_000],
            documents: [10_000, 1_000_000],
            walls: 200,
        }
    }
}

fn as_person(person: PersonId) -> Caller {
    Caller {
        person,
        request_id: RequestId::new(),
        via: Via::Internal,
        address: None,
    }
}

fn person_row(i: usize, role: Role, today: time::Date) -> PersonRow {
    PersonRow {
        person: Person {
            id: PersonId::new(),
            user_name: UserName::parse(&format!("person.{i}")).unwrap(),
            display_name: format!("Person {i}"),
            role,
            status: PersonStatus::Active,
            created_at: time::OffsetDateTime::now_utc(),
            compliance: Compliance {
                agreement_signed_on: Some(today - time::Duration::days(100)),
                training_valid_until: Some(today + time::Duration::days(100)),
            },
        },
        password_hash: "$argon2id$not-a-login".to_owned(),
        must_change_password: false,
        password_changed_at: time::OffsetDateTime::now_utc(),
    }
}

/// The firm as seeded so far.
struct Firm {
    kek: Kek,
    officer: PersonId,
    lawyer: PersonId,
    leads: Vec<PersonId>,
    staff: Vec<PersonId>,
    teams: Vec<TeamId>,
    clients: Vec<ClientId>,
    matters: Vec<MatterId>,
    /// The matters' data keys, to seal their documents' fields.
    keys: BTreeMap<MatterId, custos_crypto::DataKey>,
    lawyer_matters: Vec<MatterId>,
    lawyer_documents: Vec<DocumentId>,
    documents: usize,
    next_number: i64,
}

async fn add_matters(store: &dyn Store, firm: &mut Firm, n: usize, staff_lawyer: usize) {
    let mut tx = store.begin().await.unwrap();
    let now = time::OffsetDateTime::now_utc();
    for i in 0..n {
        if i % 4 == 0 || firm.clients.is_empty() {
            let id = ClientId::new();
            let (key, wrapped) = firm.kek.new_data_key(KeyScope::Client(id)).unwrap();
            firm.next_number += 1;
            let responsible = firm.leads[i % firm.leads.len()];
            tx.insert_client(&ClientRow {
                id,
                number: firm.next_number,
                responsible,
                wrapped_key: wrapped.0,
                sealed_name: key
                    .seal_field(&format!("client.name:{id}"), "Client")
                    .unwrap(),
                sealed_contact: key
                    .seal_field(&format!("client.contact:{id}"), "-")
                    .unwrap(),
                created_at: now,
            })
            .await
            .unwrap();
            firm.clients.push(id);
        }
        let id = MatterId::new();
        let (key, wrapped) = firm.kek.new_data_key(KeyScope::Matter(id)).unwrap();
        firm.next_number += 1;
        let team = firm.teams[i % firm.teams.len()];
        tx.insert_matter(&MatterRow {
            id,
            number: firm.next_number,
            client: *firm.clients.last().unwrap(),
            team,
            lead: firm.leads[(i + 1) % firm.leads.len()],
            wrapped_key: wrapped.0,
            sealed_title: key
                .seal_field(&format!("matter.title:{id}"), &format!("Matter {i} merger"))
                .unwrap(),
            created_at: now,
        })
        .await
        .unwrap();
        for k in 0..3 {
            let member = firm.staff[(i * 7 + k * 13) % firm.staff.len()];
            if member != firm.lawyer {
                tx.add_matter_member(id, member).await.unwrap();
            }
        }
        if i < staff_lawyer {
            tx.add_matter_member(id, firm.lawyer).await.unwrap();
            firm.lawyer_matters.push(id);
        }
        firm.keys.insert(id, key);
        firm.matters.push(id);
    }
    tx.commit().await.unwrap();
}

/// Adds documents round-robin over the matters, committing every 50,000.
async fn add_documents(store: &dyn Store, firm: &mut Firm, n: usize) {
    let provenance = json!({
        "source": "client", "content_description": "bench", "purpose": "conduct of the matter",
        "legal_basis": "engagement letter", "collected_by": "bench",
        "collected_at": "2026-11-02T09:30:00Z"
    })
    .to_string();
    let now = time::OffsetDateTime::now_utc();
    let mut done = 0;
    while done < n {
        let batch = (n - done).min(50_000);
        let mut tx = store.begin().await.unwrap();
        for i in done..done + batch {
            let matter = firm.matters[(firm.documents + i) % firm.matters.len()];
            let key = &firm.keys[&matter];
            let id = DocumentId::new();
            tx.insert_document(&DocumentRow {
                id,
                matter,
                classification: Classification::Confidential,
                sealed_title: key
                    .seal_field(&format!("document.title:{id}"), "Bench document")
                    .unwrap(),
                sealed_provenance: key
                    .seal_field(&format!("document.provenance:{id}"), &provenance)
                    .unwrap(),
                media_type: "text/plain".to_owned(),
                size: 5,
                created_by: firm.lawyer,
                created_at: now,
            })
            .await
            .unwrap();
            if firm.lawyer_matters.contains(&matter) && firm.lawyer_documents.len() < 100 {
                firm.lawyer_documents.push(id);
            }
        }
        tx.commit().await.unwrap();
        done += batch;
    }
    firm.documents += n;
}

async fn seed_people(app: &App, store: &dyn Store, kek: Kek, s: &Sizes) -> Firm {
    let today = app.today(time::OffsetDateTime::now_utc());
    let (officer, _) = app
        .bootstrap_officer("olivia.officer", "Olivia")
        .await
        .unwrap();
    let mut tx = store.begin().await.unwrap();
    let mut leads = vec![];
    let mut staff = vec![];
    let mut lawyer = None;
    for i in 0..s.people {
        let role = match i % 10 {
            0 => Role::Partner,
            1 | 2 => Role::TeamLead,
            3..=6 => Role::Lawyer,
            7 => Role::Paralegal,
            8 => Role::Secretary,
            _ => Role::Intern,
        };
        let row = person_row(i, role, today);
        tx.insert_person(&row).await.unwrap();
        let id = row.person.id;
        if matches!(role, Role::Partner | Role::TeamLead) {
            leads.push(id);
        }
        if role == Role::Lawyer && lawyer.is_none() {
            lawyer = Some(id);
        }
        staff.push(id);
    }
    let mut teams = vec![];
    for t in 0..s.teams {
        let team = Team {
            id: TeamId::new(),
            name: format!("Team {t}"),
            lead: Some(leads[t % leads.len()]),
        };
        tx.insert_team(&team).await.unwrap();
        for k in 0..4 {
            tx.add_team_member(team.id, staff[(t * 4 + k) % staff.len()])
                .await
                .unwrap();
        }
        teams.push(team.id);
    }
    tx.commit().await.unwrap();
    let partner = leads[0];
    let on_file = Compliance {
        agreement_signed_on: Some(today - time::Duration::days(100)),
        training_valid_until: Some(today + time::Duration::days(100)),
    };
    app.record_compliance(&as_person(partner), officer.id, on_file)
        .await
        .unwrap();
    Firm {
        kek,
        officer: officer.id,
        lawyer: lawyer.unwrap(),
        leads,
        staff,
        teams,
        clients: vec![],
        matters: vec![],
        keys: BTreeMap::new(),
        lawyer_matters: vec![],
        lawyer_documents: vec![],
        documents: 0,
        next_number: 1_000,
    }
}

/// Twenty forbid policies of the kinds the decide bench uses (interns kept off clients,
/// night-time bans on some actions, restricted reads at impossible hours).
fn policies(clients: &[ClientId]) -> String {
    let mut text = String::new();
    for (i, c) in clients.iter().take(10).enumerate() {
        text.push_str(&format!(
            "@id(\"interns-not-on-client-{i}\") forbid(principal, action, resource) when {{ principal.role == \"intern\" && resource.client == Client::\"{c}\" }};\n"
        ));
    }
    for (i, action) in [
        "matter.break_glass",
        "matter.staff",
        "client.create",
        "matter.create",
        "document.upload",
    ]
    .iter()
    .enumerate()
    {
        text.push_str(&format!(
            "@id(\"night-{i}\") forbid(principal, action == Action::\"{action}\", resource) when {{ context.hour < 0 }};\n"
        ));
    }
    for i in 0..5 {
        text.push_str(&format!(
            "@id(\"restricted-{i}\") forbid(principal, action == Action::\"document.read\", resource) when {{ resource.classification == \"restricted\" && context.hour == {} }};\n",
            30 + i
        ));
    }
    text
}

async fn add_walls(store: &dyn Store, firm: &Firm, n: usize) {
    let mut tx = store.begin().await.unwrap();
    for i in 0..n {
        // Never on the lawyer's matters: the measured reads stay allowed.
        let matter = firm.matters[firm.lawyer_matters.len()
            + (i * 31) % (firm.matters.len() - firm.lawyer_matters.len())];
        tx.insert_wall(&Wall {
            id: WallId::new(),
            kind: if i % 50 == 0 {
                WallKind::Inclusionary
            } else {
                WallKind::Exclusionary
            },
            subject: WallSubject::Person(firm.staff[(i * 17) % firm.staff.len()]),
            object: WallObject::Matter(matter),
            reason: "acted for the counterparty".to_owned(),
            created_by: firm.officer,
            created_at: time::OffsetDateTime::now_utc(),
            lifted: None,
        })
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

/// `n` runs of `f`, in microseconds (after a few unmeasured ones).
async fn measure<F, Fut, T, E: std::fmt::Debug>(n: usize, mut f: F) -> Vec<f64>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    for _ in 0..n.min(5) {
        f().await.unwrap();
    }
    let mut us = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f().await.unwrap();
        us.push(t.elapsed().as_secs_f64() * 1e6);
    }
    us
}

/// Median and p99.
fn stats(mut us: Vec<f64>) -> (f64, f64) {
    us.sort_by(f64::total_cmp);
    let at = |p: f64| us[((us.len() - 1) as f64 * p).round() as usize];
    (at(0.5), at(0.99))
}

async fn measure_all(app: &App, firm: &Firm, n: usize) -> BTreeMap<&'static str, Vec<f64>> {
    let (lawyer, officer) = (as_person(firm.lawyer), as_person(firm.officer));
    let (matter, doc) = (firm.lawyer_matters[0], firm.lawyer_documents[0]);
    let page = PageRequest {
        cursor: None,
        limit: Some(50),
    };
    let mut out = BTreeMap::new();
    out.insert(
        "matter_read",
        measure(n, || app.get_matter(&lawyer, matter)).await,
    );
    out.insert(
        "document_read",
        measure(n, || app.get_document(&lawyer, doc)).await,
    );
    out.insert(
        "documents_page_50",
        measure(n, || app.list_documents(&lawyer, matter, &page)).await,
    );
    out.insert(
        "lawyer_matters_page",
        measure(n, || app.list_matters(&lawyer, &page)).await,
    );
    out.insert(
        "lawyer_clients_page",
        measure(n, || app.list_clients(&lawyer, &page)).await,
    );
    out.insert(
        "lawyer_matter_search",
        measure(n, || app.search_matters(&lawyer, &page, Some("merger"))).await,
    );
    out.insert(
        "officer_matters_page",
        measure(n, || app.list_matters(&officer, &page)).await,
    );
    out.insert(
        "officer_clients_page",
        measure(n, || app.list_clients(&officer, &page)).await,
    );
    out.insert(
        "who_can_access",
        measure(n.min(100), || app.who_can_access_matter(&officer, matter)).await,
    );
    let listed = app
        .list_matters(
            &lawyer,
            &PageRequest {
                cursor: None,
                limit: Some(200),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        listed.items.len(),
        firm.lawyer_matters.len(),
        "the lawyer sees their matters"
    );
    out
}

/// A firm of `matters` matters and `documents` documents (the lawyer on 30 of them), in its
/// own database under `base`.
async fn firm_of(
    base: &str,
    s: &Sizes,
    matters: usize,
    documents: usize,
    walls: usize,
) -> (tempfile::TempDir, App, Firm) {
    let dir = tempfile::tempdir_in(base).unwrap();
    let key_file = dir.path().join("kek");
    Kek::generate()
        .unwrap()
        .write_new_key_file(&key_file)
        .unwrap();
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("c.db"), true)
            .await
            .unwrap(),
    );
    let app = App::new(
        store.clone(),
        Arc::new(LocalBlobStore::open(&dir.path().join("blobs")).unwrap()),
        Kek::load_key_file(&key_file).unwrap(),
        Arc::new(SystemClock),
        AppSettings::default(),
    )
    .unwrap();
    let started = Instant::now();
    let mut firm = seed_people(&app, &*store, Kek::load_key_file(&key_file).unwrap(), s).await;
    add_matters(&*store, &mut firm, matters, 30).await;
    add_documents(&*store, &mut firm, documents).await;
    add_walls(&*store, &firm, walls).await;
    app.save_firm_policies(&as_person(firm.officer), &policies(&firm.clients))
        .await
        .unwrap();
    println!(
        "firm of {matters} matters, {documents} documents, {walls} walls seeded in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    (dir, app, firm)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let s = sizes();
    let base = std::env::var("CUSTOS_BENCH_DIR").unwrap_or_else(|_| "/dev/shm".to_owned());
    let rounds = std::env::var("CUSTOS_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4_usize);
    let (_a, small_app, small_firm) =
        firm_of(&base, &s, s.matters[0], s.documents[0], s.walls / 10).await;
    let (_b, big_app, big_firm) = firm_of(&base, &s, s.matters[1], s.documents[1], s.walls).await;
    // Rounds alternate between the two firms, so that drift of the machine hits both alike.
    let (mut small, mut big): (BTreeMap<_, Vec<f64>>, BTreeMap<_, Vec<f64>>) = Default::default();
    let per_round = (runs() / rounds).max(1);
    for _ in 0..rounds {
        for (name, us) in measure_all(&small_app, &small_firm, per_round).await {
            small.entry(name).or_default().extend(us);
        }
        for (name, us) in measure_all(&big_app, &big_firm, per_round).await {
            big.entry(name).or_default().extend(us);
        }
    }
    let firm = big_firm;
    // Round trips: statements a unit of work ran before its gate decided, over every gate of
    // the run (the save of the firm policies at seeding included).
    let (gates, statements) = big_app.gate_statements().totals();
    let per_gate = statements as f64 / gates.max(1) as f64;
    println!("statements before each decision (big firm): {per_gate:.2} over {gates} gates");
    println!(
        "{:<24} {:>12} {:>12} {:>12} {:>12} {:>8}",
        "µs", "small p50", "small p99", "big p50", "big p99", "ratio"
    );
    let mut results = serde_json::Map::new();
    for (name, samples) in small {
        let (sp50, sp99) = stats(samples);
        let (bp50, bp99) = stats(big.remove(name).unwrap_or_default());
        let ratio = bp50 / sp50;
        println!("{name:<24} {sp50:>12.0} {sp99:>12.0} {bp50:>12.0} {bp99:>12.0} {ratio:>8.2}");
        results.insert(
            name.to_owned(),
            json!({ "small_p50_us": sp50, "small_p99_us": sp99, "big_p50_us": bp50, "big_p99_us": bp99, "median_ratio": ratio }),
        );
    }
    let report = json!({
        "people": s.people, "teams": s.teams, "matters": s.matters, "documents": s.documents,
        "walls": s.walls, "firm_policies": 20, "lawyer_matters": firm.lawyer_matters.len(),
        "runs": runs(), "dir": base, "results": results,
        "statements_per_gate": per_gate,
    });
    std::fs::create_dir_all("bench-results").unwrap();
    std::fs::write(
        "bench-results/bigfirm.json",
        serde_json::to_string_pretty(&report).unwrap(),
    )
    .unwrap();
}
