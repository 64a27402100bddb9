//! The use cases of Custos. Each one opens a unit of work, gathers the facts, asks the policy,
//! writes the audit entry of the decision, does the work, and commits all of it together.
//!
//! **Architecture Invariant:** a use case that reads or changes client data goes through
//! [`App::gate`]: the decision and its audit entry are made in the same transaction as the work,
//! and a decision that cannot be audited stops the use case (fail closed). HTTP, JSON and HTML
//! are unknown here.

mod backup;
mod caller;
mod config;
mod demo;
mod error;
mod explain;
mod facts;
mod gate_stats;
mod init;
mod jobs;
mod listing;
mod log_key;
mod mail;
mod passwords;
mod settings;
mod usecases;
mod views;
pub mod vocabulary;

pub use backup::{BackupReport, RestoreReport, restore};
pub use caller::{Caller, Via};
pub use config::{
    AUDIT_CHECKPOINT_FILE, AUDIT_HEAD_FILE, AUDIT_SIGNED_FILE, Config, DataDir, DatabaseConfig,
    WitnessConfig,
};
pub use custos_audit::proof::{AuditExport, ConsistencyProof, InclusionProof, ProofFile};
pub use custos_audit::witness;
pub use custos_audit::{AuditEntry, AuditRecord, Outcome};
pub use custos_domain::{SessionKind, SessionStage};
pub use custos_policy::Effect;
pub use custos_policy::{Check as TransferCheckLine, TransferCheck};
pub use custos_policy::{Rule as PolicyRule, Scope, firm_policy_schema, is_staff, may_break_glass};
pub use custos_store::{AuditFilter, redact_url};
pub use demo::{
    DEMO, DEMO_PASSWORD, DemoClient, DemoDocument, DemoFirm, DemoMatter, DemoPerson, DemoSpec,
    DemoTeam, DemoWall, demo_compliance, seed_demo_firm,
};
pub use error::AppError;
pub use gate_stats::GateStatements;
pub use init::{InitOptions, InitOutcome, init_data_dir};
pub use jobs::{Job, JobReport, JobRun, JobSpec, JobState};
pub use log_key::{
    LogKey, former_verifiers_path, new_origin, read_former_verifiers, verifier_path,
};
pub use mail::{MailConfig, Mailer, OutboxRun};
pub use passwords::Passwords;
pub use settings::{AppSettings, ThrottlePolicy};
pub use usecases::access::{AccessEntry, ClientAccess, MatterAccess};
pub use usecases::account::SetupSteps;
pub use usecases::audit::{AuditHead, AuditVerification, ResourceLabel};
pub use usecases::audit_export::{EXPORT_LIMIT, ExportScope};
pub use usecases::break_glass::{BreakGlassList, BreakGlassView};
pub use usecases::checkpoints::{CheckpointView, Signing, WitnessRequest};
pub use usecases::consents::{ConsentView, NewConsent};
pub use usecases::documents::{DocumentDownload, NewDocument};
pub use usecases::factors::TotpEnrollment;
pub use usecases::lockouts::{AddressLock, Lockout};
pub use usecases::login::{LoginRequest, NewSession};
pub use usecases::matters::MatterRights;
pub use usecases::outbox::MailView;
pub use usecases::people::{ComplianceRights, NewPerson};
pub use usecases::person_access::{PersonAccess, PersonAccessEntry};
pub use usecases::policies::FirmPolicyView;
pub use usecases::policy_test::{CaseResult, PolicyCase, parse_policy_cases};
pub use usecases::received::ReceivedView;
pub use usecases::release::{
    RELEASE_CODES_SENT, RELEASE_WRONG_CODES, ReleaseView, ReleasedDocument,
};
pub use usecases::sessions::SessionView;
pub use usecases::third_parties::{NewThirdParty, ThirdPartyUpdate, ThirdPartyView};
pub use usecases::tokens::{ApiTokenView, NewApiToken, Scopes};
pub use usecases::transfer_views::{
    ApprovalView, DownloadView, LinkView, TransferDocumentView, TransferView,
};
pub use usecases::transfers::{
    MAX_TRANSFER_DOCUMENTS, NewException, NewTransfer, RegisterFilter, TransferList, WithReason,
};
pub use usecases::walls::{WallPreview, WallPreviewLine};
pub use usecases::what_if::*;
pub use views::{
    ClientView, DocumentView, MatterView, Membership, Page, PageRequest, TrailEntry, WallView,
};

