//! Password hashing with Argon2id on dedicated low-priority threads, behind a concurrency
//! limit, so that a login flood cannot starve request handling. Unknown users still cost one
//! verification. Passwords are NFKC-normalised before hashing and verifying.

use crate::AppError;
use argon2::password_hash::{
    Decimal, Ident, Output, ParamsString, PasswordHash, PasswordHasher, PasswordVerifier, Salt,
    SaltString,
};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::{Arc, Mutex, mpsc};
use tokio::sync::{Semaphore, oneshot};
use zeroize::Zeroizing;

/// OWASP parameters: m = 19 MiB, t = 2, p = 1.
fn argon2() -> Result<Unpinned, AppError> {
    let params =
        Params::new(19 * 1024, 2, 1, None).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Unpinned::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Address space reserved for Argon2's working memory: just over glibc's largest mmap
/// threshold (32 MiB on 64-bit), in 1 KiB blocks.
const RESERVED_BLOCKS: usize = 33 * 1024;

/// Argon2 whose working memory is given back to the system after each hash.
///
/// glibc serves a large allocation with a mapping of its own and unmaps it when it is freed,
/// but freeing one of at most 32 MiB also raises its mmap threshold to that size for good:
/// after the first login, Argon2id's 19 MiB came from the hashing thread's arena, which then
/// kept up to twice that resident (an idle server measured 61 MiB after a few logins, 23 MiB
/// with the threshold pinned). The working memory here reserves 33 MiB of address space, so it
/// is always mapped apart and unmapped when freed; only the 19 MiB Argon2 touches is ever
/// resident. The argon2 crate's own `hash_password` allocates exactly 19 MiB instead; this
/// type does the same computation through `hash_password_into_with_memory`, and verification
/// comes from the password-hash crate's `PasswordVerifier` over it.
struct Unpinned {
    argon2: Argon2<'static>,
    algorithm: Algorithm,
    version: Version,
}

impl Unpinned {
    fn new(algorithm: Algorithm, version: Version, params: Params) -> Self {
        Unpinned {
            argon2: Argon2::new(algorithm, version, params),
            algorithm,
            version,
        }
    }

    fn working_memory(blocks: usize) -> Vec<Block> {
        let mut memory = Vec::with_capacity(blocks.max(RESERVED_BLOCKS));
        memory.resize(blocks, Block::default());
        memory
    }
}

impl PasswordHasher for Unpinned {
    type Params = Params;

    fn hash_password<'a>(
        &self,
        password: &[u8],
        salt: impl Into<Salt<'a>>,
    ) -> argon2::password_hash::Result<PasswordHash<'a>> {
        let salt = salt.into();
        let mut salt_bytes = [0u8; 64];
        let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
        let params = self.argon2.params();
        let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let memory = Self::working_memory(params.block_count());
        let output = Output::init_with(output_len, |out| {
            Ok(self
                .argon2
                .hash_password_into_with_memory(password, salt_bytes, out, memory)?)
        })?;
        Ok(PasswordHash {
            algorithm: self.algorithm.ident(),
            version: Some(self.version.into()),
            params: ParamsString::try_from(params)?,
            salt: Some(salt),
            hash: Some(output),
        })
    }

    fn hash_password_customized<'a>(
        &self,
        password: &[u8],
        algorithm: Option<Ident<'a>>,
        version: Option<Decimal>,
        params: Params,
        salt: impl Into<Salt<'a>>,
    ) -> argon2::password_hash::Result<PasswordHash<'a>> {
        let algorithm = algorithm
            .map(Algorithm::try_from)
            .transpose()?
            .unwrap_or_default();
        let version = version
            .map(Version::try_from)
            .transpose()?
            .unwrap_or_default();
        Unpinned::new(algorithm, version, params).hash_password(password, salt)
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads. Each lowers its own CPU priority once at start (Linux: SCHED_BATCH,
/// nice 10; nice is per thread there and cannot be raised back without privileges, which is
/// why these are not tokio's shared blocking threads). When the CPU is free a hash runs at
/// full speed; when request handling needs the CPU, the scheduler gives it precedence, so a
/// flood of logins slows logins, not document reads.
#[derive(Debug)]
struct HashThreads {
    jobs: mpsc::Sender<Job>,
}

impl HashThreads {
    fn start(count: usize) -> Result<Self, AppError> {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..count {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("custos-argon2-{i}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        // The lock is held only while waiting for the next job.
                        let job = match rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            // Every sender is gone: the app was dropped.
                            Err(_) => return,
                        }
                    }
                })
                .map_err(|e| AppError::Internal(format!("cannot start hashing thread: {e}")))?;
        }
        Ok(HashThreads { jobs: tx })
    }

    /// Runs `f` on a hashing thread and waits (asynchronously) for its result. `f` runs in
    /// the caller's span, so what it logs carries the request's id.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let (tx, rx) = oneshot::channel();
        let span = tracing::Span::current();
        let job: Job = Box::new(move || {
            let _ = tx.send(span.in_scope(f));
        });
        self.jobs.send(job).map_err(|_| AppError::Unavailable)?;
        rx.await
            .map_err(|_| AppError::Internal("hashing thread failed".to_owned()))
    }
}

