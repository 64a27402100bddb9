//! The key-encryption key, wrapped data keys and field encryption.

use crate::CryptoError;
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use custos_policy::{KeyScope, Permit};
use std::path::Path;
use zeroize::Zeroizing;

const KEY_LEN: usize = 32;
const FIELD_VERSION: u8 = 1;
const WRAP_VERSION: u8 = 1;
const ACCOUNT_VERSION: u8 = 2;

/// Fills a fresh buffer from the operating system RNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut out = [0u8; N];
    aws_lc_rs::rand::fill(&mut out)?;
    Ok(out)
}

/// A 256-bit random token, hex-encoded (sessions, one-time passwords).
pub fn random_token() -> Result<Zeroizing<String>, CryptoError> {
    let bytes = Zeroizing::new(random_bytes::<32>()?);
    Ok(Zeroizing::new(lower_hex(&bytes[..])))
}

/// Lowercase hex of `bytes`.
fn lower_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        s.push(char::from(b"0123456789abcdef"[usize::from(b & 0xf)]));
    }
    s
}

/// SHA-256 of a bearer token: sessions are stored by this hash, never by the token itself.
/// Plain SHA-256 in the workspace is `sha2`'s, the one `custos-audit` (and an outside verifier)
/// uses too; aws-lc-rs does everything keyed (AEAD, HKDF, HMAC).
pub fn token_hash(token: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes()).into()
}

/// SHA-256 of content as it streams past (the bytes released to a recipient, for the transfer
/// register).
#[derive(Debug, Clone, Default)]
pub struct ContentHash(sha2::Sha256);

impl ContentHash {
    /// An empty hash.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the next bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        use sha2::Digest;
        self.0.update(bytes);
    }

    /// Lowercase hex of the hash of everything added.
    pub fn finish_hex(self) -> String {
        use sha2::Digest;
        lower_hex(&self.0.finalize())
    }
}

fn aead_key(bytes: &[u8]) -> Result<LessSafeKey, CryptoError> {
    Ok(LessSafeKey::new(UnboundKey::new(&AES_256_GCM, bytes)?))
}

/// Seals with a random nonce: `version || nonce || ciphertext || tag`.
fn seal_random_nonce(
    key: &LessSafeKey,
    version: u8,
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let nonce_bytes = random_bytes::<NONCE_LEN>()?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + plaintext.len() + 16);
    out.push(version);
    out.extend_from_slice(&nonce_bytes);
    let mut body = plaintext.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce_bytes),
        Aad::from(aad),
        &mut body,
    )?;
    out.extend_from_slice(&body);
    Ok(out)
}

fn open_random_nonce(
    key: &LessSafeKey,
    version: u8,
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let (&v, rest) = sealed.split_first().ok_or(CryptoError::Integrity)?;
    if v != version || rest.len() < NONCE_LEN + 16 {
        return Err(CryptoError::Integrity);
    }
    let (nonce, body) = rest.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Integrity)?;
    let mut buf = Zeroizing::new(body.to_vec());
    let len = key
        .open_in_place(nonce, Aad::from(aad), &mut buf[..])
        .map_err(|_| CryptoError::Integrity)?
        .len();
    buf.truncate(len);
    Ok(buf)
}

fn account_aad(context: &str) -> Vec<u8> {
    let mut aad = b"custos-account-secret-v1:".to_vec();
    aad.extend_from_slice(context.as_bytes());
    aad
}

/// The CSRF token of a browser session: HMAC-SHA-256 of a fixed label under the session token,
/// so the server recomputes it from the cookie and stores nothing. A page gets it from the login
/// answer; another site can neither read the cookie nor compute the token.
pub fn csrf_token(session_token: &str) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, session_token.as_bytes());
    lower_hex(aws_lc_rs::hmac::sign(&key, b"custos-csrf-v1").as_ref())
}

