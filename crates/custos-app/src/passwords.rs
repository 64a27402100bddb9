//! Password hashing with Argon2id on the blocking pool, behind a concurrency limit so that a
//! login flood cannot starve request handling. Unknown users still cost one verification.

use crate::AppError;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::Arc;
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

/// OWASP parameters: m = 19 MiB, t = 2, p = 1.
fn argon2() -> Result<Argon2<'static>, AppError> {
    let params =
        Params::new(19 * 1024, 2, 1, None).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes and verifies passwords.
#[derive(Debug, Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    dummy_hash: Arc<String>,
}

impl Passwords {
    /// A hasher allowing `concurrency` Argon2 computations at once.
    pub fn new(concurrency: usize) -> Result<Self, AppError> {
        let dummy = hash_now(&Zeroizing::new("custos-dummy-password".to_owned()))?;
        Ok(Passwords {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy_hash: Arc::new(dummy),
        })
    }

    /// Hashes a new password.
    pub async fn hash(&self, password: Zeroizing<String>) -> Result<String, AppError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| AppError::Unavailable)?;
        tokio::task::spawn_blocking(move || hash_now(&password))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
    }

    /// Verifies `password` against `hash`, or against a dummy hash when the user is unknown, so
    /// that both take the same time.
    pub async fn verify(
        &self,
        password: Zeroizing<String>,
        hash: Option<String>,
    ) -> Result<bool, AppError> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.as_str().to_owned());
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| AppError::Unavailable)?;
        let ok = tokio::task::spawn_blocking(move || {
            let parsed = PasswordHash::new(&hash).map_err(|e| AppError::Internal(e.to_string()))?;
            Ok::<bool, AppError>(
                argon2()?
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok(),
            )
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
        Ok(ok && known)
    }
}

fn hash_now(password: &Zeroizing<String>) -> Result<String, AppError> {
    let salt_bytes = custos_crypto::random_bytes::<16>()?;
    let salt =
        SaltString::encode_b64(&salt_bytes).map_err(|e| AppError::Internal(e.to_string()))?;
    argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(e.to_string()))
}
