//! Audit entries of Custos (R5, R17) and their canonical, hashable encoding.
//!
//! Every decision, allow or deny, becomes an [`AuditRecord`]. The store appends it with the next
//! sequence number in the same transaction as the state change it permits (a read-only unit:
//! when it commits, before any answer leaves). Each entry's canonical encoding is hashed as an
//! RFC 6962 leaf (`SHA-256(0x00 || bytes)`), and entries are chained
//! (`SHA-256("custos-chain-v1" || prev || leaf)`, starting from 32 zero bytes) so that rewriting
//! any row breaks every later link. The Merkle tree with signed checkpoints builds on the same
//! leaf hashes.
//!
//! This crate depends on nothing of Custos but the id types, so that an outside verifier (a
//! client, an auditor) can check entries with it alone.
//!
//! # Canonical encoding (version 1)
//!
//! One line of UTF-8 JSON, no whitespace, the keys in exactly this order:
//!
//! | key | value |
//! |---|---|
//! | `v` | the number `1` (the encoding's version) |
//! | `seq` | the entry's sequence number, a decimal integer from 1 |
//! | `at_ms` | Unix time in milliseconds (UTC), a decimal integer |
//! | `request_id` | the request's UUID, lower-case hyphenated, as a string |
//! | `actor` | the acting person's UUID as a string, or `null` |
//! | `action` | e.g. `"document.read"` |
//! | `resource` | e.g. `"document:<uuid>"` |
//! | `outcome` | `"allow"` or `"deny"` |
//! | `reasons` | an array of `{"rule": <string>, "message": <string>}`, keys in that order |
//! | `detail` | any JSON value (`null` when none); object keys sorted by code point, numbers as serde_json writes them |
//!
//! Strings escape `"` and `\` with a backslash and control characters below U+0020 as `\n`,
//! `\r`, `\t`, `\b`, `\f` or `\u00xx` (lower-case hex); every other character, non-ASCII
//! included, is written as its UTF-8 bytes. The golden vectors in this crate's tests pin two
//! entries' bytes and leaf hashes; entries written since the first version verify unchanged.
//!
//! **Architecture Invariant:** audit records name ids, actions, rules and reasons, never client
//! content or secrets.

pub mod checkpoint;
pub mod merkle;
pub mod proof;
pub mod stored;
pub mod witness;

use custos_domain::{PersonId, RequestId};
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
    /// Adds facts to the record.
    pub fn with_detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }

    /// The canonical bytes of the entry with sequence number `seq` (the crate documentation
    /// gives them field by field). Written out here rather than derived, so that no change to
    /// the API types can change what was hashed.
    pub fn canonical_bytes(&self, seq: u64) -> Vec<u8> {
        // Written into one buffer without a temporary per field: `audit verify` encodes every
        // entry of the log.
        let mut out = Vec::with_capacity(256);
        let mut uuid = [0u8; 45];
        out.extend_from_slice(b"{\"v\":1,\"seq\":");
        push_display(&mut out, seq);
        out.extend_from_slice(b",\"at_ms\":");
        push_display(&mut out, self.at_ms);
        out.extend_from_slice(b",\"request_id\":");
        push_json_str(
            &mut out,
            self.request_id.0.hyphenated().encode_lower(&mut uuid),
        );
        out.extend_from_slice(b",\"actor\":");
        match self.actor {
            Some(actor) => push_json_str(&mut out, actor.0.hyphenated().encode_lower(&mut uuid)),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"action\":");
        push_json_str(&mut out, &self.action);
        out.extend_from_slice(b",\"resource\":");
        push_json_str(&mut out, &self.resource);
        out.extend_from_slice(b",\"outcome\":");
        push_json_str(&mut out, self.outcome.as_str());
        out.extend_from_slice(b",\"reasons\":[");
        for (i, reason) in self.reasons.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"rule\":");
            push_json_str(&mut out, &reason.rule);
            out.extend_from_slice(b",\"message\":");
            push_json_str(&mut out, &reason.message);
            out.push(b'}');
        }
        out.extend_from_slice(b"],\"detail\":");
        push_json_value(&mut out, &self.detail);
        out.push(b'}');
        out
    }
}

/// `value` as the canonical encoding writes it (object keys sorted, no whitespace): how the
/// store keeps an entry's `detail`, so that `audit verify` can hash the stored text as it is
/// ([`stored::StoredEntry::leaf_hash`]).
pub fn canonical_json(value: &serde_json::Value) -> String {
    let mut out = Vec::with_capacity(64);
    push_json_value(&mut out, value);
    // INVARIANT: only UTF-8 text (JSON punctuation and the value's own strings) is written.
    String::from_utf8(out).unwrap_or_default()
}

/// Appends `value` as JSON with every object's keys sorted (byte order), whatever order
/// serde_json's map keeps: another crate of the build may turn on its `preserve_order` feature
/// (cedar-policy does), and the canonical bytes must not depend on that.
fn push_json_value(out: &mut Vec<u8>, value: &serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => push_display(out, n),
        Value::String(text) => push_json_str(out, text),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                push_json_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (key, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                push_json_str(out, key);
                out.push(b':');
                push_json_value(out, v);
            }
            out.push(b'}');
        }
    }
}

