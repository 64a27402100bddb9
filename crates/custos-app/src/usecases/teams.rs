//! Practice teams and their membership.

use crate::listing::filtered_page;
use crate::{App, AppError, Caller, Page, PageRequest, reject};
use custos_domain::{PersonId, Team, TeamId};
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
            let err = AppError::BadInput(format!("team lead `{lead}` does not exist"));
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
        let tx = self.store.begin().await?;
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
        self.finish_listing(tx, caller, "team.list", "firm".to_owned(), listing)
            .await
    }

    /// The members of a team.
    pub async fn team_members(
        &self,
        caller: &Caller,
        team: TeamId,
    ) -> Result<Vec<PersonId>, AppError> {
        let mut tx = self.store.begin().await?;
        if tx.team(team).await?.is_none() {
            return Err(AppError::NotFound);
        }
        let (mut tx, _permit) = self
            .gate(tx, caller, Action::ViewTeams, &Resource::Team(team))
            .await?;
        let members = tx.team_members(team).await?;
        tx.commit().await?;
        Ok(members)
    }

    /// Adds (`add = true`) or removes a team member.
    pub async fn change_team_member(
        &self,
        caller: &Caller,
        team: TeamId,
        person: PersonId,
        add: bool,
    ) -> Result<(), AppError> {
        let mut tx = self.store.begin().await?;
        if tx.team(team).await?.is_none() {
            return Err(AppError::NotFound);
        }
        let (mut tx, _permit) = self
            .gate(tx, caller, Action::ManageTeams, &Resource::Team(team))
            .await?;
        if add {
            if tx.person(person).await?.is_none() {
                let err = AppError::BadInput(format!("person `{person}` does not exist"));
                return Err(reject(tx, err).await);
            }
            tx.add_team_member(team, person).await?;
        } else if !tx.remove_team_member(team, person).await? {
            return Err(reject(tx, AppError::NotFound).await);
        }
        tx.commit().await?;
        Ok(())
    }
}
