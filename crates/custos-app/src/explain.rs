//! R5: a refusal the caller may know about, in words. The policy's sentence names records and
//! people by id (exact, and kept so in the audit entry); the refusal the caller reads names them
//! as people say them (`M-0042`, `C-0007`, a colleague's name, a team's name) and, when the way
//! in is to be put on the matter team, who can do that. Only non-concealed denials are
//! explained: a hidden record still answers 404 and nothing more.

use crate::{App, AppError, denial};
use custos_domain::{ClientId, MatterId, PersonId, TeamId};
use custos_policy::{Action, Decision, MatterFacts, Resource, Rule};
use custos_store::StoreTx;

/// The ids in a sentence, in order of appearance.
fn ids_in(text: &str) -> Vec<uuid::Uuid> {
    text.split(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
        .filter(|t| t.len() == 36)
        .filter_map(|t| uuid::Uuid::parse_str(t).ok())
        .collect()
}

/// The matter a refusal is about, if any.
fn matter_of(resource: &Resource) -> Option<MatterFacts> {
    match resource {
        Resource::Matter(m) | Resource::NewMatter { matter: m, .. } => Some(*m),
        Resource::Document(d) => Some(d.matter),
        _ => None,
    }
}

impl App {
    /// The error for a denial, its sentence in words (see the module's doc).
    pub(crate) async fn explain(
        &self,
        tx: &mut dyn StoreTx,
        action: Action,
        resource: &Resource,
        decision: &Decision,
    ) -> Result<AppError, AppError> {
        let AppError::Forbidden { rule, message } = denial(decision) else {
            return Ok(denial(decision));
        };
        let mut words = message.clone();
        for id in ids_in(&message) {
            if let Some(name) = self.name_of(tx, id).await? {
                words = words.replace(&id.to_string(), &name);
            }
        }
        let staffing = rule == Rule::NeedToKnow.code()
            || (action == Action::ManageMatterStaff && rule == Rule::DenyByDefault.code());
        if staffing && let Some(m) = matter_of(resource) {
            let lead = self.name_of(tx, m.lead.0).await?;
            let team = tx.team(m.team).await?;
            let team_lead = match team.as_ref().and_then(|t| t.lead) {
                Some(p) if p != m.lead => self.name_of(tx, p.0).await?,
                _ => None,
            };
            let number = self.name_of(tx, m.id.0).await?.unwrap_or_default();
            words.push_str(&match (lead, team_lead) {
                (Some(l), Some(t)) => format!(
                    "; {l}, who leads {number}, or {t}, who leads its team, decide who is on it"
                ),
                (Some(l), None) => format!("; {l}, who leads {number}, decides who is on it"),
                _ => String::new(),
            });
        }
        Ok(AppError::Forbidden {
            rule,
            message: words,
        })
    }

    /// How people name the record or person with this id: a matter's or client's number, a
    /// person's or team's name; `None` for anything else (walls, documents keep their id).
    async fn name_of(
        &self,
        tx: &mut dyn StoreTx,
        id: uuid::Uuid,
    ) -> Result<Option<String>, AppError> {
        if let Some(m) = tx.matter(MatterId(id)).await? {
            return Ok(Some(custos_domain::MatterNumber(m.number).to_string()));
        }
        if let Some(c) = tx.client(ClientId(id)).await? {
            return Ok(Some(custos_domain::ClientNumber(c.number).to_string()));
        }
        if let Some(p) = tx.person(PersonId(id)).await? {
            return Ok(Some(p.person.display_name));
        }
        Ok(tx
            .team(TeamId(id))
            .await?
            .map(|t| format!("team {}", t.name)))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_found_in_a_sentence() {
        let a = uuid::Uuid::now_v7();
        let b = uuid::Uuid::now_v7();
        let text = format!("not staffed on matter {a}: ask person {b}.");
        assert_eq!(super::ids_in(&text), vec![a, b]);
        assert!(super::ids_in("no ids here, just-words and 0123").is_empty());
    }
}
