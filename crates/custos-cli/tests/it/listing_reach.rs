//! Listings read only what a caller's grounds reach (`custos_policy::Reach`): over random firms,
//! on SQLite and on PostgreSQL, every person's listing of matters and clients, paged by cursor,
//! is exactly the set of records they can open one by one. A reach that left out a record the
//! rules allow, or a listing that showed one they do not, fails here.

use custos_app::{App, AppSettings, Caller, Membership, NewPerson, PageRequest, Via};
use custos_domain::{
    BreakGlassId, ClientId, Compliance, FixedClock, MatterId, PersonId, RequestId, Role, TeamId,
    WallKind, WallObject, WallSubject,
};
use custos_store::testing::PgScratch;
use custos_store::{BreakGlassRow, LocalBlobStore, PgStore, SqliteStore, Store};
use std::collections::BTreeSet;
use std::sync::Arc;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A small deterministic generator (xorshift64*), so that a failing seed can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n.max(1)
    }
    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
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

const ROLES: [Role; 9] = [
    Role::Partner,
    Role::Partner,
    Role::TeamLead,
    Role::TeamLead,
    Role::Lawyer,
    Role::Paralegal,
    Role::Secretary,
    Role::Intern,
    Role::Admin,
];

struct Firm {
    people: Vec<PersonId>,
    matters: Vec<MatterId>,
    clients: Vec<ClientId>,
}

/// A random firm built through the application (real keys, sealed titles, audited changes),
/// plus break-glass accesses written straight to the store.
async fn random_firm(
    app: &App,
    store: &dyn Store,
    rng: &mut Rng,
) -> Result<Firm, Box<dyn std::error::Error>> {
    let (officer, _) = app.bootstrap_officer("olivia.officer", "Olivia").await?;
    let officer = officer.id;
    let mut people = vec![officer];
    let mut by_role: Vec<(PersonId, Role)> = vec![];
    for i in 0..14 {
        let role = ROLES.get(i).copied().unwrap_or_else(|| rng.pick(&ROLES));
        let new = NewPerson {
            user_name: format!("person.{i}"),
            display_name: format!("Person {i}"),
            role,
        };
        let (p, _) = app.create_person(&as_person(officer), new).await?;
        people.push(p.id);
        by_role.push((p.id, role));
    }
    // R4: nearly everyone's dates on file (the officer's recorded by a partner).
    let today = clock_now().date();
    let on_file = Compliance {
        agreement_signed_on: Some(today - time::Duration::days(30)),
        training_valid_until: Some(today + time::Duration::days(30)),
    };
    let partners: Vec<PersonId> = by_role
        .iter()
        .filter(|p| p.1 == Role::Partner)
        .map(|p| p.0)
        .collect();
    for &p in &people {
        let may_lack = by_role
            .iter()
            .any(|&(q, role)| q == p && !matches!(role, Role::Partner | Role::TeamLead));
        if may_lack && rng.chance(15) {
            continue;
        }
        let recorder = if p == officer { partners[0] } else { officer };
        app.record_compliance(&as_person(recorder), p, on_file)
            .await?;
    }
    let leads: Vec<PersonId> = by_role
        .iter()
        .filter(|p| matches!(p.1, Role::Partner | Role::TeamLead))
        .map(|p| p.0)
        .collect();
    let staff: Vec<PersonId> = by_role
        .iter()
        .filter(|p| p.1 != Role::Admin)
        .map(|p| p.0)
        .collect();
    let mut teams: Vec<TeamId> = vec![];
    for t in 0..4 {
        let team = app
            .create_team(
                &as_person(officer),
                &format!("Team {t}"),
                Some(rng.pick(&leads)),
            )
            .await?;
        for _ in 0..3 {
            let _ = app
                .change_team_member(
                    &as_person(officer),
                    team.id,
                    rng.pick(&staff),
                    Membership::Add,
                )
                .await;
        }
        teams.push(team.id);
    }
    let mut clients = vec![];
    let mut matters = vec![];
    for c in 0..6 {
        let responsible = rng.pick(&partners);
        let client = app
            .create_client(&as_person(responsible), &format!("Client {c}"), "contact")
            .await?;
        clients.push(client.id);
        for m in 0..(1 + rng.below(3)) {
            let lead = rng.pick(&leads);
            let matter = app
                .create_matter(
                    &as_person(responsible),
                    client.id,
                    rng.pick(&teams),
                    lead,
                    &format!("Matter {c}-{m} merger"),
                )
                .await?;
            for _ in 0..rng.below(4) {
                let _ = app
                    .change_matter_member(
                        &as_person(lead),
                        matter.id,
                        rng.pick(&staff),
                        Membership::Add,
                    )
                    .await;
            }
            matters.push(matter.id);
        }
    }
    for w in 0..4 {
        let kind = if w == 0 && rng.chance(60) {
            WallKind::Inclusionary
        } else {
            WallKind::Exclusionary
        };
        let subject = if rng.chance(25) {
            WallSubject::Team(rng.pick(&teams))
        } else {
            WallSubject::Person(rng.pick(&staff))
        };
        let object = if rng.chance(30) {
            WallObject::Client(rng.pick(&clients))
        } else {
            WallObject::Matter(rng.pick(&matters))
        };
        let _ = app
            .create_wall(
                &as_person(officer),
                kind,
                subject,
                object,
                "random conflict",
            )
            .await;
    }
    // Break-glass accesses, open and expired (the listing must show only the open ones).
    let mut tx = store.begin().await?;
    for i in 0..4 {
        let now = clock_now();
        let expires_at = if i % 2 == 0 {
            now + time::Duration::hours(2)
        } else {
            now - time::Duration::hours(1)
        };
        tx.insert_break_glass(&BreakGlassRow {
            id: BreakGlassId::new(),
            person: rng.pick(&staff),
            matter: rng.pick(&matters),
            justification: "a random emergency for the test".to_owned(),
            opened_at: now - time::Duration::hours(3),
            expires_at,
            review: None,
        })
        .await?;
    }
    tx.commit().await?;
    Ok(Firm {
        people,
        matters,
        clients,
    })
}

