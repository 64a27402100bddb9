//! Break-glass (R6): emergency access to one matter with a written justification, for a limited
//! time, never through a wall; every entry it produces is flagged, and it waits in the officer's
//! review queue until she closes it as justified or not. Bounded (issue 33): one open at a time
//! and three a day (the policy's rule), never a restricted record, every opening mailed to the
//! officers, and the officer ends an access at once (an unjustified verdict ends it too).

use crate::facts::matter_facts;
use crate::{App, AppError, AuditEvent, Caller, Page, PageRequest, reject};
use custos_audit::Outcome;
use custos_domain::{BreakGlassId, MatterId, MatterNumber, PersonId, Timestamp};
use custos_policy::{Action, Resource, Rule, Scope};
use custos_store::{BreakGlassFilter, BreakGlassReview, BreakGlassRow};
use serde::Serialize;

/// Shortest justification accepted: a reason, not a shrug.
const MIN_JUSTIFICATION: usize = 20;

/// A break-glass access as the officer (or the person who opened it) sees it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BreakGlassView {
    /// Id.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: BreakGlassId,
    /// Who opened it.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub person: PersonId,
    /// Their name.
    pub person_name: String,
    /// The matter.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub matter: MatterId,
    /// The matter's number.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub matter_number: MatterNumber,
    /// The written justification.
    pub justification: String,
    /// When it was opened.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub opened_at: Timestamp,
    /// When it ends.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub expires_at: Timestamp,
    /// Whether it still opens the matter.
    pub active: bool,
    /// `justified` or `unjustified` once reviewed.
    pub verdict: Option<&'static str>,
    /// The officer's comment, once reviewed.
    pub review_comment: Option<String>,
    /// The reviewing officer.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub reviewed_by: Option<PersonId>,
}

/// Which break-glass accesses to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakGlassList {
    /// The officer's review queue.
    AwaitingReview,
    /// Every one (the officer).
    All,
    /// The caller's own.
    Mine,
}

fn justification_context(id: BreakGlassId) -> String {
    format!("break_glass.justification:{id}")
}

fn comment_context(id: BreakGlassId) -> String {
    format!("break_glass.review_comment:{id}")
}

/// A time as mails give it: the day and the minute, in UTC.
fn utc_minute(t: Timestamp) -> String {
    format!(
        "{} {:02}:{:02}",
        custos_domain::iso(t.date()),
        t.hour(),
        t.minute()
    )
}

fn text(field: &'static str, raw: &str, min: usize) -> Result<String, AppError> {
    super::checked_text(field, raw, min, 2000)
}

