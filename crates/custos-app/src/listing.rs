//! Paginated listings filtered by a decision per record: batches are fetched in id order until
//! a page of visible records is full, so hidden records neither show nor shorten pages.

use crate::{App, AppError, Caller, Page, PageRequest};
use custos_audit::{AuditRecord, Outcome};
use custos_store::StoreTx;
use futures_util::future::BoxFuture;
use uuid::Uuid;

/// A filtered page and how many records the caller was not shown.
pub(crate) struct Listing<T> {
    pub page: Page<T>,
    pub shown: Vec<String>,
    pub withheld: u32,
}

/// A search within a listing: the words a title or name must contain (any case), or nothing.
pub(crate) struct Query(Option<String>);

impl Query {
    pub(crate) fn new(raw: Option<&str>) -> Self {
        Query(
            raw.map(|q| q.trim().to_lowercase())
                .filter(|q| !q.is_empty()),
        )
    }

    /// Whether a record's opened text matches (no query matches everything; a text the
    /// caller may not read matches no query).
    pub(crate) fn matches(&self, text: Option<&str>) -> bool {
        match (&self.0, text) {
            (None, _) => true,
            (Some(q), Some(text)) => text.to_lowercase().contains(q.as_str()),
            (Some(_), None) => false,
        }
    }

    /// Whether a record matches by its number (which every viewer of the record sees) or by
    /// its opened name or title.
    pub(crate) fn matches_record(
        &self,
        number: impl std::fmt::Display,
        text: Option<&str>,
    ) -> bool {
        self.matches(Some(&number.to_string())) || self.matches(text)
    }
}

/// A batch fetcher: `(tx, after, limit)` to the next rows in id order.
pub(crate) type Fetch<'f, R> = dyn for<'a> FnMut(&'a mut dyn StoreTx, Option<Uuid>, u32) -> BoxFuture<'a, Result<Vec<R>, AppError>>
    + Send
    + 'f;

/// Fetches with `fetch(tx, after, limit)` and keeps what `admit(row)` turns into a view
/// (`None`: the caller may not see it).
pub(crate) async fn filtered_page<R: Send, T: Send>(
    tx: &mut dyn StoreTx,
    request: &PageRequest,
    fetch: &mut Fetch<'_, R>,
    key: impl Fn(&R) -> Uuid + Send,
    mut admit: impl FnMut(R) -> Result<Option<T>, AppError> + Send,
) -> Result<Listing<T>, AppError> {
    let limit = request.limit();
    let full = limit as usize;
    let mut cursor = request.cursor;
    let mut items = Vec::new();
    let mut shown = Vec::new();
    let mut withheld = 0u32;
    'fetching: loop {
        let batch = fetch(&mut *tx, cursor, limit).await?;
        let exhausted = batch.len() < full;
        for row in batch {
            let id = key(&row);
            cursor = Some(id);
            match admit(row)? {
                Some(view) => {
                    items.push(view);
                    shown.push(id.to_string());
                    if items.len() == full {
                        break 'fetching;
                    }
                }
                None => withheld += 1,
            }
        }
        if exhausted {
            break;
        }
    }
    let next_cursor = if items.len() == full {
        cursor.map(|c| c.to_string())
    } else {
        None
    };
    Ok(Listing {
        page: Page { items, next_cursor },
        shown,
        withheld,
    })
}

impl App {
    /// Audits a listing (which records it showed, how many it withheld), commits, and returns
    /// the page.
    pub(crate) async fn finish_listing<T>(
        &self,
        mut tx: crate::Tx,
        caller: &Caller,
        action: &str,
        resource: String,
        listing: Listing<T>,
    ) -> Result<Page<T>, AppError> {
        let Listing {
            page,
            shown,
            withheld,
        } = listing;
        let record = AuditRecord {
            at_ms: custos_audit::unix_ms(self.now()),
            request_id: caller.request_id,
            actor: Some(caller.person),
            action: action.to_owned(),
            resource,
            outcome: Outcome::Allow,
            reasons: vec![custos_audit::AuditReason {
                rule: custos_policy::Rule::NeedToKnow.code().to_owned(),
                message: "listing filtered by a decision per record".to_owned(),
            }],
            detail: serde_json::json!({ "shown": shown, "withheld": withheld }),
        };
        tx.append_audit(&record).await?;
        tx.commit().await?;
        Ok(page)
    }
}
