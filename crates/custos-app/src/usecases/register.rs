//! The transfer register and live links (R12, R13): every transfer for the officer and
//! partners (filtered), the caller's approval queue and own requests; the live links and their
//! expiry; and the officer's record that a client was informed of a disclosure without consent.

use crate::usecases::transfer_views::{LinkView, TransferView, inform_due, link_view};
use crate::usecases::transfers::TransferList;
use crate::{App, AppError, Caller, Page, PageRequest, reject};
use custos_audit::Outcome;
use custos_domain::{Role, TransferId};
use custos_policy::{Action, Resource, Rule, approval_slot};
use custos_store::TransferFilter;

impl App {
    /// Transfers: the register (officer, partners), the caller's approval queue, or the
    /// caller's own requests; newest first.
    pub async fn list_transfers(
        &self,
        caller: &Caller,
        which: TransferList,
        page: &PageRequest,
    ) -> Result<Page<TransferView>, AppError> {
        let action = Action::ViewTransfers;
        let mut tx = self.store.begin_read().await?;
        let facts = self.facts(&mut *tx, caller, action).await?;
        let (mut tx, _permit) = self
            .gate_with(tx, caller, action, &Resource::Firm, &facts)
            .await?;
        let principal = &facts.0;
        let filter = match which {
            TransferList::Register(f) => {
                if !matches!(principal.role, Role::Officer | Role::Partner) {
                    let e = AppError::Forbidden {
                        rule: Rule::RoleDuty.code().to_owned(),
                        message: "the register is the officer's and the partners'".to_owned(),
                    };
                    return Err(reject(tx, e).await);
                }
                match f.store() {
                    Ok(filter) => filter,
                    Err(e) => return Err(reject(tx, e).await),
                }
            }
            TransferList::Queue => TransferFilter::Pending,
            TransferList::Mine => TransferFilter::RequestedBy(caller.person),
        };
        let limit = page.limit();
        let rows = tx
            .list_transfers(filter, page.cursor.map(TransferId), limit)
            .await?;
        let next_cursor = (rows.len() == limit as usize)
            .then(|| rows.last().map(|r| r.id.to_string()))
            .flatten();
        let mut items = Vec::new();
        let today = self.today(self.now());
        for t in rows {
            if let TransferList::Register(f) = which
                && f.inform_due
                && !inform_due(&t, today)
            {
                continue;
            }
            let g = self.gather(&mut *tx, &t).await?;
            // Each row is seen only as the transfer itself would be (walls on its matter
            // included): a listing shows nothing `GET /api/transfers/{id}` would hide.
            if !self.sees_transfer(&facts, &t, &g.matter) {
                continue;
            }
            if which == TransferList::Queue {
                let a = self.approval_facts(&mut *tx, &t, &g).await?;
                if approval_slot(principal, &a).is_err() {
                    continue;
                }
            }
            items.push(self.transfer_view_of(&mut *tx, t, g, &facts).await?);
        }
        tx.commit().await?;
        Ok(Page { items, next_cursor })
    }

    /// Records that the client was told of a disclosure without consent (R13): the officer
    /// only, once the transfer was released, and never while the order forbids it.
    pub async fn mark_client_informed(
        &self,
        caller: &Caller,
        id: TransferId,
    ) -> Result<TransferView, AppError> {
        // Loading the transfer is a view of it; what is recorded is `transfer.informed`.
        let action = Action::ViewTransfers;
        let tx = self.store.begin().await?;
        let (mut tx, t, viewer) = self.transfer_for(tx, caller, action, id).await?;
        if viewer.0.role != Role::Officer {
            let why = custos_policy::Reason {
                rule: Rule::LegalException,
                message: "the confidentiality officer records that the client was informed"
                    .to_owned(),
            };
            let informed = crate::vocabulary::ACTION_TRANSFER_INFORMED;
            return Err(self.refused(tx, caller, id, informed, why).await);
        }
        if !inform_due(&t, self.today(self.now())) {
            let e = AppError::Conflict(match &t.exception {
                None => "this transfer rests on the client's consent: nothing to inform".to_owned(),
                Some(e) if e.informed.is_some() => "the client was already informed".to_owned(),
                Some(e) if !e.inform_client => format!(
                    "the order forbids informing the client{}",
                    e.forbidden_until
                        .map(|u| format!(" until {}", custos_domain::iso(u)))
                        .unwrap_or_default()
                ),
                Some(_) => "the transfer was not released".to_owned(),
            });
            return Err(reject(tx, e).await);
        }
        let now = self.now();
        tx.set_client_informed(id, caller.person, now).await?;
        self.transfer_event(
            &mut *tx,
            caller,
            id,
            crate::vocabulary::ACTION_TRANSFER_INFORMED,
            Outcome::Allow,
            Rule::LegalException,
            "the client was informed of the disclosure afterwards".to_owned(),
        )
        .await?;
        let view = self.transfer_view(&mut *tx, id, &viewer).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Live links and their expiry: every one for the officer, one's own for others.
    pub async fn live_links(&self, caller: &Caller) -> Result<Vec<LinkView>, AppError> {
        let action = Action::ViewTransfers;
        let mut tx = self.store.begin_read().await?;
        let facts = self.facts(&mut *tx, caller, action).await?;
        let (mut tx, _permit) = self
            .gate_with(tx, caller, action, &Resource::Firm, &facts)
            .await?;
        let now = self.now();
        let mut out = Vec::new();
        for l in tx.live_links(now).await? {
            let Some(t) = tx.transfer(l.transfer).await? else {
                continue;
            };
            let Some(matter) = tx.matter(t.matter).await? else {
                continue;
            };
            let mine = t.requester == caller.person;
            if (mine || facts.0.role == Role::Officer) && self.sees_transfer(&facts, &t, &matter) {
                out.push(link_view(self, &l, now)?);
            }
        }
        tx.commit().await?;
        Ok(out)
    }
}
