//! Audit entries of Custos (R5, R17) and their canonical, hashable encoding.
//!
//! Every decision, allow or deny, becomes an [`AuditRecord`]. The store appends it with the next
//! sequence number in the same transaction as the state change it permits. Each entry's canonical
//! encoding (compact JSON, fixed field order, sequence number included) is hashed as an RFC 6962
//! leaf (`SHA-256(0x00 || bytes)`), and entries are chained (`SHA-256("custos-chain-v1" || prev ||
//! leaf)`) so that rewriting any row breaks every later link. The Merkle tree with signed
//! checkpoints builds on the same leaf hashes.
//!
//! **Architecture Invariant:** audit records name ids, actions, rules and reasons, never client
//! content or secrets.

use custos_domain::{PersonId, RequestId};
use custos_policy::{Action, Decision, Effect, Resource};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The hash of the chain before the first entry.
pub const GENESIS: [u8; 32] = [0u8; 32];

/// Allow or deny, as written in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Outcome {
    /// The action was allowed (or an authentication succeeded).
    Allow,
    /// The action was denied (or an authentication failed).
    Deny,
}

impl Outcome {
    /// The name written in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Deny => "deny",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "allow" => Some(Outcome::Allow),
            "deny" => Some(Outcome::Deny),
            _ => None,
        }
    }
}

/// One reason: the rule code and its explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditReason {
    /// Rule code, e.g. `R3.wall`.
    pub rule: String,
    /// Explanation (ids only).
    pub message: String,
}

/// What happened, before the store gives it a sequence number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditRecord {
    /// When, in Unix milliseconds (UTC).
    pub at_ms: i64,
    /// The request that caused it.
    pub request_id: RequestId,
    /// Who acted (`None` for the system or an unidentified caller).
    pub actor: Option<PersonId>,
    /// What was attempted (`document.read`, `auth.login`...).
    pub action: String,
    /// On what (`document:<id>`...).
    pub resource: String,
    /// Allow or deny.
    pub outcome: Outcome,
    /// Why; the first reason names the deciding rule.
    pub reasons: Vec<AuditReason>,
    /// Extra facts (e.g. the ids a listing returned), or null; never content or secrets.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub detail: serde_json::Value,
}

impl AuditRecord {
    /// The record of a policy decision.
    pub fn of_decision(
        at: time::OffsetDateTime,
        request_id: RequestId,
        actor: PersonId,
        action: Action,
        resource: &Resource,
        decision: &Decision,
    ) -> Self {
        AuditRecord {
            at_ms: unix_ms(at),
            request_id,
            actor: Some(actor),
            action: action.as_str().to_owned(),
            resource: resource.audit_name(),
            outcome: match decision.effect() {
                Effect::Allow => Outcome::Allow,
                Effect::Deny => Outcome::Deny,
            },
            reasons: decision
                .reasons()
                .iter()
                .map(|r| AuditReason {
                    rule: r.rule.code().to_owned(),
                    message: r.message.clone(),
                })
                .collect(),
            detail: serde_json::Value::Null,
        }
    }

    /// Adds facts to the record.
    pub fn with_detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }

    /// The canonical bytes of the entry with sequence number `seq`: compact JSON in a fixed field
    /// order (object keys inside `detail` are sorted by serde_json's map).
    pub fn canonical_bytes(&self, seq: u64) -> Vec<u8> {
        #[derive(Serialize)]
        struct Canonical<'a> {
            v: u8,
            seq: u64,
            #[serde(flatten)]
            record: &'a AuditRecord,
        }
        // INVARIANT: serialising plain structs, strings and a serde_json::Value cannot fail.
        serde_json::to_vec(&Canonical {
            v: 1,
            seq,
            record: self,
        })
        .unwrap_or_default()
    }
}

/// Unix milliseconds of a timestamp.
pub fn unix_ms(at: time::OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// RFC 6962 leaf hash of canonical entry bytes.
pub fn leaf_hash(canonical: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(canonical);
    h.finalize().into()
}

/// The chain hash after appending a leaf to a chain ending in `prev`.
pub fn chain_hash(prev: &[u8; 32], leaf: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"custos-chain-v1");
    h.update(prev);
    h.update(leaf);
    h.finalize().into()
}

