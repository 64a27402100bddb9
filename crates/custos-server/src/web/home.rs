//! The home page: the viewer's matters and recent documents, what waits for them (the
//! officer's alerts and queues), and what keeps them from client data (R4).

use super::matters::{DocRow, Row, doc_row};
use super::{Chrome, Viewer, error_page};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use custos_app::PageRequest;

pub(super) struct Waiting {
    pub href: String,
    pub text: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    c: Chrome,
    name: String,
    matters: Vec<Row>,
    recent: Vec<DocRow>,
    waiting: Vec<Waiting>,
    blocked: Vec<String>,
}

pub(super) async fn home(State(state): State<AppState>, v: Viewer) -> Response {
    if v.person.role == custos_domain::Role::External {
        return super::see_other("/received");
    }
    let page = match state
        .app
        .list_matters(
            &v.caller,
            &PageRequest {
                cursor: None,
                limit: Some(10),
            },
        )
        .await
    {
        Ok(page) => page,
        Err(e) => return error_page(&v.chrome, e),
    };
    let c = &v.chrome;
    let matters = page.items.into_iter().map(|m| Row::of(c, m)).collect();
    let recent = state
        .app
        .recently_opened(&v.caller, 5)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|d| doc_row(c, d))
        .collect();
    let mut waiting = Vec::new();
    // What waits for the officer: emergency accesses to review (R6: her alert, at once) and
    // locked accounts. Asked only of the roles whose duty it is; the use cases decide.
    if let Ok(Some(n)) = state.app.break_glass_awaiting(&v.caller).await
        && n > 0
    {
        waiting.push(Waiting {
            href: "/break-glass".to_owned(),
            text: c.t.with("home-break-glass-waiting", "count", n),
        });
    }
    if v.person.role == custos_domain::Role::Officer
        && let Ok(locks) = state.app.lockouts(&v.caller).await
        && !locks.is_empty()
    {
        waiting.push(Waiting {
            href: "/people?locked=1".to_owned(),
            text: c.t.with("home-locked-accounts", "count", locks.len()),
        });
    }
    // R4: what keeps the viewer from client data, said first and in words.
    let blocked = state
        .app
        .my_missing_preconditions(&v.caller)
        .await
        .unwrap_or_default()
        .iter()
        .map(|m| super::people::missing_text(c.t, m))
        .collect();
    HomePage {
        blocked,
        name: v.person.display_name.clone(),
        c: v.chrome,
        matters,
        recent,
        waiting,
    }
    .into_response()
}
