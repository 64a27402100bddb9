//! The two approvals of a transfer (R12), its refusal, and revoking its link.

use crate::usecases::consents::bounded_text;
use crate::usecases::notices::Notice;
use crate::usecases::transfer_views::TransferView;
use crate::usecases::transfers::{Gathered, fingerprint, sealed_context};
use crate::{App, AppError, AuditEvent, Caller, Tx, reject};
use custos_audit::Outcome;
use custos_domain::{PersonId, Timestamp, TransferId};
use custos_policy::{
    Action, ApprovalFacts, Resource, Rule, Slot, TransferSight, approval_slot, check_transfer,
    may_revoke_release,
};
use custos_store::{ApprovalRow, ReleaseLinkRow, StoreTx, TransferRow, TransferStatus};

impl App {
    /// Loads a transfer for someone who acts on it; hidden (not found) from those who may not
    /// see it.
    pub(crate) async fn transfer_for(
        &self,
        tx: Tx,
        caller: &Caller,
        action: Action,
        id: TransferId,
    ) -> Result<
        (
            Tx,
            TransferRow,
            (custos_policy::Principal, custos_policy::Context),
        ),
        AppError,
    > {
        let mut tx = tx;
        let facts = self.facts(&mut *tx, caller, action).await?;
        let name = || format!("transfer:{id}");
        let loaded = tx.transfer(id).await?;
        let (mut tx, t) = self.found(tx, caller, action, name, loaded).await?;
        let matter = tx.matter(t.matter).await?;
        let (tx, matter) = self.found(tx, caller, action, name, matter).await?;
        let sight = Resource::Transfer(TransferSight {
            id,
            requester: t.requester,
            matter: crate::facts::matter_facts(&matter),
        });
        // Seeing the transfer comes first: one the caller may not see is refused as not found,
        // and that refusal is what the log says; then the action's own rule.
        let seen = Self::decide(&facts.0, Action::ViewTransfers, &sight, &facts.1);
        let (tx, _permit) = if action == Action::ViewTransfers || !seen.is_allowed() {
            self.enforce(tx, caller, action, &sight, seen).await?
        } else {
            self.gate_with(tx, caller, action, &Resource::Firm, &facts)
                .await?
        };
        Ok((tx, t, facts))
    }

