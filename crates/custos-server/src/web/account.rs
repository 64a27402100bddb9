//! My account: password change, new recovery codes, my sessions (end one), my API tokens
//! (create with scopes and expiry, shown once; revoke), and my own audit trail.

use super::audit::{EntryRow, entry_row};
use super::sign_in::{PasswordForm, RecoveryCodesPage, password_problem};
use super::{Chrome, Viewer, error_page, see_other};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custos_app::{AppError, NewApiToken};
use serde::Deserialize;
use std::collections::HashMap;
use zeroize::Zeroizing;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/account", get(account))
        .route("/account/password", post(change_password))
        .route("/account/mail-address", post(set_mail))
        .route("/account/recovery-codes", post(recovery_codes))
        .route("/account/sessions/end", post(end_session))
        .route("/account/tokens", post(create_token))
        .route("/account/tokens/revoke", post(revoke_token))
        .route("/account/trail", get(trail))
}

pub(super) struct SessionRow {
    id: String,
    kind: String,
    source: String,
    started: String,
    last_seen: String,
    current: bool,
}

pub(super) struct TokenRow {
    id: String,
    name: String,
    scopes: String,
    expires: String,
    revoked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
struct AccountPage {
    c: Chrome,
    user_name: String,
    role: String,
    sessions: Vec<SessionRow>,
    tokens: Vec<TokenRow>,
    notice: Option<String>,
    error: Option<String>,
    new_token: Option<String>,
    /// The address for notices (transfers waiting for one's approval, one's own refused or
    /// released); staff only.
    mail: Option<String>,
    staff: bool,
}

#[derive(Debug, Deserialize)]
struct MailForm {
    #[serde(default)]
    email: String,
}

async fn set_mail(State(state): State<AppState>, v: Viewer, Form(f): Form<MailForm>) -> Response {
    match state.app.set_my_mail_address(&v.caller, &f.email).await {
        Ok(_) => super::see_other("/account?done=mail-address-saved"),
        Err(custos_app::AppError::Invalid(e)) => {
            let error = e.to_string();
            render(&state, v, None, Some(error), None).await
        }
        Err(e) => error_page(&v.chrome, e),
    }
}

#[derive(Debug, Deserialize)]
struct Done {
    done: Option<String>,
}

async fn account(State(state): State<AppState>, v: Viewer, Query(q): Query<Done>) -> Response {
    let notice = q
        .done
        .and_then(|d| v.chrome.t.try_get(&format!("done-{d}")));
    render(&state, v, notice, None, None).await
}

async fn render(
    state: &AppState,
    v: Viewer,
    notice: Option<String>,
    error: Option<String>,
    new_token: Option<String>,
) -> Response {
    let (sessions, tokens) = match tokio::try_join!(
        state.app.my_sessions(&v.caller),
        state.app.my_api_tokens(&v.caller)
    ) {
        Ok(found) => found,
        Err(e) => return error_page(&v.chrome, e),
    };
    let mail = state
        .app
        .my_mail_address(&v.caller)
        .await
        .unwrap_or_default();
    let c = &v.chrome;
    let sessions = sessions
        .into_iter()
        .map(|s| SessionRow {
            id: s.id.to_string(),
            kind: c.t.get(&format!("session-kind-{}", s.kind)),
            source: s.source,
            started: c.when(&s.created_at),
            last_seen: c.when(&s.last_seen_at),
            current: s.current,
        })
        .collect();
    let tokens = tokens
        .into_iter()
        .map(|t| TokenRow {
            id: t.id.to_string(),
            name: t.name,
            scopes: t.scopes.join(", "),
            expires: c.when(&t.expires_at),
            revoked: t.revoked,
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    (
        status,
        AccountPage {
            user_name: v.person.user_name.as_str().to_owned(),
            role: super::role_name(c.t, v.person.role),
            c: v.chrome.clone(),
            sessions,
            tokens,
            notice,
            error,
            new_token,
            mail,
            staff: custos_app::is_staff(v.person.role),
        },
    )
        .into_response()
}

async fn change_password(
    State(state): State<AppState>,
    v: Viewer,
    Form(form): Form<PasswordForm>,
) -> Response {
    let (current, new, confirm) = form.into_parts();
    if new != confirm {
        let error = v.chrome.t.get("passwords-differ");
        return render(&state, v, None, Some(error), None).await;
    }
    match state
        .app
        .change_password(&v.caller, Zeroizing::new(current), Zeroizing::new(new))
        .await
    {
        Ok(()) => see_other("/account?done=password-changed"),
        Err(e) => match password_problem(&v.chrome, &e) {
            Some(problem) => render(&state, v, None, Some(problem), None).await,
            None => error_page(&v.chrome, e),
        },
    }
}

async fn recovery_codes(State(state): State<AppState>, v: Viewer) -> Response {
    match state.app.regenerate_recovery_codes(&v.caller).await {
        Ok(codes) => RecoveryCodesPage {
            c: v.chrome,
            codes: codes.iter().map(|c| c.to_string()).collect(),
            next: "/account".to_owned(),
        }
        .into_response(),
        Err(e) => error_page(&v.chrome, e),
    }
}

#[derive(Deserialize)]
struct IdForm {
    #[serde(default)]
    id: String,
}

async fn end_session(
    State(state): State<AppState>,
    v: Viewer,
    Form(form): Form<IdForm>,
) -> Response {
    let Ok(id) = form.id.parse() else {
        return error_page(&v.chrome, AppError::NotFound);
    };
    match state.app.revoke_my_session(&v.caller, id).await {
        Ok(()) => see_other("/account?done=session-ended"),
        Err(e) => error_page(&v.chrome, e),
    }
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    read: Option<String>,
    #[serde(default)]
    write: Option<String>,
    #[serde(default)]
    audit: Option<String>,
}

async fn create_token(
    State(state): State<AppState>,
    v: Viewer,
    Form(form): Form<TokenForm>,
) -> Response {
    let scopes: Vec<String> = [
        ("read", &form.read),
        ("write", &form.write),
        ("audit", &form.audit),
    ]
    .into_iter()
    .filter(|(_, on)| on.is_some())
    .map(|(name, _)| name.to_owned())
    .collect();
    let Ok(days) = form.days.trim().parse::<u32>() else {
        let error = v.chrome.t.get("token-days-bad");
        return render(&state, v, None, Some(error), None).await;
    };
    if scopes.is_empty() {
        let error = v.chrome.t.get("token-scopes-missing");
        return render(&state, v, None, Some(error), None).await;
    }
    let new = NewApiToken {
        name: form.name,
        scopes,
        days,
    };
    match state.app.create_api_token(&v.caller, new).await {
        Ok((_, secret)) => {
            let notice = v.chrome.t.get("token-created");
            render(&state, v, Some(notice), None, Some(secret.to_string())).await
        }
        Err(e @ (AppError::BadInput(_) | AppError::Invalid(_))) => {
            let error = v.chrome.t.with("token-refused", "reason", e.to_string());
            render(&state, v, None, Some(error), None).await
        }
        Err(e) => error_page(&v.chrome, e),
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    v: Viewer,
    Form(form): Form<IdForm>,
) -> Response {
    let Ok(id) = form.id.parse() else {
        return error_page(&v.chrome, AppError::NotFound);
    };
    match state.app.revoke_api_token(&v.caller, id).await {
        Ok(()) => see_other("/account?done=token-revoked"),
        Err(e) => error_page(&v.chrome, e),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "trail.html")]
struct TrailPage {
    c: Chrome,
    h: Vec<EntryRow>,
    next: Option<String>,
    log_key: Option<String>,
    checkpoint: Option<super::transparency::CheckpointPanel>,
    can_sign: bool,
}

#[derive(Debug, Deserialize)]
struct SeqCursor {
    cursor: Option<String>,
}

async fn trail(State(state): State<AppState>, v: Viewer, Query(q): Query<SeqCursor>) -> Response {
    let after = q.cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
    let page = match state.app.my_audit_trail(&v.caller, after, 100).await {
        Ok(page) => page,
        Err(e) => return error_page(&v.chrome, e),
    };
    let mut names = HashMap::new();
    names.insert(v.person.id, (v.person.display_name.clone(), v.person.role));
    let (log_key, checkpoint) = super::transparency::panel(&state, &v).await;
    let signed = checkpoint.as_ref().map_or(0, |cp| cp.size);
    let c = &v.chrome;
    let h = page
        .items
        .iter()
        .map(|e| EntryRow {
            proof: e.provable && e.seq <= signed,
            ..entry_row(c, e.seq, &e.record, &names)
        })
        .collect();
    TrailPage {
        c: v.chrome.clone(),
        h,
        next: page.next_cursor,
        log_key,
        checkpoint,
        can_sign: false,
    }
    .into_response()
}
