//! Each refusal of a transfer, decided at the policy: the wrong consent, recipient,
//! agreement, requester, wall, approver, and the link's own limits.

use super::*;
use crate::Holder;
use custos_domain::{
    Classification, Compliance, DocumentId, TeamId, Timestamp, WallId, WallKind, WallObject,
    WallSubject,
};

#[path = "release_tests.rs"]
mod release;

fn d(y: i32, m: u8, day: u8) -> Date {
    Date::from_calendar_date(
        y,
        time::Month::try_from(m).unwrap_or(time::Month::January),
        day,
    )
    .unwrap_or(Date::MIN)
}

fn at(y: i32, m: u8, day: u8, hour: u8) -> Timestamp {
    d(y, m, day)
        .with_hms(hour, 0, 0)
        .unwrap_or(time::PrimitiveDateTime::MIN)
        .assume_utc()
}

/// A change to the world of one case.
type Change = fn(&mut World);
/// A change to a link of one case.
type LinkChange = fn(&mut LinkFacts, &World);

struct World {
    lawyer: Principal,
    lead: Principal,
    officer: Principal,
    partner: Principal,
    facts: TransferFacts,
    ctx: Context,
}

fn person(role: Role) -> Principal {
    Principal {
        id: PersonId::new(),
        role,
        status: PersonStatus::Active,
        teams: vec![],
        led_teams: vec![],
        staffed_matters: vec![],
        compliance: Compliance {
            agreement_signed_on: Some(d(2026, 1, 1)),
            training_valid_until: Some(d(2027, 12, 31)),
        },
        emergency: vec![],
        emergencies_last_day: 0,
    }
}

fn world() -> World {
    let team = TeamId::new();
    let mut lead = person(Role::TeamLead);
    lead.led_teams = vec![team];
    lead.teams = vec![team];
    let matter = MatterFacts {
        id: MatterId::new(),
        client: ClientId::new(),
        team,
        lead: lead.id,
    };
    let mut lawyer = person(Role::Lawyer);
    lawyer.staffed_matters = vec![matter.id];
    let recipient = ThirdPartyId::new();
    let facts = TransferFacts {
        matter,
        recipient: RecipientFacts {
            id: recipient,
            category: RecipientCategory::ExpertWitness,
            address_verified: true,
            agreement_signed_on: Some(d(2026, 6, 1)),
            agreement_expires_on: Some(d(2027, 6, 1)),
            person: None,
            walls: vec![],
        },
        purpose: "expert_report".to_owned(),
        basis: Basis::Consent(ConsentFacts {
            id: ConsentId::new(),
            client: matter.client,
            purposes: vec!["expert_report".to_owned()],
            recipient: Some(recipient),
            category: None,
            matters: vec![],
            given_on: d(2026, 11, 1),
            expires_on: Some(d(2027, 11, 1)),
            revoked: false,
        }),
        documents: (0..3)
            .map(|_| DocumentFacts {
                id: DocumentId::new(),
                matter,
                classification: Classification::Confidential,
            })
            .collect(),
    };
    World {
        lawyer,
        lead,
        officer: person(Role::Officer),
        partner: person(Role::Partner),
        facts,
        ctx: Context::at(at(2026, 12, 6, 10), d(2026, 12, 6)),
    }
}

fn failed(w: &World) -> Option<(Rule, String)> {
    check_transfer(&w.lawyer, &w.facts, &w.ctx)
        .first_failure()
        .map(|c| (c.rule, c.message.clone()))
}

fn consent(w: &mut World) -> &mut ConsentFacts {
    match &mut w.facts.basis {
        Basis::Consent(c) => c,
        _ => panic!("consent expected"),
    }
}

#[test]
fn a_covered_transfer_passes_every_check() {
    let w = world();
    let check = check_transfer(&w.lawyer, &w.facts, &w.ctx);
    assert!(check.passed(), "{check:?}");
    assert_eq!(check.checks.len(), 4);
}

#[test]
fn each_consent_failure_is_named() {
    let cases: Vec<(&str, Change)> = vec![
        ("revoked", |w| consent(w).revoked = true),
        ("expired on 2026-12-05", |w| {
            consent(w).expires_on = Some(d(2026, 12, 5));
        }),
        ("does not cover the purpose", |w| {
            consent(w).purposes = vec!["litigation_support".to_owned()];
        }),
        ("names recipient", |w| {
            consent(w).recipient = Some(ThirdPartyId::new());
        }),
        ("category", |w| {
            let c = consent(w);
            c.recipient = None;
            c.category = Some(RecipientCategory::CoCounsel);
        }),
        ("another client's", |w| consent(w).client = ClientId::new()),
        ("does not cover matter", |w| {
            consent(w).matters = vec![MatterId::new()];
        }),
        ("given only from", |w| {
            consent(w).given_on = d(2026, 12, 7);
        }),
        ("no consent", |w| w.facts.basis = Basis::None),
    ];
    for (words, change) in cases {
        let mut w = world();
        change(&mut w);
        let (rule, message) = failed(&w).unwrap_or_else(|| panic!("{words}: passed"));
        assert_eq!(rule, Rule::Consent, "{words}");
        assert!(message.contains(words), "{words}: {message}");
    }
    // A consent for the recipient's category covers them.
    let mut w = world();
    let c = consent(&mut w);
    c.recipient = None;
    c.category = Some(RecipientCategory::ExpertWitness);
    assert_eq!(failed(&w), None);
}

