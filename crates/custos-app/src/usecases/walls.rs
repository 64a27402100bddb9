//! Ethical walls (R3): raised by the confidentiality officer, enforced by the policy.

use crate::listing::filtered_page;
use crate::{App, AppError, AuditEvent, Caller, Page, PageRequest, WallView, reject};
use custos_audit::Outcome;
use custos_domain::{Lifted, Wall, WallId, WallKind, WallObject, WallSubject};
use custos_policy::{Action, Resource};

/// Marks a sealed reason in the `reason` column (reasons of earlier versions are plain text and
/// are shown as they are).
const SEALED_PREFIX: &str = "sealed:v1:";

fn reason_context(id: WallId) -> String {
    format!("wall.reason:{id}")
}

fn lift_context(id: WallId) -> String {
    format!("wall.lift_reason:{id}")
}

impl App {
    /// A firm note as stored (a wall's or a lift's reason, a break-glass justification, a
    /// review comment): sealed under the KEK, since any of them may name a client (e.g. the
    /// target of an acquisition), and bound to `context` (what it is and its record's id).
    pub(crate) fn seal_note(&self, context: &str, text: &str) -> Result<String, AppError> {
        let sealed = self.kek.seal_firm_text(context, text)?;
        Ok(format!("{SEALED_PREFIX}{}", hex::encode(sealed)))
    }

    /// A stored firm note, opened (notes of earlier versions are plain text, shown as they are).
    pub(crate) fn open_note(&self, context: &str, stored: &str) -> Result<String, AppError> {
        match stored.strip_prefix(SEALED_PREFIX) {
            Some(sealed) => {
                let bytes = hex::decode(sealed).map_err(|_| AppError::Integrity)?;
                Ok(self.kek.open_firm_text(context, &bytes)?)
            }
            None => Ok(stored.to_owned()),
        }
    }

    /// A wall's reason as stored, bound to the wall's id.
    pub(crate) fn seal_wall_reason(&self, id: WallId, reason: &str) -> Result<String, AppError> {
        self.seal_note(&reason_context(id), reason)
    }

    /// The reason of a stored wall, opened.
    pub(crate) fn open_wall_reason(&self, id: WallId, stored: &str) -> Result<String, AppError> {
        self.open_note(&reason_context(id), stored)
    }

    /// A stored wall with its reasons opened.
    fn open_wall(&self, w: Wall) -> Result<Wall, AppError> {
        let reason = self.open_wall_reason(w.id, &w.reason)?;
        let lifted = match w.lifted {
            Some(l) => Some(Lifted {
                reason: self.open_note(&lift_context(w.id), &l.reason)?,
                ..l
            }),
            None => None,
        };
        Ok(Wall {
            reason,
            lifted,
            ..w
        })
    }

    /// Lifts a wall: it stops screening on the next request and stays on record with who
    /// lifted it, when and why.
    pub async fn lift_wall(
        &self,
        caller: &Caller,
        id: WallId,
        reason: &str,
    ) -> Result<WallView, AppError> {
        let reason = Wall::parse_reason(reason)?;
        let tx = self.store.begin().await?;
        let (mut tx, _permit) = self
            .gate(tx, caller, Action::ManageWalls, &Resource::Firm)
            .await?;
        let Some(wall) = tx.wall(id).await? else {
            return Err(reject(tx, AppError::NotFound).await);
        };
        let lifted = Lifted {
            by: caller.person,
            at: self.now(),
            reason: self.seal_note(&lift_context(id), &reason)?,
        };
        if !tx.lift_wall(id, &lifted).await? {
            let err = AppError::Conflict("this wall was already lifted".to_owned());
            return Err(reject(tx, err).await);
        }
        self.audit_event(
            &mut *tx,
            AuditEvent {
                request_id: caller.request_id,
                actor: Some(caller.person),
                action: crate::vocabulary::ACTION_WALL_LIFT,
                resource: format!("wall:{id}"),
                outcome: Outcome::Allow,
                rule: custos_policy::Rule::Wall.code(),
                message: format!(
                    "{} wall {id} lifted by the officer; it screens no one from now on",
                    wall.kind.as_str()
                ),
                detail: serde_json::json!({ "wall": id.to_string() }),
            },
        )
        .await?;
        tx.commit().await?;
        self.open_wall(Wall {
            lifted: Some(lifted),
            ..wall
        })
    }

