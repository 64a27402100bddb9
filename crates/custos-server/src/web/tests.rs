//! The web interface's defences, through the real router and a real app on SQLite: an upload's
//! CSRF token must be the multipart body's first part; forms that need no session refuse
//! other sites; return addresses stay on this site; templates carry no inline script or style.
//! (The pages themselves are tested end to end in a real browser: tests/browser/e2e.mjs.)

#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail by panicking")]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use custos_app::{App, AppSettings, LoginRequest, SessionKind};
use custos_domain::{RequestId, SystemClock};
use http_body_util::BodyExt;
use std::sync::Arc;
use tower::ServiceExt;
use zeroize::Zeroizing;

struct Signed {
    router: Router,
    app: App,
    /// A full cookie session of the officer.
    token: String,
    _dir: tempfile::TempDir,
}

/// An app with its first officer signed in through the whole first-login flow.
async fn signed_in() -> Signed {
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
    let token = session.token.as_str().to_owned();
    let caller = app
        .authenticate(RequestId::new(), &token, SessionKind::Cookie)
        .await
        .unwrap();
    app.change_password(
        &caller,
        Zeroizing::new(otp.as_str().to_owned()),
        Zeroizing::new("copper kettle winter harbour 42".to_owned()),
    )
    .await
    .unwrap();
    let enrollment = app.start_totp_enrollment(&caller).await.unwrap();
    let secret = custos_crypto::totp::from_base32(&enrollment.secret).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    app.confirm_totp(&caller, &custos_crypto::totp::code_at(&secret, now, 6))
        .await
        .unwrap();
    Signed {
        router: crate::router(app.clone()),
        app,
        token,
        _dir: dir,
    }
}

