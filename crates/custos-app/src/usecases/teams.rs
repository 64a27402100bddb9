//! Practice teams and their membership.

use crate::listing::filtered_page;
use crate::{App, AppError, AuditEvent, Caller, Membership, Page, PageRequest, reject};
use custos_audit::Outcome;
use custos_domain::{PersonId, Team, TeamId, Wall, WallId, WallKind, WallObject, WallSubject};
use custos_policy::{Action, Resource};

impl App {
    /// Creates a team; its lead (if any) becomes a member.
    pub async fn create_team(
        &self,
        caller: &Caller,
        name: &str,
        lead: Option<PersonId>,
    ) -> Result<Team, AppError> {
        let team = Team {
            id: TeamId::new(),
            name: Team::parse_name(name)?,
            lead,
        };
        let tx = self.store.begin().await?;
        let (mut tx, _permit) = self
            .gate(tx, caller, Action::ManageTeams, &Resource::Team(team.id))
            .await?;
        if let Some(lead) = lead
            && tx.person(lead).await?.is_none()
        {
            let err = AppError::UnknownReference(format!("team lead `{lead}` does not exist"));
            return Err(reject(tx, err).await);
        }
        tx.insert_team(&team).await.map_err(|e| match e {
            custos_store::StoreError::Conflict(_) => {
                AppError::Conflict(format!("a team named `{}` exists", team.name))
            }
            other => other.into(),
        })?;
        if let Some(lead) = lead {
            tx.add_team_member(team.id, lead).await?;
        }
        tx.commit().await?;
        Ok(team)
    }

    /// The practice teams.
    pub async fn list_teams(
        &self,
        caller: &Caller,
        page: &PageRequest,
    ) -> Result<Page<Team>, AppError> {
        let tx = self.store.begin_read().await?;
        let (mut tx, _permit) = self
            .gate(tx, caller, Action::ViewTeams, &Resource::Firm)
            .await?;
        let listing = filtered_page(
            &mut *tx,
            page,
            &mut |tx, after, limit| {
                Box::pin(async move { Ok(tx.list_teams(after.map(TeamId), limit).await?) })
            },
            |t| t.id.0,
            |t| Ok(Some(t)),
        )
        .await?;
        self.finish_listing(
            tx,
            caller,
            crate::vocabulary::ACTION_TEAM_LIST,
            "firm".to_owned(),
            listing,
        )
        .await
    }

    /// Loads team `team` in `tx` and gates `action` on it (an unknown team is audited and
    /// hidden).
    pub(crate) async fn gated_team(
        &self,
        mut tx: crate::Tx,
        caller: &Caller,
        team: TeamId,
        action: Action,
    ) -> Result<crate::Tx, AppError> {
        let loaded = tx.team(team).await?;
        let (tx, _) = self
            .found(tx, caller, action, || format!("team:{team}"), loaded)
            .await?;
        let (tx, _permit) = self.gate(tx, caller, action, &Resource::Team(team)).await?;
        Ok(tx)
    }

    /// The members of a team.
    pub async fn team_members(
        &self,
        caller: &Caller,
        team: TeamId,
    ) -> Result<Vec<PersonId>, AppError> {
        let tx = self.store.begin_read().await?;
        let mut tx = self.gated_team(tx, caller, team, Action::ViewTeams).await?;
        let members = tx.team_members(team).await?;
        tx.commit().await?;
        Ok(members)
    }

    /// Adds or removes a team member. Walls whose subject is the team screen
    /// its members: a new member is screened at once, and a leaving member stays screened (the
    /// team's walls are carried over to them as walls of their own), because only the officer
    /// lifts a wall; editing a team must not.
    pub async fn change_team_member(
        &self,
        caller: &Caller,
        team: TeamId,
        person: PersonId,
        change: Membership,
    ) -> Result<(), AppError> {
        let tx = self.store.begin().await?;
        let mut tx = self
            .gated_team(tx, caller, team, Action::ManageTeams)
            .await?;
        if change == Membership::Add {
            if tx.person(person).await?.is_none() {
                let err = AppError::UnknownReference(format!("person `{person}` does not exist"));
                return Err(reject(tx, err).await);
            }
            tx.add_team_member(team, person).await?;
        } else {
            if !tx.remove_team_member(team, person).await? {
                return Err(reject(tx, AppError::NotFound).await);
            }
            self.carry_team_walls_over(&mut tx, caller, team, person)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Gives a person leaving `team` a wall of their own for every wall of the team that they
    /// are not already screened by personally.
    async fn carry_team_walls_over(
        &self,
        tx: &mut crate::Tx,
        caller: &Caller,
        team: TeamId,
        person: PersonId,
    ) -> Result<(), AppError> {
        let own: Vec<WallObject> = tx
            .walls_screening(person, &[])
            .await?
            .into_iter()
            .filter(|w| w.kind == WallKind::Exclusionary)
            .map(|w| w.object)
            .collect();
        let mut carried = Vec::new();
        // An inclusionary wall that admitted the team stops admitting its leaver by itself.
        for team_wall in tx.walls_of_team(team).await? {
            if team_wall.kind != WallKind::Exclusionary {
                continue;
            }
            if own.contains(&team_wall.object) || carried.contains(&team_wall.object) {
                continue;
            }
            let id = WallId::new();
            let reason = self.open_wall_reason(team_wall.id, &team_wall.reason)?;
            let wall = Wall {
                id,
                subject: WallSubject::Person(person),
                object: team_wall.object,
                reason: self.seal_wall_reason(id, &reason)?,
                created_by: team_wall.created_by,
                created_at: self.now(),
                kind: WallKind::Exclusionary,
                lifted: None,
            };
            tx.insert_wall(&wall).await?;
            carried.push(wall.object);
            self.audit_event(
                &mut **tx,
                AuditEvent {
                    request_id: caller.request_id,
                    actor: Some(caller.person),
                    action: crate::vocabulary::ACTION_WALL_CARRY_OVER,
                    resource: format!("wall:{}", wall.id),
                    outcome: Outcome::Allow,
                    rule: custos_policy::Rule::Wall.code(),
                    message: format!(
                        "person {person} left team {team}, screened by wall {}: they stay \
                         screened until the officer lifts it",
                        team_wall.id
                    ),
                    detail: serde_json::json!({ "from_wall": team_wall.id.to_string() }),
                },
            )
            .await?;
        }
        Ok(())
    }
}
