//! Paginated listings filtered by a decision per record: batches are fetched in id order until
//! a page of visible records is full, so hidden records neither show nor shorten pages.

use crate::{AppError, Page, PageRequest};
use custos_store::{StoreError, StoreTx};
use uuid::Uuid;

/// A filtered page and how many records the caller was not shown.
pub(crate) struct Listing<T> {
    pub page: Page<T>,
    pub shown: Vec<String>,
    pub withheld: u32,
}

/// Fetches with `fetch(tx, after, limit)` and keeps what `admit(tx, row)` turns into a view.
pub(crate) async fn filtered_page<R, T>(
    tx: &mut dyn StoreTx,
    request: &PageRequest,
    mut fetch: impl AsyncFnMut(&mut dyn StoreTx, Option<Uuid>, u32) -> Result<Vec<R>, StoreError>,
    key: impl Fn(&R) -> Uuid,
    mut admit: impl AsyncFnMut(&mut dyn StoreTx, R) -> Result<Option<T>, AppError>,
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
            match admit(&mut *tx, row).await? {
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
