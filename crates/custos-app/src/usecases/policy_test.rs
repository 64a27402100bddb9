//! `custos policy test CASES.csv`: the firm's own table of decision cases run against the
//! policy in force or a proposed set of firm policies, before saving it. Each case names a
//! person, an action, a record and the expected effect; the result of each is the decision
//! `App::decide` makes for that person now (the same call as their own requests), with its
//! rule and explanation. Nothing is opened or granted; the run is audited as one entry.

use crate::facts::{client_facts, document_facts, matter_facts, principal_and_walls};
use crate::{App, AppError};
use custos_audit::{AuditReason, AuditRecord, Outcome};
use custos_policy::{Action, Effect, FirmPolicies, Resource};
use custos_store::StoreTx;

/// One row of a case table: `person,action,record,expected`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyCase {
    /// Line in the file (1-based), for the report.
    pub line: usize,
    /// The person's login name.
    pub person: String,
    /// The action's code (`document.read`, `matter.view`...).
    pub action: String,
    /// `M-0042`, `C-0007`, a document id, or `firm`.
    pub record: String,
    /// `allow` or `deny`.
    pub expected: Effect,
}

/// What a case got.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The case.
    pub case: PolicyCase,
    /// The decision's effect.
    pub got: Effect,
    /// The deciding rules' codes and explanations (`rule: message`).
    pub reasons: Vec<String>,
}

impl CaseResult {
    /// Whether the decision is the expected one.
    pub fn matches(&self) -> bool {
        self.got == self.case.expected
    }
}

/// Parses a case table: a header `person,action,record,expected`, then one case per line;
/// blank lines and lines starting with `#` are skipped. Every malformed line is named.
pub fn parse_policy_cases(text: &str) -> Result<Vec<PolicyCase>, AppError> {
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    let mut header = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split(',').map(str::trim).collect();
        if !header {
            if cols != ["person", "action", "record", "expected"] {
                return Err(AppError::BadInput(format!(
                    "line {}: the first line must be the header `person,action,record,expected`",
                    i + 1
                )));
            }
            header = true;
            continue;
        }
        let [person, action, record, expected] = cols[..] else {
            errors.push(format!(
                "line {}: expected 4 columns, found {}",
                i + 1,
                cols.len()
            ));
            continue;
        };
        let expected = match expected.to_ascii_lowercase().as_str() {
            "allow" => Effect::Allow,
            "deny" => Effect::Deny,
            other => {
                errors.push(format!(
                    "line {}: expected `allow` or `deny`, not `{other}`",
                    i + 1
                ));
                continue;
            }
        };
        if action_of(action).is_none() {
            errors.push(format!("line {}: unknown action `{action}`", i + 1));
            continue;
        }
        cases.push(PolicyCase {
            line: i + 1,
            person: person.to_owned(),
            action: action.to_owned(),
            record: record.to_owned(),
            expected,
        });
    }
    if !errors.is_empty() {
        return Err(AppError::BadInput(errors.join("; ")));
    }
    if !header {
        return Err(AppError::BadInput("the table is empty".to_owned()));
    }
    Ok(cases)
}

fn action_of(code: &str) -> Option<Action> {
    Action::ALL.into_iter().find(|a| a.as_str() == code)
}

/// A number like `M-0042` (with `prefix` `M`), or `None`.
pub(crate) fn number(record: &str, prefix: char) -> Option<i64> {
    let rest = record
        .strip_prefix(prefix)
        .or_else(|| record.strip_prefix(prefix.to_ascii_lowercase()))?;
    rest.trim_start_matches('-').parse().ok()
}

/// The kind of record an action is asked about in a case table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Firm,
    Client,
    Matter,
    Document,
}

fn kind_of(action: Action) -> Option<Kind> {
    match action {
        // Asked about a record that does not exist yet: not testable from a table.
        Action::CreateClient | Action::CreateMatter | Action::UploadDocument => None,
        Action::ViewClient => Some(Kind::Client),
        Action::ViewMatter
        | Action::ManageMatterStaff
        | Action::BreakGlass
        | Action::ViewAccess => Some(Kind::Matter),
        Action::ViewDocument | Action::ReadDocumentContent => Some(Kind::Document),
        _ => Some(Kind::Firm),
    }
}