#[test]
fn the_recipient_needs_a_verified_address_and_an_agreement_in_force() {
    let cases: Vec<(&str, Change)> = vec![
        ("not verified", |w| {
            w.facts.recipient.address_verified = false
        }),
        ("no confidentiality agreement", |w| {
            w.facts.recipient.agreement_signed_on = None;
        }),
        ("expired on 2026-12-01", |w| {
            w.facts.recipient.agreement_expires_on = Some(d(2026, 12, 1));
        }),
        ("in the future", |w| {
            w.facts.recipient.agreement_signed_on = Some(d(2026, 12, 24));
        }),
    ];
    for (words, change) in cases {
        let mut w = world();
        change(&mut w);
        let (rule, message) = failed(&w).unwrap_or_else(|| panic!("{words}: passed"));
        assert_eq!(rule, Rule::RecipientAgreement, "{words}");
        assert!(message.contains(words), "{words}: {message}");
    }
    // An authority receiving on a legal basis signs no agreement; anyone else still does.
    let mut w = world();
    w.facts.basis = Basis::Exception(LegalBasis::CourtOrder);
    w.facts.recipient.agreement_signed_on = None;
    assert_eq!(failed(&w).map(|f| f.0), Some(Rule::RecipientAgreement));
    w.facts.recipient.category = RecipientCategory::Authority;
    assert_eq!(failed(&w), None);
}

#[test]
fn the_requester_must_read_every_document() {
    // Not on the team.
    let mut w = world();
    w.lawyer.staffed_matters.clear();
    assert!(failed(&w).is_some_and(|f| f.1.contains("may not read document")));
    // An intern-capped classification among the documents.
    let mut w = world();
    w.lawyer.role = Role::Intern;
    w.facts.documents[2].classification = Classification::Privileged;
    let f = failed(&w).unwrap_or_else(|| panic!("passed"));
    assert_eq!(f.0, Rule::RoleCap);
    assert!(f.1.contains(&w.facts.documents[2].id.to_string()));
    // A wall screening the requester from the matter.
    let mut w = world();
    w.ctx.walls.push(wall(
        WallSubject::Person(w.lawyer.id),
        WallObject::Matter(w.facts.matter.id),
    ));
    assert_eq!(failed(&w).map(|f| f.0), Some(Rule::Wall));
    // A document of another matter.
    let mut w = world();
    w.facts.documents[0].matter.id = MatterId::new();
    assert!(failed(&w).is_some_and(|f| f.1.contains("is not on matter")));
    // No documents.
    let mut w = world();
    w.facts.documents.clear();
    assert!(failed(&w).is_some());
}

fn wall(subject: WallSubject, object: WallObject) -> custos_domain::Wall {
    custos_domain::Wall {
        id: WallId::new(),
        subject,
        object,
        reason: "acted for the counterparty".to_owned(),
        created_by: PersonId::new(),
        created_at: at(2026, 1, 1, 0),
        kind: WallKind::Exclusionary,
        lifted: None,
    }
}

#[test]
fn a_screened_recipient_is_refused() {
    let mut w = world();
    let account = PersonId::new();
    w.facts.recipient.person = Some(account);
    assert_eq!(failed(&w), None);
    w.facts.recipient.walls = vec![wall(
        WallSubject::Person(account),
        WallObject::Client(w.facts.matter.client),
    )];
    let f = failed(&w).unwrap_or_else(|| panic!("passed"));
    assert_eq!(f.0, Rule::Wall);
    assert!(f.1.contains("recipient is screened"), "{}", f.1);
}

fn approvals(w: &World, given: Vec<(PersonId, Slot)>) -> ApprovalFacts {
    ApprovalFacts {
        requester: w.lawyer.id,
        requester_leads_team: false,
        matter: w.facts.matter,
        responsible_partner: w.partner.id,
        exception: None,
        given,
    }
}

