//! Spawns a demo firm served over HTTPS on a random port, with typed request helpers.

use custos_app::{App, DEMO_PASSWORD, DataDir, DemoFirm, init_data_dir, seed_demo_firm};
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;
use std::net::SocketAddr;
use tempfile::TempDir;
use tokio::sync::oneshot;

pub type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// A running Custos with the demo firm.
pub struct TestFirm {
    pub base: String,
    pub http: Client,
    pub app: App,
    pub firm: DemoFirm,
    pub data_dir: DataDir,
    /// People logged in so far: their full session and TOTP secret.
    accounts: tokio::sync::Mutex<std::collections::HashMap<String, crate::node::Enrolled>>,
    _dir: TempDir,
    _shutdown: oneshot::Sender<()>,
}

/// An HTTPS client that trusts only the data directory's certificate.
pub fn https_client(data_dir: &DataDir) -> Client {
    let pem = std::fs::read(data_dir.path(&data_dir.config.tls_cert)).unwrap_or_default();
    let cert = reqwest::Certificate::from_pem(&pem).ok();
    Client::builder()
        .tls_certs_only(cert)
        .https_only(true)
        .build()
        .unwrap_or_default()
}

/// Creates the demo firm in a fresh data directory and serves it on a random port.
pub async fn spawn_demo_firm() -> TestFirm {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let root = dir.path().join("data");
    let outcome = init_data_dir(&root, "olivia.officer", &Default::default())
        .await
        .unwrap_or_else(|e| panic!("init: {e}"));
    let firm = seed_demo_firm(&outcome.app, outcome.officer.id, outcome.officer_password)
        .await
        .unwrap_or_else(|e| panic!("seed: {e}"));
    let tls = custos_server::load_tls_config(
        &outcome.data_dir.path(&outcome.data_dir.config.tls_cert),
        &outcome.data_dir.path(&outcome.data_dir.config.tls_key),
    )
    .unwrap_or_else(|e| panic!("tls: {e}"));
    let listener = custos_server::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
    let (tx, rx) = oneshot::channel::<()>();
    let router = custos_server::router(outcome.app.clone());
    tokio::spawn(custos_server::serve(listener, tls, router, async {
        let _ = rx.await;
    }));
    TestFirm {
        base: format!("https://localhost:{port}"),
        http: https_client(&outcome.data_dir),
        app: outcome.app,
        firm,
        data_dir: outcome.data_dir,
        accounts: Default::default(),
        _dir: dir,
        _shutdown: tx,
    }
}

impl TestFirm {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A full session of a demo user: the first call logs in and enrolls the second factor
    /// through the API, later calls return the same session.
    pub async fn login(&self, user: &str) -> String {
        let mut accounts = self.accounts.lock().await;
        if let Some(a) = accounts.get(user) {
            return a.token.clone();
        }
        let enrolled = crate::node::first_login(&self.http, &self.base, user, DEMO_PASSWORD).await;
        let token = enrolled.token.clone();
        accounts.insert(user.to_owned(), enrolled);
        token
    }

    /// The next unused code of a user logged in before.
    pub async fn next_code(&self, user: &str) -> String {
        self.login(user).await;
        let mut accounts = self.accounts.lock().await;
        let Some(a) = accounts.get_mut(user) else {
            panic!("{user} never logged in");
        };
        let secret = a.secret.clone();
        crate::node::next_code(&secret, &mut a.last_step).await
    }

    /// A new session of a user (password + a fresh code), beside any existing one.
    pub async fn fresh_login(&self, user: &str) -> String {
        let code = self.next_code(user).await;
        let response = self
            .http
            .post(self.url("/api/session"))
            .json(
                &serde_json::json!({ "user_name": user, "password": DEMO_PASSWORD, "code": code }),
            )
            .send()
            .await
            .unwrap_or_else(|e| panic!("login request: {e}"));
        assert_eq!(response.status(), StatusCode::CREATED, "login of {user}");
        let body: Value = response.json().await.unwrap_or_default();
        body["token"].as_str().unwrap_or_default().to_owned()
    }

