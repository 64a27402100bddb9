//! "What if", asked before saving: would adding or removing a person on a team or a matter, or
//! a proposed set of firm policies, change who can see what? Each answer decides the same
//! people on the same records twice by `App::decide` (the one call site), once with the facts
//! as they stand and once with the change applied in memory; nothing is written but the
//! question's audit entry.

use crate::facts::{document_facts, matter_facts, principal_and_walls};
use crate::usecases::access::{AccessEntry, decide_audience};
use crate::views::Membership;
use crate::{App, AppError, Caller};
use custos_domain::{
    DocumentId, MatterId, MatterNumber, PersonId, TeamId, Wall, WallId, WallKind, WallSubject,
};
use custos_policy::{Action, Context, FirmPolicies, Resource, Scope};
use serde::Serialize;

/// At most this many matters are shown by a staffing preview.
const MAX_MATTERS: u32 = 200;
/// At most this many matters or clients may be named in a policy preview.
const MAX_NAMED: usize = 20;
/// At most this many documents per matter are decided by a policy preview.
const MAX_DOCUMENTS: u32 = 100;

/// Where a staffing change would apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffingPlace {
    /// A practice team: all of its matters.
    Team(TeamId),
    /// One matter's staffing.
    Matter(MatterId),
}

/// What a staffing change would do to one person's access.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffingPreview {
    /// The person added or removed.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub person: PersonId,
    /// Their name.
    pub name: String,
    /// One line per matter the change touches (at most 200), whether or not it changes.
    pub matters: Vec<StaffingPreviewLine>,
}

/// One matter of a staffing preview.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffingPreviewLine {
    /// The matter.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub matter: MatterId,
    /// Its number.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub number: MatterNumber,
    /// Their access now: `full`, `metadata_only`, or absent.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub before: Option<Scope>,
    /// Their access after the change.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub after: Option<Scope>,
    /// The rule that would decide after the change (its code).
    pub rule: &'static str,
    /// The policy's sentence for that decision.
    pub message: String,
}

/// What a proposed set of firm policies would change, on the records named.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyPreview {
    /// Matters and documents decided (each for every active person of its audience).
    pub records_checked: usize,
    /// The records on which someone would gain or lose access; the others are unchanged.
    pub changes: Vec<PolicyPreviewLine>,
}

/// One record whose audience a proposed policy set would change.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyPreviewLine {
    /// The matter (or the document's matter).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub matter: MatterId,
    /// Its number.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub number: MatterNumber,
    /// The document, when the line is about reading one of the matter's documents.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub document: Option<DocumentId>,
    /// The document's classification.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub classification: Option<custos_domain::Classification>,
    /// People who may now and would not (with the rule that would refuse them).
    pub loses: Vec<AccessEntry>,
    /// People who may not now and would (with the rule that would let them in).
    pub gains: Vec<AccessEntry>,
}

impl App {
    /// What adding or removing `person` at `place` would change about what they can see,
    /// matter by matter, before anything is saved. Asked by whoever may make the change
    /// itself (the same gate), in a read-only unit.
    pub async fn preview_staffing(
        &self,
        caller: &Caller,
        place: StaffingPlace,
        person: PersonId,
        change: Membership,
    ) -> Result<StaffingPreview, AppError> {
        let (mut tx, matters) = match place {
            StaffingPlace::Team(team) => {
                let tx = self.store.begin_read().await?;
                let mut tx = self
                    .gated_team(tx, caller, team, Action::ManageTeams)
                    .await?;
                let matters = tx.matters_of_team(team, MAX_MATTERS).await?;
                (tx, matters)
            }
            StaffingPlace::Matter(matter) => {
                let (tx, _permit, row) = self
                    .gated_matter(caller, matter, Action::ManageMatterStaff)
                    .await?;
                (tx, vec![row])
            }
        };
        let Some(who) = tx.person(person).await? else {
            let err = AppError::UnknownReference(format!("person `{person}` does not exist"));
            return Err(crate::reject(tx, err).await);
        };
        let now = self.now();
        let ctx = self.firm_wide_context(&mut *tx, now).await?;
        let (before, _, _) = principal_and_walls(&mut *tx, person, now, self.today(now)).await?;
        let mut after = before.clone();
        let mut after_ctx = ctx.clone();
        match (place, change) {
            (StaffingPlace::Team(t), Membership::Add) if !after.teams.contains(&t) => {
                after.teams.push(t);
            }
            (StaffingPlace::Team(t), Membership::Remove) => {
                after.teams.retain(|x| *x != t);
                // A leaver keeps the team's exclusionary walls as walls of their own
                // (`change_team_member`); an inclusionary wall stops admitting them.
                after_ctx.walls.extend(carried_walls(&ctx.walls, t, person));
            }
            (StaffingPlace::Matter(m), Membership::Add) if !after.staffed_matters.contains(&m) => {
                after.staffed_matters.push(m);
            }
            (StaffingPlace::Matter(m), Membership::Remove) => {
                after.staffed_matters.retain(|x| *x != m);
            }
            _ => {}
        }
        let matters = matters
            .iter()
            .map(|row| {
                let resource = Resource::Matter(matter_facts(row));
                let was = Self::decide(&before, Action::ViewMatter, &resource, &ctx);
                let will = Self::decide(&after, Action::ViewMatter, &resource, &after_ctx);
                let (rule, message) = will
                    .reasons()
                    .first()
                    .map(|r| (r.rule.code(), r.message.clone()))
                    .unwrap_or_default();
                StaffingPreviewLine {
                    matter: row.id,
                    number: MatterNumber(row.number),
                    before: was.permit().map(|p| p.scope()),
                    after: will.permit().map(|p| p.scope()),
                    rule,
                    message,
                }
            })
            .collect();
        tx.commit().await?;
        Ok(StaffingPreview {
            person,
            name: who.person.display_name,
            matters,
        })
    }