async fn send(router: &Router, req: Request<Body>) -> (StatusCode, Vec<(String, String)>, String) {
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

fn header_of<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn multipart(parts: &[(&str, &str)]) -> (String, String) {
    let boundary = "custos-test-boundary";
    let mut body = String::new();
    for (name, value) in parts {
        let file = if *name == "content" {
            "; filename=\"a.txt\"\r\nContent-Type: text/plain"
        } else {
            ""
        };
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"{file}\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn an_upload_is_refused_unless_its_first_part_is_the_csrf_token() {
    let s = signed_in().await;
    let csrf = s.app.csrf_token(&s.token);
    let matter = uuid::Uuid::now_v7();
    let upload = |parts: &[(&str, &str)]| {
        let (content_type, body) = multipart(parts);
        Request::post(format!("/matters/{matter}/upload"))
            .header(
                header::COOKIE,
                format!("{}={}", crate::auth::SESSION_COOKIE, s.token),
            )
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap()
    };
    // No token; the token after another part; another session's token: refused as a
    // forged form, before anything of the form is looked at.
    let other = s.app.csrf_token(&"1".repeat(64));
    for parts in [
        vec![("title", "x"), ("content", "secret bytes")],
        vec![
            ("title", "x"),
            ("csrf_token", csrf.as_str()),
            ("content", "x"),
        ],
        vec![("csrf_token", other.as_str()), ("content", "x")],
    ] {
        let (status, _, body) = send(&s.router, upload(&parts)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{parts:?}: {body}");
        assert!(body.contains("This form has expired"), "{body}");
    }
    // The right token first: the form is read, and the unknown matter is not found.
    let (status, _, body) = send(
        &s.router,
        upload(&[
            ("csrf_token", csrf.as_str()),
            ("title", "x"),
            ("content", "x"),
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // Without a session at all: to the sign-in page.
    let (content_type, body) = multipart(&[("csrf_token", csrf.as_str())]);
    let req = Request::post(format!("/matters/{matter}/upload"))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap();
    let (status, headers, _) = send(&s.router, req).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        header_of(&headers, "location")
            .unwrap()
            .starts_with("/sign-in?next=")
    );
}

#[tokio::test]
async fn forms_without_a_session_refuse_other_sites_and_stay_on_this_one() {
    let s = signed_in().await;
    let form = |path: &str, body: &str, extra: Option<(&str, &str)>| {
        let mut req = Request::post(path)
            .header(header::HOST, "custos.example")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some((k, v)) = extra {
            req = req.header(k, v);
        }
        req.body(Body::from(body.to_owned())).unwrap()
    };
    // Another site cannot sign a browser in (login CSRF) or flip its language.
    for extra in [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let (status, _, _) = send(
            &s.router,
            form(
                "/sign-in",
                "user_name=olivia.officer&password=x&code=",
                Some(extra),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{extra:?}");
        let (status, _, _) = send(
            &s.router,
            form("/language", "lang=zh-CN&next=%2F", Some(extra)),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{extra:?}");
    }
    // The same site: the language is remembered, and the return address stays on this site.
    for (next, to) in [
        ("%2Fmatters%3Fq%3Dx", "/matters?q=x"),
        ("%2F%2Fevil.example%2F", "/"),
        ("https%3A%2F%2Fevil.example", "/"),
        ("%2F%5Cevil.example", "/"),
    ] {
        let (status, headers, _) = send(
            &s.router,
            form(
                "/language",
                &format!("lang=zh-CN&next={next}"),
                Some(("origin", "https://custos.example")),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(header_of(&headers, "location"), Some(to), "{next}");
        assert!(
            header_of(&headers, "set-cookie")
                .unwrap()
                .starts_with("custos_lang=zh-CN;")
        );
    }
    // A wrong password from this site: the form again, with the refusal in words.
    let (status, _, body) = send(
        &s.router,
        form(
            "/sign-in",
            "user_name=olivia.officer&password=wrong&next=%2F%2Fevil.example",
            Some(("sec-fetch-site", "same-origin")),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("is not right"), "{body}");
    assert!(body.contains("name=\"next\" value=\"/\""), "{body}");
}

#[tokio::test]
async fn pages_of_a_full_session_carry_the_csrf_token_and_the_page_policy() {
    let s = signed_in().await;
    let csrf = s.app.csrf_token(&s.token);
    let req = Request::get("/account")
        .header(
            header::COOKIE,
            format!("{}={}", crate::auth::SESSION_COOKIE, s.token),
        )
        .body(Body::empty())
        .unwrap();
    let (status, headers, body) = send(&s.router, req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        header_of(&headers, "content-security-policy"),
        Some(crate::pages::PAGE_CSP)
    );
    assert!(body.contains(&format!("name=\"csrf_token\" value=\"{csrf}\"")));
    assert!(
        !body.contains(&s.token),
        "the session token never appears in a page"
    );
}

#[test]
fn templates_carry_no_inline_script_style_or_handler() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap().to_lowercase();
        for bad in [
            "<script>",
            "<style",
            " style=",
            "javascript:",
            " onclick",
            " onload",
            " onsubmit",
            " onchange",
            "http://",
            "https://",
        ] {
            assert!(!text.contains(bad), "{}: {bad}", path.display());
        }
        // A page's title is text: markup in it would show in the browser's tab as it is.
        for title in text.split("{% block title %}").skip(1) {
            let title = title.split("{% endblock %}").next().unwrap_or_default();
            assert!(
                !title.contains('<') && !title.contains('\n'),
                "{}: title block `{title}`",
                path.display()
            );
        }
        for script in text.split("<script").skip(1) {
            assert!(
                script.trim_start().starts_with("src=\"/assets/"),
                "{}",
                path.display()
            );
        }
        checked += 1;
    }
    assert!(checked >= 20, "{checked} templates");
}

#[test]
fn return_addresses_stay_on_this_site() {
    use super::local_path;
    assert_eq!(local_path(Some("/matters/1?x=y")), "/matters/1?x=y");
    for hostile in [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "evil",
        "/\n/x",
        "",
    ] {
        assert_eq!(local_path(Some(hostile)), "/", "{hostile:?}");
    }
    assert_eq!(local_path(None), "/");
}
