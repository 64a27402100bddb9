//! Attempts to get around the base rules with facts the demo firm does not have: walls on
//! leads and on whole teams, oversight roles trying to unlock keys, strangers' trails.

use custos_domain::*;
use custos_policy::*;

fn person(role: Role) -> Principal {
    Principal {
        id: PersonId::new(),
        role,
        status: PersonStatus::Active,
        teams: vec![],
        led_teams: vec![],
        staffed_matters: vec![],
        compliance: on_file(),
        emergency: vec![],
        emergencies_last_day: 0,
    }
}

/// Agreement signed and training valid well past the test's day.
fn on_file() -> Compliance {
    Compliance {
        agreement_signed_on: Some(time::macros::date!(2020 - 01 - 01)),
        training_valid_until: Some(time::macros::date!(2099 - 12 - 31)),
    }
}

fn ctx0() -> Context {
    Context::at(
        time::macros::datetime!(2026-12-03 12:00 UTC),
        time::macros::date!(2026 - 12 - 03),
    )
}

fn matter_led_by(lead: PersonId, team: TeamId) -> MatterFacts {
    MatterFacts {
        id: MatterId::new(),
        client: ClientId::new(),
        team,
        lead,
    }
}

fn wall(subject: WallSubject, object: WallObject) -> Wall {
    Wall {
        id: WallId::new(),
        subject,
        object,
        reason: "conflict".to_owned(),
        created_by: PersonId::new(),
        created_at: time::OffsetDateTime::UNIX_EPOCH,
        kind: WallKind::Exclusionary,
        lifted: None,
    }
}

fn doc(matter: MatterFacts, classification: Classification) -> Resource {
    Resource::Document(DocumentFacts {
        id: DocumentId::new(),
        matter,
        classification,
    })
}

#[test]
fn a_wall_on_the_matter_lead_overrides_leadership() {
    let team = TeamId::new();
    let mut lead = person(Role::TeamLead);
    lead.teams.push(team);
    lead.led_teams.push(team);
    let m = matter_led_by(lead.id, team);
    lead.staffed_matters.push(m.id);
    let resource = doc(m, Classification::Internal);
    assert!(decide(&lead, Action::ReadDocumentContent, &resource, &ctx0()).is_allowed());
    let ctx = Context {
        walls: vec![wall(
            WallSubject::Person(lead.id),
            WallObject::Client(m.client),
        )],
        ..ctx0()
    };
    for action in [Action::ReadDocumentContent, Action::ViewDocument] {
        let d = decide(&lead, action, &resource, &ctx);
        assert!(!d.is_allowed() && d.conceals_existence());
        assert_eq!(d.reasons()[0].rule, Rule::Wall);
    }
    let d = decide(&lead, Action::ManageMatterStaff, &Resource::Matter(m), &ctx);
    assert_eq!(d.reasons()[0].rule, Rule::Wall);
}

#[test]
fn a_team_wall_screens_every_member_and_only_them() {
    let screened_team = TeamId::new();
    let mut member = person(Role::Lawyer);
    member.teams.push(screened_team);
    let mut outsider = person(Role::Lawyer);
    let m = matter_led_by(PersonId::new(), TeamId::new());
    member.staffed_matters.push(m.id);
    outsider.staffed_matters.push(m.id);
    let ctx = Context {
        walls: vec![wall(
            WallSubject::Team(screened_team),
            WallObject::Matter(m.id),
        )],
        ..ctx0()
    };
    let resource = Resource::Matter(m);
    assert_eq!(
        decide(&member, Action::ViewMatter, &resource, &ctx).reasons()[0].rule,
        Rule::Wall
    );
    assert!(decide(&outsider, Action::ViewMatter, &resource, &ctx).is_allowed());
    // A wall on another matter of the same client does not screen this one.
    let other = Context {
        walls: vec![wall(
            WallSubject::Team(screened_team),
            WallObject::Matter(MatterId::new()),
        )],
        ..ctx0()
    };
    assert!(decide(&member, Action::ViewMatter, &resource, &other).is_allowed());
}

#[test]
fn oversight_permits_never_unlock_keys() {
    let m = matter_led_by(PersonId::new(), TeamId::new());
    for role in [Role::Admin, Role::Officer] {
        let p = person(role);
        let d = decide(&p, Action::ViewMatter, &Resource::Matter(m), &ctx0());
        let permit = d
            .into_permit()
            .unwrap_or_else(|| unreachable!("{role:?} sees metadata"));
        assert_eq!(permit.scope(), Scope::MetadataOnly);
        assert!(!permit.unlocks(KeyScope::Matter(m.id)), "{role:?}");
    }
    // A full permit unlocks its own matter's key and no other.
    let mut lawyer = person(Role::Lawyer);
    lawyer.staffed_matters.push(m.id);
    let d = decide(&lawyer, Action::ViewMatter, &Resource::Matter(m), &ctx0());
    let permit = d.into_permit().unwrap_or_else(|| unreachable!("staffed"));
    assert!(permit.unlocks(KeyScope::Matter(m.id)));
    assert!(!permit.unlocks(KeyScope::Matter(MatterId::new())));
    assert!(!permit.unlocks(KeyScope::Client(m.client)));
}

#[test]
fn status_beats_everything_and_trails_are_private() {
    let m = matter_led_by(PersonId::new(), TeamId::new());
    let mut officer = person(Role::Officer);
    officer.staffed_matters.push(m.id);
    for status in [PersonStatus::Suspended, PersonStatus::Departed] {
        officer.status = status;
        for (action, resource) in [
            (Action::ReadDocumentContent, doc(m, Classification::Public)),
            (Action::QueryAudit, Resource::Firm),
            (Action::ViewOwnAudit, Resource::AuditTrailOf(officer.id)),
        ] {
            let d = decide(&officer, action, &resource, &ctx0());
            assert_eq!(d.reasons()[0].rule, Rule::Status, "{action:?}");
        }
    }
    let a = person(Role::Partner);
    let d = decide(
        &a,
        Action::ViewOwnAudit,
        &Resource::AuditTrailOf(PersonId::new()),
        &ctx0(),
    );
    assert!(!d.is_allowed() && d.conceals_existence());
}

#[test]
fn actions_on_the_wrong_kind_of_resource_are_denied() {
    let mut lead = person(Role::Partner);
    let m = matter_led_by(lead.id, TeamId::new());
    lead.staffed_matters.push(m.id);
    for action in [
        Action::ReadDocumentContent,
        Action::UploadDocument,
        Action::QueryAudit,
    ] {
        let d = decide(&lead, action, &Resource::Matter(m), &ctx0());
        assert!(!d.is_allowed(), "{action:?} on a matter");
        assert_eq!(d.reasons()[0].rule, Rule::DenyByDefault);
    }
}