/// Every page of a listing, three at a time, following the cursor.
async fn all_pages<T, F, Fut>(mut list: F, id: impl Fn(&T) -> uuid::Uuid) -> BTreeSet<uuid::Uuid>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<custos_app::Page<T>, custos_app::AppError>>,
{
    let mut seen = BTreeSet::new();
    let mut cursor = None;
    loop {
        let page = list(PageRequest {
            cursor,
            limit: Some(3),
        })
        .await
        .unwrap_or_else(|e| panic!("listing failed: {e}"));
        for item in &page.items {
            assert!(seen.insert(id(item)), "a record listed twice");
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c.parse().unwrap_or_else(|e| panic!("{e}"))),
            None => break,
        }
    }
    seen
}

async fn listings_match_one_by_one(app: &App, store: &dyn Store, seed: u64) -> TestResult {
    let mut rng = Rng(seed);
    let firm = random_firm(app, store, &mut rng).await?;
    let mut listed_somewhere = 0;
    for &person in &firm.people {
        let caller = as_person(person);
        let listed = all_pages(
            |p| async move { app.list_matters(&caller, &p).await },
            |m| m.id.0,
        )
        .await;
        let mut opened = BTreeSet::new();
        for &m in &firm.matters {
            if app.get_matter(&caller, m).await.is_ok() {
                opened.insert(m.0);
            }
        }
        assert_eq!(listed, opened, "seed {seed}: matters of person {person}");
        // The officer's "what can this person access" names the same matters (those she may
        // not see herself counted), unless the person's role sees every matter.
        let officer = as_person(firm.people[0]);
        let reach = app.person_access(&officer, person).await?;
        if !reach.every_matter {
            let named: BTreeSet<uuid::Uuid> = reach.matters.iter().map(|e| e.matter.0).collect();
            assert!(named.is_subset(&opened), "seed {seed}: person {person}");
            assert_eq!(
                named.len() + reach.hidden as usize,
                opened.len(),
                "seed {seed}: what person {person} can access"
            );
        }
        listed_somewhere += listed.len();
        let listed = all_pages(
            |p| async move { app.list_clients(&caller, &p).await },
            |c| c.id.0,
        )
        .await;
        let mut opened = BTreeSet::new();
        for &c in &firm.clients {
            if app.get_client(&caller, c).await.is_ok() {
                opened.insert(c.0);
            }
        }
        assert_eq!(listed, opened, "seed {seed}: clients of person {person}");
        // Search stays within the listing: a word every title has finds exactly the matters
        // the person reads in full.
        let found = all_pages(
            |p| async move { app.search_matters(&caller, &p, Some("MERGER")).await },
            |m| m.id.0,
        )
        .await;
        assert!(
            found.is_subset(&opened_matters(app, &caller, &firm).await),
            "seed {seed}"
        );
    }
    assert!(
        listed_somewhere > firm.matters.len(),
        "seed {seed}: the firm sees little"
    );
    Ok(())
}

/// The matters a caller reads the title of.
async fn opened_matters(app: &App, caller: &Caller, firm: &Firm) -> BTreeSet<uuid::Uuid> {
    let mut out = BTreeSet::new();
    for &m in &firm.matters {
        if let Ok(v) = app.get_matter(caller, m).await
            && v.title.is_some()
        {
            out.insert(m.0);
        }
    }
    out
}

/// The firm's clock, fixed.
fn clock_now() -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(1_800_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

fn app_on(store: Arc<dyn Store>, blobs: &std::path::Path) -> App {
    let clock = Arc::new(FixedClock::new(clock_now()));
    App::new(
        store,
        Arc::new(LocalBlobStore::open(blobs).unwrap_or_else(|e| panic!("{e}"))),
        custos_crypto::Kek::generate().unwrap_or_else(|e| panic!("{e}")),
        clock,
        AppSettings::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_agree_with_one_by_one_access_on_sqlite() -> TestResult {
    for seed in [0x9E37_79B9_7F4A_7C15, 42, 7_777_777] {
        let dir = tempfile::tempdir()?;
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&dir.path().join("c.db"), true).await?);
        let app = app_on(store.clone(), &dir.path().join("blobs"));
        listings_match_one_by_one(&app, &*store, seed).await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_agree_with_one_by_one_access_on_postgres() -> TestResult {
    let Some(scratch) = PgScratch::create("listings_agree_with_one_by_one_access").await else {
        return Ok(());
    };
    let scratch = scratch?;
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn Store> = Arc::new(PgStore::connect(&scratch.url, 4, true).await?);
    let app = app_on(store.clone(), dir.path());
    let result = listings_match_one_by_one(&app, &*store, 0xC0FF_EE00_1234).await;
    drop(app);
    drop(store);
    scratch.drop_schema().await;
    result
}
