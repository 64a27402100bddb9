//! Firm policies in Cedar: the officer saves a policy set (checked against the schema first,
//! the checker's message in the refusal), every save is a new version, audited, and an earlier
//! version can be restored (saved again as the newest). They take effect on the next request.

use crate::{App, AppError, AuditEvent, Caller, reject};
use custos_audit::Outcome;
use custos_domain::{PersonId, Timestamp};
use custos_policy::{Action, FirmPolicies, LocalClock, Resource};
use serde::Serialize;
use std::sync::Arc;

/// One saved version of the firm's policies.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FirmPolicyView {
    /// 1, 2, 3...; the highest is in force.
    pub version: i64,
    /// The Cedar text.
    pub text: String,
    /// What changed ("saved", "restored version 2").
    pub note: String,
    /// Who saved it.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub created_by: PersonId,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
}

impl From<custos_store::FirmPolicyRow> for FirmPolicyView {
    fn from(r: custos_store::FirmPolicyRow) -> Self {
        FirmPolicyView {
            version: r.version,
            text: r.text,
            note: r.note,
            created_by: r.created_by,
            created_at: r.created_at,
        }
    }
}

/// What a version's sealed text is bound to.
fn policy_context(version: i64) -> String {
    format!("firm_policy.text:{version}")
}

impl App {
    /// A stored version with its text opened (versions of earlier releases are in clear).
    fn open_policy(
        &self,
        r: custos_store::FirmPolicyRow,
    ) -> Result<custos_store::FirmPolicyRow, AppError> {
        Ok(custos_store::FirmPolicyRow {
            text: self.open_note(&policy_context(r.version), &r.text)?,
            ..r
        })
    }
}

/// Longest policy text accepted.
const MAX_TEXT: usize = 64 * 1024;

impl App {
    /// How long a break-glass access lasts by default and at most, in hours.
    pub fn break_glass_hours(&self) -> i64 {
        self.settings.break_glass.whole_hours()
    }

    /// The firm's calendar day at `now`, in its time zone (R4 dates are days of the firm).
    pub fn today(&self, now: time::OffsetDateTime) -> custos_domain::Date {
        self.local(now)
            .and_then(|z| {
                let d = z.date();
                let month = time::Month::try_from(u8::try_from(d.month()).ok()?).ok()?;
                time::Date::from_calendar_date(
                    i32::from(d.year()),
                    month,
                    u8::try_from(d.day()).ok()?,
                )
                .ok()
            })
            .unwrap_or_else(|| now.date())
    }

    /// `now` in the firm's time zone.
    fn local(&self, now: time::OffsetDateTime) -> Option<jiff::Zoned> {
        jiff::Timestamp::from_millisecond(custos_audit::unix_ms(now))
            .ok()
            .map(|t| t.to_zoned(self.settings.time_zone.clone()))
    }

    /// The firm's local hour and weekday at `now`, and the policies in force (read in `tx`,
    /// parsed again only when their version changed).
    pub(crate) async fn firm_context(
        &self,
        tx: &mut dyn custos_store::StoreTx,
        now: time::OffsetDateTime,
    ) -> Result<(LocalClock, Option<Arc<FirmPolicies>>), AppError> {
        let version = tx.firm_policy_version().await?;
        self.firm_context_at(tx, now, version).await
    }

    /// [`App::firm_context`] with the version in force already read in `tx` (a decision reads
    /// it with the caller's facts); the text is read only when this node has not parsed that
    /// version yet.
    pub(crate) async fn firm_context_at(
        &self,
        tx: &mut dyn custos_store::StoreTx,
        now: time::OffsetDateTime,
        version: i64,
    ) -> Result<(LocalClock, Option<Arc<FirmPolicies>>), AppError> {
        let clock = self
            .local(now)
            .map(|z| LocalClock {
                hour: u8::try_from(z.hour()).unwrap_or(0),
                weekday: u8::try_from(z.weekday().to_monday_one_offset()).unwrap_or(1),
            })
            .unwrap_or_else(|| LocalClock::utc(now));
        if version == 0 {
            return Ok((clock, None));
        }
        let cached = self
            .firm_cache
            .lock()
            .ok()
            .and_then(|c| c.clone())
            .filter(|f| f.version() == version);
        if let Some(firm) = cached {
            return Ok((clock, Some(firm)));
        }
        let row = tx
            .firm_policy(version)
            .await?
            .ok_or_else(|| AppError::Internal("the firm policy in force is missing".to_owned()))?;
        let row = self.open_policy(row)?;
        // Fail closed: a stored set that no longer checks (a schema change) stops client data
        // until the officer saves one that does.
        let firm = FirmPolicies::parse(version, &row.text).map_err(|e| {
            AppError::Internal(format!("the firm policies in force no longer check: {e}"))
        })?;
        if let Ok(mut c) = self.firm_cache.lock() {
            *c = Some(firm.clone());
        }
        Ok((clock, Some(firm)))
    }

