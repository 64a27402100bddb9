//! Gathering the facts that decisions depend on, inside the caller's unit of work so that the
//! decision sees the same state as the work it permits.

use crate::AppError;
use custos_domain::{PersonId, PersonStatus, Role};
use custos_policy::{ClientFacts, Context, DocumentFacts, MatterFacts, Principal};
use custos_store::{DocumentRow, MatterRow, StoreTx};

/// The principal behind a person id. A person that no longer exists is treated as departed.
pub(crate) async fn principal(
    tx: &mut dyn StoreTx,
    person: PersonId,
) -> Result<Principal, AppError> {
    let Some(row) = tx.person(person).await? else {
        return Ok(Principal {
            id: person,
            role: Role::External,
            status: PersonStatus::Departed,
            teams: vec![],
            led_teams: vec![],
            staffed_matters: vec![],
        });
    };
    Ok(Principal {
        id: person,
        role: row.person.role,
        status: row.person.status,
        teams: tx.teams_of(person).await?,
        led_teams: tx.teams_led_by(person).await?,
        staffed_matters: tx.staffed_matters(person).await?,
    })
}

/// The walls that may screen `principal`.
pub(crate) async fn walls_of(
    tx: &mut dyn StoreTx,
    principal: &Principal,
) -> Result<Context, AppError> {
    Ok(Context {
        walls: tx.walls_screening(principal.id, &principal.teams).await?,
    })
}

pub(crate) fn matter_facts(row: &MatterRow) -> MatterFacts {
    MatterFacts {
        id: row.id,
        client: row.client,
        team: row.team,
        lead: row.lead,
    }
}

pub(crate) fn document_facts(row: &DocumentRow, matter: &MatterRow) -> DocumentFacts {
    DocumentFacts {
        id: row.id,
        matter: matter_facts(matter),
        classification: row.classification,
    }
}

pub(crate) async fn client_facts(
    tx: &mut dyn StoreTx,
    client: &custos_store::ClientRow,
) -> Result<ClientFacts, AppError> {
    Ok(ClientFacts {
        id: client.id,
        responsible: client.responsible,
        matters: tx
            .matters_of_client(client.id)
            .await?
            .iter()
            .map(matter_facts)
            .collect(),
    })
}
