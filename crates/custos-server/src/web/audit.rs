//! The audit explorer (the officer's query: person, client, matter, document, action, outcome,
//! dates), each entry in words (who, what, when, the decision and the rule that decided), and
//! the CSV export of the filtered set, streamed page by page.

use super::matters::name_of;
use super::{Chrome, Viewer, error_page};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use custos_app::{AuditEntry, AuditFilter, Caller, Outcome, ResourceLabel};
use custos_domain::{PersonId, Role};
use serde::Deserialize;
use std::collections::HashMap;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/audit", get(explorer))
        .route("/audit/export.csv", get(export))
}

/// An audit entry as a page shows it.
pub(super) struct EntryRow {
    pub seq: u64,
    pub when: String,
    pub who: String,
    pub what: String,
    pub resource: String,
    /// The record's number (`C-0007`, `M-0042`, a document's matter), where the page knows it.
    pub label: Option<String>,
    pub allowed: bool,
    pub outcome: String,
    pub rule: String,
    pub message: String,
    /// The viewer may download its inclusion proof (it is in a signed checkpoint).
    pub proof: bool,
}

/// The words for an action code.
pub(super) fn action_words(c: &Chrome, action: &str) -> String {
    c.t.try_get(&format!("action-{}", action.replace(['.', '_'], "-")))
        .unwrap_or_else(|| action.to_owned())
}

/// The name of a rule code.
pub(super) fn rule_words(c: &Chrome, rule: &str) -> String {
    c.t.try_get(&format!("rulename-{}", rule.replace(['.', '_'], "-")))
        .unwrap_or_else(|| rule.to_owned())
}

