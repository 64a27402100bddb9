//! Witnesses (issue 15): a small witness server (`custos audit witness`) speaking C2SP
//! `tlog-witness` (`POST /add-checkpoint`), and the log's side, which asks each configured
//! witness to cosign its latest checkpoint and stores the cosignature once it verifies.
//!
//! A witness keeps, per log it follows, the last checkpoint it cosigned (a JSON state file,
//! written before each answer), and cosigns a new one only with a consistency proof from that
//! one: a log that shows two histories cannot get both cosigned. Plain HTTP is enough for the
//! protocol's integrity (every checkpoint and cosignature is signed); put TLS in front for
//! privacy.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use custos_app::witness::{AddError, CosignerKey, WitnessState};
use custos_app::{App, AppError, WitnessConfig};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// A running witness: its key, what it has cosigned, and where that is kept.
pub struct Witness {
    key: CosignerKey,
    state: Mutex<WitnessState>,
    state_file: PathBuf,
}

impl std::fmt::Debug for Witness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Witness")
            .field("key", &self.key.verifier_key())
            .field("state_file", &self.state_file)
            .finish_non_exhaustive()
    }
}

impl Witness {
    /// A witness with `key`, its state read from `state_file` (created if missing), following
    /// the logs of `log_keys` (their verifier keys; the key's name is the log's origin).
    pub fn open(
        key: CosignerKey,
        state_file: PathBuf,
        log_keys: &[String],
    ) -> Result<Self, AppError> {
        let mut state: WitnessState = match std::fs::read_to_string(&state_file) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                AppError::BadInput(format!("witness state `{}`: {e}", state_file.display()))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => WitnessState::default(),
            Err(e) => {
                return Err(AppError::BadInput(format!(
                    "witness state `{}`: {e}",
                    state_file.display()
                )));
            }
        };
        for log in log_keys {
            let origin = log.split('+').next().unwrap_or_default();
            state.follow(origin, log.trim());
        }
        let witness = Witness {
            key,
            state: Mutex::new(state.clone()),
            state_file,
        };
        witness.save(&state)?;
        Ok(witness)
    }

    /// The witness's verifier key (logs check its cosignatures with it).
    pub fn verifier_key(&self) -> String {
        self.key.verifier_key()
    }

    /// Writes the state atomically (temporary file, fsync, rename).
    fn save(&self, state: &WitnessState) -> Result<(), AppError> {
        use std::io::Write;
        let text =
            serde_json::to_string_pretty(state).map_err(|e| AppError::Internal(e.to_string()))?;
        let mut temp = self.state_file.clone().into_os_string();
        temp.push(".tmp");
        let temp = PathBuf::from(temp);
        let write = || -> std::io::Result<()> {
            let mut file = std::fs::File::create(&temp)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&temp, &self.state_file)
        };
        write().map_err(|e| {
            AppError::Internal(format!(
                "witness state `{}`: {e}",
                self.state_file.display()
            ))
        })
    }

    /// Handles one `add-checkpoint` body: the cosignature line, or the refusal's status and
    /// text. The state is saved before a cosignature is handed out.
    pub fn add_checkpoint(&self, body: &str) -> (StatusCode, &'static str, String) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let Ok(mut state) = self.state.lock() else {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain",
                String::new(),
            );
        };
        let mut next = state.clone();
        match next.add_checkpoint(&self.key, body, now) {
            Ok(line) => match self.save(&next) {
                Ok(()) => {
                    *state = next;
                    (StatusCode::OK, "text/plain; charset=utf-8", line)
                }
                Err(e) => {
                    tracing::error!(error = %e, "witness state not saved: nothing cosigned");
                    (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "text/plain",
                        String::new(),
                    )
                }
            },
            Err(AddError::Conflict(size)) => (
                StatusCode::CONFLICT,
                "text/x.tlog.size",
                format!("{size}\n"),
            ),
            Err(e) => (
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
                "text/plain; charset=utf-8",
                format!("{e}\n"),
            ),
        }
    }
}

/// The witness's routes: `POST /add-checkpoint`.
pub fn witness_router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .with_state(witness)
}

async fn add_checkpoint(State(witness): State<Arc<Witness>>, body: String) -> Response {
    let (status, content_type, text) = witness.add_checkpoint(&body);
    (status, [(header::CONTENT_TYPE, content_type)], text).into_response()
}

/// Asks each witness to cosign the latest checkpoint it has not cosigned yet, and stores the
/// cosignatures that verify; returns, per witness, the size it cosigned now (`None`: nothing
/// new) or what went wrong.
pub async fn push_to_witnesses(
    app: &App,
    witnesses: &[WitnessConfig],
    client: &reqwest::Client,
) -> Vec<Result<Option<u64>, String>> {
    let mut out = Vec::new();
    for w in witnesses {
        out.push(
            push_one(app, w, client)
                .await
                .map_err(|e| format!("{}: {e}", w.url)),
        );
    }
    out
}

async fn push_one(
    app: &App,
    w: &WitnessConfig,
    client: &reqwest::Client,
) -> Result<Option<u64>, String> {
    let name = w.key.split('+').next().unwrap_or_default();
    let url = format!("{}/add-checkpoint", w.url.trim_end_matches('/'));
    let mut old = None;
    // A conflict names the size the witness holds: one retry from it.
    for _ in 0..2 {
        let Some(request) = app
            .witness_request(name, old)
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(None);
        };
        let response = client
            .post(&url)
            .body(request.body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let text = response.text().await.map_err(|e| e.to_string())?;
        match status {
            reqwest::StatusCode::OK => {
                let prefix = format!("\u{2014} {name} ");
                let line = text
                    .lines()
                    .find(|l| l.starts_with(&prefix))
                    .ok_or("the witness answered no cosignature of its key")?;
                app.add_cosignature(&w.key, request.size, &request.note, line)
                    .await
                    .map_err(|e| e.to_string())?;
                return Ok(Some(request.size));
            }
            reqwest::StatusCode::CONFLICT => {
                old = Some(
                    text.trim()
                        .parse()
                        .map_err(|_| format!("conflict without a size: {text}"))?,
                );
            }
            other => return Err(format!("refused ({other}): {}", text.trim())),
        }
    }
    Err("the witness kept answering a conflict".to_owned())
}
