//! Password hashing with Argon2id on the blocking pool, behind a concurrency limit so that a
//! login flood cannot starve request handling. Unknown users still cost one verification.
//! Passwords are NFKC-normalised before hashing and verifying.

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
        tokio::task::spawn_blocking(move || hash_now(&policy::normalize(&password)))
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
            let password = policy::normalize(&password);
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

/// The password policy (NIST SP 800-63B style): length, not common, not guessable, not the
/// person's or firm's name. No composition rules: any characters, spaces and emoji included.
pub mod policy {
    use crate::AppError;
    use std::collections::HashSet;
    use std::sync::LazyLock;
    use unicode_normalization::UnicodeNormalization;
    use zeroize::Zeroizing;

    /// Shortest password accepted, in characters (after normalisation).
    pub const MIN_CHARS: usize = 12;
    /// Longest password accepted, in characters (a bound on hashing work, far above NIST's 64).
    pub const MAX_CHARS: usize = 256;
    /// Lowest zxcvbn score accepted (0-4).
    pub const MIN_SCORE: u8 = 3;
    /// zxcvbn looks at this many leading characters (its matching grows quickly with length;
    /// a strong prefix makes the whole password strong).
    const SCORED_CHARS: usize = 100;

    static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
        include_str!("../data/common-passwords.txt")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .collect()
    });

    /// Unicode NFKC normalisation, applied to every password before hashing or checking, so
    /// the same characters typed on different keyboards give the same password.
    pub fn normalize(password: &str) -> Zeroizing<String> {
        Zeroizing::new(password.nfkc().collect())
    }

    /// Whether the normalised, lowercased password is in the shipped common-password list, or
    /// is a listed password padded with digits and symbols ("Summer2024!!", "P@ssw0rd#1"): the
    /// first thing cracking tools try with a breached list.
    pub fn is_common(normalized: &str) -> bool {
        let lower = normalized.to_lowercase();
        if COMMON.contains(lower.as_str()) {
            return true;
        }
        let unleet: String = lower
            .chars()
            .map(|c| match c {
                '@' | '4' => 'a',
                '0' => 'o',
                '1' | '!' => 'i',
                '3' => 'e',
                '$' | '5' => 's',
                '7' => 't',
                other => other,
            })
            .collect();
        let core = |s: &str| -> String { s.trim_matches(|c: char| !c.is_alphabetic()).to_owned() };
        [core(&lower), core(&unleet), unleet.clone()]
            .iter()
            .any(|c| c.chars().count() >= 4 && COMMON.contains(c.as_str()))
    }

    /// Checks a new (normalised) password; the error says what to change, never echoes it.
    pub fn check(normalized: &str, user_name: &str, firm_name: &str) -> Result<(), AppError> {
        let chars = normalized.chars().count();
        if chars < MIN_CHARS {
            return Err(AppError::BadInput(format!(
                "the new password must have at least {MIN_CHARS} characters; a few unrelated \
                 words make a good one (spaces, any language and emoji are fine)"
            )));
        }
        if chars > MAX_CHARS {
            return Err(AppError::BadInput(format!(
                "the new password must have at most {MAX_CHARS} characters"
            )));
        }
        if is_common(normalized) {
            return Err(AppError::BadInput(
                "the new password is in a list of commonly used passwords; choose another"
                    .to_owned(),
            ));
        }
        let lower = normalized.to_lowercase();
        let contains = |name: &str| {
            let name = name.trim().to_lowercase();
            name.chars().count() >= 3 && lower.contains(&name)
        };
        if contains(user_name) {
            return Err(AppError::BadInput(
                "the new password must not contain your user name".to_owned(),
            ));
        }
        if contains(firm_name) {
            return Err(AppError::BadInput(
                "the new password must not contain the firm's name".to_owned(),
            ));
        }
        let scored: String = normalized.chars().take(SCORED_CHARS).collect();
        let scored = Zeroizing::new(scored);
        let inputs = [user_name, firm_name, "custos"];
        let entropy = zxcvbn::zxcvbn(&scored, &inputs);
        let score = u8::from(entropy.score());
        if score < MIN_SCORE {
            let hint = entropy
                .feedback()
                .and_then(|f| f.warning().map(|w| format!(" ({w})")))
                .unwrap_or_default();
            return Err(AppError::BadInput(format!(
                "the new password is too easy to guess{hint}: strength {score} of 4, at least \
                 {MIN_SCORE} needed; add more unrelated words"
            )));
        }
        Ok(())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn refused(pw: &str) -> String {
            match check(&normalize(pw), "lena.lawyer", "Hartmann & Vogel") {
                Err(AppError::BadInput(m)) => m,
                other => panic!("{pw:?} was not refused: {other:?}"),
            }
        }

        #[test]
        fn common_and_breached_style_passwords_are_refused() {
            assert!(refused("qwerty123456").contains("commonly used"));
            assert!(refused("1q2w3e4r5t6y").contains("commonly used"));
            assert!(
                refused("QAZWSXEDCRFV").contains("commonly used"),
                "case-insensitive"
            );
            for pw in [
                "Password123!",
                "P@ssw0rd2024!",
                "Summer2024!!",
                "iloveyou1234",
                "aaaaaaaaaaaa",
                "abcdefghijkl123",
            ] {
                let m = refused(pw);
                assert!(
                    m.contains("too easy to guess") || m.contains("commonly used"),
                    "{pw}: {m}"
                );
                assert!(!m.contains(pw), "the message must not echo the password");
            }
        }

        #[test]
        fn length_and_names() {
            assert!(refused("short pw").contains("at least 12"));
            assert!(refused(&"x".repeat(257)).contains("at most 256"));
            assert!(refused("my-lena.lawyer-zebra-quilt").contains("user name"));
            assert!(refused("zebra hartmann & vogel quilt").contains("firm"));
        }

        #[test]
        fn strong_unicode_passphrase_is_accepted() {
            for pw in [
                "🦊 狐狸跳过了懒狗 correct horse 🐎",
                "Kaffee ☕ 和 茶 🍵 am Flussufer",
                "purple-tractor-violin-31-sunset",
            ] {
                assert!(
                    check(&normalize(pw), "lena.lawyer", "Hartmann & Vogel").is_ok(),
                    "{pw}"
                );
            }
        }

        #[test]
        fn normalisation_makes_equivalent_input_equal() {
            // "é" precomposed vs e + combining acute; full-width letters vs ASCII.
            assert_eq!(*normalize("caf\u{e9}"), *normalize("cafe\u{301}"));
            assert_eq!(*normalize("ＡＢＣ"), "ABC");
        }
    }
}
