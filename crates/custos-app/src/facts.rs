//! Gathering the facts that decisions depend on, inside the caller's unit of work so that the
//! decision sees the same state as the work it permits.

use crate::AppError;
use custos_domain::{Compliance, Date, PersonId, PersonStatus, Role, Timestamp};
use custos_policy::{ClientFacts, Context, DocumentFacts, Emergency, MatterFacts, Principal};
use custos_store::{DocumentRow, MatterRow, StoreTx};

/// The principal behind a person id, the walls that may apply to them and the firm policy
/// version in force, read in one statement (whatever the number of teams or walls), for a
/// decision at `now` on the firm's calendar day `today`. A person that no longer exists is
/// treated as departed.
pub(crate) async fn principal_and_walls(
    tx: &mut dyn StoreTx,
    person: PersonId,
    now: Timestamp,
    today: Date,
) -> Result<(Principal, Context, i64), AppError> {
    let Some(row) = tx.principal(person, now).await? else {
        let departed = Principal {
            id: person,
            role: Role::External,
            status: PersonStatus::Departed,
            teams: vec![],
            led_teams: vec![],
            staffed_matters: vec![],
            compliance: Compliance::default(),
            emergency: vec![],
            emergencies_last_day: 0,
        };
        return Ok((departed, Context::at(now, today), 0));
    };
    Ok((
        Principal {
            id: person,
            role: row.role,
            status: row.status,
            teams: row.teams,
            led_teams: row.led_teams,
            staffed_matters: row.staffed_matters,
            compliance: row.compliance,
            emergency: row
                .emergency
                .iter()
                .map(|e| Emergency {
                    id: e.id,
                    matter: e.matter,
                    expires_at: e.expires_at,
                })
                .collect(),
            emergencies_last_day: row.emergencies_last_day,
        },
        Context {
            walls: row.walls,
            ..Context::at(now, today)
        },
        row.firm_policy_version,
    ))
}

/// The policy's view of a stored break-glass access.
pub(crate) fn emergency(row: &custos_store::BreakGlassRow) -> Emergency {
    Emergency {
        id: row.id,
        matter: row.matter,
        expires_at: row.expires_at,
    }
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
