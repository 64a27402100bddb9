//! "What can this person access": for the officer's access reviews (R20), every matter a person
//! can see now, with the rule that lets them in. The matters are those their own grounds reach
//! (`custos_policy::listing_reach`), each decided by the same call as the person's own
//! requests; a matter the officer may not see herself (an inclusionary wall keeps her out) is
//! counted, never named.

use crate::facts::{matter_facts, principal_and_walls};
use crate::{App, AppError, Caller};
use custos_domain::{ClientId, MatterId, MatterNumber, PersonId};
use custos_policy::{Action, Reach, Resource, Rule, Scope};
use serde::Serialize;

/// One matter a person can see.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonAccessEntry {
    /// The matter.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub matter: MatterId,
    /// Its number.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub number: MatterNumber,
    /// Its client.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub client: ClientId,
    /// `full` or `metadata_only`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub scope: Scope,
    /// The rule that lets them in (its code).
    pub rule: &'static str,
}

/// What a person can access now.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonAccess {
    /// The person.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub person: PersonId,
    /// Their role lets them see the metadata of every matter (the officer, IT), walls aside:
    /// the matters are then not listed one by one.
    pub every_matter: bool,
    /// The matters they can see through their own grounds, in number order.
    pub matters: Vec<PersonAccessEntry>,
    /// Matters they can see that the asking officer may not (counted, not named).
    pub hidden: u32,
}

impl App {
    /// What person `id` can access now, and why (the officer only).
    pub async fn person_access(
        &self,
        caller: &Caller,
        id: PersonId,
    ) -> Result<PersonAccess, AppError> {
        let (mut tx, row) = self.gated_person(caller, id, Action::ViewAccess).await?;
        let now = self.now();
        let (asker, asker_ctx) = self.facts(&mut *tx, caller, Action::ViewMatter).await?;
        let (principal, mut ctx, _) =
            principal_and_walls(&mut *tx, id, now, self.today(now)).await?;
        ctx.clock = asker_ctx.clock;
        ctx.firm.clone_from(&asker_ctx.firm);
        let mut access = PersonAccess {
            person: id,
            every_matter: false,
            matters: Vec::new(),
            hidden: 0,
        };
        if custos_policy::listing_reach(&principal) == Reach::Everything {
            access.every_matter = custos_policy::may_act(row.person.status);
            tx.commit().await?;
            return Ok(access);
        }
        let mut after = None;
        loop {
            let batch = tx.list_matters_reached(id, now, after, 500).await?;
            let done = batch.len() < 500;
            for m in &batch {
                after = Some(m.id);
                let resource = Resource::Matter(matter_facts(m));
                let decision = Self::decide(&principal, Action::ViewMatter, &resource, &ctx);
                let Some(permit) = decision.permit() else {
                    continue;
                };
                if !Self::decide(&asker, Action::ViewMatter, &resource, &asker_ctx).is_allowed() {
                    access.hidden += 1;
                    continue;
                }
                access.matters.push(PersonAccessEntry {
                    matter: m.id,
                    number: MatterNumber(m.number),
                    client: m.client,
                    scope: permit.scope(),
                    rule: decision
                        .reasons()
                        .first()
                        .map_or(Rule::NeedToKnow.code(), |r| r.rule.code()),
                });
            }
            if done {
                break;
            }
        }
        tx.commit().await?;
        access.matters.sort_by_key(|e| e.number);
        Ok(access)
    }
}