    /// Saves `text` as the firm's policies (a new version), once it checks.
    pub async fn save_firm_policies(
        &self,
        caller: &Caller,
        text: &str,
    ) -> Result<FirmPolicyView, AppError> {
        self.new_firm_version(caller, text, "saved".to_owned())
            .await
    }

    /// Restores version `version` (saved again as the newest version).
    pub async fn restore_firm_policies(
        &self,
        caller: &Caller,
        version: i64,
    ) -> Result<FirmPolicyView, AppError> {
        let mut tx = self.store.begin_read().await?;
        let old = tx.firm_policy(version).await?;
        tx.commit().await?;
        let old = old.map(|r| self.open_policy(r)).transpose()?;
        let Some(old) = old else {
            let tx = self.store.begin().await?;
            let (tx, _permit) = self
                .gate(tx, caller, Action::ManageFirmPolicies, &Resource::Firm)
                .await?;
            return Err(reject(tx, AppError::NotFound).await);
        };
        self.new_firm_version(caller, &old.text, format!("restored version {version}"))
            .await
    }

    async fn new_firm_version(
        &self,
        caller: &Caller,
        text: &str,
        note: String,
    ) -> Result<FirmPolicyView, AppError> {
        let tx = self.store.begin().await?;
        let (mut tx, _permit) = self
            .gate(tx, caller, Action::ManageFirmPolicies, &Resource::Firm)
            .await?;
        if text.len() > MAX_TEXT {
            let err = AppError::BadInput(format!("policies are at most {MAX_TEXT} bytes"));
            return Err(reject(tx, err).await);
        }
        if let Err(e) = FirmPolicies::parse(0, text) {
            return Err(reject(tx, AppError::BadInput(e.0)).await);
        }
        let now = self.now();
        // The text names clients ("interns never see Acme"): sealed, bound to its version.
        let expected = tx.firm_policy_version().await? + 1;
        let sealed = self.seal_note(&policy_context(expected), text)?;
        let version = tx
            .insert_firm_policy(&sealed, &note, caller.person, now)
            .await?;
        if version != expected {
            let e = AppError::Conflict("another version was saved at the same time".to_owned());
            return Err(reject(tx, e).await);
        }
        self.audit_event(
            &mut *tx,
            AuditEvent {
                request_id: caller.request_id,
                actor: Some(caller.person),
                action: crate::vocabulary::ACTION_POLICY_SAVE,
                resource: format!("firm_policy:{version}"),
                outcome: Outcome::Allow,
                rule: custos_policy::Rule::RoleDuty.code(),
                message: format!("firm policies version {version} in force ({note})"),
                detail: serde_json::json!({ "version": version, "bytes": text.len() }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(FirmPolicyView {
            version,
            text: text.to_owned(),
            note,
            created_by: caller.person,
            created_at: now,
        })
    }

    /// The saved versions, newest first, at most 200 (the officer).
    pub async fn list_firm_policies(
        &self,
        caller: &Caller,
    ) -> Result<Vec<FirmPolicyView>, AppError> {
        let tx = self.store.begin_read().await?;
        let (mut tx, _permit) = self
            .gate(tx, caller, Action::ManageFirmPolicies, &Resource::Firm)
            .await?;
        let rows = tx.list_firm_policies(None, 200).await?;
        tx.commit().await?;
        rows.into_iter()
            .map(|r| Ok(FirmPolicyView::from(self.open_policy(r)?)))
            .collect()
    }
}