    pub async fn get(&self, token: &str, path: &str) -> Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    pub async fn get_json(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let r = self.get(token, path).await;
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn send_json(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: &Value,
    ) -> Response {
        self.http
            .request(method, self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    pub async fn post_json(&self, token: &str, path: &str, body: &Value) -> Response {
        self.send_json(reqwest::Method::POST, token, path, body)
            .await
    }

    /// Uploads `content` to a matter with complete provenance.
    pub async fn upload(
        &self,
        token: &str,
        matter: impl std::fmt::Display,
        title: &str,
        classification: &str,
        content: Vec<u8>,
    ) -> Response {
        let metadata = serde_json::json!({
            "title": title,
            "classification": classification,
            "media_type": "application/octet-stream",
            "provenance": full_provenance(),
        });
        self.upload_raw(token, matter, metadata, content).await
    }

    pub async fn upload_raw(
        &self,
        token: &str,
        matter: impl std::fmt::Display,
        metadata: Value,
        content: Vec<u8>,
    ) -> Response {
        let form = reqwest::multipart::Form::new()
            .text("metadata", metadata.to_string())
            .part("content", reqwest::multipart::Part::bytes(content));
        self.http
            .post(self.url(&format!("/api/matters/{matter}/documents")))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("upload: {e}"))
    }

    pub fn person(&self, user: &str) -> String {
        self.firm
            .people
            .get(user)
            .map(|p| p.to_string())
            .unwrap_or_default()
    }

    pub fn matter(&self, key: &str) -> String {
        self.firm
            .matters
            .get(key)
            .map(|m| m.to_string())
            .unwrap_or_default()
    }

    pub fn document(&self, key: &str) -> String {
        self.firm
            .documents
            .get(key)
            .map(|d| d.to_string())
            .unwrap_or_default()
    }

    pub fn team(&self, name: &str) -> String {
        self.firm
            .teams
            .get(name)
            .map(|t| t.to_string())
            .unwrap_or_default()
    }

    pub fn client(&self, key: &str) -> String {
        self.firm
            .clients
            .get(key)
            .map(|c| c.to_string())
            .unwrap_or_default()
    }

    /// The first sign-in of an outside account linked to a recipient: the one-time password
    /// is read from the mail the link sent to the recipient (the officer's outbox view), the
    /// account enrolls a factor and chooses the demo password. Later calls of `login` return
    /// the same session.
    pub async fn login_with_mailed_password(&self, officer: &str, user: &str) -> String {
        let (status, outbox) = self.get_json(officer, "/api/outbox?limit=200").await;
        assert_eq!(status, StatusCode::OK);
        let marker = format!("user name {user} and the one-time password ");
        let body = outbox["items"]
            .as_array()
            .and_then(|items| {
                items
                    .iter()
                    .filter_map(|m| m["body"].as_str())
                    .find(|b| b.contains(&marker))
            })
            .unwrap_or_else(|| panic!("no password mail for {user}"))
            .to_owned();
        let at = body.find(&marker).map_or(0, |i| i + marker.len());
        let password: String = body[at..]
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        let enrolled = crate::node::first_login(&self.http, &self.base, user, &password).await;
        let r = self
            .send_json(
                reqwest::Method::PUT,
                &enrolled.token,
                "/api/me/password",
                &serde_json::json!({ "current": password, "new": DEMO_PASSWORD }),
            )
            .await;
        assert_eq!(
            r.status(),
            StatusCode::NO_CONTENT,
            "password change of {user}"
        );
        let token = enrolled.token.clone();
        self.accounts.lock().await.insert(user.to_owned(), enrolled);
        token
    }

    /// The officer's view of the audit entries of one request.
    pub async fn audit_of_request(&self, officer_token: &str, request_id: &str) -> Vec<Value> {
        let (status, body) = self
            .get_json(
                officer_token,
                &format!("/api/audit?request_id={request_id}"),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        body["items"].as_array().cloned().unwrap_or_default()
    }
}

/// Provenance with every field.
pub fn full_provenance() -> Value {
    serde_json::json!({
        "source": "client by e-mail",
        "content_description": "test content",
        "purpose": "conduct of the matter",
        "legal_basis": "engagement letter",
        "collected_by": "tester",
        "collected_at": "2026-11-01T10:00:00Z",
    })
}

/// The request id of a response.
pub fn request_id(r: &Response) -> String {
    r.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