/// Compares two secrets (tokens, codes) in time independent of where they differ.
pub fn secrets_equal(a: &[u8], b: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

fn scope_aad(scope: KeyScope) -> Vec<u8> {
    let (tag, id) = match scope {
        KeyScope::Matter(m) => (b"matter", m.0),
        KeyScope::Client(c) => (b"client", c.0),
    };
    let mut aad = b"custos-data-key-v1:".to_vec();
    aad.extend_from_slice(tag);
    aad.extend_from_slice(id.as_bytes());
    aad
}

/// The key-encryption key. Its bytes never leave this crate except to be written to the key file.
pub struct Kek {
    key: LessSafeKey,
    bytes: Zeroizing<[u8; KEY_LEN]>,
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kek(<redacted>)")
    }
}

impl Kek {
    /// A fresh KEK from the OS RNG.
    pub fn generate() -> Result<Self, CryptoError> {
        Self::from_bytes(&Zeroizing::new(random_bytes::<KEY_LEN>()?)[..])
    }

    fn from_bytes(raw: &[u8]) -> Result<Self, CryptoError> {
        let bytes: [u8; KEY_LEN] = raw
            .try_into()
            .map_err(|_| CryptoError::KeyFile(format!("expected {KEY_LEN} bytes of key")))?;
        Ok(Kek {
            key: aead_key(&bytes)?,
            bytes: Zeroizing::new(bytes),
        })
    }

    /// Writes the key to a new file with mode 0600; refuses to overwrite an existing file.
    pub fn write_new_key_file(&self, path: &Path) -> Result<(), CryptoError> {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(|e| {
            CryptoError::KeyFile(format!("cannot create `{}`: {e}", path.display()))
        })?;
        file.write_all(&self.bytes[..])
            .and_then(|()| file.sync_all())
            .map_err(|e| CryptoError::KeyFile(format!("cannot write `{}`: {e}", path.display())))
    }

    /// Loads the key file; refuses it when group or others may read or write it.
    pub fn load_key_file(path: &Path) -> Result<Self, CryptoError> {
        let meta = std::fs::metadata(path)
            .map_err(|e| CryptoError::KeyFile(format!("cannot read `{}`: {e}", path.display())))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(CryptoError::KeyFile(format!(
                    "`{}` has mode {mode:04o}; it must be 0600 (run `chmod 600 {}`)",
                    path.display(),
                    path.display()
                )));
            }
        }
        let raw =
            Zeroizing::new(std::fs::read(path).map_err(|e| {
                CryptoError::KeyFile(format!("cannot read `{}`: {e}", path.display()))
            })?);
        Self::from_bytes(&raw).map_err(|_| {
            CryptoError::KeyFile(format!("`{}` is not a Custos key file", path.display()))
        })
    }

    /// A fresh data key for `scope`, and its wrapped form to store. Creating a key needs no
    /// permit: nothing is decrypted.
    pub fn new_data_key(&self, scope: KeyScope) -> Result<(DataKey, WrappedKey), CryptoError> {
        let bytes = Zeroizing::new(random_bytes::<KEY_LEN>()?);
        let wrapped = seal_random_nonce(&self.key, WRAP_VERSION, &scope_aad(scope), &bytes[..])?;
        Ok((DataKey::new(&bytes[..], scope)?, WrappedKey(wrapped)))
    }

    /// Seals an account secret (a TOTP seed) under the KEK. `context` names the secret and its
    /// owner (e.g. `totp:<factor id>`), so a sealed secret cannot be moved to another account.
    /// Account secrets are not client data: no permit is involved.
    pub fn seal_account_secret(
        &self,
        context: &str,
        secret: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        seal_random_nonce(&self.key, ACCOUNT_VERSION, &account_aad(context), secret)
    }

    /// Seals firm-level text that may name a client (an ethical wall's reason) under the KEK,
    /// bound to `context` (`wall.reason:<wall id>`): encrypted at rest, readable by the use
    /// case that shows it to the officer. Sealed like account secrets, in their own domain.
    pub fn seal_firm_text(&self, context: &str, text: &str) -> Result<Vec<u8>, CryptoError> {
        self.seal_account_secret(&format!("firm-text:{context}"), text.as_bytes())
    }

    /// A keyed lookup tag of `value` in `context` (HMAC-SHA256 under a key derived from the
    /// KEK), hex: lets the database enforce uniqueness of a sealed value (a recipient's
    /// address) without holding it, and without a dictionary of addresses finding it.
    pub fn lookup_tag(&self, context: &str, value: &str) -> String {
        let derived = aws_lc_rs::hmac::sign(
            &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &self.bytes[..]),
            b"custos-lookup-tag-v1",
        );
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, derived.as_ref());
        let mut ctx = aws_lc_rs::hmac::Context::with_key(&key);
        ctx.update(context.as_bytes());
        ctx.update(&[0]);
        ctx.update(value.as_bytes());
        lower_hex(ctx.sign().as_ref())
    }

    /// Opens firm-level text sealed under the same `context`.
    pub fn open_firm_text(&self, context: &str, sealed: &[u8]) -> Result<String, CryptoError> {
        let bytes = self.open_account_secret(&format!("firm-text:{context}"), sealed)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| CryptoError::Integrity)
    }

    /// Opens an account secret sealed under the same `context`.
    pub fn open_account_secret(
        &self,
        context: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        open_random_nonce(&self.key, ACCOUNT_VERSION, &account_aad(context), sealed)
    }

    /// Unwraps the data key of `scope`, if and only if `permit` unlocks it.
    pub fn unwrap_data_key(
        &self,
        permit: &Permit,
        scope: KeyScope,
        wrapped: &WrappedKey,
    ) -> Result<DataKey, CryptoError> {
        if !permit.unlocks(scope) {
            return Err(CryptoError::NotPermitted);
        }
        let bytes = open_random_nonce(&self.key, WRAP_VERSION, &scope_aad(scope), &wrapped.0)?;
        DataKey::new(&bytes, scope)
    }
}

