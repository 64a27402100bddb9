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

/// Generates a self-signed certificate (ECDSA P-256) for `names` (DNS names or IP addresses).
pub fn self_signed_tls(names: &[&str]) -> Result<TlsIdentity, CryptoError> {
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let certified = rcgen::generate_simple_self_signed(names).map_err(|_| CryptoError::Library)?;
    Ok(TlsIdentity {
        cert_pem: certified.cert.pem(),
        key_pem: Zeroizing::new(certified.signing_key.serialize_pem()),
    })
}
