//! The demo firm: a realistic small firm for a first look and for the decision-table tests.
//! [`DEMO`] is plain data; [`seed_demo_firm`] creates it through the real use cases, so every
//! record is encrypted and every step audited.

use crate::{App, AppError, Caller, NewDocument, NewPerson};
use bytes::Bytes;
use custos_domain::{
    Classification, ClientId, DocumentId, MatterId, PersonId, ProvenanceInput, RequestId, Role,
    TeamId, WallObject, WallSubject,
};
use std::collections::BTreeMap;
use zeroize::Zeroizing;

mod spec;
pub use spec::DEMO;

/// The password of every demo account. Demo only: never use the demo firm for real data.
pub const DEMO_PASSWORD: &str = "custos-demo-2026";

/// A person of the demo firm.
#[derive(Debug, Clone, Copy)]
pub struct DemoPerson {
    /// Login name.
    pub user: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Role.
    pub role: Role,
    /// Teams they belong to.
    pub teams: &'static [&'static str],
}

/// A team of the demo firm.
#[derive(Debug, Clone, Copy)]
pub struct DemoTeam {
    /// Name.
    pub name: &'static str,
    /// Lead's login name.
    pub lead: &'static str,
}

/// A client of the demo firm.
#[derive(Debug, Clone, Copy)]
pub struct DemoClient {
    /// Key used in the spec (C1...).
    pub key: &'static str,
    /// Name.
    pub name: &'static str,
    /// Contact details.
    pub contact: &'static str,
    /// Responsible partner's login name.
    pub responsible: &'static str,
}

/// A matter of the demo firm.
#[derive(Debug, Clone, Copy)]
pub struct DemoMatter {
    /// Key used in the spec (M1...).
    pub key: &'static str,
    /// Client key.
    pub client: &'static str,
    /// Team name.
    pub team: &'static str,
    /// Lead's login name.
    pub lead: &'static str,
    /// Title.
    pub title: &'static str,
    /// Staffed people besides the lead.
    pub staff: &'static [&'static str],
}

/// A document of the demo firm.
#[derive(Debug, Clone, Copy)]
pub struct DemoDocument {
    /// Key used in the spec (D1...).
    pub key: &'static str,
    /// Matter key.
    pub matter: &'static str,
    /// Title.
    pub title: &'static str,
    /// Classification.
    pub classification: Classification,
    /// Source (provenance).
    pub source: &'static str,
    /// Legal basis (provenance).
    pub legal_basis: &'static str,
}

/// An ethical wall of the demo firm: a person screened from a matter.
#[derive(Debug, Clone, Copy)]
pub struct DemoWall {
    /// Screened person's login name.
    pub person: &'static str,
    /// Matter key.
    pub matter: &'static str,
    /// Why.
    pub reason: &'static str,
}

/// The whole demo firm as data.
#[derive(Debug, Clone, Copy)]
pub struct DemoSpec {
    /// People (the officer first).
    pub people: &'static [DemoPerson],
    /// Teams.
    pub teams: &'static [DemoTeam],
    /// Clients.
    pub clients: &'static [DemoClient],
    /// Matters.
    pub matters: &'static [DemoMatter],
    /// Documents.
    pub documents: &'static [DemoDocument],
    /// Walls.
    pub walls: &'static [DemoWall],
}

/// The ids the demo firm got, by the keys of [`DEMO`].
#[derive(Debug, Clone, Default)]
pub struct DemoFirm {
    /// People by login name.
    pub people: BTreeMap<&'static str, PersonId>,
    /// Teams by name.
    pub teams: BTreeMap<&'static str, TeamId>,
    /// Clients by key.
    pub clients: BTreeMap<&'static str, ClientId>,
    /// Matters by key.
    pub matters: BTreeMap<&'static str, MatterId>,
    /// Documents by key.
    pub documents: BTreeMap<&'static str, DocumentId>,
}

fn missing(what: &str) -> AppError {
    AppError::Internal(format!("demo spec refers to unknown `{what}`"))
}

fn id_of<T: Copy>(map: &BTreeMap<&'static str, T>, key: &str) -> Result<T, AppError> {
    map.get(key).copied().ok_or_else(|| missing(key))
}

/// The demo firm's agreements (signed 300 days ago) and training (valid for a year).
pub fn demo_compliance(today: custos_domain::Date) -> custos_domain::Compliance {
    custos_domain::Compliance {
        agreement_signed_on: today.checked_sub(time::Duration::days(300)),
        training_valid_until: today.checked_add(time::Duration::days(365)),
    }
}