use custos_audit::AuditReason;
use custos_crypto::Kek;
use custos_domain::{Clock, PersonId, RequestId};
use custos_policy::{Action, Decision, Permit, Resource};
use custos_store::{BlobStore, Store, StoreTx};
use std::sync::Arc;

/// Everything the use cases need, shared by every request.
#[derive(Debug, Clone)]
pub struct App {
    store: Arc<dyn Store>,
    blobs: Arc<dyn BlobStore>,
    kek: Arc<Kek>,
    clock: Arc<dyn Clock>,
    passwords: Passwords,
    settings: AppSettings,
    /// Source addresses this node has seen locked, and until when: a flood from a locked
    /// address is refused without touching the database. Only a cache of the database's
    /// verdict, stale at most in the restrictive direction: an officer's unlock on another node
    /// takes effect here when the cached lock would have ended.
    address_locks: Arc<std::sync::Mutex<std::collections::HashMap<String, time::OffsetDateTime>>>,
    /// The firm policies last parsed, by version: every decision reads the version in force
    /// from the database and parses again only when it changed (so a change made on any node
    /// applies to the next request everywhere).
    firm_cache: Arc<std::sync::Mutex<Option<Arc<custos_policy::FirmPolicies>>>>,
    /// How many statements units of work ran before their gate decided: the database round
    /// trips a decision costs (tests and the big-firm benchmark read it).
    gate_statements: Arc<GateStatements>,
    /// The audit log's signing key (none: no checkpoints are signed on this node).
    log_key: Option<Arc<log_key::LogKey>>,
    /// The firm's mail relay (none: mail waits in the outbox).
    mailer: Option<Arc<mail::Mailer>>,
    /// The largest checkpoint size this node knows was signed (its own, and what its data
    /// directory recorded): it never signs while the database holds none that large.
    signed_floor: Arc<std::sync::atomic::AtomicU64>,
    /// The latest head this node recorded outside the database, and whether the log was found
    /// not to hold it any more: then nothing is signed until `custos audit verify` and a
    /// restart (a cut or rewrite of the unsigned tail must not be signed over).
    witnessed: Arc<std::sync::Mutex<Option<usecases::audit::AuditHead>>>,
    tampered: Arc<std::sync::atomic::AtomicBool>,
}

/// A unit of work.
pub(crate) type Tx = Box<dyn StoreTx>;

impl App {
    /// Assembles the application from its parts.
    pub fn new(
        store: Arc<dyn Store>,
        blobs: Arc<dyn BlobStore>,
        kek: Kek,
        clock: Arc<dyn Clock>,
        settings: AppSettings,
    ) -> Result<Self, AppError> {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        Ok(App {
            store,
            blobs,
            kek: Arc::new(kek),
            clock,
            // Half the cores at most hash passwords, so that a login flood leaves the other
            // half to every other request (measured by `benches/auth.rs`).
            passwords: Passwords::new((cores / 2).max(1))?,
            address_locks: Arc::new(std::sync::Mutex::new(std::collections::HashMap::new())),
            firm_cache: Arc::new(std::sync::Mutex::new(None)),
            gate_statements: Arc::default(),
            log_key: None,
            mailer: None,
            signed_floor: Arc::default(),
            witnessed: Arc::default(),
            tampered: Arc::default(),
            settings,
        })
    }

    /// Closes the database (checkpointing the embedded one): at the end of `serve`.
    pub async fn close(&self) {
        self.store.close().await;
    }

    /// What the group commit of audited reads did so far, and how many reads wait for it now
    /// (benchmarks report the batch size; tests hold the writer and wait for a full batch).
    pub fn audit_group_commit(&self) -> (custos_store::AuditBatches, usize) {
        (self.store.audit_batches(), self.store.audit_units_waiting())
    }

    /// The statements units of work ran before their gates decided, so far on this node.
    pub fn gate_statements(&self) -> &GateStatements {
        &self.gate_statements
    }

    /// The firm's time zone.
    pub fn time_zone(&self) -> &jiff::tz::TimeZone {
        &self.settings.time_zone
    }

