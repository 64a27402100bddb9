//! People: the firm directory, creating accounts, suspending and marking departures.

use crate::listing::filtered_page;
use crate::{App, AppError, AuditEvent, Caller, Page, PageRequest, reject};
use custos_audit::Outcome;
use custos_domain::{Person, PersonId, PersonStatus, RequestId, Role, UserName};
use custos_policy::{Action, Resource};
use custos_store::PersonRow;
use zeroize::Zeroizing;

/// A person to create.
#[derive(Debug, Clone)]
pub struct NewPerson {
    /// Login name.
    pub user_name: String,
    /// Name shown to colleagues.
    pub display_name: String,
    /// Role.
    pub role: Role,
}

/// A one-time password: 96 random bits, shown once.
pub(crate) fn one_time_password() -> Result<Zeroizing<String>, AppError> {
    let token = custos_crypto::random_token()?;
    Ok(Zeroizing::new(token[..24].to_owned()))
}

impl App {
    /// Creates the first confidentiality officer of a new firm (no one exists yet to decide).
    pub async fn bootstrap_officer(
        &self,
        user_name: &str,
        display_name: &str,
    ) -> Result<(Person, Zeroizing<String>), AppError> {
        let password = one_time_password()?;
        let person = Person {
            id: PersonId::new(),
            user_name: UserName::parse(user_name)?,
            display_name: Person::parse_display_name(display_name)?,
            role: Role::Officer,
            status: PersonStatus::Active,
            created_at: self.now(),
            compliance: custos_domain::Compliance::default(),
        };
        let hash = self.passwords.hash(password.clone()).await?;
        let mut tx = self.store.begin().await?;
        if !tx.list_people(None, 1).await?.is_empty() {
            return Err(AppError::Conflict("the firm already has people".to_owned()));
        }
        tx.insert_person(&PersonRow {
            person: person.clone(),
            password_hash: hash,
            must_change_password: true,
            password_changed_at: person.created_at,
        })
        .await?;
        self.audit_event(
            &mut *tx,
            AuditEvent {
                request_id: RequestId::new(),
                actor: None,
                action: crate::vocabulary::ACTION_PERSON_BOOTSTRAP,
                resource: format!("person:{}", person.id),
                outcome: Outcome::Allow,
                rule: crate::vocabulary::RULE_BOOTSTRAP,
                message: "first confidentiality officer created at init".to_owned(),
                detail: serde_json::Value::Null,
            },
        )
        .await?;
        tx.commit().await?;
        Ok((person, password))
    }

    /// Creates an account; returns the person and their one-time password. Only from a login
    /// session (never an API token); roles that read client content only by the officer.
    pub async fn create_person(
        &self,
        caller: &Caller,
        new: NewPerson,
    ) -> Result<(Person, Zeroizing<String>), AppError> {
        self.create_person_with_password(caller, new, one_time_password()?, true)
            .await
    }

    /// Creates an account with a given initial password (the demo firm uses this).
    pub(crate) async fn create_person_with_password(
        &self,
        caller: &Caller,
        new: NewPerson,
        password: Zeroizing<String>,
        must_change_password: bool,
    ) -> Result<(Person, Zeroizing<String>), AppError> {
        let person = Person {
            id: PersonId::new(),
            user_name: UserName::parse(&new.user_name)?,
            display_name: Person::parse_display_name(&new.display_name)?,
            role: new.role,
            status: PersonStatus::Active,
            created_at: self.now(),
            compliance: custos_domain::Compliance::default(),
        };
        let hash = self.passwords.hash(password.clone()).await?;
        let tx = self.store.begin().await?;
        let resource = Resource::Person {
            id: person.id,
            role: person.role,
        };
        let (mut tx, _permit) = self
            .gate(tx, caller, Action::CreatePerson, &resource)
            .await?;
        if tx
            .person_by_user_name(person.user_name.as_str())
            .await?
            .is_some()
        {
            let err = AppError::Conflict(format!("user name `{}` is taken", person.user_name));
            return Err(reject(tx, err).await);
        }
        tx.insert_person(&PersonRow {
            person: person.clone(),
            password_hash: hash,
            must_change_password,
            password_changed_at: person.created_at,
        })
        .await?;
        tx.commit().await?;
        Ok((person, password))
    }

