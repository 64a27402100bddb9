//! Matters: opening one, seeing them, and deciding who is staffed.

use crate::facts::{client_facts, matter_facts, principal_and_walls};
use crate::listing::filtered_page;
use crate::{App, AppError, Caller, MatterView, Membership, Page, PageRequest, reject};
use custos_crypto::WrappedKey;
use custos_domain::{ClientId, Matter, MatterId, MatterNumber, PersonId, TeamId};
use custos_policy::{Action, KeyScope, MatterFacts, Permit, Reach, Resource, Scope};
use custos_store::MatterRow;

fn title_field(id: MatterId) -> String {
    format!("matter.title:{id}")
}

/// What a caller could do on a matter (see [`App::matter_rights`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatterRights {
    /// Add and remove the team's members.
    pub manage_staff: bool,
    /// Upload documents of these classifications.
    pub upload: Vec<custos_domain::Classification>,
    /// Ask who can access the matter, and why.
    pub see_access: bool,
}

impl App {
    /// Opens a matter for `client`, owned by `team`, led by `lead` (who is staffed on it). The
    /// caller needs a right to the client already (its responsible partner, or the lead of a
    /// team acting for it): opening a matter must not be a way to read any client.
    pub async fn create_matter(
        &self,
        caller: &Caller,
        client: ClientId,
        team: TeamId,
        lead: PersonId,
        title: &str,
    ) -> Result<MatterView, AppError> {
        let title = Matter::parse_title(title)?;
        let id = MatterId::new();
        let mut tx = self.store.begin().await?;
        let loaded = tx.client(client).await?;
        let (mut tx, client_row) = self
            .found(
                tx,
                caller,
                Action::CreateMatter,
                || format!("client:{client}"),
                loaded,
            )
            .await?;
        if tx.team(team).await?.is_none() {
            return Err(AppError::UnknownReference(format!(
                "team `{team}` does not exist"
            )));
        }
        match tx.person(lead).await? {
            None => {
                return Err(AppError::UnknownReference(format!(
                    "lead `{lead}` does not exist"
                )));
            }
            Some(p)
                if !custos_policy::may_act(p.person.status)
                    || !custos_policy::is_staff(p.person.role) =>
            {
                return Err(AppError::Conflict(format!(
                    "lead `{lead}` is not an active staff member"
                )));
            }
            Some(_) => {}
        }
        let facts = MatterFacts {
            id,
            client,
            team,
            lead,
        };
        let resource = Resource::NewMatter {
            matter: facts,
            client: client_facts(&mut *tx, &client_row).await?,
        };
        let (mut tx, _permit) = self
            .gate(tx, caller, Action::CreateMatter, &resource)
            .await?;
        if let Err(e) = self.refuse_if_screened(&mut *tx, lead, &facts).await {
            return Err(reject(tx, e).await);
        }
        let (key, wrapped) = self.kek.new_data_key(KeyScope::Matter(id))?;
        let row = MatterRow {
            id,
            number: tx.next_number(custos_store::NumberKind::Matter).await?,
            client,
            team,
            lead,
            wrapped_key: wrapped.0,
            sealed_title: key.seal_field(&title_field(id), &title)?,
            created_at: self.now(),
        };
        tx.insert_matter(&row).await?;
        tx.add_matter_member(id, lead).await?;
        tx.commit().await?;
        Ok(MatterView {
            id,
            number: MatterNumber(row.number),
            client,
            team,
            lead,
            title: Some(title),
            created_at: row.created_at,
        })
    }

    /// One matter, as far as the caller may see it.
    pub async fn get_matter(&self, caller: &Caller, id: MatterId) -> Result<MatterView, AppError> {
        let (tx, permit, row) = self.gated_matter(caller, id, Action::ViewMatter).await?;
        tx.commit().await?;
        self.matter_view(&permit, row)
    }