pub(super) fn entry_row(
    c: &Chrome,
    seq: u64,
    record: &custos_app::AuditRecord,
    names: &HashMap<PersonId, (String, Role)>,
) -> EntryRow {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(record.at_ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let allowed = record.outcome == Outcome::Allow;
    let (rule, message) = record
        .reasons
        .first()
        .map(|r| (rule_words(c, &r.rule), r.message.clone()))
        .unwrap_or_default();
    EntryRow {
        seq,
        when: c.when(&at),
        who: record
            .actor
            .map_or_else(|| c.t.get("the-system"), |p| name_of(c, names, p)),
        what: action_words(c, &record.action),
        resource: record.resource.clone(),
        label: None,
        allowed,
        outcome: c.t.get(if allowed { "allowed" } else { "denied" }),
        rule,
        message,
        proof: false,
    }
}

pub(super) fn entry_rows(
    c: &Chrome,
    entries: Vec<AuditEntry>,
    names: &HashMap<PersonId, (String, Role)>,
) -> Vec<EntryRow> {
    entries
        .iter()
        .map(|e| entry_row(c, e.seq, &e.record, names))
        .collect()
}

/// What an export with proofs covers (none chosen: `None`), from and until (Unix ms).
pub(super) type ExportChoice = (Option<custos_app::ExportScope>, Option<i64>, Option<i64>);

/// The explorer's filters, as the form sends them.
#[derive(Debug, Default, Deserialize, Clone)]
pub(super) struct Filters {
    #[serde(default)]
    person: String,
    #[serde(default)]
    client: String,
    #[serde(default)]
    matter: String,
    #[serde(default)]
    document: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

/// The day after a `YYYY-MM-DD` date, in the same form (`None`: empty or not a date, which
/// `day` then reports).
fn next_day(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    match raw.parse::<jiff::civil::Date>() {
        Ok(date) => date.tomorrow().ok().map(|d| d.to_string()),
        Err(_) => Some(raw.to_owned()),
    }
}

impl Filters {
    /// The store's filter; a value that cannot be read is named.
    fn filter(&self, c: &Chrome) -> Result<AuditFilter, &'static str> {
        let id = |raw: &str, what: &'static str| -> Result<Option<uuid::Uuid>, &'static str> {
            let raw = raw.trim();
            if raw.is_empty() {
                Ok(None)
            } else {
                raw.parse().map(Some).map_err(|_| what)
            }
        };
        let day = |raw: &str, what: &'static str| -> Result<Option<i64>, &'static str> {
            let raw = raw.trim();
            if raw.is_empty() {
                return Ok(None);
            }
            let date: jiff::civil::Date = raw.parse().map_err(|_| what)?;
            c.unix_ms(date.to_datetime(jiff::civil::Time::midnight()))
                .map(Some)
                .ok_or(what)
        };
        let resource = match (
            id(&self.document, "document")?,
            id(&self.matter, "matter")?,
            id(&self.client, "client")?,
        ) {
            (Some(d), _, _) => Some(format!("document:{d}")),
            (None, Some(m), _) => Some(format!("matter:{m}")),
            (None, None, Some(cl)) => Some(format!("client:{cl}")),
            _ => None,
        };
        let outcome = match self.outcome.as_str() {
            "allow" => Some(Outcome::Allow),
            "deny" => Some(Outcome::Deny),
            _ => None,
        };
        Ok(AuditFilter {
            actor: id(&self.person, "person")?.map(PersonId),
            resource,
            outcome,
            action: Some(self.action.trim().to_owned()).filter(|a| !a.is_empty()),
            from_ms: day(&self.from, "from")?,
            // `until` is inclusive: entries before the next day's start.
            until_ms: next_day(&self.until).map_or(Ok(None), |d| day(&d, "until"))?,
            newest_first: false,
            ..AuditFilter::default()
        })
    }

    /// What an export with proofs of these filters covers (a client, else a matter, else a
    /// person: `None` when none is chosen) and its dates, in Unix milliseconds.
    pub(super) fn export_scope(&self, c: &Chrome) -> Result<ExportChoice, &'static str> {
        use custos_app::ExportScope;
        let filter = self.filter(c)?;
        let id = |raw: &str| raw.trim().parse::<uuid::Uuid>().ok();
        let scope = match (id(&self.client), id(&self.matter), filter.actor) {
            (Some(client), _, _) => Some(ExportScope::Client(custos_domain::ClientId(client))),
            (None, Some(matter), _) => Some(ExportScope::Matter(custos_domain::MatterId(matter))),
            (None, None, Some(person)) => Some(ExportScope::Person(person)),
            _ => None,
        };
        Ok((scope, filter.from_ms, filter.until_ms))
    }

    /// The query string of these filters (for the next page and the export).
    fn query(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("person", &self.person),
            ("client", &self.client),
            ("matter", &self.matter),
            ("document", &self.document),
            ("action", &self.action),
            ("outcome", &self.outcome),
            ("from", &self.from),
            ("until", &self.until),
        ] {
            if !value.trim().is_empty() {
                out.append_pair(name, value.trim());
            }
        }
        out.finish()
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
struct ExplorerPage {
    c: Chrome,
    f: Filters,
    people: Vec<(String, String)>,
    actions: Vec<(String, String)>,
    h: Vec<EntryRow>,
    next: Option<String>,
    query: String,
    problem: Option<String>,
    log_key: Option<String>,
    checkpoint: Option<super::transparency::CheckpointPanel>,
    notice: Option<String>,
    /// The viewer may sign a checkpoint now (the explorer's viewer may: the officer).
    can_sign: bool,
}

/// Every action an entry can name, for the filter's list.
fn known_actions(c: &Chrome) -> Vec<(String, String)> {
    let mut codes = custos_app::vocabulary::all_actions();
    codes.sort_unstable();
    codes.dedup();
    codes
        .into_iter()
        .map(|code| (code.to_owned(), action_words(c, code)))
        .collect()
}

/// A filter field holding a record's number (`C-0007`, `M-0042`) rather than an id.
pub(super) fn is_number(raw: &str) -> bool {
    let raw = raw.trim();
    !raw.is_empty() && raw.len() <= 12 && raw.parse::<uuid::Uuid>().is_err()
}

/// The explorer's client and matter fields accept numbers: each is replaced by the record's
/// id, or by an id no record has (the page then finds nothing and, once the officer's query
/// was allowed, says the number is unknown: nobody else learns whether it exists).
pub(super) async fn resolve_numbers(state: &AppState, f: &mut Filters) -> Option<&'static str> {
    let unknown = uuid::Uuid::nil().to_string();
    let mut problem = None;
    if is_number(&f.matter) {
        match state.app.matter_id_by_number(&f.matter).await {
            Ok(Some(id)) => f.matter = id.0.to_string(),
            _ => {
                f.matter = unknown.clone();
                problem = Some("audit-unknown-matter");
            }
        }
    }
    if is_number(&f.client) {
        match state.app.client_id_by_number(&f.client).await {
            Ok(Some(id)) => f.client = id.0.to_string(),
            _ => {
                f.client = unknown;
                problem = Some("audit-unknown-client");
            }
        }
    }
    problem
}