    /// Replaces a person's password with a new one-time password (forgotten password, or
    /// suspicion of compromise): it must be changed at next login, and every session and API
    /// token of the person ends. The second factor stays, so the one-time password alone is no
    /// login: it is refused while the person has no second factor enrolled (whoever held it
    /// could enroll their own), which is what two-person recovery is for. Officer, or admin/IT
    /// for accounts that read no client content.
    pub async fn reset_password(
        &self,
        caller: &Caller,
        id: PersonId,
    ) -> Result<Zeroizing<String>, AppError> {
        let password = one_time_password()?;
        let hash = self.passwords.hash(password.clone()).await?;
        let (mut tx, _row) = self
            .gated_person(caller, id, Action::ResetCredentials)
            .await?;
        if !tx.factors_of(id).await?.iter().any(|f| f.active) {
            let err = AppError::Conflict(format!(
                "person `{id}` has no second factor enrolled: a one-time password would be a \
                 working login for whoever holds it; use two-person account recovery"
            ));
            return Err(reject(tx, err).await);
        }
        tx.set_password(id, &hash, true, self.now()).await?;
        let ended = self.end_access(&mut tx, id).await?;
        self.audit_event(
            &mut *tx,
            AuditEvent::role_duty(
                caller,
                crate::vocabulary::ACTION_AUTH_PASSWORD_RESET,
                id,
                "one-time password issued; change forced at next login",
                ended,
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(password)
    }

    /// Ends every session of a person and revokes every API token (a credential reset,
    /// suspension or "end everything"); returns the counts for the audit entry.
    pub(crate) async fn end_access(
        &self,
        tx: &mut crate::Tx,
        person: PersonId,
    ) -> Result<serde_json::Value, AppError> {
        let sessions = tx.delete_sessions_of(person).await?;
        let tokens = tx.revoke_api_tokens_of(person, self.now()).await?;
        Ok(serde_json::json!({ "sessions_ended": sessions, "tokens_revoked": tokens }))
    }

    /// Sets a person's password without the policy or the current password: only for the demo
    /// firm, whose published password replaces the bootstrap officer's one-time password.
    pub(crate) async fn set_demo_password(
        &self,
        person: PersonId,
        password: Zeroizing<String>,
    ) -> Result<(), AppError> {
        let hash = self.passwords.hash(password).await?;
        let mut tx = self.store.begin().await?;
        tx.set_password(person, &hash, false, self.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes a person's status; suspending or marking departed ends their sessions and
    /// revokes their API tokens at once (reactivation brings neither back).
    pub async fn set_person_status(
        &self,
        caller: &Caller,
        id: PersonId,
        status: PersonStatus,
    ) -> Result<Person, AppError> {
        let (mut tx, row) = self.gated_person(caller, id, Action::ManagePeople).await?;
        tx.set_person_status(id, status).await?;
        if !custos_policy::may_act(status) {
            let ended = self.end_access(&mut tx, id).await?;
            self.audit_event(
                &mut *tx,
                AuditEvent::role_duty(
                    caller,
                    crate::vocabulary::ACTION_AUTH_ACCESS_END,
                    id,
                    "status change ends every session and API token",
                    ended,
                ),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Person {
            status,
            ..row.person
        })
    }

    /// Opens a unit, loads a person (auditing a not-found as a denial), and gates `action`
    /// on them.
    pub(crate) async fn gated_person(
        &self,
        caller: &Caller,
        id: PersonId,
        action: Action,
    ) -> Result<(crate::Tx, PersonRow), AppError> {
        let mut tx = self.store.begin().await?;
        let loaded = tx.person(id).await?;
        let (tx, row) = self
            .found(tx, caller, action, || format!("person:{id}"), loaded)
            .await?;
        let resource = Resource::Person {
            id,
            role: row.person.role,
        };
        let (tx, _permit) = self.gate(tx, caller, action, &resource).await?;
        Ok((tx, row))
    }

    /// One person of the directory.
    pub async fn get_person(&self, caller: &Caller, id: PersonId) -> Result<Person, AppError> {
        let mut tx = self.store.begin_read().await?;
        let loaded = tx.person(id).await?;
        let (tx, row) = self
            .found(
                tx,
                caller,
                Action::ViewPerson,
                || format!("person:{id}"),
                loaded,
            )
            .await?;
        let resource = Resource::Person {
            id,
            role: row.person.role,
        };
        let mut tx = tx;
        let facts = self.facts(&mut *tx, caller, Action::ViewPerson).await?;
        let (tx, _permit) = self
            .gate_with(tx, caller, Action::ViewPerson, &resource, &facts)
            .await?;
        tx.commit().await?;
        Ok(redact_compliance(&facts, row.person))
    }

    /// The firm directory, filtered by what the caller may see.
    pub async fn list_people(
        &self,
        caller: &Caller,
        page: &PageRequest,
    ) -> Result<Page<Person>, AppError> {
        let mut tx = self.store.begin_read().await?;
        let (principal, ctx) = self.facts(&mut *tx, caller, Action::ViewPerson).await?;
        let listing = filtered_page(
            &mut *tx,
            page,
            &mut |tx, after, limit| {
                Box::pin(async move { Ok(tx.list_people(after.map(PersonId), limit).await?) })
            },
            |row| row.person.id.0,
            |row| {
                let resource = Resource::Person {
                    id: row.person.id,
                    role: row.person.role,
                };
                let decision = Self::decide(&principal, Action::ViewPerson, &resource, &ctx);
                let facts = (principal.clone(), ctx.clone());
                Ok(decision
                    .is_allowed()
                    .then(|| redact_compliance(&facts, row.person)))
            },
        )
        .await?;
        self.finish_listing(
            tx,
            caller,
            crate::vocabulary::ACTION_PERSON_LIST,
            "firm".to_owned(),
            listing,
        )
        .await
    }

    /// The directory entries of the given people that the caller may see (a page showing a
    /// team's or a matter's members by name): one decision per person, one audit entry for
    /// the lookup, like a listing. At most 200 ids.
    pub async fn people_named(
        &self,
        caller: &Caller,
        ids: &[PersonId],
    ) -> Result<Vec<Person>, AppError> {
        if ids.len() > 200 {
            return Err(AppError::BadInput("at most 200 people at once".to_owned()));
        }
        let mut tx = self.store.begin_read().await?;
        let (principal, ctx) = self.facts(&mut *tx, caller, Action::ViewPerson).await?;
        let mut items = Vec::new();
        let mut shown = Vec::new();
        let mut withheld = 0u32;
        for id in ids {
            let Some(row) = tx.person(*id).await? else {
                continue;
            };
            let resource = Resource::Person {
                id: row.person.id,
                role: row.person.role,
            };
            if Self::decide(&principal, Action::ViewPerson, &resource, &ctx).is_allowed() {
                shown.push(id.to_string());
                items.push(redact_compliance(
                    &(principal.clone(), ctx.clone()),
                    row.person,
                ));
            } else {
                withheld += 1;
            }
        }
        let listing = crate::listing::Listing {
            page: crate::Page {
                items,
                next_cursor: None,
            },
            shown,
            withheld,
        };
        let page = self
            .finish_listing(
                tx,
                caller,
                crate::vocabulary::ACTION_PERSON_LIST,
                "firm".to_owned(),
                listing,
            )
            .await?;
        Ok(page.items)
    }
}

/// What a viewer may do with a person's agreement and training dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ComplianceRights {
    /// See them (HR records: the person themselves, the officer and IT, and whoever may record
    /// them).
    pub sees: bool,
    /// Record them (the officer for others, a partner for an officer).
    pub may_record: bool,
}

/// The rights of the principal in `facts` over `person`'s dates, decided by the policy.
fn compliance_rights(
    (principal, ctx): &(custos_policy::Principal, custos_policy::Context),
    person: &Person,
) -> ComplianceRights {
    let resource = Resource::Person {
        id: person.id,
        role: person.role,
    };
    let may_record = App::decide(principal, Action::ManageCompliance, &resource, ctx).is_allowed();
    ComplianceRights {
        sees: may_record
            || person.id == principal.id
            || matches!(principal.role, Role::Officer | Role::Admin),
        may_record,
    }
}

/// A colleague's agreement and training dates are HR records, not directory data: blanked
/// for whoever may not see them (`ComplianceRights::sees`).
fn redact_compliance(
    facts: &(custos_policy::Principal, custos_policy::Context),
    person: Person,
) -> Person {
    if compliance_rights(facts, &person).sees {
        person
    } else {
        Person {
            compliance: custos_domain::Compliance::default(),
            ..person
        }
    }
}

impl App {
    /// Whether the caller sees and may record `person`'s agreement and training dates: a
    /// question for a page, not an access (nothing is logged; recording decides again).
    pub async fn compliance_rights(
        &self,
        caller: &Caller,
        person: &Person,
    ) -> Result<ComplianceRights, AppError> {
        let mut tx = self.store.begin_read().await?;
        let facts = self
            .facts(&mut *tx, caller, Action::ManageCompliance)
            .await?;
        tx.commit().await?;
        Ok(compliance_rights(&facts, person))
    }
}
