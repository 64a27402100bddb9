//! Mail: every message (one-time codes, release links) is queued in the `outbox` table in the
//! unit of work that decided it, so the embedded default works with no mail server (the
//! officer sees the outbox). When `[mail]` is configured, the `mail.send` job hands queued
//! messages to the firm's SMTP relay over STARTTLS (required: a relay that does not offer it
//! gets nothing, not even credentials), then erases the body of each sent message (codes and
//! links do not stay in the database once delivered). No client content is ever in a mail.

use crate::jobs::{Job, JobReport, JobSpec};
use crate::{App, AppError};
use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `[mail]` in the configuration: the firm's SMTP relay.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    /// The relay's host name (its certificate must name it).
    pub smtp_host: String,
    /// Its submission port (default 587).
    #[serde(default = "default_port")]
    pub smtp_port: u16,
    /// The sender address, e.g. `custos@firm.example`.
    pub from: String,
    /// The account to authenticate as, if the relay needs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// A file (relative to the data directory) holding the account's password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<String>,
    /// A PEM file (relative to the data directory) with the CA that signs the relay's
    /// certificate, when it is not a public one; then only that CA is trusted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
}

fn default_port() -> u16 {
    587
}

/// Sends mail through the configured relay.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from).finish()
    }
}

fn config_error(what: impl std::fmt::Display) -> AppError {
    AppError::BadInput(format!("mail configuration: {what}"))
}

impl Mailer {
    /// A mailer for `config`; `password` and `ca_pem` already read from their files.
    pub fn new(
        config: &MailConfig,
        password: Option<String>,
        ca_pem: Option<&[u8]>,
    ) -> Result<Self, AppError> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| config_error(format!("`from`: {e}")))?;
        let mut tls = TlsParameters::builder(config.smtp_host.clone());
        if let Some(pem) = ca_pem {
            let ca =
                Certificate::from_pem(pem).map_err(|e| config_error(format!("ca_file: {e}")))?;
            tls = tls
                .certificate_store(CertificateStore::None)
                .add_root_certificate(ca);
        }
        let tls = tls.build().map_err(config_error)?;
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.smtp_host.as_str())
                .port(config.smtp_port)
                .tls(Tls::Required(tls))
                .timeout(Some(std::time::Duration::from_secs(20)));
        if let Some(user) = &config.username {
            builder =
                builder.credentials(Credentials::new(user.clone(), password.unwrap_or_default()));
        }
        Ok(Mailer {
            transport: builder.build(),
            from,
        })
    }

    /// Sends one plain-text message.
    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), String> {
        let to: Mailbox = to.parse().map_err(|e| format!("recipient address: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .body(body.to_owned())
            .map_err(|e| format!("message: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// What one pass over the outbox did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxRun {
    /// Messages handed to the relay.
    pub sent: u64,
    /// Messages the relay did not take (they stay queued, with the error).
    pub failed: u64,
}

/// Mails waiting longer than this many attempts are left for the officer to look at.
const MAX_ATTEMPTS: i64 = 10;

impl App {
    /// This node sends the outbox through `mailer`.
    pub fn with_mailer(mut self, mailer: Mailer) -> Self {
        self.mailer = Some(Arc::new(mailer));
        self
    }

    /// Whether this node hands the outbox to a relay.
    pub fn sends_mail(&self) -> bool {
        self.mailer.is_some()
    }

    /// Hands every queued message to the relay (none configured: nothing happens): a sent
    /// message is marked sent and its body erased; a refused one stays queued with the error.
    pub async fn send_outbox(&self) -> Result<OutboxRun, AppError> {
        let Some(mailer) = self.mailer.clone() else {
            return Ok(OutboxRun::default());
        };
        let mut tx = self.store.begin_read().await?;
        let queued = tx.unsent_mail(MAX_ATTEMPTS, 100).await?;
        tx.commit().await?;
        let mut run = OutboxRun::default();
        for m in queued {
            let m = self.open_mail(m)?;
            let outcome = mailer.send(&m.to, &m.subject, &m.body).await;
            let mut tx = self.store.begin().await?;
            match outcome {
                Ok(()) => {
                    tx.mark_mail_sent(m.id, self.now()).await?;
                    run.sent += 1;
                }
                Err(e) => {
                    tracing::warn!(mail = %m.id, error = %e, "the mail relay refused a message");
                    tx.mark_mail_failed(m.id, &e).await?;
                    run.failed += 1;
                }
            }
            tx.commit().await?;
        }
        Ok(run)
    }
}

/// The `mail.send` job: the outbox, every 10 seconds, when a relay is configured.
#[derive(Debug)]
pub(crate) struct MailJob;

#[async_trait]
impl Job for MailJob {
    fn spec(&self) -> JobSpec {
        JobSpec {
            name: "mail.send",
            every: time::Duration::seconds(10),
            lease: time::Duration::minutes(5),
        }
    }

    async fn run(&self, app: &App) -> Result<JobReport, AppError> {
        let run = app.send_outbox().await?;
        Ok(JobReport {
            changed: run.sent + run.failed,
            detail: serde_json::json!({ "sent": run.sent, "failed": run.failed }),
        })
    }
}
