//! Clients: taking one on, and seeing them (personal data only with need-to-know).

use crate::facts::{client_facts, matter_facts};
use crate::listing::filtered_page;
use crate::{App, AppError, Caller, ClientView, Page, PageRequest};
use custos_crypto::WrappedKey;
use custos_domain::{Client, ClientId, ClientNumber};
use custos_policy::{Action, ClientFacts, KeyScope, Permit, Reach, Resource, Scope};
use custos_store::ClientRow;

fn name_field(id: ClientId) -> String {
    format!("client.name:{id}")
}

fn contact_field(id: ClientId) -> String {
    format!("client.contact:{id}")
}

impl App {
    /// Takes on a client; the caller becomes the responsible partner.
    pub async fn create_client(
        &self,
        caller: &Caller,
        name: &str,
        contact: &str,
    ) -> Result<ClientView, AppError> {
        let id = ClientId::new();
        let name = Client::parse_name(name)?;
        let contact = contact.trim().to_owned();
        let facts = ClientFacts {
            id,
            responsible: caller.person,
            matters: vec![],
        };
        let tx = self.store.begin().await?;
        let (mut tx, _permit) = self
            .gate(tx, caller, Action::CreateClient, &Resource::Client(facts))
            .await?;
        let (key, wrapped) = self.kek.new_data_key(KeyScope::Client(id))?;
        let row = ClientRow {
            id,
            number: tx.next_number(custos_store::NumberKind::Client).await?,
            responsible: caller.person,
            wrapped_key: wrapped.0,
            sealed_name: key.seal_field(&name_field(id), &name)?,
            sealed_contact: key.seal_field(&contact_field(id), &contact)?,
            created_at: self.now(),
        };
        tx.insert_client(&row).await?;
        tx.commit().await?;
        Ok(ClientView {
            id,
            number: ClientNumber(row.number),
            responsible: row.responsible,
            name: Some(name),
            contact: Some(contact),
            created_at: row.created_at,
        })
    }

    /// One client, as far as the caller may see it.
    pub async fn get_client(&self, caller: &Caller, id: ClientId) -> Result<ClientView, AppError> {
        let mut tx = self.store.begin_read().await?;
        let loaded = tx.client(id).await?;
        let (mut tx, row) = self
            .found(
                tx,
                caller,
                Action::ViewClient,
                || format!("client:{id}"),
                loaded,
            )
            .await?;
        let facts = client_facts(&mut *tx, &row).await?;
        let (tx, permit) = self
            .gate(tx, caller, Action::ViewClient, &Resource::Client(facts))
            .await?;
        tx.commit().await?;
        self.client_view(&permit, row)
    }

    /// The clients the caller may see.
    pub async fn list_clients(
        &self,
        caller: &Caller,
        page: &PageRequest,
    ) -> Result<Page<ClientView>, AppError> {
        self.search_clients(caller, page, None).await
    }

    /// The clients the caller may see whose name contains `query` (any case); names are
    /// sealed, so they are compared once opened (see [`App::search_matters`]).
    pub async fn search_clients(
        &self,
        caller: &Caller,
        page: &PageRequest,
        query: Option<&str>,
    ) -> Result<Page<ClientView>, AppError> {
        let query = crate::listing::Query::new(query);
        let mut tx = self.store.begin_read().await?;
        let (principal, ctx) = self.facts(&mut *tx, caller, Action::ViewClient).await?;
        let (reach, now, person) = (
            custos_policy::listing_reach(&principal),
            ctx.now,
            caller.person,
        );
        let listing = filtered_page(
            &mut *tx,
            page,
            &mut |tx, after, limit| {
                let after = after.map(ClientId);
                Box::pin(async move {
                    let (rows, matters) = match reach {
                        Reach::Everything => {
                            let rows = tx.list_clients(after, limit).await?;
                            // The batch's matters in one statement (ids are contiguous in order).
                            let matters = match (rows.first(), rows.last()) {
                                (Some(first), Some(last)) => {
                                    tx.matters_of_clients_between(first.id, last.id).await?
                                }
                                _ => Vec::new(),
                            };
                            (rows, matters)
                        }
                        Reach::OwnGrounds => {
                            tx.list_clients_reached(person, now, after, limit).await?
                        }
                    };
                    Ok(rows
                        .into_iter()
                        .map(|row| {
                            let facts = ClientFacts {
                                id: row.id,
                                responsible: row.responsible,
                                matters: matters
                                    .iter()
                                    .filter(|m| m.client == row.id)
                                    .map(matter_facts)
                                    .collect(),
                            };
                            (row, facts)
                        })
                        .collect())
                })
            },
            |(c, _)| c.id.0,
            |(row, facts)| {
                let decision = Self::decide(
                    &principal,
                    Action::ViewClient,
                    &Resource::Client(facts),
                    &ctx,
                );
                let view = decision
                    .permit()
                    .map(|p| self.client_view(p, row))
                    .transpose()?;
                Ok(view.filter(|v| query.matches_record(v.number, v.name.as_deref())))
            },
        )
        .await?;
        self.finish_listing(
            tx,
            caller,
            crate::vocabulary::ACTION_CLIENT_LIST,
            "firm".to_owned(),
            listing,
        )
        .await
    }

    fn client_view(&self, permit: &Permit, row: ClientRow) -> Result<ClientView, AppError> {
        let (name, contact) = if permit.scope() == Scope::Full {
            let key = self.kek.unwrap_data_key(
                permit,
                KeyScope::Client(row.id),
                &WrappedKey(row.wrapped_key),
            )?;
            (
                Some(key.open_field(&name_field(row.id), &row.sealed_name)?),
                Some(key.open_field(&contact_field(row.id), &row.sealed_contact)?),
            )
        } else {
            (None, None)
        };
        Ok(ClientView {
            id: row.id,
            number: ClientNumber(row.number),
            responsible: row.responsible,
            name,
            contact,
            created_at: row.created_at,
        })
    }
}
