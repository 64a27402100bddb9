//! Time-based one-time passwords (RFC 6238): HMAC-SHA-1, 6 digits, 30-second steps, one step of
//! drift either way. The HOTP computation is the totp-rs crate's; this module adds what a login
//! needs: which step a code matched (so the caller can refuse a replay of it or of any earlier
//! step), constant-time comparison, secrets of 160 bits, and the `otpauth://` enrollment URI.

use crate::CryptoError;
use totp_rs::{Algorithm, Secret, TOTP};
use zeroize::Zeroizing;

/// Seconds per step.
pub const STEP_SECONDS: u64 = 30;
/// Digits per code.
pub const DIGITS: usize = 6;
/// Steps of clock drift accepted either way.
pub const DRIFT_STEPS: u64 = 1;
/// Secret length (RFC 4226 recommends 160 bits).
pub const SECRET_LEN: usize = 20;

/// A fresh TOTP secret from the OS RNG.
pub fn new_secret() -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    Ok(Zeroizing::new(
        crate::random_bytes::<SECRET_LEN>()?.to_vec(),
    ))
}

/// The code of `secret` for Unix time `unix_secs`, with `digits` digits (SHA-1).
pub fn code_at(secret: &[u8], unix_secs: u64, digits: usize) -> String {
    TOTP::new_unchecked(Algorithm::SHA1, digits, 0, STEP_SECONDS, secret.to_vec())
        .generate(unix_secs)
}

/// The time step containing `unix_secs`.
pub fn step_of(unix_secs: u64) -> u64 {
    unix_secs / STEP_SECONDS
}

/// The step whose 6-digit code `code` is, among the steps within [`DRIFT_STEPS`] of `unix_secs`
/// (latest first), or `None`. Every candidate is compared, in constant time.
pub fn matching_step(secret: &[u8], code: &str, unix_secs: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_of(unix_secs);
    let mut found = None;
    for step in now.saturating_sub(DRIFT_STEPS)..=now + DRIFT_STEPS {
        let candidate = code_at(secret, step * STEP_SECONDS, DIGITS);
        if crate::secrets_equal(candidate.as_bytes(), code.as_bytes()) {
            found = Some(step);
        }
    }
    found
}

/// The secret in base32 (what a person types into an authenticator app).
pub fn base32(secret: &[u8]) -> Zeroizing<String> {
    match Secret::Raw(secret.to_vec()).to_encoded() {
        Secret::Encoded(s) => Zeroizing::new(s),
        Secret::Raw(_) => Zeroizing::new(String::new()),
    }
}

/// Decodes a base32 secret (as shown at enrollment).
pub fn from_base32(encoded: &str) -> Option<Zeroizing<Vec<u8>>> {
    Secret::Encoded(encoded.trim().to_owned())
        .to_bytes()
        .ok()
        .map(Zeroizing::new)
}

/// The `otpauth://` URI of an authenticator app (what the QR code holds).
pub fn otpauth_uri(secret: &[u8], issuer: &str, account: &str) -> Zeroizing<String> {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    Zeroizing::new(format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        enc(issuer),
        enc(account),
        base32(secret).as_str(),
        enc(issuer),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vectors() -> serde_json::Value {
        // A copy of the project's shared official vectors (RFC 4226 Appendix D, RFC 6238 Appendix B).
        let raw = include_str!("../tests/vectors/otp.json");
        serde_json::from_str(raw).unwrap_or_else(|e| panic!("otp.json: {e}"))
    }

    #[test]
    fn rfc6238_appendix_b_sha1_vectors() {
        let v = vectors();
        let t = &v["totp_rfc6238_appendix_b"];
        let seed = t["seeds_ascii"]["SHA1"]
            .as_str()
            .unwrap_or_default()
            .as_bytes();
        let digits = t["digits"].as_u64().unwrap_or_default() as usize;
        let cases = t["cases"].as_array().cloned().unwrap_or_default();
        assert_eq!(cases.len(), 6);
        for case in cases {
            let time = case["unix_time"].as_u64().unwrap_or_default();
            assert_eq!(
                code_at(seed, time, digits),
                case["SHA1"].as_str().unwrap_or_default(),
                "t={time}"
            );
        }
    }

    #[test]
    fn rfc4226_hotp_vectors_through_totp_steps() {
        // HOTP counter c is the TOTP step c: time c * 30.
        let v = vectors();
        let h = &v["hotp_rfc4226_appendix_d"];
        let key = h["key_ascii"].as_str().unwrap_or_default().as_bytes();
        for (c, want) in h["codes_for_counter_0_to_9"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            assert_eq!(
                code_at(key, c as u64 * STEP_SECONDS, 6),
                want.as_str().unwrap_or_default()
            );
        }
    }

    #[test]
    fn drift_of_one_step_matches_two_does_not() {
        let secret = [7u8; SECRET_LEN];
        let now = 1_700_000_015;
        let step = step_of(now);
        let code = |s: u64| code_at(&secret, s * STEP_SECONDS, DIGITS);
        assert_eq!(matching_step(&secret, &code(step), now), Some(step));
        assert_eq!(matching_step(&secret, &code(step - 1), now), Some(step - 1));
        assert_eq!(matching_step(&secret, &code(step + 1), now), Some(step + 1));
        for far in [step - 2, step + 2, step - 20] {
            let c = code(far);
            // A far code could equal a near one by chance (1 in a million); check it does not here.
            if [step - 1, step, step + 1].iter().all(|s| code(*s) != c) {
                assert_eq!(matching_step(&secret, &c, now), None, "step {far}");
            }
        }
        assert_eq!(matching_step(&secret, "12345", now), None);
        assert_eq!(matching_step(&secret, "abcdef", now), None);
    }

    #[test]
    fn uri_carries_base32_secret() {
        let uri = otpauth_uri(b"12345678901234567890", "Custos Firm", "lena.lawyer");
        assert!(uri.starts_with(
            "otpauth://totp/Custos%20Firm:lena.lawyer?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&"
        ));
    }
}
