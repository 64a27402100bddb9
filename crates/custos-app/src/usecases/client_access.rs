//! "Who can access this client, and why": every active person decided on the client by the
//! same policy call as their own requests (`App::decide`), from facts about everyone read at
//! once (five statements whatever the firm's size).

use crate::facts::client_facts;
use crate::usecases::access::{AccessEntry, Groups, groups_of, principal_of};
use crate::{App, AppError, Caller};
use custos_domain::{ClientId, ClientNumber, PersonStatus};
use custos_policy::{Action, Resource};
use serde::Serialize;

/// Who can see a client (its name and matters), who is screened from it, and who is held back
/// by R4 or a firm policy.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClientAccess {
    /// The client.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub client: ClientId,
    /// Its number.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub number: ClientNumber,
    /// People allowed to see it, each with the rule that lets them in.
    pub allowed: Vec<AccessEntry>,
    /// People a wall keeps out, with the wall.
    pub screened: Vec<AccessEntry>,
    /// People who would be let in but lack an agreement or current training (R4), or whom a
    /// firm policy holds back.
    pub held_back: Vec<AccessEntry>,
    /// Active people with no ground to see it, counted.
    pub others: u32,
}

groups_of!(ClientAccess);

impl App {
    /// Who can see client `id`, and why: for the officer and the partner responsible for it.
    pub async fn who_can_access_client(
        &self,
        caller: &Caller,
        id: ClientId,
    ) -> Result<ClientAccess, AppError> {
        let action = Action::ViewAccess;
        let mut tx = self.store.begin_read().await?;
        let loaded = tx.client(id).await?;
        let (mut tx, row) = self
            .found(tx, caller, action, || format!("client:{id}"), loaded)
            .await?;
        let facts = client_facts(&mut *tx, &row).await?;
        let resource = Resource::Client(facts);
        let (mut tx, _permit) = self.gate(tx, caller, action, &resource).await?;
        let now = self.now();
        let ctx = self.firm_wide_context(&mut *tx, now).await?;
        let audience = tx.client_audience(id, now).await?;
        let mut access = ClientAccess {
            client: id,
            number: ClientNumber(row.number),
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
            let staffed = audience
                .staffed
                .iter()
                .filter(|(who, _)| *who == p.id)
                .map(|(_, m)| *m)
                .collect();
            let principal = principal_of(
                p,
                (&audience.members, &audience.leads),
                staffed,
                &audience.emergency,
            );
            let decision = Self::decide(&principal, Action::ViewClient, &resource, &ctx);
            access.file(p, &decision, || false);
        }
        self.finish_access(tx, caller, format!("client:{id}"), access)
            .await
    }
}