    /// The reverse proxies whose forwarding headers name the client address.
    pub fn trusted_proxies(&self) -> &[std::net::IpAddr] {
        &self.settings.trusted_proxies
    }

    /// The current time, truncated to the millisecond as it is stored.
    pub(crate) fn now(&self) -> time::OffsetDateTime {
        let now = self.clock.now();
        now.replace_nanosecond(now.nanosecond() / 1_000_000 * 1_000_000)
            .unwrap_or(now)
    }

    /// Opens the unit of work `action` needs: read-only for actions that only read (a snapshot
    /// that never waits for writers), a writing unit otherwise.
    pub(crate) async fn begin_for(&self, action: Action) -> Result<Tx, AppError> {
        Ok(if action.only_reads() {
            self.store.begin_read().await?
        } else {
            self.store.begin().await?
        })
    }

    /// Decides, audits the decision in `tx`, and returns the permit of an Allow. On a Deny the
    /// audit entry is committed on its own and the caller gets `NotFound` (when the resource must
    /// stay hidden) or `Forbidden`.
    pub(crate) async fn gate(
        &self,
        mut tx: Tx,
        caller: &Caller,
        action: Action,
        resource: &Resource,
    ) -> Result<(Tx, Permit), AppError> {
        let facts = self.facts(&mut *tx, caller, action).await?;
        self.gate_with(tx, caller, action, resource, &facts).await
    }

    /// [`App::gate`] with the caller's facts already gathered in `tx` (a listing that decides
    /// per record after gating the container gathers them once).
    pub(crate) async fn gate_with(
        &self,
        tx: Tx,
        caller: &Caller,
        action: Action,
        resource: &Resource,
        (principal, ctx): &(custos_policy::Principal, custos_policy::Context),
    ) -> Result<(Tx, Permit), AppError> {
        self.gate_statements.record(tx.statements_run());
        let decision = Self::decide(principal, action, resource, ctx);
        self.enforce(tx, caller, action, resource, decision).await
    }

    /// Writes `decision` about `action` on `resource` to the audit log and answers with it:
    /// the permit of an allow, or (committed with its entry) the refusal in words; the log
    /// says exactly what the caller is told.
    pub(crate) async fn enforce(
        &self,
        mut tx: Tx,
        caller: &Caller,
        action: Action,
        resource: &Resource,
        decision: Decision,
    ) -> Result<(Tx, Permit), AppError> {
        // A denial records whether the caller was told "not found": their own trail must not
        // say more than that answer did.
        let detail = if decision.by_break_glass() {
            // R6: every entry an emergency access produces is flagged for the review.
            serde_json::json!({ "break_glass": true })
        } else if decision.is_allowed() {
            serde_json::Value::Null
        } else {
            serde_json::json!({ "hidden": decision.conceals_existence() })
        };
        self.audit_decision(&mut *tx, caller, action, resource, &decision, detail)
            .await?;
        if !decision.is_allowed() {
            let refusal = self.explain(&mut *tx, action, resource, &decision).await?;
            tx.commit().await?;
            return Err(refusal);
        }
        match decision.into_permit() {
            Some(permit) => Ok((tx, permit)),
            None => Err(AppError::Internal("an allow without a permit".to_owned())),
        }
    }

    /// Asks the policy: the one call of `custos_policy::decide` in the app, for gates and for
    /// each record of a listing alike (`tests::the_app_asks_the_policy_in_one_place`).
    pub(crate) fn decide(
        principal: &custos_policy::Principal,
        action: Action,
        resource: &Resource,
        ctx: &custos_policy::Context,
    ) -> Decision {
        custos_policy::decide(principal, action, resource, ctx)
    }