/// A data key wrapped by the KEK, as stored in the database.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKey(pub Vec<u8>);

impl std::fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WrappedKey({} bytes)", self.0.len())
    }
}

/// An unwrapped per-matter or per-client data key.
pub struct DataKey {
    key: LessSafeKey,
    bytes: Zeroizing<[u8; KEY_LEN]>,
    scope: KeyScope,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DataKey({:?}, <redacted>)", self.scope)
    }
}

impl DataKey {
    fn new(raw: &[u8], scope: KeyScope) -> Result<Self, CryptoError> {
        let bytes: [u8; KEY_LEN] = raw.try_into().map_err(|_| CryptoError::Integrity)?;
        Ok(DataKey {
            key: aead_key(&bytes)?,
            bytes: Zeroizing::new(bytes),
            scope,
        })
    }

    /// What this key protects.
    pub fn scope(&self) -> KeyScope {
        self.scope
    }

    pub(crate) fn raw(&self) -> &[u8; KEY_LEN] {
        &self.bytes
    }

    /// Seals a sensitive field. `field` names the field and its record (e.g.
    /// `document.title:<id>`), so a sealed value cannot be moved to another field or record.
    pub fn seal_field(&self, field: &str, plaintext: &str) -> Result<Vec<u8>, CryptoError> {
        seal_random_nonce(
            &self.key,
            FIELD_VERSION,
            field.as_bytes(),
            plaintext.as_bytes(),
        )
    }

