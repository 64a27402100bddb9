//! Sign-in as pages use it, through the real middleware stack and a real app on SQLite: a page
//! answers a missing or unfinished sign-in with a redirect (the API with JSON), a form carries
//! the CSRF token as a field and reaches its handler intact, and pages and API each carry
//! their own Content Security Policy.

#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail by panicking")]

use crate::auth::{Authed, SignedIn, SigningIn};
use crate::pages::{API_CSP, PAGE_CSP, with_page_policy};
use crate::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::{get, post};
use custos_app::{App, AppSettings, LoginRequest, SessionKind};
use custos_domain::{RequestId, SystemClock};
use http_body_util::BodyExt;
use std::collections::HashMap;
use std::sync::Arc;
use tower::ServiceExt;
use zeroize::Zeroizing;

struct Setup {
    router: Router,
    app: App,
    /// A cookie session at the setup stage (one-time password used, nothing enrolled).
    token: String,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let store = custos_store::SqliteStore::open(&dir.path().join("c.db"), true)
        .await
        .unwrap();
    let blobs = custos_store::LocalBlobStore::open(&dir.path().join("blobs")).unwrap();
    let app = App::new(
        Arc::new(store),
        Arc::new(blobs),
        custos_crypto::Kek::generate().unwrap(),
        Arc::new(SystemClock),
        AppSettings::default(),
    )
    .unwrap();
    let (_, otp) = app
        .bootstrap_officer("olivia.officer", "Olivia Officer")
        .await
        .unwrap();
    let session = app
        .login(
            RequestId::new(),
            LoginRequest {
                user_name: "olivia.officer".to_owned(),
                password: Zeroizing::new(otp.as_str().to_owned()),
                code: None,
                source: "192.0.2.1".to_owned(),
                kind: SessionKind::Cookie,
            },
        )
        .await
        .unwrap();
    let pages = with_page_policy(
        Router::new()
            .route("/matters", get(|SignedIn(_): SignedIn| async { "matters" }))
            .route(
                "/setup",
                get(|SigningIn(_): SigningIn| async { "setup" }).post(
                    |SigningIn(_): SigningIn,
                     axum::Form(form): axum::Form<HashMap<String, String>>| async move {
                        form.get("name").cloned().unwrap_or_default()
                    },
                ),
            ),
    );
    let api = Router::new().route("/api/thing", post(|Authed(_): Authed| async { "ok" }));
    let router = crate::secured(
        api.merge(pages)
            .fallback(crate::routes::no_such_route)
            .with_state(AppState::new(app.clone())),
    );
    Setup {
        router,
        app,
        token: session.token.as_str().to_owned(),
        _dir: dir,
    }
}

async fn send(
    router: &Router,
    req: Request<Body>,
) -> (StatusCode, HashMap<String, String>, String) {
    let response = router.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn cookie(token: &str) -> String {
    format!("{}={token}", crate::auth::SESSION_COOKIE)
}

#[tokio::test]
async fn a_page_redirects_where_the_api_answers_json() {
    let s = setup().await;
    // No session: back to sign-in, then to the page asked for.
    let req = Request::get("/matters?tab=docs")
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = send(&s.router, req).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/sign-in?next=%2Fmatters%3Ftab%3Ddocs");
    assert_eq!(headers["content-security-policy"], PAGE_CSP);
    // An unfinished sign-in: on to account setup, which itself accepts the session.
    let req = Request::get("/matters")
        .header(header::COOKIE, cookie(&s.token))
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = send(&s.router, req).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/account/setup");
    let req = Request::get("/setup")
        .header(header::COOKIE, cookie(&s.token))
        .body(Body::empty())
        .unwrap();
    let (status, headers, body) = send(&s.router, req).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "setup"));
    assert_eq!(headers["content-security-policy"], PAGE_CSP);
    // A forged or unknown cookie is no session either.
    let req = Request::get("/setup")
        .header(header::COOKIE, cookie(&"0".repeat(64)))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&s.router, req).await.0, StatusCode::SEE_OTHER);
    // The API: JSON, and its own policy.
    let req = Request::post("/api/thing").body(Body::empty()).unwrap();
    let (status, headers, body) = send(&s.router, req).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("\"unauthenticated\""), "{body}");
    assert_eq!(headers["content-security-policy"], API_CSP);
}

#[tokio::test]
async fn a_form_carries_its_csrf_token_as_a_field() {
    let s = setup().await;
    let csrf = s.app.csrf_token(&s.token);
    let form = |body: String| {
        Request::post("/setup")
            .header(header::COOKIE, cookie(&s.token))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    // Without the token, or with another session's: refused.
    let (status, _, body) = send(&s.router, form("name=Lena".to_owned())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("\"csrf\""), "{body}");
    let other = s.app.csrf_token(&"1".repeat(64));
    let (status, _, _) = send(&s.router, form(format!("csrf_token={other}&name=Lena"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // With it: the handler gets the whole form, unchanged.
    let (status, _, body) = send(
        &s.router,
        form(format!("name=L%C3%A9na+Li&csrf_token={csrf}")),
    )
    .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "Léna Li"));
    // A form too large to look into is refused.
    let huge = format!("csrf_token={csrf}&name={}", "a".repeat(70 * 1024));
    assert_eq!(
        send(&s.router, form(huge)).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // The header still works (the API's way).
    let req = Request::post("/setup")
        .header(header::COOKIE, cookie(&s.token))
        .header(crate::auth::CSRF_HEADER, csrf.as_str())
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("name=Lena"))
        .unwrap();
    assert_eq!(send(&s.router, req).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_stale_link_gets_a_page_and_an_api_client_gets_json() {
    let s = setup().await;
    let req = Request::get("/no/such/page")
        .header(header::ACCEPT, "text/html,application/xhtml+xml")
        .body(Body::empty())
        .unwrap();
    let (status, headers, body) = send(&s.router, req).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(headers["content-type"].starts_with("text/html"));
    assert!(body.contains("未找到"));
    assert_eq!(headers["content-security-policy"], PAGE_CSP);
    let req = Request::get("/api/no/such").body(Body::empty()).unwrap();
    let (status, headers, body) = send(&s.router, req).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("no_such_route"));
    assert_eq!(headers["content-security-policy"], API_CSP);
}