/// Appends a number (or anything whose text is its JSON) as text.
fn push_display(out: &mut Vec<u8>, value: impl std::fmt::Display) {
    use std::io::Write;
    // INVARIANT: writing into a Vec cannot fail.
    let _ = write!(out, "{value}");
}

/// Appends `text` as a JSON string: `"`, `\\`, and control characters below U+0020 escaped
/// (as serde_json does: `\n`, `\r`, `\t`, `\b`, `\f`, otherwise `\u00XX`), everything else
/// as UTF-8. Copied at once when nothing in it needs an escape (the usual case: actions, resources and
/// ids; `audit verify` writes every entry of the log).
fn push_json_str(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    if memchr::memchr2(b'"', b'\\', bytes).is_none() && !has_control(bytes) {
        out.push(b'"');
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    // INVARIANT: serialising a &str into a Vec with serde_json cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

/// Whether `bytes` holds a control character (below U+0020), which a JSON string escapes.
/// Checked 32 bytes at a time without an early exit inside a block, so that it is vectorised.
fn has_control(bytes: &[u8]) -> bool {
    let mut blocks = bytes.chunks_exact(32);
    for block in &mut blocks {
        if block.iter().fold(false, |any, &c| any | (c < 0x20)) {
            return true;
        }
    }
    blocks.remainder().iter().any(|&c| c < 0x20)
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

    /// A record with every kind of field, fixed: the golden vector's input.
    fn golden_record() -> AuditRecord {
        AuditRecord {
            at_ms: 1_764_000_000_123,
            request_id: RequestId(uuid::Uuid::from_u128(
                0x0193_0000_0000_7000_8000_0000_0000_0001,
            )),
            actor: Some(PersonId(uuid::Uuid::from_u128(
                0x0193_0000_0000_7000_8000_0000_0000_0002,
            ))),
            action: "document.read".to_owned(),
            resource: "document:01930000-0000-7000-8000-000000000003".to_owned(),
            outcome: Outcome::Deny,
            reasons: vec![
                AuditReason {
                    rule: "R3.wall".to_owned(),
                    message: "ethical wall \"W\" screens person\n — Zürich 事务所".to_owned(),
                },
                AuditReason {
                    rule: "R1.need_to_know".to_owned(),
                    message: "second".to_owned(),
                },
            ],
            detail: serde_json::json!({ "zeta": [1, "two", null], "alpha": { "b": true, "a": -1.5 } }),
        }
    }

    /// Golden vectors: the bytes and leaf hashes of two fixed entries, taken from the encoding
    /// every stored entry was hashed with (the leaf hash checked independently with Python's
    /// hashlib). If this fails, entries already written would stop verifying.
    #[test]
    fn golden_vectors() {
        let bytes = golden_record().canonical_bytes(42);
        assert_eq!(
            String::from_utf8_lossy(&bytes),
            concat!(
                r#"{"v":1,"seq":42,"at_ms":1764000000123,"#,
                r#""request_id":"01930000-0000-7000-8000-000000000001","#,
                r#""actor":"01930000-0000-7000-8000-000000000002","#,
                r#""action":"document.read","#,
                r#""resource":"document:01930000-0000-7000-8000-000000000003","#,
                r#""outcome":"deny","reasons":[{"rule":"R3.wall","#,
                r#""message":"ethical wall \"W\" screens person\n — Zürich 事务所"},"#,
                r#"{"rule":"R1.need_to_know","message":"second"}],"#,
                r#""detail":{"alpha":{"a":-1.5,"b":true},"zeta":[1,"two",null]}}"#
            )
        );
        assert_eq!(
            hex::encode(leaf_hash(&bytes)),
            "745db368d56400fc6e27943322ac90de0e7938ffed1dcdfecfc7de9e287ce927"
        );
        let anonymous = AuditRecord {
            actor: None,
            reasons: vec![],
            detail: serde_json::Value::Null,
            ..golden_record()
        };
        let bytes = anonymous.canonical_bytes(1);
        assert_eq!(
            String::from_utf8_lossy(&bytes),
            concat!(
                r#"{"v":1,"seq":1,"at_ms":1764000000123,"#,
                r#""request_id":"01930000-0000-7000-8000-000000000001","actor":null,"#,
                r#""action":"document.read","#,
                r#""resource":"document:01930000-0000-7000-8000-000000000003","#,
                r#""outcome":"deny","reasons":[],"detail":null}"#
            )
        );
        assert_eq!(
            hex::encode(leaf_hash(&bytes)),
            "3a000c2bb8f09f0cce01253c9d96b7690fcfec6ddec9eecc284ada7993ac72d4"
        );
        // Control characters are escaped like serde_json escapes them.
        let controls = AuditRecord {
            resource: "a\u{1}b\tc".to_owned(),
            ..anonymous
        };
        let text = String::from_utf8(controls.canonical_bytes(1)).unwrap_or_default();
        assert!(text.contains(r#""resource":"a\u0001b\tc""#), "{text}");
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