/// The resource a case's record names, as the policy sees it, if it is the kind of record
/// the action is about.
async fn resource_of(
    tx: &mut dyn StoreTx,
    action: Action,
    record: &str,
) -> Result<Resource, String> {
    let expected = kind_of(action).ok_or_else(|| {
        format!(
            "`{}` creates a record and cannot be tested from a table",
            action.as_str()
        )
    })?;
    let found = if record.eq_ignore_ascii_case("firm") {
        Kind::Firm
    } else if number(record, 'M').is_some() {
        Kind::Matter
    } else if number(record, 'C').is_some() {
        Kind::Client
    } else {
        Kind::Document
    };
    if found != expected {
        let wants = match expected {
            Kind::Firm => "`firm`",
            Kind::Client => "a client number (C-0007)",
            Kind::Matter => "a matter number (M-0042)",
            Kind::Document => "a document id",
        };
        return Err(format!(
            "`{}` is asked about {wants}, not `{record}`",
            action.as_str()
        ));
    }
    if found == Kind::Firm {
        return Ok(Resource::Firm);
    }
    if let Some(n) = number(record, 'M') {
        let row = tx.matter_by_number(n).await.map_err(|e| e.to_string())?;
        return row
            .map(|m| Resource::Matter(matter_facts(&m)))
            .ok_or_else(|| format!("no matter {record}"));
    }
    if let Some(n) = number(record, 'C') {
        let row = tx.client_by_number(n).await.map_err(|e| e.to_string())?;
        let Some(row) = row else {
            return Err(format!("no client {record}"));
        };
        return client_facts(tx, &row)
            .await
            .map(Resource::Client)
            .map_err(|e| e.to_string());
    }
    let id = uuid::Uuid::parse_str(record)
        .map_err(|_| format!("`{record}` is not M-0042, C-0007, a document id or `firm`"))?;
    let (doc, matter) = tx
        .document_with_matter(custos_domain::DocumentId(id))
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no document {record}"))?;
    Ok(Resource::Document(document_facts(&doc, &matter)))
}

impl App {
    /// Runs `cases` against the firm's policy now, or with `proposed` firm policies in place
    /// of the saved ones (checked as saving would check them). A case whose person or record
    /// does not exist is an error naming its line.
    pub async fn run_policy_cases(
        &self,
        cases: &[PolicyCase],
        proposed: Option<&str>,
    ) -> Result<Vec<CaseResult>, AppError> {
        let proposed = proposed
            .map(|text| FirmPolicies::parse(i64::MAX, text))
            .transpose()
            .map_err(|e| AppError::BadInput(e.to_string()))?;
        let now = self.now();
        let mut tx = self.store.begin_read().await?;
        let (clock, saved) = self.firm_context(&mut *tx, now).await?;
        let firm = proposed.or(saved);
        let mut results = Vec::with_capacity(cases.len());
        let mut errors = Vec::new();
        for case in cases {
            let Some(action) = action_of(&case.action) else {
                errors.push(format!("line {}: unknown action", case.line));
                continue;
            };
            let Some(person) = tx.person_by_user_name(&case.person).await? else {
                errors.push(format!("line {}: no person `{}`", case.line, case.person));
                continue;
            };
            let resource = match resource_of(&mut *tx, action, &case.record).await {
                Ok(r) => r,
                Err(e) => {
                    errors.push(format!("line {}: {e}", case.line));
                    continue;
                }
            };
            let (principal, mut ctx, _) =
                principal_and_walls(&mut *tx, person.person.id, now, self.today(now)).await?;
            ctx.clock = clock;
            ctx.firm.clone_from(&firm);
            let decision = Self::decide(&principal, action, &resource, &ctx);
            results.push(CaseResult {
                case: case.clone(),
                got: decision.effect(),
                reasons: decision
                    .reasons()
                    .iter()
                    .map(|r| format!("{}: {}", r.rule.code(), r.message))
                    .collect(),
            });
        }
        tx.commit().await?;
        if !errors.is_empty() {
            return Err(AppError::BadInput(errors.join("; ")));
        }
        let mismatches = results.iter().filter(|r| !r.matches()).count();
        let mut tx = self.store.begin().await?;
        tx.append_audit(&AuditRecord {
            at_ms: custos_audit::unix_ms(now),
            request_id: custos_domain::RequestId::new(),
            actor: None,
            action: crate::vocabulary::ACTION_POLICY_TEST.to_owned(),
            resource: "firm".to_owned(),
            outcome: Outcome::Allow,
            reasons: vec![AuditReason {
                rule: crate::vocabulary::RULE_OPERATOR.to_owned(),
                message: "decision cases run from the command line".to_owned(),
            }],
            detail: serde_json::json!({
                "cases": results.len(),
                "mismatches": mismatches,
                "proposed": firm.as_ref().is_some_and(|f| f.version() == i64::MAX),
            }),
        })
        .await?;
        tx.commit().await?;
        Ok(results)
    }
}
