//! Notices to the firm's own people by mail (R12): a transfer waiting for their approval, their
//! request refused or released. Sent only to those who gave a mail address for notices (their
//! own account page); never client content: no titles, no names of clients, no reasons typed
//! by an approver, only that something waits and where to sign in. The approval queue on
//! `/transfers` stays the place of record.

use crate::usecases::transfers::Gathered;
use crate::{App, AppError, AuditEvent, Caller};
use custos_audit::Outcome;
use custos_domain::{LegalBasis, PersonId, Role, TransferId, email_address};
use custos_policy::{ApprovalFacts, Rule};
use custos_store::StoreTx;

/// What a notice says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Notice {
    /// A transfer waits for the person's approval.
    ApprovalWaiting,
    /// The person's request was refused (the reason is shown only after signing in).
    Refused,
    /// The person's request was released to its recipient.
    Released,
    /// The person's request was voided by a change of facts.
    Voided,
}

impl App {
    /// The firm's name as mails and outside pages give it ("the firm" when none is set).
    pub(crate) fn firm_in_words(&self) -> String {
        match self.settings.firm_name.trim() {
            "" => "the firm".to_owned(),
            name => name.to_owned(),
        }
    }

    /// Queues `notice` about transfer `id` to each of `people` who gave a mail address.
    pub(crate) async fn notify(
        &self,
        tx: &mut dyn StoreTx,
        people: &[PersonId],
        id: TransferId,
        notice: Notice,
    ) -> Result<(), AppError> {
        let firm = self.firm_in_words();
        let url = format!("{}/transfers", self.settings.public_url);
        let (subject, what) = match notice {
            Notice::ApprovalWaiting => (
                "A transfer waits for your approval",
                "A request to send documents outside the firm waits for your approval.",
            ),
            Notice::Refused => (
                "Your transfer request was refused",
                "Your request to send documents outside the firm was refused; the reason is \
                 shown when you sign in.",
            ),
            Notice::Released => (
                "Your transfer was released",
                "Your request to send documents outside the firm has both approvals; the \
                 recipient has been sent the link.",
            ),
            Notice::Voided => (
                "Your transfer request was voided",
                "Your request to send documents outside the firm was voided because the facts \
                 it rested on changed; the reason is shown when you sign in.",
            ),
        };
        let mut sent = Vec::new();
        for person in people {
            if sent.contains(person) {
                continue;
            }
            sent.push(*person);
            if let Some(to) = tx.mail_address(*person).await? {
                let body = format!(
                    "{what}\n\nTransfer {id}. Sign in to {firm}'s Custos to see it: {url}\n\n\
                     This message names no client and holds no client information."
                );
                self.queue_mail(tx, &to, format!("{subject} ({firm})"), body)
                    .await?;
            }
        }
        Ok(())
    }

    /// Who may give a transfer's approvals (R12), for the notice that it waits: the active
    /// officers, and the lead approval's candidates (the matter's lead; the client's
    /// responsible partner when the requester leads the team or for imminent harm). Never the
    /// requester. Each still decides at approval.
    pub(crate) async fn approvers_of(
        &self,
        tx: &mut dyn StoreTx,
        g: &Gathered,
        a: &ApprovalFacts,
    ) -> Result<Vec<PersonId>, AppError> {
        let mut out = tx.active_with_role(Role::Officer).await?;
        if a.requester_leads_team || a.exception == Some(LegalBasis::ImminentHarm) {
            out.push(a.responsible_partner);
        } else {
            let team = tx.team(g.matter.team).await?.and_then(|t| t.lead);
            out.push(team.unwrap_or(g.matter.lead));
        }
        out.retain(|p| *p != a.requester);
        Ok(out)
    }

    /// The caller's own mail address for notices, if they gave one.
    pub async fn my_mail_address(&self, caller: &Caller) -> Result<Option<String>, AppError> {
        let mut tx = self.store.begin_read().await?;
        let address = tx.mail_address(caller.person).await?;
        tx.commit().await?;
        Ok(address)
    }

    /// Sets (or, with an empty text, removes) the caller's own mail address for notices.
    /// Audited; the address itself is not written to the log.
    pub async fn set_my_mail_address(
        &self,
        caller: &Caller,
        raw: &str,
    ) -> Result<Option<String>, AppError> {
        let email = match raw.trim() {
            "" => None,
            given => Some(email_address(given)?),
        };
        let mut tx = self.store.begin().await?;
        let now = self.now();
        tx.set_mail_address(caller.person, email.as_deref(), caller.person, now)
            .await?;
        self.audit_event(
            &mut *tx,
            AuditEvent {
                request_id: caller.request_id,
                actor: Some(caller.person),
                action: crate::vocabulary::ACTION_MAIL_ADDRESS,
                resource: format!("person:{}", caller.person),
                outcome: Outcome::Allow,
                rule: Rule::RoleDuty.code(),
                message: if email.is_some() {
                    "mail address for notices set".to_owned()
                } else {
                    "mail address for notices removed".to_owned()
                },
                detail: serde_json::Value::Null,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(email)
    }
}