#[test]
fn two_different_people_approve_and_never_the_requester() {
    let w = world();
    let none = approvals(&w, vec![]);
    assert_eq!(approval_slot(&w.lead, &none), Ok(Slot::Lead));
    assert_eq!(approval_slot(&w.officer, &none), Ok(Slot::Officer));
    // Self-approval.
    let err = approval_slot(&w.lawyer, &none).err().map(|r| r.rule);
    assert_eq!(err, Some(Rule::TwoPerson));
    // The same person twice.
    let once = approvals(&w, vec![(w.lead.id, Slot::Lead)]);
    let again = approval_slot(&w.lead, &once).err();
    assert!(again.is_some_and(|r| r.message.contains("already approved")));
    // A partner who is not designated, and a second team lead, fill nothing.
    assert!(approval_slot(&w.partner, &once).is_err());
    let mut other_lead = person(Role::TeamLead);
    other_lead.led_teams = vec![TeamId::new()];
    assert!(approval_slot(&other_lead, &none).is_err());
    // An officer who also leads the team gives one approval only.
    let mut officer_lead = w.officer.clone();
    officer_lead.led_teams = vec![w.facts.matter.team];
    assert_eq!(approval_slot(&officer_lead, &none), Ok(Slot::Officer));
    let by_them = approvals(&w, vec![(officer_lead.id, Slot::Officer)]);
    assert!(approval_slot(&officer_lead, &by_them).is_err());
    assert_eq!(approval_slot(&w.lead, &by_them), Ok(Slot::Lead));
    // A suspended approver.
    let mut gone = w.officer.clone();
    gone.status = PersonStatus::Suspended;
    assert_eq!(
        approval_slot(&gone, &none).err().map(|r| r.rule),
        Some(Rule::Status)
    );
}

#[test]
fn when_the_team_lead_asks_the_designated_partner_approves() {
    let w = world();
    let mut a = approvals(&w, vec![]);
    a.requester = w.lead.id;
    a.requester_leads_team = true;
    assert!(approval_slot(&w.lead, &a).is_err());
    assert_eq!(approval_slot(&w.partner, &a), Ok(Slot::Lead));
    assert!(approval_slot(&person(Role::Partner), &a).is_err());
    // Imminent harm: the lead approval is a partner's.
    let mut harm = approvals(&w, vec![]);
    harm.exception = Some(LegalBasis::ImminentHarm);
    assert!(approval_slot(&w.lead, &harm).is_err());
    assert_eq!(approval_slot(&person(Role::Partner), &harm), Ok(Slot::Lead));
}

#[test]
fn the_fingerprint_changes_with_every_fact_an_approval_rests_on() {
    let w = world();
    let base = w.facts.fingerprint(&[]);
    let mut reclassified = world();
    reclassified.facts = w.facts.clone();
    reclassified.facts.documents[1].classification = Classification::Privileged;
    assert_ne!(reclassified.facts.fingerprint(&[]), base);
    let mut revoked = w.facts.clone();
    if let Basis::Consent(c) = &mut revoked.basis {
        c.revoked = true;
    }
    assert_ne!(revoked.fingerprint(&[]), base);
    let mut agreement = w.facts.clone();
    agreement.recipient.agreement_expires_on = Some(d(2026, 12, 31));
    assert_ne!(agreement.fingerprint(&[]), base);
    let raised = wall(
        WallSubject::Person(w.lawyer.id),
        WallObject::Client(w.facts.matter.client),
    );
    assert_ne!(w.facts.fingerprint(&[raised]), base);
    // A wall on another client's matter does not bear on this transfer (issue 33: one
    // inclusionary wall anywhere voided every approved transfer of the firm).
    let elsewhere = wall(
        WallSubject::Person(w.lawyer.id),
        WallObject::Matter(custos_domain::MatterId::new()),
    );
    assert_eq!(w.facts.fingerprint(&[elsewhere]), base);
    // Order of documents does not matter.
    let mut reordered = w.facts.clone();
    reordered.documents.reverse();
    assert_eq!(reordered.fingerprint(&[]), base);
}

#[test]
fn only_the_officer_vets_a_recipient_and_only_outsiders_receive() {
    let w = world();
    let vet = |p: &Principal| {
        crate::decide(p, Action::VetThirdParty, &Resource::Firm, &w.ctx).is_allowed()
    };
    assert!(vet(&w.officer));
    for p in [&w.lead, &w.partner, &w.lawyer, &person(Role::External)] {
        assert!(!vet(p), "{:?}", p.role);
    }
    let receive = |p: &Principal| {
        crate::decide(p, Action::ReceiveTransfers, &Resource::Firm, &w.ctx).is_allowed()
    };
    assert!(receive(&person(Role::External)));
    for p in [&w.officer, &w.lead, &w.partner, &w.lawyer] {
        assert!(!receive(p), "{:?}", p.role);
    }
    let mut gone = person(Role::External);
    gone.status = PersonStatus::Departed;
    assert!(!receive(&gone));
}