/// Nice value of the hashing threads (0 is normal, 19 the lowest priority).
pub const HASHING_NICE: i32 = 10;

#[cfg(target_os = "linux")]
fn lower_priority() {
    use thread_priority::{
        NormalThreadSchedulePolicy, ThreadPriority, ThreadPriorityValue, ThreadSchedulePolicy,
        set_thread_priority_and_policy, thread_native_id,
    };
    // thread-priority takes a 0..=99 value that it maps (truncating) onto nice 19..=-20 and
    // has no way to give a nice value directly: take the lowest value that maps to
    // HASHING_NICE or higher priority (21 today).
    let value = (0u8..=99)
        .filter_map(|p| ThreadPriorityValue::try_from(p).ok())
        .find(|p| {
            ThreadPriority::Crossplatform(*p)
                .to_posix(ThreadSchedulePolicy::Normal(
                    NormalThreadSchedulePolicy::Batch,
                ))
                .is_ok_and(|n| n <= HASHING_NICE)
        });
    let result = match value {
        Some(p) => set_thread_priority_and_policy(
            thread_native_id(),
            ThreadPriority::Crossplatform(p),
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Batch),
        ),
        None => Err(thread_priority::Error::Priority(
            "no priority value maps to the nice value",
        )),
    };
    if let Err(e) = result {
        tracing::warn!(error = ?e, "cannot lower the priority of a password hashing thread");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

/// Hashes and verifies passwords.
#[derive(Debug, Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    threads: Arc<HashThreads>,
    dummy_hash: Arc<String>,
}