    /// The matters the caller may see.
    pub async fn list_matters(
        &self,
        caller: &Caller,
        page: &PageRequest,
    ) -> Result<Page<MatterView>, AppError> {
        self.search_matters(caller, page, None).await
    }

    /// The matters the caller may see whose title contains `query` (any case). Titles are
    /// sealed: each visible matter's title is opened and compared, so a metadata-only viewer
    /// finds nothing by title, and the query itself is never stored or logged. Only the
    /// matters the caller's [`Reach`] names are read (the oversight roles': all, a page at a
    /// time), and each is decided: the cost grows with what the caller may see, not the firm.
    pub async fn search_matters(
        &self,
        caller: &Caller,
        page: &PageRequest,
        query: Option<&str>,
    ) -> Result<Page<MatterView>, AppError> {
        let query = crate::listing::Query::new(query);
        let mut tx = self.store.begin_read().await?;
        let (principal, ctx) = self.facts(&mut *tx, caller, Action::ViewMatter).await?;
        let (reach, now, person) = (
            custos_policy::listing_reach(&principal),
            ctx.now,
            caller.person,
        );
        let listing = filtered_page(
            &mut *tx,
            page,
            &mut |tx, after, limit| {
                let after = after.map(MatterId);
                Box::pin(async move {
                    Ok(match reach {
                        Reach::Everything => tx.list_matters(after, limit).await?,
                        Reach::OwnGrounds => {
                            tx.list_matters_reached(person, now, after, limit).await?
                        }
                    })
                })
            },
            |m| m.id.0,
            |row| {
                let resource = Resource::Matter(matter_facts(&row));
                let decision = Self::decide(&principal, Action::ViewMatter, &resource, &ctx);
                let view = decision
                    .permit()
                    .map(|p| self.matter_view(p, row))
                    .transpose()?;
                Ok(view.filter(|v| query.matches_record(v.number, v.title.as_deref())))
            },
        )
        .await?;
        self.finish_listing(
            tx,
            caller,
            crate::vocabulary::ACTION_MATTER_LIST,
            "firm".to_owned(),
            listing,
        )
        .await
    }

    /// What the caller could do on a matter they see, so that a page offers only the forms
    /// that would be allowed: change its staffing, upload documents (of which
    /// classifications). These are questions, not accesses: nothing is granted, opened or
    /// logged (the page showing the matter has logged its view). The use cases still decide
    /// each change when it is made.
    pub async fn matter_rights(
        &self,
        caller: &Caller,
        id: MatterId,
    ) -> Result<MatterRights, AppError> {
        let mut tx = self.store.begin_read().await?;
        let row = tx.matter(id).await?.ok_or(AppError::NotFound)?;
        let (principal, ctx) = self
            .facts(&mut *tx, caller, Action::ManageMatterStaff)
            .await?;
        tx.commit().await?;
        let matter = matter_facts(&row);
        let manage_staff = Self::decide(
            &principal,
            Action::ManageMatterStaff,
            &Resource::Matter(matter),
            &ctx,
        )
        .is_allowed();
        let upload = custos_domain::Classification::ALL
            .into_iter()
            .filter(|classification| {
                let doc = custos_policy::DocumentFacts {
                    id: custos_domain::DocumentId::new(),
                    matter,
                    classification: *classification,
                };
                Self::decide(
                    &principal,
                    Action::UploadDocument,
                    &Resource::Document(doc),
                    &ctx,
                )
                .is_allowed()
            })
            .collect();
        let see_access = Self::decide(
            &principal,
            Action::ViewAccess,
            &Resource::Matter(matter),
            &ctx,
        )
        .is_allowed();
        Ok(MatterRights {
            manage_staff,
            upload,
            see_access,
        })
    }

    /// Who is staffed on a matter.
    pub async fn matter_members(
        &self,
        caller: &Caller,
        id: MatterId,
    ) -> Result<Vec<PersonId>, AppError> {
        let (mut tx, _permit, _row) = self.gated_matter(caller, id, Action::ViewMatter).await?;
        let members = tx.matter_members(id).await?;
        tx.commit().await?;
        Ok(members)
    }