    /// Raises a wall: an exclusionary one screens `subject` from `object`; an inclusionary one
    /// admits `subject` to `object` and keeps out everyone its object's other inclusionary walls
    /// do not admit. It takes effect on the next request.
    pub async fn create_wall(
        &self,
        caller: &Caller,
        kind: WallKind,
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
            kind,
            lifted: None,
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
            |w| Ok(Some(self.open_wall(w)?)),
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

    /// The numbers (`C-0007`, `M-0042`) of the records `walls` screen from, by record id, for
    /// the officer: she manages walls on records she may not see (an inclusionary wall keeps
    /// her out too), and a number says nothing about a client or a matter.
    pub async fn wall_object_numbers(
        &self,
        caller: &Caller,
        walls: &[Wall],
    ) -> Result<std::collections::HashMap<uuid::Uuid, String>, AppError> {
        let tx = self.store.begin_read().await?;
        let (mut tx, _permit) = self
            .gate(tx, caller, Action::ViewWalls, &Resource::Firm)
            .await?;
        let mut out = std::collections::HashMap::new();
        for w in walls {
            match w.object {
                WallObject::Client(c) => {
                    if let Some(row) = tx.client(c).await? {
                        out.insert(c.0, custos_domain::ClientNumber(row.number).to_string());
                    }
                }
                WallObject::Matter(m) => {
                    if let Some(row) = tx.matter(m).await? {
                        out.insert(m.0, custos_domain::MatterNumber(row.number).to_string());
                    }
                }
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    /// What raising a wall would change, answered before it is saved: for each matter it would
    /// cover, the people who may see it now and would not once it stands. Nothing is changed.
    pub async fn preview_wall(
        &self,
        caller: &Caller,
        kind: WallKind,
        subject: WallSubject,
        object: WallObject,
        reason: &str,
    ) -> Result<WallPreview, AppError> {
        // The reason is checked as the wall's would be, so that a preview refuses what the
        // wall itself would refuse.
        Wall::parse_reason(reason)?;
        let tx = self.store.begin_read().await?;
        let (mut tx, _permit) = self
            .gate(tx, caller, Action::ManageWalls, &Resource::Firm)
            .await?;
        let matters = match object {
            WallObject::Matter(m) => tx.matter(m).await?.into_iter().collect(),
            WallObject::Client(c) => tx.matters_of_client(c).await?,
        };
        let now = self.now();
        let before = self.firm_wide_context(&mut *tx, now).await?;
        let mut after = before.clone();
        after.walls.push(Wall {
            id: WallId::new(),
            kind,
            subject,
            object,
            reason: String::new(),
            created_by: caller.person,
            created_at: now,
            lifted: None,
        });
        let mut lines = Vec::new();
        for row in matters.iter().take(200) {
            let was = crate::usecases::access::audience_of(&mut *tx, row, &before).await?;
            let will = crate::usecases::access::audience_of(&mut *tx, row, &after).await?;
            let loses: Vec<crate::AccessEntry> = was
                .allowed
                .into_iter()
                .filter(|e| !will.allowed.iter().any(|w| w.person == e.person))
                .collect();
            lines.push(WallPreviewLine {
                matter: row.id,
                number: custos_domain::MatterNumber(row.number),
                loses,
                keeps: will.allowed.len(),
            });
        }
        tx.commit().await?;
        Ok(WallPreview { matters: lines })
    }
}

/// What a wall would change ("what if"), per matter it would cover.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WallPreview {
    /// One line per matter (at most 200).
    pub matters: Vec<WallPreviewLine>,
}

/// One matter of a wall preview.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WallPreviewLine {
    /// The matter.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub matter: custos_domain::MatterId,
    /// Its number.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub number: custos_domain::MatterNumber,
    /// People who may see it now and would not.
    pub loses: Vec<crate::AccessEntry>,
    /// How many would still see it.
    pub keeps: usize,
}