impl Passwords {
    /// A hasher allowing `concurrency` Argon2 computations at once, on as many threads.
    pub fn new(concurrency: usize) -> Result<Self, AppError> {
        let dummy = hash_now(&Zeroizing::new("custos-dummy-password".to_owned()))?;
        Ok(Passwords {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            threads: Arc::new(HashThreads::start(concurrency.max(1))?),
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
        self.threads
            .run(move || hash_now(&policy::normalize(&password)))
            .await?
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
        let ok = self
            .threads
            .run(move || {
                let password = policy::normalize(&password);
                let parsed =
                    PasswordHash::new(&hash).map_err(|e| AppError::Internal(e.to_string()))?;
                Ok::<bool, AppError>(
                    argon2()?
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok(),
                )
            })
            .await??;
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
        if custos_domain::refuse_hidden_characters("password", normalized).is_err() {
            return Err(AppError::BadInput(
                "the new password must not contain control or text-direction characters".to_owned(),
            ));
        }
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
        fn hidden_characters_are_refused() {
            for pw in [
                "purple tractor\0violin sunset",
                "purple tractor\u{1b}violin sunset",
                "purple tractor\u{202E}violin sunset",
            ] {
                assert!(refused(pw).contains("control or text-direction"), "{pw:?}");
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Fields 19 (nice) and 41 (scheduling policy) of the calling thread's /proc stat line.
    #[cfg(target_os = "linux")]
    fn nice_and_policy() -> (i32, u32) {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
        // The command name (field 2) may hold spaces; fields after it follow the last ')'.
        let rest = stat.rsplit(')').next().unwrap_or_default();
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // rest starts at field 3, so field n is fields[n - 3].
        (
            fields.get(16).and_then(|v| v.parse().ok()).unwrap_or(0),
            fields.get(38).and_then(|v| v.parse().ok()).unwrap_or(0),
        )
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_threads_run_below_request_handling() {
        let passwords = Passwords::new(1).unwrap_or_else(|e| panic!("{e}"));
        let (nice, policy) = passwords
            .threads
            .run(nice_and_policy)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let (here, _) = nice_and_policy();
        assert_eq!(nice, HASHING_NICE, "hashing thread nice value");
        assert_eq!(policy, 3, "SCHED_BATCH");
        assert!(
            here < nice,
            "the test's own thread keeps its priority ({here})"
        );
        // And it still hashes and verifies.
        let hash = passwords
            .hash(Zeroizing::new("purple-tractor-violin-31-sunset".to_owned()))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            passwords
                .verify(
                    Zeroizing::new("purple-tractor-violin-31-sunset".to_owned()),
                    Some(hash.clone())
                )
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        );
        assert!(
            !passwords
                .verify(Zeroizing::new("wrong".to_owned()), Some(hash))
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        );
    }

    /// The PHC-encoded vector (phc-winner-argon2's test suite) verifies through the hasher
    /// whose working memory is unmapped after use, and a wrong password does not.
    #[test]
    fn the_phc_vector_verifies_and_a_wrong_password_does_not() {
        let vectors: serde_json::Value =
            serde_json::from_str(include_str!("../tests/vectors/argon2.json"))
                .unwrap_or_else(|e| panic!("{e}"));
        let hasher = argon2().unwrap_or_else(|e| panic!("{e}"));
        let mut checked = 0;
        for case in vectors["phc_encoded"].as_array().into_iter().flatten() {
            let hash = PasswordHash::new(case["hash"].as_str().unwrap_or_default())
                .unwrap_or_else(|e| panic!("{e}"));
            let password = case["password"].as_str().unwrap_or_default();
            assert!(hasher.verify_password(password.as_bytes(), &hash).is_ok());
            assert!(hasher.verify_password(b"Password", &hash).is_err());
            checked += 1;
        }
        assert_eq!(checked, 1);
    }

    /// Hashes are the argon2 crate's, byte for byte: each side verifies the other's, and the
    /// same salt gives the same string (stored hashes keep verifying).
    #[test]
    fn hashes_are_the_argon2_crates_own() {
        let ours = argon2().unwrap_or_else(|e| panic!("{e}"));
        let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_else(|e| panic!("{e}"));
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let salt = SaltString::encode_b64(b"sixteen byte sal").unwrap_or_else(|e| panic!("{e}"));
        let password = b"copper kettle winter harbour 42";
        let a = ours
            .hash_password(password, &salt)
            .unwrap_or_else(|e| panic!("{e}"))
            .to_string();
        let b = theirs
            .hash_password(password, &salt)
            .unwrap_or_else(|e| panic!("{e}"))
            .to_string();
        assert_eq!(a, b);
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        let parsed = PasswordHash::new(&b).unwrap_or_else(|e| panic!("{e}"));
        assert!(ours.verify_password(password, &parsed).is_ok());
        let parsed = PasswordHash::new(&a).unwrap_or_else(|e| panic!("{e}"));
        assert!(theirs.verify_password(password, &parsed).is_ok());
        assert!(theirs.verify_password(b"copper kettle", &parsed).is_err());
    }
}