    /// The principal behind the caller and the walls that may screen them, once the caller's
    /// credential may ask for `action` at all. Every decision goes through here, so this is
    /// the one place that says what each credential may do: a setup session nothing (it only
    /// finishes account setup), a full session everything its holder may, an API token only
    /// the actions its scopes cover ([`Scopes::needed_for`]) and never one that hands out or
    /// changes credentials ([`Action::needs_login_session`]), whatever route asked.
    pub(crate) async fn facts(
        &self,
        tx: &mut dyn StoreTx,
        caller: &Caller,
        action: Action,
    ) -> Result<(custos_policy::Principal, custos_policy::Context), AppError> {
        match caller.via {
            Via::Session {
                stage: SessionStage::Setup,
                ..
            } => {
                return Err(AppError::SetupRequired(
                    "change the one-time password and enroll the second factor".to_owned(),
                ));
            }
            Via::ApiToken { .. } if action.needs_login_session() => {
                return Err(AppError::Forbidden {
                    rule: "auth.interactive".to_owned(),
                    message: "this needs a login session, not an API token".to_owned(),
                });
            }
            Via::ApiToken { scopes, .. } if !scopes.contains(Scopes::needed_for(action)) => {
                return Err(AppError::InsufficientScope(format!(
                    "this API token lacks the `{}` scope needed for `{}`",
                    Scopes::needed_for(action).names().join(" "),
                    action.as_str()
                )));
            }
            _ => {}
        }
        // The officer can always mend the firm's policies, whatever they say.
        if action == Action::ManageFirmPolicies {
            let now = self.now();
            let (principal, ctx, _) =
                facts::principal_and_walls(tx, caller.person, now, self.today(now)).await?;
            return Ok((principal, ctx));
        }
        let (principal, mut ctx) = self.principal_context(tx, caller.person).await?;
        ctx.address = caller.address;
        Ok((principal, ctx))
    }

    /// A person's principal and the context of a decision about them now: the walls that may
    /// screen them and the firm policies in force (no request address). Every request's facts
    /// start here; so do the checks made again for a transfer's requester when it is approved
    /// and downloaded.
    pub(crate) async fn principal_context(
        &self,
        tx: &mut dyn StoreTx,
        person: PersonId,
    ) -> Result<(custos_policy::Principal, custos_policy::Context), AppError> {
        let now = self.now();
        let (principal, mut ctx, version) =
            facts::principal_and_walls(tx, person, now, self.today(now)).await?;
        (ctx.clock, ctx.firm) = self.firm_context_at(tx, now, version).await?;
        Ok((principal, ctx))
    }

    pub(crate) async fn audit_decision(
        &self,
        tx: &mut dyn StoreTx,
        caller: &Caller,
        action: Action,
        resource: &Resource,
        decision: &Decision,
        detail: serde_json::Value,
    ) -> Result<(), AppError> {
        let record = AuditRecord {
            at_ms: custos_audit::unix_ms(self.now()),
            request_id: caller.request_id,
            actor: Some(caller.person),
            action: action.as_str().to_owned(),
            resource: resource.audit_name(),
            outcome: if decision.is_allowed() {
                Outcome::Allow
            } else {
                Outcome::Deny
            },
            reasons: decision
                .reasons()
                .iter()
                .map(|r| AuditReason {
                    rule: r.rule.code().to_owned(),
                    message: r.message.clone(),
                })
                .collect(),
            detail,
        };
        tx.append_audit(&record).await?;
        Ok(())
    }

    /// The record `loaded` by the caller, or, when there is none, the denial of `action` on it
    /// audited (as a hidden record's would be) and `NotFound`: the one way every use case
    /// answers for a record that does not exist, before it gates the one that does.
    pub(crate) async fn found<R>(
        &self,
        tx: Tx,
        caller: &Caller,
        action: Action,
        name: impl FnOnce() -> String,
        loaded: Option<R>,
    ) -> Result<(Tx, R), AppError> {
        match loaded {
            Some(row) => Ok((tx, row)),
            None => Err(self.not_found(tx, caller, action, name()).await),
        }
    }

    /// Audits the denial of an action on a record that does not exist, commits, and returns
    /// `NotFound` (or the error that prevented auditing: fail closed).
    pub(crate) async fn not_found(
        &self,
        mut tx: Tx,
        caller: &Caller,
        action: Action,
        resource: String,
    ) -> AppError {
        let event = AuditEvent {
            request_id: caller.request_id,
            actor: Some(caller.person),
            action: action.as_str(),
            resource,
            outcome: Outcome::Deny,
            rule: NO_SUCH_RECORD.0,
            message: NO_SUCH_RECORD.1.to_owned(),
            detail: serde_json::json!({ "hidden": true }),
        };
        if let Err(e) = self.audit_event(&mut *tx, event).await {
            return e;
        }
        match tx.commit().await {
            Ok(()) => AppError::NotFound,
            Err(e) => e.into(),
        }
    }