impl App {
    /// Opens emergency access to `matter` for the caller, for `hours` (default and longest:
    /// the firm's setting, 4 h unless configured, never more than 24 h).
    pub async fn break_glass(
        &self,
        caller: &Caller,
        matter: MatterId,
        justification: &str,
        hours: Option<u32>,
    ) -> Result<BreakGlassView, AppError> {
        let action = Action::BreakGlass;
        let mut tx = self.store.begin().await?;
        let loaded = tx.matter(matter).await?;
        let (mut tx, row) = self
            .found(tx, caller, action, || format!("matter:{matter}"), loaded)
            .await?;
        let longest = self.settings.break_glass;
        let lasts = match hours {
            None => Ok(longest),
            Some(h) if h >= 1 && time::Duration::hours(i64::from(h)) <= longest => {
                Ok(time::Duration::hours(i64::from(h)))
            }
            Some(_) => Err(AppError::BadInput(format!(
                "hours must be 1 to {} (the firm's limit)",
                longest.whole_hours()
            ))),
        };
        let checked = text("justification", justification, MIN_JUSTIFICATION)
            .and_then(|j| lasts.map(|l| (j, l)));
        let (justification, lasts) = match checked {
            Ok(ok) => ok,
            Err(e) => {
                drop(tx);
                return Err(e);
            }
        };
        let facts = self.facts(&mut *tx, caller, action).await?;
        let resource = Resource::Matter(matter_facts(&row));
        let already = Self::decide(&facts.0, Action::ViewMatter, &resource, &facts.1);
        let (mut tx, _permit) = self
            .gate_with(tx, caller, action, &resource, &facts)
            .await?;
        if already.is_allowed() && already.permit().map(|p| p.scope()) == Some(Scope::Full) {
            let how = if already.by_break_glass() {
                "an emergency access of yours to this matter is still open"
            } else {
                "you already have access to this matter: no emergency access is needed"
            };
            return Err(reject(tx, AppError::Conflict(how.to_owned())).await);
        }
        let now = self.now();
        let id = BreakGlassId::new();
        let stored = BreakGlassRow {
            id,
            person: caller.person,
            matter,
            justification: self.seal_note(&justification_context(id), &justification)?,
            opened_at: now,
            expires_at: now + lasts,
            review: None,
        };
        tx.insert_break_glass(&stored).await?;
        self.audit_event(
            &mut *tx,
            AuditEvent {
                request_id: caller.request_id,
                actor: Some(caller.person),
                action: crate::vocabulary::ACTION_BREAK_GLASS_OPEN,
                resource: format!("break_glass:{id}"),
                outcome: Outcome::Allow,
                rule: Rule::BreakGlass.code(),
                message: format!(
                    "emergency access to matter {matter} opened for {} h with a written \
                     justification; the officer is alerted and reviews it",
                    lasts.whole_hours()
                ),
                detail: serde_json::json!({
                    "break_glass": true,
                    "matter": matter.to_string(),
                    "expires_at": custos_audit::unix_ms(stored.expires_at),
                }),
            },
        )
        .await?;
        let view = self.break_glass_view(&mut *tx, stored, now).await?;
        self.alert_officers(&mut tx, &view).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// R6 "notified": every active confidentiality officer with a mail address is mailed at
    /// once, in the unit that opens the access (it names the person and the matter's number,
    /// never the client or the justification).
    async fn alert_officers(&self, tx: &mut crate::Tx, v: &BreakGlassView) -> Result<(), AppError> {
        let firm = self.firm_in_words();
        let url = format!("{}/break-glass", self.settings.public_url);
        for officer in tx.active_with_role(custos_domain::Role::Officer).await? {
            if let Some(to) = tx.mail_address(officer).await? {
                let body = format!(
                    "{} opened emergency access to matter {} at {} (UTC), until {} (UTC), with \
                     a written justification.\n\nReview it, or end it at once: {url}\n\n\
                     This message names no client and holds no client information.",
                    v.person_name,
                    v.matter_number,
                    utc_minute(v.opened_at),
                    utc_minute(v.expires_at),
                );
                self.queue_mail(
                    &mut **tx,
                    &to,
                    format!("Emergency access opened ({firm})"),
                    body,
                )
                .await?;
            }
        }
        Ok(())
    }

    /// The officer's unit of work on the break-glass access `id` (her review duty gated).
    async fn break_glass_to_review(
        &self,
        caller: &Caller,
        id: BreakGlassId,
    ) -> Result<(crate::Tx, BreakGlassRow), AppError> {
        let tx = self.store.begin().await?;
        let (mut tx, _permit) = self
            .gate(tx, caller, Action::ReviewBreakGlass, &Resource::Firm)
            .await?;
        match tx.break_glass(id).await? {
            Some(row) => Ok((tx, row)),
            None => Err(reject(tx, AppError::NotFound).await),
        }
    }

    /// Ends an open emergency access at once (the officer): it opens nothing from the next
    /// request on, and stays in the review queue until reviewed.
    pub async fn end_break_glass(
        &self,
        caller: &Caller,
        id: BreakGlassId,
    ) -> Result<BreakGlassView, AppError> {
        let (mut tx, row) = self.break_glass_to_review(caller, id).await?;
        let now = self.now();
        if !tx.end_break_glass(id, now).await? {
            let err = AppError::Conflict("this emergency access has already ended".to_owned());
            return Err(reject(tx, err).await);
        }
        self.audit_event(
            &mut *tx,
            AuditEvent {
                request_id: caller.request_id,
                actor: Some(caller.person),
                action: crate::vocabulary::ACTION_BREAK_GLASS_END,
                resource: format!("break_glass:{id}"),
                outcome: Outcome::Allow,
                rule: Rule::BreakGlass.code(),
                message: format!("the officer ended break-glass {id} at once"),
                detail: serde_json::json!({ "person": row.person.to_string() }),
            },
        )
        .await?;
        let view = self
            .break_glass_view(
                &mut *tx,
                BreakGlassRow {
                    expires_at: now,
                    ..row
                },
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Closes the officer's review of a break-glass access as justified or not, with a
    /// comment. A justified access still open stays open until it expires; an unjustified one
    /// ends at once.
    pub async fn review_break_glass(
        &self,
        caller: &Caller,
        id: BreakGlassId,
        justified: bool,
        comment: &str,
    ) -> Result<BreakGlassView, AppError> {
        let comment = text("comment", comment, 1)?;
        let (mut tx, row) = self.break_glass_to_review(caller, id).await?;
        let now = self.now();
        let review = BreakGlassReview {
            by: caller.person,
            at: now,
            justified,
            comment: self.seal_note(&comment_context(id), &comment)?,
        };
        if !tx.review_break_glass(id, &review).await? {
            let err = AppError::Conflict("this emergency access was already reviewed".to_owned());
            return Err(reject(tx, err).await);
        }
        // An unjustified access ends now, if it is still open.
        let ended = !justified && tx.end_break_glass(id, now).await?;
        let expires_at = if ended { now } else { row.expires_at };
        let verdict = if justified {
            "justified"
        } else {
            "unjustified"
        };
        self.audit_event(
            &mut *tx,
            AuditEvent {
                request_id: caller.request_id,
                actor: Some(caller.person),
                action: crate::vocabulary::ACTION_BREAK_GLASS_CLOSE,
                resource: format!("break_glass:{id}"),
                outcome: Outcome::Allow,
                rule: Rule::BreakGlass.code(),
                message: format!(
                    "the officer closed the review of break-glass {id}: {verdict}{}",
                    if ended {
                        "; the access ended at once"
                    } else {
                        ""
                    }
                ),
                detail: serde_json::json!({
                    "verdict": verdict,
                    "person": row.person.to_string(),
                    "ended": ended,
                }),
            },
        )
        .await?;
        let view = self
            .break_glass_view(
                &mut *tx,
                BreakGlassRow {
                    review: Some(review),
                    expires_at,
                    ..row
                },
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(view)
    }

    /// The officer's review queue, every access (the officer), or the caller's own.
    pub async fn list_break_glass(
        &self,
        caller: &Caller,
        which: BreakGlassList,
        page: &PageRequest,
    ) -> Result<Page<BreakGlassView>, AppError> {
        let tx = self.store.begin_read().await?;
        let (mut tx, filter) = match which {
            BreakGlassList::Mine => {
                let mut tx = tx;
                self.audit_event(
                    &mut *tx,
                    AuditEvent::self_service(
                        caller,
                        crate::vocabulary::ACTION_BREAK_GLASS_LIST,
                        "a person may see their own emergency accesses",
                        serde_json::Value::Null,
                    ),
                )
                .await?;
                (tx, BreakGlassFilter::OpenedBy(caller.person))
            }
            BreakGlassList::AwaitingReview | BreakGlassList::All => {
                let (tx, _permit) = self
                    .gate(tx, caller, Action::ReviewBreakGlass, &Resource::Firm)
                    .await?;
                let filter = if which == BreakGlassList::All {
                    BreakGlassFilter::All
                } else {
                    BreakGlassFilter::AwaitingReview
                };
                (tx, filter)
            }
        };
        let limit = page.limit();
        let mut rows = tx
            .list_break_glass(filter, page.cursor.map(BreakGlassId), limit + 1)
            .await?;
        let next_cursor = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last().map(|r| r.id.to_string())
        } else {
            None
        };
        let now = self.now();
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            items.push(self.break_glass_view(&mut *tx, row, now).await?);
        }
        tx.commit().await?;
        Ok(Page { items, next_cursor })
    }

    /// How many emergency accesses wait for the officer's review (`None` for anyone else).
    pub async fn break_glass_awaiting(&self, caller: &Caller) -> Result<Option<i64>, AppError> {
        let mut tx = self.store.begin_read().await?;
        let (principal, ctx) = self
            .facts(&mut *tx, caller, Action::ReviewBreakGlass)
            .await?;
        if !Self::decide(&principal, Action::ReviewBreakGlass, &Resource::Firm, &ctx).is_allowed() {
            return Ok(None);
        }
        Ok(Some(tx.count_awaiting_review().await?))
    }

    async fn break_glass_view(
        &self,
        tx: &mut dyn custos_store::StoreTx,
        row: BreakGlassRow,
        now: Timestamp,
    ) -> Result<BreakGlassView, AppError> {
        let person_name = tx
            .person(row.person)
            .await?
            .map(|p| p.person.display_name)
            .unwrap_or_default();
        let number = tx.matter(row.matter).await?.map(|m| m.number).unwrap_or(0);
        let (verdict, review_comment, reviewed_by) = match &row.review {
            Some(r) => (
                Some(if r.justified {
                    "justified"
                } else {
                    "unjustified"
                }),
                Some(self.open_note(&comment_context(row.id), &r.comment)?),
                Some(r.by),
            ),
            None => (None, None, None),
        };
        Ok(BreakGlassView {
            id: row.id,
            person: row.person,
            person_name,
            matter: row.matter,
            matter_number: MatterNumber(number),
            justification: self.open_note(&justification_context(row.id), &row.justification)?,
            opened_at: row.opened_at,
            expires_at: row.expires_at,
            active: row.expires_at > now,
            verdict,
            review_comment,
            reviewed_by,
        })
    }
}