/// Creates the demo firm through the use cases, starting from the bootstrap officer (whose
/// one-time password is replaced by [`DEMO_PASSWORD`]).
pub async fn seed_demo_firm(
    app: &App,
    officer: PersonId,
    officer_password: Zeroizing<String>,
) -> Result<DemoFirm, AppError> {
    let as_person = |person: PersonId| Caller {
        person,
        request_id: RequestId::new(),
        via: crate::Via::Internal,
        address: None,
    };
    let officer_caller = as_person(officer);
    drop(officer_password);
    app.set_demo_password(officer, Zeroizing::new(DEMO_PASSWORD.to_owned()))
        .await?;
    let mut firm = DemoFirm::default();
    let officer_spec = DEMO.people.first().ok_or_else(|| missing("officer"))?;
    firm.people.insert(officer_spec.user, officer);
    for p in DEMO.people.iter().skip(1) {
        let new = NewPerson {
            user_name: p.user.to_owned(),
            display_name: p.name.to_owned(),
            role: p.role,
        };
        let (person, _) = app
            .create_person_with_password(
                &officer_caller,
                new,
                Zeroizing::new(DEMO_PASSWORD.to_owned()),
                false,
            )
            .await?;
        firm.people.insert(p.user, person.id);
    }
    // R4: everyone's agreement and training on file (the officer's, recorded by a partner),
    // dated from today so that the demo firm never expires.
    let on_file = demo_compliance(app.today(app.now()));
    let partner = DEMO
        .people
        .iter()
        .find(|p| p.role == custos_domain::Role::Partner)
        .ok_or_else(|| missing("partner"))?;
    for p in DEMO.people {
        let person = id_of(&firm.people, p.user)?;
        let recorder = if person == officer {
            as_person(id_of(&firm.people, partner.user)?)
        } else {
            as_person(officer)
        };
        app.record_compliance(&recorder, person, on_file).await?;
    }
    for t in DEMO.teams {
        let lead = id_of(&firm.people, t.lead)?;
        let team = app
            .create_team(&as_person(officer), t.name, Some(lead))
            .await?;
        firm.teams.insert(t.name, team.id);
    }
    for p in DEMO.people {
        for team in p.teams {
            let (team, person) = (id_of(&firm.teams, team)?, id_of(&firm.people, p.user)?);
            app.change_team_member(&as_person(officer), team, person, crate::Membership::Add)
                .await?;
        }
    }
    for c in DEMO.clients {
        let partner = as_person(id_of(&firm.people, c.responsible)?);
        let client = app.create_client(&partner, c.name, c.contact).await?;
        firm.clients.insert(c.key, client.id);
    }
    for m in DEMO.matters {
        let lead = id_of(&firm.people, m.lead)?;
        // The client's responsible partner opens the matter (a right to the client is needed);
        // its lead staffs it.
        let client = DEMO
            .clients
            .iter()
            .find(|c| c.key == m.client)
            .ok_or_else(|| missing(m.client))?;
        let partner = id_of(&firm.people, client.responsible)?;
        let matter = app
            .create_matter(
                &as_person(partner),
                id_of(&firm.clients, m.client)?,
                id_of(&firm.teams, m.team)?,
                lead,
                m.title,
            )
            .await?;
        firm.matters.insert(m.key, matter.id);
        for s in m.staff {
            app.change_matter_member(
                &as_person(lead),
                matter.id,
                id_of(&firm.people, s)?,
                crate::Membership::Add,
            )
            .await?;
        }
    }
    for w in DEMO.walls {
        let subject = WallSubject::Person(id_of(&firm.people, w.person)?);
        let object = WallObject::Matter(id_of(&firm.matters, w.matter)?);
        let kind = custos_domain::WallKind::Exclusionary;
        app.create_wall(&as_person(officer), kind, subject, object, w.reason)
            .await?;
    }
    for d in DEMO.documents {
        let matter = DEMO
            .matters
            .iter()
            .find(|m| m.key == d.matter)
            .ok_or_else(|| missing(d.matter))?;
        let lead = as_person(id_of(&firm.people, matter.lead)?);
        let new = NewDocument {
            title: d.title.to_owned(),
            classification: d.classification,
            provenance: ProvenanceInput {
                source: Some(d.source.to_owned()),
                content_description: Some(d.title.to_owned()),
                purpose: Some(format!("conduct of matter: {}", matter.title)),
                legal_basis: Some(d.legal_basis.to_owned()),
                collected_by: Some(matter.lead.to_owned()),
                collected_at: Some("2026-11-02T09:30:00Z".to_owned()),
            },
            media_type: "text/plain".to_owned(),
        };
        let content = format!(
            "{}\n\nDemo document of the Custos demo firm ({}).\nClassification: {}.\n",
            d.title,
            matter.title,
            d.classification.as_str()
        );
        let body = futures_util::stream::iter([Ok::<Bytes, std::convert::Infallible>(
            Bytes::from(content),
        )]);
        let doc = app
            .upload_document(&lead, id_of(&firm.matters, d.matter)?, new, body)
            .await?;
        firm.documents.insert(d.key, doc.id);
    }
    Ok(firm)
}
