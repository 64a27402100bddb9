//! Ethical walls (R3): raised by the confidentiality officer, enforced by the policy.

use crate::listing::filtered_page;
use crate::{App, AppError, Caller, Page, PageRequest, WallView, reject};
use custos_domain::{Wall, WallId, WallObject, WallSubject};
use custos_policy::{Action, Resource};

impl App {
    /// Raises a wall screening `subject` from `object`; it takes effect on the next request.
    pub async fn create_wall(
        &self,
        caller: &Caller,
        subject: WallSubject,
        object: WallObject,
        reason: &str,
    ) -> Result<WallView, AppError> {
        let wall = Wall {
            id: WallId::new(),
            subject,
            object,
            reason: Wall::parse_reason(reason)?,
            created_by: caller.person,
            created_at: self.now(),
        };
        let tx = self.store.begin().await?;
        let (mut tx, _permit) = self
            .gate(tx, caller, Action::ManageWalls, &Resource::Firm)
            .await?;
        let subject_exists = match subject {
            WallSubject::Person(p) => tx.person(p).await?.is_some(),
            WallSubject::Team(t) => tx.team(t).await?.is_some(),
        };
        let object_exists = match object {
            WallObject::Client(c) => tx.client(c).await?.is_some(),
            WallObject::Matter(m) => tx.matter(m).await?.is_some(),
        };
        if !subject_exists || !object_exists {
            let which = if subject_exists { "object" } else { "subject" };
            let err = AppError::BadInput(format!("the wall's {which} does not exist"));
            return Err(reject(tx, err).await);
        }
        tx.insert_wall(&wall).await?;
        tx.commit().await?;
        Ok(wall)
    }

    /// Every wall.
    pub async fn list_walls(
        &self,
        caller: &Caller,
        page: &PageRequest,
    ) -> Result<Page<WallView>, AppError> {
        let tx = self.store.begin().await?;
        let (mut tx, _permit) = self
            .gate(tx, caller, Action::ViewWalls, &Resource::Firm)
            .await?;
        let listing = filtered_page(
            &mut *tx,
            page,
            &mut |tx, after, limit| {
                Box::pin(async move { Ok(tx.list_walls(after.map(WallId), limit).await?) })
            },
            |w| w.id.0,
            |w| Ok(Some(w)),
        )
        .await?;
        self.finish_listing(tx, caller, "wall.list", "firm".to_owned(), listing)
            .await
    }
}