async fn explorer(
    State(state): State<AppState>,
    v: Viewer,
    Query(mut f): Query<Filters>,
) -> Response {
    let c = &v.chrome;
    let typed = (f.client.clone(), f.matter.clone());
    let unknown_number = resolve_numbers(&state, &mut f).await;
    let (filter, problem) = match f.filter(c) {
        // The explorer shows the newest entries first; the export is in log order.
        Ok(filter) => (
            AuditFilter {
                newest_first: true,
                ..filter
            },
            None,
        ),
        Err(field) => (
            AuditFilter {
                newest_first: true,
                ..AuditFilter::default()
            },
            Some(c.t.get(&format!("audit-bad-{field}"))),
        ),
    };
    let after = f
        .cursor
        .as_deref()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0);
    let (page, labels) = match state
        .app
        .query_audit_labelled(&v.caller, &filter, after, 100)
        .await
    {
        Ok(found) => found,
        Err(e) => return error_page(c, e),
    };
    let problem = problem.or_else(|| unknown_number.map(|key| c.t.get(key)));
    // The form shows what the officer typed, not the id it stood for.
    (f.client, f.matter) = typed;
    let people = state
        .app
        .list_people(
            &v.caller,
            &custos_app::PageRequest {
                cursor: None,
                limit: Some(200),
            },
        )
        .await
        .map(|p| p.items)
        .unwrap_or_default();
    let names: HashMap<PersonId, (String, Role)> = people
        .iter()
        .map(|p| (p.id, (p.display_name.clone(), p.role)))
        .collect();
    let mut rows = entry_rows(c, page.items, &names);
    let (log_key, checkpoint) = super::transparency::panel(&state, &v).await;
    let signed = checkpoint.as_ref().map_or(0, |cp| cp.size);
    for row in &mut rows {
        row.proof = row.seq <= signed;
        row.label = labels.get(&row.resource).map(|label| match label {
            ResourceLabel::Client(number) => number.to_string(),
            ResourceLabel::Matter(number) => number.to_string(),
            ResourceLabel::DocumentIn(number) => c.t.with("audit-label-document", "matter", number),
        });
    }
    let page = ExplorerPage {
        notice: f
            .done
            .as_deref()
            .and_then(|d| c.t.try_get(&format!("done-{d}"))),
        can_sign: log_key.is_some(),
        log_key,
        checkpoint,
        people: people
            .iter()
            .map(|p| (p.id.0.to_string(), p.display_name.clone()))
            .collect(),
        actions: known_actions(c),
        h: rows,
        next: page.next_cursor,
        query: f.query(),
        problem,
        f,
        c: v.chrome.clone(),
    };
    page.into_response()
}