    /// Opens a sealed field sealed under the same `field` name.
    pub fn open_field(&self, field: &str, sealed: &[u8]) -> Result<String, CryptoError> {
        let bytes = open_random_nonce(&self.key, FIELD_VERSION, field.as_bytes(), sealed)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| CryptoError::Integrity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use custos_domain::*;
    use custos_policy::*;

    fn officer_permit_for(matter: MatterFacts) -> Permit {
        let p = Principal {
            id: matter.lead,
            role: Role::Lawyer,
            status: PersonStatus::Active,
            teams: vec![],
            led_teams: vec![],
            staffed_matters: vec![],
            compliance: Compliance {
                agreement_signed_on: Some(time::macros::date!(2020 - 01 - 01)),
                training_valid_until: Some(time::macros::date!(2099 - 12 - 31)),
            },
            emergency: vec![],
            emergencies_last_day: 0,
        };
        let now = time::macros::datetime!(2026-12-03 12:00 UTC);
        let d = decide(
            &p,
            Action::ViewMatter,
            &Resource::Matter(matter),
            &Context::at(now, now.date()),
        );
        d.into_permit()
            .unwrap_or_else(|| unreachable!("lead must be allowed"))
    }

    fn matter() -> MatterFacts {
        MatterFacts {
            id: MatterId::new(),
            client: ClientId::new(),
            team: TeamId::new(),
            lead: PersonId::new(),
        }
    }

    #[test]
    fn unwrap_needs_a_permit_for_the_same_matter() -> Result<(), CryptoError> {
        let kek = Kek::generate()?;
        let m1 = matter();
        let m2 = matter();
        let (key, wrapped) = kek.new_data_key(KeyScope::Matter(m1.id))?;
        let sealed = key.seal_field("matter.title:x", "Acme v Beta")?;
        let permit1 = officer_permit_for(m1);
        let permit2 = officer_permit_for(m2);
        let again = kek.unwrap_data_key(&permit1, KeyScope::Matter(m1.id), &wrapped)?;
        assert_eq!(again.open_field("matter.title:x", &sealed)?, "Acme v Beta");
        assert_eq!(
            kek.unwrap_data_key(&permit2, KeyScope::Matter(m1.id), &wrapped)
                .err(),
            Some(CryptoError::NotPermitted)
        );
        // A wrapped key presented under another matter's scope does not unwrap.
        assert_eq!(
            kek.unwrap_data_key(&permit2, KeyScope::Matter(m2.id), &wrapped)
                .err(),
            Some(CryptoError::Integrity)
        );
        Ok(())
    }

    #[test]
    fn field_cannot_move_to_another_field_or_be_altered() -> Result<(), CryptoError> {
        let kek = Kek::generate()?;
        let (key, _) = kek.new_data_key(KeyScope::Client(ClientId::new()))?;
        let mut sealed = key.seal_field("client.name:1", "Jane Doe")?;
        assert_eq!(
            key.open_field("client.name:2", &sealed),
            Err(CryptoError::Integrity)
        );
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert_eq!(
            key.open_field("client.name:1", &sealed),
            Err(CryptoError::Integrity)
        );
        Ok(())
    }

    #[test]
    fn token_hash_is_plain_sha256() {
        // FIPS 180-2 test vector: SHA-256("abc").
        assert_eq!(
            lower_hex(&token_hash("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // The same bytes streamed in pieces.
        let mut h = ContentHash::new();
        h.update(b"a");
        h.update(b"bc");
        assert_eq!(
            h.finish_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn debug_output_redacts_keys() -> Result<(), CryptoError> {
        let kek = Kek::generate()?;
        let (key, _) = kek.new_data_key(KeyScope::Client(ClientId::new()))?;
        assert!(format!("{kek:?}").contains("redacted"));
        assert!(format!("{key:?}").contains("redacted"));
        Ok(())
    }

    #[test]
    fn key_file_with_loose_permissions_is_refused() -> Result<(), Box<dyn std::error::Error>> {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("custos-kek-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir(&dir)?;
        let path = dir.join("kek.key");
        Kek::generate()?.write_new_key_file(&path)?;
        assert!(Kek::load_key_file(&path).is_ok());
        assert!(
            Kek::generate()?.write_new_key_file(&path).is_err(),
            "no overwrite"
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))?;
        let err = Kek::load_key_file(&path)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("must be 0600"), "{err}");
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }
}
