//! The errors a use case returns; each variant is one thing a caller can act on.

use custos_crypto::CryptoError;
use custos_domain::DomainError;
use custos_store::StoreError;

/// Why a use case did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No valid session or credentials.
    #[error("authentication required")]
    Unauthenticated,
    /// Wrong user name or password (deliberately not saying which).
    #[error("user name or password is wrong")]
    BadCredentials,
    /// A release link's one-time code is wrong, expired or used (the link itself is known).
    #[error("the code is wrong, expired or already used; ask for a new one")]
    WrongCode,
    /// Too many failed logins for this account or address; retry after the delay.
    #[error("too many failed attempts; try again in {retry_after_secs} s")]
    Throttled {
        /// Seconds until the next attempt is considered.
        retry_after_secs: u64,
    },
    /// The session may only finish account setup (change the one-time password, enroll the
    /// second factor) until that is done.
    #[error("finish account setup first: {0}")]
    SetupRequired(String),
    /// The resource does not exist, or the caller may not know it exists (invariant 6).
    #[error("not found")]
    NotFound,
    /// The caller knows the resource but may not do this; the rule is named.
    #[error("forbidden by {rule}: {message}")]
    Forbidden {
        /// Rule code (e.g. `R2.metadata_only`).
        rule: String,
        /// Explanation.
        message: String,
    },
    /// The API token's scopes do not cover the action (the needed scope is named).
    #[error("{0}")]
    InsufficientScope(String),
    /// The input is not valid.
    #[error(transparent)]
    Invalid(#[from] DomainError),
    /// The input is not valid (free-form message, no user data beyond what was sent).
    #[error("{0}")]
    BadInput(String),
    /// The input names a record that does not exist (a team lead, a wall's subject...).
    #[error("{0}")]
    UnknownReference(String),
    /// The change conflicts with existing data (duplicate name...).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The person a change names is screened by an ethical wall from the record it concerns
    /// (staffing someone the wall keeps out); the wall is named for the caller, who may see
    /// the record.
    #[error("screened by an ethical wall: {0}")]
    Screened(String),
    /// The upload is larger than the configured limit.
    #[error("content larger than the limit of {0} bytes")]
    TooLarge(u64),
    /// Stored content failed its integrity check: it was altered or damaged.
    #[error("integrity check failed: the stored document was altered or damaged")]
    Integrity,
    /// The audit log's hash chain does not verify: history was rewritten.
    #[error("audit log tampered: {0}")]
    AuditTampered(String),
    /// The database or blob store is unavailable; retry later.
    #[error("storage unavailable")]
    Unavailable,
    /// Anything else; the detail goes to the log, never to the caller.
    #[error("internal error")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => AppError::Conflict(m),
            StoreError::Unavailable(m) => {
                tracing::warn!(error = %m, "storage unavailable");
                AppError::Unavailable
            }
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<CryptoError> for AppError {
    fn from(e: CryptoError) -> Self {
        match e {
            CryptoError::Integrity => AppError::Integrity,
            other => AppError::Internal(other.to_string()),
        }
    }
}
