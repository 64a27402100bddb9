//! The mail outbox (R12): what waits for the relay or, with no relay, for the officer to pass
//! on by hand; a sent message's text is erased. Address, subject and body are sealed under the
//! key-encryption key, each bound to the mail's id: a release link or a one-time code is a
//! credential, and whoever reads the database (an administrator, a backup) must not hold one.

use crate::{App, AppError, Caller, Page, PageRequest};
use custos_domain::Timestamp;
use custos_policy::{Action, Resource};
use custos_store::{MailRow, StoreTx};
use serde::Serialize;

/// A mail in the outbox.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MailView {
    /// To.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Body.
    pub body: String,
    /// Queued at.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub queued_at: Timestamp,
    /// Sent at (absent: waiting).
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub sent_at: Option<Timestamp>,
    /// Attempts to hand it to the relay.
    pub attempts: i64,
    /// The relay's last refusal.
    pub last_error: Option<String>,
}

impl App {
    /// The mail outbox, newest first (the officer).
    pub async fn outbox(
        &self,
        caller: &Caller,
        page: &PageRequest,
    ) -> Result<Page<MailView>, AppError> {
        let tx = self.store.begin_read().await?;
        let (mut tx, _permit) = self
            .gate(tx, caller, Action::ViewOutbox, &Resource::Firm)
            .await?;
        let limit = page.limit();
        let rows = tx.list_outbox(page.cursor, limit).await?;
        tx.commit().await?;
        let next_cursor = (rows.len() == limit as usize)
            .then(|| rows.last().map(|r| r.id.to_string()))
            .flatten();
        Ok(Page {
            items: rows
                .into_iter()
                .map(|m| {
                    let m = self.open_mail(m)?;
                    Ok(MailView {
                        to: m.to,
                        subject: m.subject,
                        body: m.body,
                        queued_at: m.created_at,
                        sent_at: m.sent_at,
                        attempts: m.attempts,
                        last_error: m.last_error,
                    })
                })
                .collect::<Result<_, AppError>>()?,
            next_cursor,
        })
    }

    /// Queues a mail to the outbox (never client content).
    pub(crate) async fn queue_mail(
        &self,
        tx: &mut dyn StoreTx,
        to: &str,
        subject: String,
        body: String,
    ) -> Result<(), AppError> {
        let id = uuid::Uuid::now_v7();
        tx.queue_mail(&MailRow {
            id,
            to: self.seal_note(&mail_context("to", id), to)?,
            subject: self.seal_note(&mail_context("subject", id), &subject)?,
            body: self.seal_note(&mail_context("body", id), &body)?,
            created_at: self.now(),
            sent_at: None,
            attempts: 0,
            last_error: None,
        })
        .await?;
        Ok(())
    }
}

/// What a sealed part of a mail is bound to: the part and the mail's id, so a sealed body
/// cannot be moved to another mail or read as its address.
fn mail_context(part: &str, id: uuid::Uuid) -> String {
    format!("outbox.{part}:{id}")
}

impl App {
    /// A stored mail with its address, subject and body opened (an erased body stays empty).
    pub(crate) fn open_mail(&self, m: MailRow) -> Result<MailRow, AppError> {
        Ok(MailRow {
            to: self.open_note(&mail_context("to", m.id), &m.to)?,
            subject: self.open_note(&mail_context("subject", m.id), &m.subject)?,
            body: self.open_note(&mail_context("body", m.id), &m.body)?,
            ..m
        })
    }
}
