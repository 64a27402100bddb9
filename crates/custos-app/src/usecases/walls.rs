//! Ethical walls (R3): raised by the confidentiality officer, enforced by the policy.

use crate::listing::filtered_page;
use crate::{App, AppError, Caller, Page, PageRequest, WallView, reject};
use custos_domain::{Wall, WallId, WallObject, WallSubject};
use custos_policy::{Action, Resource};

/// Marks a sealed reason in the `reason` column (reasons of earlier versions are plain text and
/// are shown as they are).
const SEALED_PREFIX: &str = "sealed:v1:";

fn reason_context(id: WallId) -> String {
    format!("wall.reason:{id}")
}

impl App {
    /// A wall's reason as stored: sealed under the KEK (a reason may name a client, e.g. the
    /// target of an acquisition), bound to the wall's id.
    pub(crate) fn seal_wall_reason(&self, id: WallId, reason: &str) -> Result<String, AppError> {
        let sealed = self.kek.seal_firm_text(&reason_context(id), reason)?;
        Ok(format!("{SEALED_PREFIX}{}", hex::encode(sealed)))
    }

    /// The reason of a stored wall, opened.
    pub(crate) fn open_wall_reason(&self, id: WallId, stored: &str) -> Result<String, AppError> {
        match stored.strip_prefix(SEALED_PREFIX) {
            Some(sealed) => {
                let bytes = hex::decode(sealed).map_err(|_| AppError::Integrity)?;
                Ok(self.kek.open_firm_text(&reason_context(id), &bytes)?)
            }
            None => Ok(stored.to_owned()),
        }
    }

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
            let err = AppError::UnknownReference(format!("the wall's {which} does not exist"));
            return Err(reject(tx, err).await);
        }
        let stored = Wall {
            reason: self.seal_wall_reason(wall.id, &wall.reason)?,
            ..wall.clone()
        };
        tx.insert_wall(&stored).await?;
        tx.commit().await?;
        Ok(wall)
    }

    /// Every wall.
    pub async fn list_walls(
        &self,
        caller: &Caller,
        page: &PageRequest,
    ) -> Result<Page<WallView>, AppError> {
        let tx = self.store.begin_read().await?;
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
            |w| {
                let reason = self.open_wall_reason(w.id, &w.reason)?;
                Ok(Some(Wall { reason, ..w }))
            },
        )
        .await?;
        self.finish_listing(
            tx,
            caller,
            crate::vocabulary::ACTION_WALL_LIST,
            "firm".to_owned(),
            listing,
        )
        .await
    }
}