    /// Staffs or unstaffs a person. Staffing someone an ethical wall screens from
    /// the matter is refused.
    pub async fn change_matter_member(
        &self,
        caller: &Caller,
        id: MatterId,
        person: PersonId,
        change: Membership,
    ) -> Result<(), AppError> {
        let (mut tx, _permit, row) = self
            .gated_matter(caller, id, Action::ManageMatterStaff)
            .await?;
        if change == Membership::Add {
            let err = match tx.person(person).await? {
                None => Some(AppError::UnknownReference(format!(
                    "person `{person}` does not exist"
                ))),
                Some(p) if !custos_policy::may_act(p.person.status) => Some(AppError::Conflict(
                    format!("person `{person}` is not active"),
                )),
                Some(_) => None,
            };
            if let Some(err) = err {
                return Err(reject(tx, err).await);
            }
            if let Err(e) = self
                .refuse_if_screened(&mut *tx, person, &matter_facts(&row))
                .await
            {
                return Err(reject(tx, e).await);
            }
            tx.add_matter_member(id, person).await?;
        } else if !tx.remove_matter_member(id, person).await? {
            return Err(reject(tx, AppError::NotFound).await);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Loads a matter and gates `action` on it (unknown matters are audited and hidden).
    pub(crate) async fn gated_matter(
        &self,
        caller: &Caller,
        id: MatterId,
        action: Action,
    ) -> Result<(crate::Tx, Permit, MatterRow), AppError> {
        let (tx, permit, row, _facts) = self.gated_matter_with_facts(caller, id, action).await?;
        Ok((tx, permit, row))
    }

    /// [`App::gated_matter`], also returning the caller's facts for decisions per record.
    pub(crate) async fn gated_matter_with_facts(
        &self,
        caller: &Caller,
        id: MatterId,
        action: Action,
    ) -> Result<
        (
            crate::Tx,
            Permit,
            MatterRow,
            (custos_policy::Principal, custos_policy::Context),
        ),
        AppError,
    > {
        let mut tx = self.begin_for(action).await?;
        let loaded = tx.matter(id).await?;
        let (mut tx, row) = self
            .found(tx, caller, action, || format!("matter:{id}"), loaded)
            .await?;
        let facts = self.facts(&mut *tx, caller, action).await?;
        let (tx, permit) = self
            .gate_with(
                tx,
                caller,
                action,
                &Resource::Matter(matter_facts(&row)),
                &facts,
            )
            .await?;
        Ok((tx, permit, row, facts))
    }

    async fn refuse_if_screened(
        &self,
        tx: &mut dyn custos_store::StoreTx,
        person: PersonId,
        matter: &MatterFacts,
    ) -> Result<(), AppError> {
        let now = self.now();
        let (target, ctx, _) = principal_and_walls(tx, person, now, self.today(now)).await?;
        match custos_policy::screening_wall(&target, &Resource::Matter(*matter), &ctx) {
            Some(reason) => Err(AppError::Screened(format!(
                "person `{person}` cannot be staffed: {}",
                reason.message
            ))),
            None => Ok(()),
        }
    }

    pub(crate) fn matter_view(
        &self,
        permit: &Permit,
        row: MatterRow,
    ) -> Result<MatterView, AppError> {
        let title = if permit.scope() == Scope::Full {
            let key = self.kek.unwrap_data_key(
                permit,
                KeyScope::Matter(row.id),
                &WrappedKey(row.wrapped_key),
            )?;
            Some(key.open_field(&title_field(row.id), &row.sealed_title)?)
        } else {
            None
        };
        Ok(MatterView {
            id: row.id,
            number: MatterNumber(row.number),
            client: row.client,
            team: row.team,
            lead: row.lead,
            title,
            created_at: row.created_at,
        })
    }
}
