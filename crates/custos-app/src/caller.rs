//! Who is calling, for one request, and with which credential: what every use case is given
//! and what `App::facts` checks (a setup session, a full session or an API token and its
//! scopes). In a file of its own so that sessions, factors and tokens need not import each
//! other.

use crate::usecases::tokens::Scopes;
use custos_domain::{PersonId, RequestId};
use custos_domain::{SessionKind, SessionStage};

/// Who is calling, for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    /// The authenticated person.
    pub person: PersonId,
    /// The request, for logs and audit entries.
    pub request_id: RequestId,
    /// The credential the request came with.
    pub via: Via,
    /// The address the request came from (behind a trusted proxy, the client's), when it
    /// came over the network: firm policies may ask about it.
    pub address: Option<std::net::IpAddr>,
}

/// The credential behind a caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// A login session.
    Session {
        /// Public id of the session.
        id: uuid::Uuid,
        /// Setup (account setup only) or full.
        stage: SessionStage,
        /// Bearer or cookie.
        kind: SessionKind,
    },
    /// A personal API token.
    ApiToken {
        /// Public id of the token.
        id: uuid::Uuid,
        /// What the token may do.
        scopes: Scopes,
    },
    /// Code of Custos itself acting for a person (demo seeding, benchmarks); never built from
    /// a request.
    Internal,
}
