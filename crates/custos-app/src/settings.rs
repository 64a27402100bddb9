//! Settings of the use cases: session lifetimes, upload size, throttling, trusted proxies,
//! break-glass.

/// Settings of the use cases.
#[derive(Debug, Clone)]
pub struct AppSettings {
    /// Largest document accepted, in bytes.
    pub max_upload_bytes: u64,
    /// Absolute session lifetime (default 12 h).
    pub session_lifetime: time::Duration,
    /// A session unused this long ends (default 30 min).
    pub session_idle: time::Duration,
    /// Lifetime of a setup session (first login: password change and enrollment only).
    pub setup_session_lifetime: time::Duration,
    /// Passwords older than this must be changed at next login; `None` (the default): never,
    /// only on suspicion of compromise (NIST SP 800-63B; see docs/SECURITY.md).
    pub password_max_age: Option<time::Duration>,
    /// The firm's name: shown in authenticator apps, refused inside passwords.
    pub firm_name: String,
    /// The firm's time zone (from an IANA name, checked when the configuration is read).
    pub time_zone: jiff::tz::TimeZone,
    /// Login throttling and lockout.
    pub throttle: ThrottlePolicy,
    /// Reverse proxies (load balancers) whose `X-Forwarded-For` / `Forwarded` headers name
    /// the client address; from any other peer those headers are ignored.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The default (and longest) lifetime of a break-glass access (default 4 h, at most 24 h).
    pub break_glass: time::Duration,
    /// A checkpoint of the audit log is signed once this many entries were added since the
    /// last one (default 1,000)...
    pub checkpoint_entries: u64,
    /// ...or once this long has passed since the last one and the log grew (default 60 s).
    pub checkpoint_every: time::Duration,
    /// The address recipients reach Custos at (`https://custos.example.com`), written into
    /// the release links mailed to them; empty: the mail gives the link's path only.
    pub public_url: String,
}

/// Failed-login throttling: after `free` failures, a key (an account, or a source address) is
/// refused for `base`, doubling with every further failure up to `max`. Attempts refused while
/// locked are not checked and do not extend the lock. A success clears the account's count and
/// the source address's; a count with no failure for `forget_after` starts again, so an office
/// behind one address is not locked out by the typos of months.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures of one account before it is locked.
    pub account_free: u32,
    /// First account lock.
    pub account_base: time::Duration,
    /// Longest account lock.
    pub account_max: time::Duration,
    /// Failures from one address before it is throttled.
    pub address_free: u32,
    /// First address lock.
    pub address_base: time::Duration,
    /// Longest address lock.
    pub address_max: time::Duration,
    /// A key's failures are forgotten after this long without a new one.
    pub forget_after: time::Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            account_free: 5,
            account_base: time::Duration::seconds(30),
            account_max: time::Duration::minutes(15),
            address_free: 20,
            address_base: time::Duration::seconds(1),
            address_max: time::Duration::hours(1),
            forget_after: time::Duration::hours(1),
        }
    }
}

impl Default for AppSettings {
    fn default() -> Self {
        AppSettings {
            max_upload_bytes: 4 * 1024 * 1024 * 1024,
            session_lifetime: time::Duration::hours(12),
            session_idle: time::Duration::minutes(30),
            setup_session_lifetime: time::Duration::minutes(15),
            password_max_age: None,
            firm_name: String::new(),
            time_zone: jiff::tz::TimeZone::UTC,
            throttle: ThrottlePolicy::default(),
            trusted_proxies: Vec::new(),
            break_glass: time::Duration::hours(4),
            checkpoint_entries: 1000,
            checkpoint_every: time::Duration::seconds(60),
            public_url: String::new(),
        }
    }
}