/// An entry as stored: the record, its sequence number and its hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// Position in the log, from 1, without gaps.
    pub seq: u64,
    /// What happened.
    #[serde(flatten)]
    pub record: AuditRecord,
    /// RFC 6962 leaf hash (hex in JSON).
    #[serde(serialize_with = "hex_32")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub leaf_hash: [u8; 32],
    /// Chain hash up to and including this entry (hex in JSON).
    #[serde(serialize_with = "hex_32")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub chain_hash: [u8; 32],
}

fn hex_32<S: serde::Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(bytes))
}

/// Why a stretch of the log fails verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A sequence number is missing or out of order.
    #[error("audit entry {found} follows {expected_after}: a row is missing or out of order")]
    Gap {
        /// The sequence number before.
        expected_after: u64,
        /// The sequence number found.
        found: u64,
    },
    /// An entry's content does not match its hashes.
    #[error("audit entry {0} does not match its hash: the row was altered")]
    Altered(u64),
}

/// Checks a run of entries starting right after a chain ending at (`start_seq`, `start_chain`).
pub fn verify_chain<'a>(
    start_seq: u64,
    start_chain: [u8; 32],
    entries: impl IntoIterator<Item = &'a AuditEntry>,
) -> Result<[u8; 32], VerifyError> {
    let mut prev_seq = start_seq;
    let mut prev = start_chain;
    for e in entries {
        if e.seq != prev_seq + 1 {
            return Err(VerifyError::Gap {
                expected_after: prev_seq,
                found: e.seq,
            });
        }
        let leaf = leaf_hash(&e.record.canonical_bytes(e.seq));
        let chain = chain_hash(&prev, &leaf);
        if leaf != e.leaf_hash || chain != e.chain_hash {
            return Err(VerifyError::Altered(e.seq));
        }
        prev_seq = e.seq;
        prev = chain;
    }
    Ok(prev)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64, prev: [u8; 32], action: &str) -> AuditEntry {
        let record = AuditRecord {
            at_ms: 1_700_000_000_000,
            request_id: RequestId::new(),
            actor: Some(PersonId::new()),
            action: action.to_owned(),
            resource: "matter:1".to_owned(),
            outcome: Outcome::Deny,
            reasons: vec![AuditReason {
                rule: "R3.wall".to_owned(),
                message: "screened".to_owned(),
            }],
            detail: serde_json::json!({"b": 1, "a": 2}),
        };
        let leaf = leaf_hash(&record.canonical_bytes(seq));
        AuditEntry {
            seq,
            record,
            leaf_hash: leaf,
            chain_hash: chain_hash(&prev, &leaf),
        }
    }

    #[test]
    fn canonical_bytes_are_stable_and_sorted() {
        let e = entry(1, GENESIS, "matter.view");
        let text = String::from_utf8(e.record.canonical_bytes(1)).unwrap_or_default();
        assert!(
            text.starts_with(r#"{"v":1,"seq":1,"at_ms":1700000000000,"#),
            "{text}"
        );
        assert!(text.contains(r#""detail":{"a":2,"b":1}"#), "{text}");
    }

    #[test]
    fn chain_detects_alteration_and_gaps() {
        let e1 = entry(1, GENESIS, "a");
        let e2 = entry(2, e1.chain_hash, "b");
        let e3 = entry(3, e2.chain_hash, "c");
        assert!(verify_chain(0, GENESIS, [&e1, &e2, &e3]).is_ok());
        let mut altered = e2.clone();
        altered.record.outcome = Outcome::Allow;
        assert_eq!(
            verify_chain(0, GENESIS, [&e1, &altered, &e3]),
            Err(VerifyError::Altered(2))
        );
        assert!(matches!(
            verify_chain(0, GENESIS, [&e1, &e3]),
            Err(VerifyError::Gap { .. })
        ));
    }

    #[test]
    fn leaf_hash_follows_rfc6962() {
        // RFC 6962 leaf hash of the empty leaf: SHA-256(0x00).
        assert_eq!(
            hex::encode(leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }
}
