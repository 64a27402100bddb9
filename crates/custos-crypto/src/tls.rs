//! A self-signed TLS certificate for a first look; production uses the firm's certificate.

use crate::CryptoError;
use zeroize::Zeroizing;

/// A certificate and its private key, PEM-encoded.
pub struct TlsIdentity {
    /// Certificate (public).
    pub cert_pem: String,
    /// Private key (secret).
    pub key_pem: Zeroizing<String>,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsIdentity(<key redacted>)")
    }
}

/// How long a self-signed certificate is valid: a year, then `init` (or the firm's own
/// certificate) replaces it. Browsers and clients refuse longer-lived leaf certificates.
pub const SELF_SIGNED_VALIDITY: time::Duration = time::Duration::days(365);

/// Generates a self-signed certificate (ECDSA P-256) for `names` (DNS names or IP addresses),
/// named after the first of them, valid from an hour ago (clock skew) for
/// [`SELF_SIGNED_VALIDITY`].
pub fn self_signed_tls(names: &[&str]) -> Result<TlsIdentity, CryptoError> {
    let sans: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let mut params = rcgen::CertificateParams::new(sans).map_err(|_| CryptoError::Library)?;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + SELF_SIGNED_VALIDITY;
    let mut name = rcgen::DistinguishedName::new();
    name.push(
        rcgen::DnType::CommonName,
        format!("Custos {}", names.first().copied().unwrap_or("localhost")),
    );
    params.distinguished_name = name;
    let key = rcgen::KeyPair::generate().map_err(|_| CryptoError::Library)?;
    let cert = params.self_signed(&key).map_err(|_| CryptoError::Library)?;
    Ok(TlsIdentity {
        cert_pem: cert.pem(),
        key_pem: Zeroizing::new(key.serialize_pem()),
    })
}