    /// A transfer, with the checks run now.
    pub async fn get_transfer(
        &self,
        caller: &Caller,
        id: TransferId,
    ) -> Result<TransferView, AppError> {
        let tx = self.store.begin_read().await?;
        let (mut tx, _, viewer) = self
            .transfer_for(tx, caller, Action::ViewTransfers, id)
            .await?;
        let view = self.transfer_view(&mut *tx, id, &viewer).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Approves a transfer as the matter's team lead (or designated partner) or as the
    /// officer. The checks run again first; if they fail, or the facts differ from those of
    /// the first approval, the transfer is voided. The second approval releases it.
    pub async fn approve_transfer(
        &self,
        caller: &Caller,
        id: TransferId,
    ) -> Result<TransferView, AppError> {
        let action = Action::ApproveTransfer;
        let tx = self.store.begin().await?;
        let (mut tx, t, approver) = self.transfer_for(tx, caller, action, id).await?;
        // Concurrent approvals of one transfer wait here for each other, so the second sees
        // the first and releases.
        if t.status != TransferStatus::Pending || !tx.lock_pending_transfer(id).await? {
            let e = AppError::Conflict("this transfer is no longer pending".to_owned());
            return Err(reject(tx, e).await);
        }
        let g = self.gather(&mut *tx, &t).await?;
        let facts = self.approval_facts(&mut *tx, &t, &g).await?;
        let slot = match approval_slot(&approver.0, &facts) {
            Ok(slot) => slot,
            Err(why) => {
                return Err(self.refused(tx, caller, id, action.as_str(), why).await);
            }
        };
        let now = self.now();
        let check = check_transfer(&g.requester.0, &g.facts, &g.requester.1);
        let print = fingerprint(&g);
        let stale = tx
            .approvals(id)
            .await?
            .iter()
            .any(|a| a.fingerprint != print);
        let void = match check.first_failure() {
            Some(failed) => Some((failed.rule, failed.message.clone())),
            None if stale => Some((
                Rule::TwoPerson,
                "the facts changed since the first approval (consent, agreement, documents or \
                 walls): that approval is void"
                    .to_owned(),
            )),
            None => None,
        };
        if let Some((rule, why)) = void {
            tx.close_transfer(
                id,
                TransferStatus::Pending,
                TransferStatus::Voided,
                Some(&why),
                now,
            )
            .await?;
            let message = format!("voided at approval: {why}");
            self.transfer_event(
                &mut *tx,
                caller,
                id,
                crate::vocabulary::ACTION_TRANSFER_VOID,
                Outcome::Deny,
                rule,
                message.clone(),
            )
            .await?;
            self.notify(&mut *tx, &[t.requester], id, Notice::Voided)
                .await?;
            tx.commit().await?;
            return Err(AppError::Conflict(message));
        }
        let row = Self::approval_row(caller.person, slot, print, now);
        tx.insert_approval(id, &row).await?;
        self.transfer_event(
            &mut *tx,
            caller,
            id,
            action.as_str(),
            Outcome::Allow,
            Rule::TwoPerson,
            format!("approved as {}", slot.as_str()),
        )
        .await?;
        if facts.given.len() + 1 >= 2 {
            self.release(&mut *tx, caller, &t, &g, now).await?;
            self.notify(&mut *tx, &[t.requester], id, Notice::Released)
                .await?;
        }
        let view = self.transfer_view(&mut *tx, id, &approver).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Issues the link of a transfer with both approvals and mails it to the recipient.
    async fn release(
        &self,
        tx: &mut dyn custos_store::StoreTx,
        caller: &Caller,
        t: &TransferRow,
        g: &Gathered,
        now: Timestamp,
    ) -> Result<(), AppError> {
        let token = custos_crypto::random_token()?;
        let expires_at = now + time::Duration::days(i64::from(t.link_days));
        let link = ReleaseLinkRow {
            id: custos_domain::ReleaseLinkId::new(),
            transfer: t.id,
            token_hash: crate::usecases::transfers::stored_hash(&token),
            passphrase_hash: t.passphrase_hash.clone(),
            expires_at,
            download_limit: t.download_limit,
            downloads: 0,
            wrong_codes: 0,
            codes_sent: 0,
            revoked: None,
            created_at: now,
        };
        tx.insert_link(&link).await?;
        tx.close_transfer(
            t.id,
            TransferStatus::Pending,
            TransferStatus::Released,
            None,
            now,
        )
        .await?;
        let firm = self.firm_in_words();
        let body = format!(
            "{firm} has released {} document(s) to you through Custos.\n\n\
             Open: {}/release/{}\n\n\
             The link works until {} (UTC) for at most {} download(s). When you open it, a \
             one-time code is sent to this address{}.\n\n\
             If you did not expect this, do not open the link and tell {firm}.",
            g.documents.len(),
            self.settings.public_url,
            token.as_str(),
            custos_domain::iso(expires_at.date()),
            t.download_limit,
            if t.passphrase_hash.is_some() {
                "; you also need the passphrase agreed with the firm"
            } else {
                ""
            },
        );
        self.queue_mail(
            tx,
            &g.recipient.email,
            format!("Documents from {firm}"),
            body,
        )
        .await?;
        self.transfer_event(
            tx,
            caller,
            t.id,
            crate::vocabulary::ACTION_TRANSFER_RELEASE,
            Outcome::Allow,
            Rule::TwoPerson,
            format!(
                "released with both approvals: a link for recipient {} until {}, {} download(s)",
                t.recipient,
                custos_domain::iso(expires_at.date()),
                t.download_limit
            ),
        )
        .await
    }

    /// Refuses a transfer with a reason; only someone who could approve it may refuse it.
    pub async fn refuse_transfer(
        &self,
        caller: &Caller,
        id: TransferId,
        reason: &str,
    ) -> Result<TransferView, AppError> {
        let reason = bounded_text("reason", reason, 2000)?;
        let action = Action::ApproveTransfer;
        let tx = self.store.begin().await?;
        let (mut tx, t, approver) = self.transfer_for(tx, caller, action, id).await?;
        if t.status != TransferStatus::Pending || !tx.lock_pending_transfer(id).await? {
            let e = AppError::Conflict("this transfer is no longer pending".to_owned());
            return Err(reject(tx, e).await);
        }
        let g = self.gather(&mut *tx, &t).await?;
        let facts = self.approval_facts(&mut *tx, &t, &g).await?;
        if let Err(why) = approval_slot(&approver.0, &facts) {
            return Err(self
                .refused(
                    tx,
                    caller,
                    id,
                    crate::vocabulary::ACTION_TRANSFER_REFUSE,
                    why,
                )
                .await);
        }
        let now = self.now();
        let sealed = self.seal_note(&sealed_context("status_reason", id), &reason)?;
        tx.close_transfer(
            id,
            TransferStatus::Pending,
            TransferStatus::Refused,
            Some(&sealed),
            now,
        )
        .await?;
        self.transfer_event(
            &mut *tx,
            caller,
            id,
            crate::vocabulary::ACTION_TRANSFER_REFUSE,
            Outcome::Allow,
            Rule::TwoPerson,
            "refused with a reason".to_owned(),
        )
        .await?;
        self.notify(&mut *tx, &[t.requester], id, Notice::Refused)
            .await?;
        let view = self.transfer_view(&mut *tx, id, &approver).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Revokes a transfer's link at once (the requester or the officer).
    pub async fn revoke_release(
        &self,
        caller: &Caller,
        id: TransferId,
        reason: &str,
    ) -> Result<TransferView, AppError> {
        let reason = bounded_text("reason", reason, 2000)?;
        let action = Action::RevokeRelease;
        let tx = self.store.begin().await?;
        let (mut tx, t, principal) = self.transfer_for(tx, caller, action, id).await?;
        if let Err(why) = may_revoke_release(&principal.0, t.requester) {
            return Err(self.refused(tx, caller, id, action.as_str(), why).await);
        }
        let now = self.now();
        let revoked = match tx.link_of(id).await? {
            Some(link) => {
                let sealed = self.seal_note(&sealed_context("revoke_reason", link.id), &reason)?;
                tx.revoke_link(link.id, Some(caller.person), now, &sealed)
                    .await?
            }
            None => false,
        };
        if !revoked {
            let e = AppError::Conflict("this transfer has no live link".to_owned());
            return Err(reject(tx, e).await);
        }
        self.transfer_event(
            &mut *tx,
            caller,
            id,
            action.as_str(),
            Outcome::Allow,
            Rule::Release,
            "link revoked".to_owned(),
        )
        .await?;
        let view = self.transfer_view(&mut *tx, id, &principal).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Audits a refusal on a transfer with the policy's reason, commits, and returns it as
    /// `Forbidden` (or the error that kept it from being audited: fail closed).
    pub(crate) async fn refused(
        &self,
        mut tx: Tx,
        caller: &Caller,
        id: TransferId,
        action: &str,
        why: custos_policy::Reason,
    ) -> AppError {
        let audited = self
            .transfer_event(
                &mut *tx,
                caller,
                id,
                action,
                Outcome::Deny,
                why.rule,
                why.message.clone(),
            )
            .await;
        if let Err(e) = audited {
            return e;
        }
        match tx.commit().await {
            Ok(()) => AppError::Forbidden {
                rule: why.rule.code().to_owned(),
                message: why.message,
            },
            Err(e) => e.into(),
        }
    }

    #[expect(clippy::too_many_arguments, reason = "one audit entry's fields")]
    pub(crate) async fn transfer_event(
        &self,
        tx: &mut dyn custos_store::StoreTx,
        caller: &Caller,
        id: TransferId,
        action: &str,
        outcome: Outcome,
        rule: Rule,
        message: String,
    ) -> Result<(), AppError> {
        self.audit_event(
            tx,
            AuditEvent {
                request_id: caller.request_id,
                actor: Some(caller.person),
                action,
                resource: format!("transfer:{id}"),
                outcome,
                rule: rule.code(),
                message,
                detail: serde_json::Value::Null,
            },
        )
        .await
    }

    /// The approval facts of a transfer.
    pub(crate) async fn approval_facts(
        &self,
        tx: &mut dyn StoreTx,
        t: &TransferRow,
        g: &Gathered,
    ) -> Result<ApprovalFacts, AppError> {
        let client = tx
            .client(t.client)
            .await?
            .ok_or_else(|| AppError::Internal("a transfer's client vanished".to_owned()))?;
        let given = tx
            .approvals(t.id)
            .await?
            .into_iter()
            .map(|a| {
                let slot = if a.slot == "officer" {
                    Slot::Officer
                } else {
                    Slot::Lead
                };
                (a.person, slot)
            })
            .collect();
        Ok(ApprovalFacts {
            requester: t.requester,
            requester_leads_team: g.requester.0.led_teams.contains(&g.matter.team),
            matter: g.facts.matter,
            responsible_partner: client.responsible,
            exception: t.exception.as_ref().map(|e| e.basis),
            given,
        })
    }

    /// Whether the caller may see transfer `t` (the policy's `ViewTransfers` on the transfer:
    /// walls on its matter apply), for each row of a listing.
    pub(crate) fn sees_transfer(
        &self,
        (principal, ctx): &(custos_policy::Principal, custos_policy::Context),
        t: &TransferRow,
        matter: &custos_store::MatterRow,
    ) -> bool {
        let sight = Resource::Transfer(TransferSight {
            id: t.id,
            requester: t.requester,
            matter: crate::facts::matter_facts(matter),
        });
        Self::decide(principal, Action::ViewTransfers, &sight, ctx).is_allowed()
    }

    pub(crate) fn approval_row(
        person: PersonId,
        slot: Slot,
        fingerprint: String,
        at: Timestamp,
    ) -> ApprovalRow {
        ApprovalRow {
            person,
            slot: slot.as_str().to_owned(),
            fingerprint,
            at,
        }
    }
}
