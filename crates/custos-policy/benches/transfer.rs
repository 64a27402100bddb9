//! Benchmark (not a test): `cargo bench -p custos-policy --bench transfer`. Checking a transfer
//! request of 1,000 documents (consent, the recipient's agreement and walls, the requester's
//! access to each document with walls and firm policies in force) vs 1,000 single access
//! decisions on the same documents by the same lawyer, in the same run (issue 16: ratio
//! <= 1.2). Facts are in memory for both: what is measured is the decision point. The two
//! arms alternate `CUSTOS_BENCH_ROUNDS` (7) times; medians are reported.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    reason = "a benchmark binary"
)]

use custos_domain::*;
use custos_policy::*;
use std::hint::black_box;
use std::time::{Duration, Instant};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let smoke = std::env::var("CUSTOS_BENCH_SMOKE").is_ok();
    let docs = if smoke {
        20
    } else {
        env_or("CUSTOS_BENCH_TRANSFER_DOCS", 1000)
    };
    let rounds = if smoke {
        1
    } else {
        env_or("CUSTOS_BENCH_ROUNDS", 7)
    };
    let now = time::OffsetDateTime::now_utc();
    let today = now.date();
    let team = TeamId::new();
    let matter = MatterFacts {
        id: MatterId::new(),
        client: ClientId::new(),
        team,
        lead: PersonId::new(),
    };
    let lawyer = Principal {
        id: PersonId::new(),
        role: Role::Lawyer,
        status: PersonStatus::Active,
        teams: vec![team],
        led_teams: vec![],
        staffed_matters: vec![matter.id],
        compliance: Compliance {
            agreement_signed_on: Some(today - time::Duration::days(10)),
            training_valid_until: Some(today + time::Duration::days(10)),
        },
        emergency: vec![],
        emergencies_last_day: 0,
    };
    // Firm policies a firm would have: one without a guard runs on every document read (so
    // Cedar is asked for each document in both arms), the others are sliced away.
    let text = "@id(\"no-reads-at-night\") forbid(principal, action == Action::\"document.read\", resource) when { context.hour < 5 };\n\
                @id(\"interns\") forbid(principal, action == Action::\"document.read\", resource) when { principal.role == \"intern\" && resource.classification == \"restricted\" };\n\
                @id(\"no-uploads-at-night\") forbid(principal, action == Action::\"document.upload\", resource) when { context.hour < 6 };\n";
    let firm = FirmPolicies::parse(1, text).unwrap();
    // Walls in force elsewhere in the firm (other people, other matters).
    let walls: Vec<Wall> = (0..50)
        .map(|_| Wall {
            id: WallId::new(),
            kind: WallKind::Exclusionary,
            subject: WallSubject::Person(PersonId::new()),
            object: WallObject::Matter(MatterId::new()),
            reason: "acted for the counterparty".to_owned(),
            created_by: PersonId::new(),
            created_at: now,
            lifted: None,
        })
        .collect();
    let ctx = Context {
        walls,
        clock: LocalClock {
            hour: 12,
            weekday: 3,
        },
        firm: Some(firm),
        ..Context::at(now, today)
    };
    let recipient = ThirdPartyId::new();
    let facts = TransferFacts {
        matter,
        recipient: RecipientFacts {
            id: recipient,
            category: RecipientCategory::ExpertWitness,
            address_verified: true,
            agreement_signed_on: Some(today - time::Duration::days(30)),
            agreement_expires_on: Some(today + time::Duration::days(300)),
            person: Some(PersonId::new()),
            walls: vec![],
        },
        purpose: "expert_report".to_owned(),
        basis: Basis::Consent(ConsentFacts {
            id: ConsentId::new(),
            client: matter.client,
            purposes: vec!["litigation_support".to_owned(), "expert_report".to_owned()],
            recipient: Some(recipient),
            category: None,
            matters: vec![],
            given_on: today - time::Duration::days(5),
            expires_on: None,
            revoked: false,
        }),
        documents: (0..docs)
            .map(|i| DocumentFacts {
                id: DocumentId::new(),
                matter,
                classification: [
                    Classification::Internal,
                    Classification::Confidential,
                    Classification::Privileged,
                ][i % 3],
            })
            .collect(),
    };
    let mut checks = Vec::new();
    let mut singles = Vec::new();
    for _ in 0..rounds {
        let started = Instant::now();
        let check = check_transfer(black_box(&lawyer), black_box(&facts), black_box(&ctx));
        checks.push(started.elapsed());
        assert!(check.passed(), "{check:?}");
        let started = Instant::now();
        let mut allowed = 0;
        for d in &facts.documents {
            let decision = decide(
                black_box(&lawyer),
                Action::ReadDocumentContent,
                &Resource::Document(*d),
                black_box(&ctx),
            );
            allowed += usize::from(decision.is_allowed());
        }
        singles.push(started.elapsed());
        assert_eq!(allowed, docs);
    }
    let (c, s) = (median(checks), median(singles));
    println!(
        "transfer check of {docs} documents: {:.3} ms median; {docs} single decisions: {:.3} ms \
         median; ratio {:.2} (target <= 1.2), {rounds} rounds",
        c.as_secs_f64() * 1e3,
        s.as_secs_f64() * 1e3,
        c.as_secs_f64() / s.as_secs_f64()
    );
}