/// One CSV cell: quoted when needed, and a leading `= + - @` defused so that a spreadsheet
/// does not run it as a formula.
pub(super) fn cell(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

struct Export {
    state: AppState,
    caller: Caller,
    chrome: Chrome,
    filter: AuditFilter,
    after: u64,
    started: bool,
    done: bool,
    names: HashMap<PersonId, (String, Role)>,
}

/// The next piece of the CSV: the header, then one page of entries at a time.
async fn next_chunk(mut ex: Export) -> Option<(Result<bytes::Bytes, std::io::Error>, Export)> {
    if ex.done {
        return None;
    }
    if !ex.started {
        ex.started = true;
        let t = ex.chrome.t;
        let header = [
            "seq",
            "time",
            "actor_id",
            "actor",
            "action",
            "resource",
            "outcome",
            "rule",
            "explanation",
        ]
        .map(|k| cell(&t.get(&format!("csv-{k}"))))
        .join(",");
        return Some((Ok(bytes::Bytes::from(format!("\u{feff}{header}\r\n"))), ex));
    }
    let page = match ex
        .state
        .app
        .query_audit(&ex.caller, &ex.filter, ex.after, 500)
        .await
    {
        Ok(page) => page,
        Err(e) => {
            ex.done = true;
            tracing::warn!(error = %e, "audit export stopped");
            return Some((Err(std::io::Error::other("audit export stopped")), ex));
        }
    };
    let unseen: Vec<PersonId> = page
        .items
        .iter()
        .filter_map(|e| e.record.actor)
        .filter(|p| !ex.names.contains_key(p))
        .collect();
    if !unseen.is_empty() {
        let viewer_less = names_for(&ex.state, &ex.caller, &unseen).await;
        ex.names.extend(viewer_less);
    }
    let mut out = String::new();
    for e in &page.items {
        let row = entry_row(&ex.chrome, e.seq, &e.record, &ex.names);
        let actor_id = e.record.actor.map(|p| p.0.to_string()).unwrap_or_default();
        let rule = e
            .record
            .reasons
            .first()
            .map(|r| r.rule.clone())
            .unwrap_or_default();
        let fields = [
            e.seq.to_string(),
            row.when,
            actor_id,
            row.who,
            e.record.action.clone(),
            e.record.resource.clone(),
            e.record.outcome.as_str().to_owned(),
            rule,
            row.message,
        ];
        out.push_str(&fields.iter().map(|f| cell(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    match page.next_cursor.and_then(|c| c.parse::<u64>().ok()) {
        Some(next) => ex.after = next,
        None => ex.done = true,
    }
    Some((Ok(bytes::Bytes::from(out)), ex))
}

async fn names_for(
    state: &AppState,
    caller: &Caller,
    ids: &[PersonId],
) -> HashMap<PersonId, (String, Role)> {
    let mut unique = ids.to_vec();
    unique.sort_by_key(|p| p.0);
    unique.dedup();
    state
        .app
        .people_named(caller, &unique)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|p| (p.id, (p.display_name, p.role)))
        .collect()
}

async fn export(
    State(state): State<AppState>,
    v: Viewer,
    Query(mut f): Query<Filters>,
) -> Response {
    resolve_numbers(&state, &mut f).await;
    let filter = match f.filter(&v.chrome) {
        Ok(filter) => filter,
        Err(field) => {
            let sentence = v.chrome.t.get(&format!("audit-bad-{field}"));
            return super::bad_request(&v.chrome, sentence);
        }
    };
    // The first page is asked before the answer starts, so a refusal is a page, not a
    // broken download.
    if let Err(e) = state.app.query_audit(&v.caller, &filter, 0, 1).await {
        return error_page(&v.chrome, e);
    }
    let ex = Export {
        state: state.clone(),
        caller: v.caller,
        chrome: v.chrome.clone(),
        filter,
        after: 0,
        started: false,
        done: false,
        names: HashMap::new(),
    };
    let body = Body::from_stream(futures_util::stream::unfold(ex, next_chunk));
    csv_response(body, "attachment; filename=\"custos-audit.csv\"")
}

/// A CSV download (UTF-8), never cached.
pub(super) fn csv_response(body: Body, disposition: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static(disposition),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("line\nbreak"), "\"line\nbreak\"");
    }
}
