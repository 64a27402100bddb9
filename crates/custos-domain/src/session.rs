//! What a sign-in session is: how far it got, and how its token travels. The store keeps
//! them, the app decides with them, the server picks the kind from the request.

/// How far a session got: `Setup` may only change its password and enroll a second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStage {
    /// First login, reset or expired password: only account setup is allowed.
    Setup,
    /// Password and second factor verified.
    Full,
}

impl SessionStage {
    /// Database name.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStage::Setup => "setup",
            SessionStage::Full => "full",
        }
    }
}

/// How the session token travels: as a bearer header (API clients) or in a cookie (browsers,
/// which must also send the CSRF token on state changes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// `Authorization: Bearer`.
    Bearer,
    /// `__Host-` cookie.
    Cookie,
}

impl SessionKind {
    /// Database name.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Bearer => "bearer",
            SessionKind::Cookie => "cookie",
        }
    }
}
