//! "Who can access this matter, and why": every person of the firm decided one by one by the
//! same policy call as their own requests, from facts read about everyone at once.

use crate::facts::{emergency, matter_facts};
use crate::{App, AppError, AuditEvent, Caller};
use custos_audit::Outcome;
use custos_domain::{DocumentId, MatterId, MatterNumber, PersonId, PersonStatus, Role, TeamId};
use custos_policy::{Action, Context, Principal, Resource, Rule, Scope};
use serde::Serialize;

/// How one person stands towards a matter.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccessEntry {
    /// The person.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub person: PersonId,
    /// Their name.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// `full`, `metadata_only`, or absent when denied.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub scope: Option<Scope>,
    /// The rule that decided (its code).
    pub rule: &'static str,
    /// The policy's sentence.
    pub message: String,
}

/// Who can access a matter, who is screened from it, and who is held back by R4 or a firm
/// policy.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MatterAccess {
    /// The matter.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub matter: MatterId,
    /// Its number.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub number: MatterNumber,
    /// The document asked about, when the question is about one of the matter's documents.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub document: Option<DocumentId>,
    /// People allowed to see it (content, or metadata only), each with the rule that lets
    /// them in (need-to-know, break-glass, an oversight duty).
    pub allowed: Vec<AccessEntry>,
    /// People a wall keeps out, with the wall.
    pub screened: Vec<AccessEntry>,
    /// People who would be let in but lack an agreement or current training (R4).
    pub held_back: Vec<AccessEntry>,
    /// Active people with no ground to see it (deny by default), counted.
    pub others: u32,
}

/// A "who can access" answer: its groups, to fill and to count.
pub(crate) trait Groups {
    /// Allowed, screened, held back, others.
    fn lists(
        &mut self,
    ) -> (
        &mut Vec<AccessEntry>,
        &mut Vec<AccessEntry>,
        &mut Vec<AccessEntry>,
        &mut u32,
    );

    /// How many in each group.
    fn groups(&mut self) -> (usize, usize, usize, u32) {
        let (a, s, h, o) = self.lists();
        (a.len(), s.len(), h.len(), *o)
    }

    /// Files `person`'s decision: allowed, screened by a wall, held back (R4, a firm policy,
    /// or a role cap when `capped_but_let_in` says the record's container lets them in), or
    /// counted among the others.
    fn file(
        &mut self,
        person: &custos_domain::Person,
        decision: &custos_policy::Decision,
        capped_but_let_in: impl FnOnce() -> bool,
    ) {
        let Some(first) = decision.reasons().first() else {
            return;
        };
        let entry = AccessEntry {
            person: person.id,
            name: person.display_name.clone(),
            role: person.role,
            scope: decision.permit().map(|permit| permit.scope()),
            rule: first.rule.code(),
            message: first.message.clone(),
        };
        let (allowed, screened, held_back, others) = self.lists();
        match (decision.is_allowed(), first.rule) {
            (true, _) => allowed.push(entry),
            (false, Rule::Wall) => screened.push(entry),
            (false, Rule::Precondition | Rule::FirmPolicy) => held_back.push(entry),
            (false, Rule::RoleCap) if capped_but_let_in() => held_back.push(entry),
            (false, _) => *others += 1,
        }
    }
}

macro_rules! groups_of {
    ($t:ty) => {
        impl $crate::usecases::access::Groups for $t {
            fn lists(
                &mut self,
            ) -> (
                &mut Vec<AccessEntry>,
                &mut Vec<AccessEntry>,
                &mut Vec<AccessEntry>,
                &mut u32,
            ) {
                (
                    &mut self.allowed,
                    &mut self.screened,
                    &mut self.held_back,
                    &mut self.others,
                )
            }
        }
    };
}
pub(crate) use groups_of;

groups_of!(MatterAccess);

