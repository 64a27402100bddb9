//! "What would change?" before staffing someone on a team or a matter: the person's access
//! to each matter now and after, and the rule that would decide, with a button that makes the
//! change and one that goes back. The firm policy preview is on the policies page.

use super::emergency::why;
use super::{Chrome, Viewer, error_page};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::response::{IntoResponse, Response};
use custos_app::{Membership, Scope, StaffingPlace};
use custos_domain::PersonId;

pub(super) struct StaffingLine {
    number: String,
    before: String,
    after: String,
    changes: bool,
    why: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "staffing_preview.html")]
struct StaffingPreviewPage {
    c: Chrome,
    heading: String,
    lines: Vec<StaffingLine>,
    /// Where the confirming form posts (the change itself), and the page to go back to.
    action: String,
    back: String,
    person: String,
}

fn scope_words(c: &Chrome, scope: Option<Scope>) -> String {
    c.t.get(match scope {
        Some(Scope::Full) => "what-if-full",
        Some(Scope::MetadataOnly) => "what-if-metadata",
        None => "what-if-none",
    })
}

/// The preview of adding (or removing) `person` at `place`, with a form that makes the change
/// (the team's or matter's own membership form) and a way back to its page.
pub(super) async fn staffing_page(
    state: &AppState,
    v: &Viewer,
    place: StaffingPlace,
    person: PersonId,
    change: Membership,
) -> Response {
    let back = match place {
        StaffingPlace::Team(t) => format!("/teams/{}", t.0),
        StaffingPlace::Matter(m) => format!("/matters/{}", m.0),
    };
    let action = match change {
        Membership::Add => format!("{back}/members/add"),
        Membership::Remove => format!("{back}/members/remove"),
    };
    let preview = match state
        .app
        .preview_staffing(&v.caller, place, person, change)
        .await
    {
        Ok(p) => p,
        Err(e) => return error_page(&v.chrome, e),
    };
    let c = &v.chrome;
    let heading = c.t.with(
        match change {
            Membership::Add => "what-if-add-heading",
            Membership::Remove => "what-if-remove-heading",
        },
        "name",
        preview.name.clone(),
    );
    StaffingPreviewPage {
        lines: preview
            .matters
            .into_iter()
            .map(|l| StaffingLine {
                number: l.number.to_string(),
                before: scope_words(c, l.before),
                after: scope_words(c, l.after),
                changes: l.before != l.after,
                why: why(c, l.rule, &l.message),
            })
            .collect(),
        heading,
        action,
        back,
        person: person.0.to_string(),
        c: v.chrome.clone(),
    }
    .into_response()
}