    /// What saving `text` as the firm's policies would change on the matters and clients
    /// named in `records` (`M-0042`, `C-0007`, separated by commas or spaces; at most 20):
    /// each matter and each of its documents decided for every active person of its audience
    /// under the policies in force and under `text`. The text is checked as saving would
    /// check it; nothing is saved. The officer's question, like saving.
    pub async fn preview_firm_policies(
        &self,
        caller: &Caller,
        text: &str,
        records: &str,
    ) -> Result<PolicyPreview, AppError> {
        let tx = self.store.begin_read().await?;
        let (mut tx, _permit) = self
            .gate(tx, caller, Action::ManageFirmPolicies, &Resource::Firm)
            .await?;
        let proposed = match FirmPolicies::parse(0, text) {
            Ok(p) => p,
            Err(e) => return Err(crate::reject(tx, AppError::BadInput(e.0)).await),
        };
        let matters = match self.named_matters(&mut *tx, records).await {
            Ok(m) => m,
            Err(e) => return Err(crate::reject(tx, e).await),
        };
        let now = self.now();
        let ctx = self.firm_wide_context(&mut *tx, now).await?;
        let after = Context {
            firm: Some(proposed),
            ..ctx.clone()
        };
        let mut preview = PolicyPreview {
            records_checked: 0,
            changes: Vec::new(),
        };
        for row in &matters {
            let audience = tx.matter_audience(row.id, now).await?;
            let mut asks = vec![(
                Action::ViewMatter,
                Resource::Matter(matter_facts(row)),
                None,
            )];
            for doc in tx.list_documents(row.id, None, MAX_DOCUMENTS).await? {
                asks.push((
                    Action::ReadDocumentContent,
                    Resource::Document(document_facts(&doc, row)),
                    Some((doc.id, doc.classification)),
                ));
            }
            for (action, resource, doc) in asks {
                preview.records_checked += 1;
                let was = decide_audience(&audience, row, &ctx, action, &resource);
                let will = decide_audience(&audience, row, &after, action, &resource);
                let loses = not_in(&was.allowed, &will);
                let gains = not_in(&will.allowed, &was);
                if loses.is_empty() && gains.is_empty() {
                    continue;
                }
                preview.changes.push(PolicyPreviewLine {
                    matter: row.id,
                    number: MatterNumber(row.number),
                    document: doc.map(|d| d.0),
                    classification: doc.map(|d| d.1),
                    loses,
                    gains,
                });
            }
        }
        tx.commit().await?;
        Ok(preview)
    }

    /// The matters named by number in `records` (a client's number names all its matters).
    async fn named_matters(
        &self,
        tx: &mut dyn custos_store::StoreTx,
        records: &str,
    ) -> Result<Vec<custos_store::MatterRow>, AppError> {
        let names: Vec<&str> = records
            .split([',', ' ', '\n', '\t', ';'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if names.is_empty() || names.len() > MAX_NAMED {
            return Err(AppError::BadInput(format!(
                "name 1 to {MAX_NAMED} matters or clients to try the policies on, like M-0042 or C-0007"
            )));
        }
        let mut out: Vec<custos_store::MatterRow> = Vec::new();
        for name in names {
            let found = if let Some(n) = super::policy_test::number(name, 'M') {
                tx.matter_by_number(n).await?.into_iter().collect()
            } else if let Some(n) = super::policy_test::number(name, 'C') {
                match tx.client_by_number(n).await? {
                    Some(c) => tx.matters_of_client(c.id).await?,
                    None => vec![],
                }
            } else {
                return Err(AppError::BadInput(format!(
                    "`{name}` is not a matter or client number (M-0042, C-0007)"
                )));
            };
            if found.is_empty() {
                return Err(AppError::BadInput(format!("there is no {name}")));
            }
            for row in found {
                if !out.iter().any(|m| m.id == row.id) {
                    out.push(row);
                }
            }
        }
        Ok(out)
    }
}

/// The people allowed in `entries` who are not allowed in `other` (with `other`'s reason for
/// them when it has one, else the entry as it was).
fn not_in(entries: &[AccessEntry], other: &crate::MatterAccess) -> Vec<AccessEntry> {
    entries
        .iter()
        .filter(|e| {
            !other
                .allowed
                .iter()
                .any(|o| o.person == e.person && o.scope == e.scope)
        })
        .map(|e| {
            other
                .screened
                .iter()
                .chain(&other.held_back)
                .chain(&other.allowed)
                .find(|o| o.person == e.person)
                .cloned()
                .unwrap_or_else(|| e.clone())
        })
        .collect()
}

/// The exclusionary walls of `team`, as walls of `person` (what leaving the team leaves them).
fn carried_walls(walls: &[Wall], team: TeamId, person: PersonId) -> Vec<Wall> {
    walls
        .iter()
        .filter(|w| w.kind == WallKind::Exclusionary && w.subject == WallSubject::Team(team))
        .map(|w| Wall {
            id: WallId::new(),
            subject: WallSubject::Person(person),
            ..w.clone()
        })
        .collect()
}
