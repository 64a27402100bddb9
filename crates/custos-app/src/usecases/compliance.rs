//! R4 preconditions on file: a person's confidentiality agreement and training, recorded by the
//! officer (an officer's, by a partner). Without both, the policy lets no one touch client data.

use crate::{App, AppError, AuditEvent, Caller};
use custos_domain::{Compliance, Person, PersonId};
use custos_policy::Action;

impl App {
    /// Records the day `person` signed the confidentiality agreement and the last day their
    /// training is valid (either may be cleared). Takes effect on the next request.
    pub async fn record_compliance(
        &self,
        caller: &Caller,
        person: PersonId,
        compliance: Compliance,
    ) -> Result<Person, AppError> {
        let (mut tx, row) = self
            .gated_person(caller, person, Action::ManageCompliance)
            .await?;
        let compliance = match compliance.check(self.today(self.now())) {
            Ok(c) => c,
            Err(e) => return Err(crate::reject(tx, e.into()).await),
        };
        tx.set_compliance(person, &compliance).await?;
        self.audit_event(
            &mut *tx,
            AuditEvent::role_duty(
                caller,
                crate::vocabulary::ACTION_COMPLIANCE_RECORD,
                person,
                "confidentiality agreement and training dates recorded",
                serde_json::to_value(compliance).unwrap_or_default(),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(Person {
            compliance,
            ..row.person
        })
    }

    /// What keeps the caller from client data today, in words (empty: nothing). For their
    /// own pages: a person may always know what they must renew.
    pub async fn my_missing_preconditions(
        &self,
        caller: &Caller,
    ) -> Result<Vec<custos_domain::Missing>, AppError> {
        let mut tx = self.store.begin_read().await?;
        let person = tx.person(caller.person).await?;
        drop(tx);
        Ok(person
            .map(|p| p.person.compliance.missing(self.today(self.now())))
            .unwrap_or_default())
    }
}