    /// Audits an event that is not a policy decision (logins, listings).
    pub(crate) async fn audit_event(
        &self,
        tx: &mut dyn StoreTx,
        event: AuditEvent<'_>,
    ) -> Result<(), AppError> {
        let record = AuditRecord {
            at_ms: custos_audit::unix_ms(self.now()),
            request_id: event.request_id,
            actor: event.actor,
            action: event.action.to_owned(),
            resource: event.resource,
            outcome: event.outcome,
            reasons: vec![AuditReason {
                rule: event.rule.to_owned(),
                message: event.message,
            }],
            detail: event.detail,
        };
        tx.append_audit(&record).await?;
        Ok(())
    }
}

/// The rule and message of a denial on a record that does not exist (or may not be known).
pub(crate) const NO_SUCH_RECORD: (&str, &str) =
    (custos_policy::Rule::DenyByDefault.code(), "no such record");

/// An audited event that is not a single policy decision.
pub(crate) struct AuditEvent<'a> {
    pub request_id: RequestId,
    pub actor: Option<PersonId>,
    pub action: &'a str,
    pub resource: String,
    pub outcome: Outcome,
    pub rule: &'a str,
    pub message: String,
    pub detail: serde_json::Value,
}

impl AuditEvent<'_> {
    /// A person acting on their own account (rule `self_service`, allowed, resource the
    /// person).
    pub(crate) fn self_service<'a>(
        caller: &Caller,
        action: &'a str,
        message: &str,
        detail: serde_json::Value,
    ) -> AuditEvent<'a> {
        let rule = custos_policy::Rule::SelfService;
        AuditEvent::on_person(caller, action, caller.person, rule, message, detail)
    }

    /// Someone acting on another person's account as their duty (rule `R2.role_duty`,
    /// allowed, resource the person).
    pub(crate) fn role_duty<'a>(
        caller: &Caller,
        action: &'a str,
        person: PersonId,
        message: &str,
        detail: serde_json::Value,
    ) -> AuditEvent<'a> {
        let rule = custos_policy::Rule::RoleDuty;
        AuditEvent::on_person(caller, action, person, rule, message, detail)
    }

    fn on_person<'a>(
        caller: &Caller,
        action: &'a str,
        person: PersonId,
        rule: custos_policy::Rule,
        message: &str,
        detail: serde_json::Value,
    ) -> AuditEvent<'a> {
        AuditEvent {
            request_id: caller.request_id,
            actor: Some(caller.person),
            action,
            resource: format!("person:{person}"),
            outcome: Outcome::Allow,
            rule: rule.code(),
            message: message.to_owned(),
            detail,
        }
    }
}

/// Refuses a use case after its decision was audited and before it changed anything: the audit
/// entry is kept (committed) and `err` is returned.
pub(crate) async fn reject(tx: Tx, err: AppError) -> AppError {
    match tx.commit().await {
        Ok(()) => err,
        Err(e) => e.into(),
    }
}

/// The error a caller sees for a Deny.
pub(crate) fn denial(decision: &Decision) -> AppError {
    if decision.conceals_existence() {
        return AppError::NotFound;
    }
    let (rule, message) = decision
        .reasons()
        .first()
        .map(|r| (r.rule.code().to_owned(), r.message.clone()))
        .unwrap_or_else(|| {
            (
                custos_policy::Rule::DenyByDefault.code().to_owned(),
                "denied".to_owned(),
            )
        });
    AppError::Forbidden { rule, message }
}

#[cfg(test)]
mod tests {
    /// Every decision goes through `App::decide`: no other file of the app calls the policy.
    #[test]
    fn the_app_asks_the_policy_in_one_place() {
        fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    sources(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(path);
                }
            }
        }
        let mut files = Vec::new();
        sources(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        assert!(files.len() > 10, "sources found: {}", files.len());
        let call = concat!("custos_policy::", "decide(");
        let callers: Vec<_> = files
            .iter()
            .filter(|f| {
                std::fs::read_to_string(f)
                    .unwrap_or_default()
                    .contains(call)
            })
            .map(|f| {
                f.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(callers, vec!["lib.rs".to_owned()]);
    }
}