impl App {
    /// Who can see matter `id`, and why: for the officer, the matter lead and the team lead.
    pub async fn who_can_access_matter(
        &self,
        caller: &Caller,
        id: MatterId,
    ) -> Result<MatterAccess, AppError> {
        let action = Action::ViewAccess;
        let mut tx = self.store.begin_read().await?;
        let loaded = tx.matter(id).await?;
        let (tx, row) = self
            .found(tx, caller, action, || format!("matter:{id}"), loaded)
            .await?;
        let resource = Resource::Matter(matter_facts(&row));
        let (mut tx, _permit) = self.gate(tx, caller, action, &resource).await?;
        let now = self.now();
        let ctx = self.firm_wide_context(&mut *tx, now).await?;
        let access = audience_of(&mut *tx, &row, &ctx).await?;
        self.finish_access(tx, caller, format!("matter:{id}"), access)
            .await
    }

    /// Who can see document `id`, and why (same askers as for its matter: the officer, the
    /// matter lead and the team lead, and only if they may see the document): each person of
    /// the matter's audience decided on the document itself, so role caps on its
    /// classification and firm policies on documents count.
    pub async fn who_can_access_document(
        &self,
        caller: &Caller,
        id: DocumentId,
    ) -> Result<MatterAccess, AppError> {
        let mut tx = self.store.begin_read().await?;
        let loaded = tx.document_with_matter(id).await?;
        let (tx, (doc, row)) = self
            .found(
                tx,
                caller,
                Action::ViewDocument,
                || format!("document:{id}"),
                loaded,
            )
            .await?;
        let document = Resource::Document(crate::facts::document_facts(&doc, &row));
        let (tx, _permit) = self
            .gate(tx, caller, Action::ViewDocument, &document)
            .await?;
        let matter = Resource::Matter(matter_facts(&row));
        let (mut tx, _permit) = self.gate(tx, caller, Action::ViewAccess, &matter).await?;
        let ctx = self.firm_wide_context(&mut *tx, self.now()).await?;
        let access =
            audience_deciding(&mut *tx, &row, &ctx, Action::ViewDocument, &document).await?;
        self.finish_access(tx, caller, format!("document:{id}"), access)
            .await
    }

    /// Audits a "who can access" answer about `resource` (how many in each group), commits,
    /// and returns it.
    pub(crate) async fn finish_access<A: Groups>(
        &self,
        mut tx: crate::Tx,
        caller: &Caller,
        resource: String,
        mut access: A,
    ) -> Result<A, AppError> {
        let (allowed, screened, held_back, others) = access.groups();
        self.audit_event(
            &mut *tx,
            AuditEvent {
                request_id: caller.request_id,
                actor: Some(caller.person),
                action: crate::vocabulary::ACTION_ACCESS_LIST,
                message: format!(
                    "who can access this {}, decided person by person",
                    resource.split(':').next().unwrap_or_default()
                ),
                resource,
                outcome: Outcome::Allow,
                rule: Rule::RoleDuty.code(),
                detail: serde_json::json!({
                    "allowed": allowed,
                    "screened": screened,
                    "held_back": held_back,
                    "others": others,
                }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(access)
    }

    /// The matter numbered `number` (`M-0042` or `42`), for forms that name a matter the caller
    /// may not see (break-glass). `None` when there is none.
    pub async fn matter_id_by_number(&self, number: &str) -> Result<Option<MatterId>, AppError> {
        let n = record_number(number, ['M', 'm'], "a matter number looks like M-0042")?;
        let mut tx = self.store.begin_read().await?;
        Ok(tx.matter_by_number(n).await?.map(|m| m.id))
    }

    /// The client numbered `number` (`C-0007` or `7`). `None` when there is none. Like
    /// [`App::matter_id_by_number`], for forms: the caller's own use of the id is decided.
    pub async fn client_id_by_number(
        &self,
        number: &str,
    ) -> Result<Option<custos_domain::ClientId>, AppError> {
        let n = record_number(number, ['C', 'c'], "a client number looks like C-0007")?;
        let mut tx = self.store.begin_read().await?;
        Ok(tx.client_by_number(n).await?.map(|c| c.id))
    }
}

/// The digits of a record number typed as `M-0042`, `m42` or `42` (`prefix`: the letter in
/// both cases); `example` is the error's sentence.
fn record_number(number: &str, prefix: [char; 2], example: &str) -> Result<i64, AppError> {
    number
        .trim()
        .trim_start_matches(prefix)
        .trim_start_matches('-')
        .parse::<i64>()
        .map_err(|_| AppError::BadInput(example.to_owned()))
}

impl App {
    /// The context of a firm-wide question at `now`: every active wall, the firm's clock and
    /// policies.
    pub(crate) async fn firm_wide_context(
        &self,
        tx: &mut dyn custos_store::StoreTx,
        now: time::OffsetDateTime,
    ) -> Result<Context, AppError> {
        let (clock, firm) = self.firm_context(&mut *tx, now).await?;
        Ok(Context {
            walls: tx.active_walls().await?,
            now,
            today: self.today(now),
            clock,
            firm,
            address: None,
        })
    }
}

/// Every active person decided on `row` in `ctx`, by `App::decide` (the one call site).
pub(crate) async fn audience_of(
    tx: &mut dyn custos_store::StoreTx,
    row: &custos_store::MatterRow,
    ctx: &Context,
) -> Result<MatterAccess, AppError> {
    let resource = Resource::Matter(matter_facts(row));
    audience_deciding(tx, row, ctx, Action::ViewMatter, &resource).await
}

/// Every active person of a matter's audience decided for `action` on `resource` (the matter
/// or one of its documents).
async fn audience_deciding(
    tx: &mut dyn custos_store::StoreTx,
    row: &custos_store::MatterRow,
    ctx: &Context,
    action: Action,
    resource: &Resource,
) -> Result<MatterAccess, AppError> {
    let audience = tx.matter_audience(row.id, ctx.now).await?;
    Ok(decide_audience(&audience, row, ctx, action, resource))
}

/// [`audience_deciding`] on an audience already read (a question asked of several resources
/// of one matter, or in two contexts, reads it once).
pub(crate) fn decide_audience(
    audience: &custos_store::MatterAudience,
    row: &custos_store::MatterRow,
    ctx: &Context,
    action: Action,
    resource: &Resource,
) -> MatterAccess {
    let id = row.id;
    let matter = Resource::Matter(matter_facts(row));
    let mut access = MatterAccess {
        matter: id,
        number: MatterNumber(row.number),
        document: match resource {
            Resource::Document(d) => Some(d.id),
            _ => None,
        },
        allowed: vec![],
        screened: vec![],
        held_back: vec![],
        others: 0,
    };
    for person in &audience.people {
        let p = &person.person;
        if p.status != PersonStatus::Active {
            continue;
        }
        let staffed = if audience.staffed.contains(&p.id) {
            vec![id]
        } else {
            vec![]
        };
        let principal = principal_of(
            p,
            (&audience.members, &audience.leads),
            staffed,
            &audience.emergency,
        );
        let decision = App::decide(&principal, action, resource, ctx);
        // A role cap holds back only someone the matter lets in; anyone else has no ground
        // anyway.
        access.file(p, &decision, || {
            App::decide(&principal, Action::ViewMatter, &matter, ctx).is_allowed()
        });
    }
    access
}

/// (person, team): a membership, or a team's lead.
type Pair = (PersonId, TeamId);

/// A person's principal from facts read about everyone: their teams and led teams among
/// `(members, leads)`, the matters they are staffed on among those asked about, their open
/// break-glass accesses among `emergency`.
pub(crate) fn principal_of(
    p: &custos_domain::Person,
    (members, leads): (&[Pair], &[Pair]),
    staffed_matters: Vec<MatterId>,
    open: &[custos_store::BreakGlassRow],
) -> Principal {
    Principal {
        id: p.id,
        role: p.role,
        status: p.status,
        teams: pick(members, p.id),
        led_teams: pick(leads, p.id),
        staffed_matters,
        compliance: p.compliance,
        emergency: open
            .iter()
            .filter(|e| e.person == p.id)
            .map(emergency)
            .collect(),
        // Who can access reads; opening another emergency access is not asked here.
        emergencies_last_day: 0,
    }
}

fn pick<T: Copy>(pairs: &[(PersonId, T)], person: PersonId) -> Vec<T> {
    pairs
        .iter()
        .filter(|(p, _)| *p == person)
        .map(|(_, t)| *t)
        .collect()
}
pub use super::client_access::ClientAccess;
