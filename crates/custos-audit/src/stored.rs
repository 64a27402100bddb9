//! An audit entry as its row stores it (text columns, not yet decoded), and its leaf hash
//! computed straight from that text when the text is provably the canonical encoding.
//!
//! `custos audit verify` reads every entry of the log. Decoding a row into an [`AuditRecord`]
//! (JSON parsed into values, UUIDs parsed) only to write the same bytes back costs more than
//! hashing them, so the verifier first tries [`StoredEntry::leaf_hash`]: it writes the
//! canonical bytes from the stored text directly, and only when every column is in exactly
//! the form [`AuditRecord::canonical_bytes`] would write (a lower-case hyphenated UUID, `allow`
//! or `deny`, JSON with no whitespace, object keys in byte order, integers only, strings
//! escaped the canonical way). Anything else answers `None`, and the verifier decodes the row
//! and encodes it again (the exact path): a row stored in another but equivalent form (a
//! detail written with its keys in insertion order, by an older version) still verifies, and
//! a row whose bytes are not canonical is never accepted on its bytes alone. Either way the
//! bytes hashed are the entry's canonical encoding, so both paths give the same leaf hash.

use sha2::{Digest, Sha256};

/// The columns of one stored audit row, borrowed from the database's row.
#[derive(Debug, Clone, Copy)]
pub struct StoredEntry<'a> {
    /// `seq`.
    pub seq: i64,
    /// `at_ms`.
    pub at_ms: i64,
    /// `request_id` as stored.
    pub request_id: &'a str,
    /// `actor_id` as stored.
    pub actor: Option<&'a str>,
    /// `action`.
    pub action: &'a str,
    /// `resource`.
    pub resource: &'a str,
    /// `outcome` as stored.
    pub outcome: &'a str,
    /// `reasons`: JSON text.
    pub reasons: &'a str,
    /// `detail`: JSON text.
    pub detail: &'a str,
    /// `leaf_hash` as stored.
    pub leaf_hash: &'a [u8],
    /// `chain_hash` as stored.
    pub chain_hash: &'a [u8],
}

impl StoredEntry<'_> {
    /// The RFC 6962 leaf hash of the entry's canonical bytes, written from the stored text
    /// (into `scratch`, reused between entries) when every column is provably in canonical
    /// form; `None` when the row must be decoded to know its canonical bytes (or cannot be).
    pub fn leaf_hash(&self, scratch: &mut Vec<u8>) -> Option<[u8; 32]> {
        let seq = u64::try_from(self.seq).ok().filter(|s| *s > 0)?;
        if !is_lower_uuid(self.request_id)
            || !self.actor.is_none_or(is_lower_uuid)
            || !matches!(self.outcome, "allow" | "deny")
            || !canonical_reasons(self.reasons)
            || !canonical_value(self.detail)
        {
            return None;
        }
        let out = scratch;
        out.clear();
        // The leaf prefix first: one digest over the buffer is the RFC 6962 leaf hash.
        out.push(0);
        let mut number = itoa::Buffer::new();
        out.extend_from_slice(b"{\"v\":1,\"seq\":");
        out.extend_from_slice(number.format(seq).as_bytes());
        out.extend_from_slice(b",\"at_ms\":");
        out.extend_from_slice(number.format(self.at_ms).as_bytes());
        out.extend_from_slice(b",\"request_id\":\"");
        out.extend_from_slice(self.request_id.as_bytes());
        out.extend_from_slice(b"\",\"actor\":");
        match self.actor {
            Some(actor) => {
                out.push(b'"');
                out.extend_from_slice(actor.as_bytes());
                out.push(b'"');
            }
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"action\":");
        crate::push_json_str(out, self.action);
        out.extend_from_slice(b",\"resource\":");
        crate::push_json_str(out, self.resource);
        out.extend_from_slice(b",\"outcome\":\"");
        out.extend_from_slice(self.outcome.as_bytes());
        out.extend_from_slice(b"\",\"reasons\":");
        out.extend_from_slice(self.reasons.as_bytes());
        out.extend_from_slice(b",\"detail\":");
        out.extend_from_slice(self.detail.as_bytes());
        out.push(b'}');
        Some(Sha256::digest(&out[..]).into())
    }
}

/// `8-4-4-4-12` lower-case hex digits: the only form a UUID's canonical text takes.
fn is_lower_uuid(text: &str) -> bool {
    const HYPHENS: [usize; 4] = [8, 13, 18, 23];
    let b = text.as_bytes();
    b.len() == 36
        && HYPHENS.iter().all(|&i| b[i] == b'-')
        // Every other byte a digit or a-f: exactly four hyphens, all at their places.
        && b.iter().fold((0u8, 0u8), |(bad, hyphens), &c| {
            (
                bad | u8::from(!(c.is_ascii_digit() || (b'a'..=b'f').contains(&c) || c == b'-')),
                hyphens + u8::from(c == b'-'),
            )
        }) == (0, 4)
}

/// `[{"rule":"…","message":"…"},…]` exactly, each string canonical: how the reasons are
/// encoded (in that key order, not sorted).
fn canonical_reasons(text: &str) -> bool {
    let mut p = Parser::new(text);
    if !p.eat(b"[") {
        return false;
    }
    if p.eat(b"]") {
        return p.done();
    }
    loop {
        if !(p.eat(b"{\"rule\":")
            && p.string().is_some()
            && p.eat(b",\"message\":")
            && p.string().is_some()
            && p.eat(b"}"))
        {
            return false;
        }
        if p.eat(b"]") {
            return p.done();
        }
        if !p.eat(b",") {
            return false;
        }
    }
}

/// Whether `text` is one JSON value exactly as the canonical encoding writes it (conservative:
/// a value it cannot vouch for, such as a fraction, is not).
fn canonical_value(text: &str) -> bool {
    let mut p = Parser::new(text);
    p.value(0) && p.done()
}

/// A strict reader of canonical JSON over bytes.
struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
}

/// Deeper values are left to the exact path (serde_json stops at 128).
const MAX_DEPTH: u32 = 64;

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser {
            bytes: text.as_bytes(),
            at: 0,
        }
    }

    fn done(&self) -> bool {
        self.at == self.bytes.len()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, literal: &[u8]) -> bool {
        if self.bytes[self.at..].starts_with(literal) {
            self.at += literal.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: u32) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        match self.peek() {
            Some(b'n') => self.eat(b"null"),
            Some(b't') => self.eat(b"true"),
            Some(b'f') => self.eat(b"false"),
            Some(b'"') => self.string().is_some(),
            Some(b'[') => {
                self.at += 1;
                if self.eat(b"]") {
                    return true;
                }
                loop {
                    if !self.value(depth + 1) {
                        return false;
                    }
                    if self.eat(b"]") {
                        return true;
                    }
                    if !self.eat(b",") {
                        return false;
                    }
                }
            }
            Some(b'{') => {
                self.at += 1;
                if self.eat(b"}") {
                    return true;
                }
                let mut previous: Option<&[u8]> = None;
                loop {
                    let Some(key) = self.string() else {
                        return false;
                    };
                    // Keys in strictly increasing byte order (a repeated key would be dropped
                    // by decoding); a key with an escape is left to the exact path.
                    if key.contains(&b'\\') || previous.is_some_and(|p| p >= key) {
                        return false;
                    }
                    previous = Some(key);
                    if !self.eat(b":") || !self.value(depth + 1) {
                        return false;
                    }
                    if self.eat(b"}") {
                        return true;
                    }
                    if !self.eat(b",") {
                        return false;
                    }
                }
            }
            Some(b'-' | b'0'..=b'9') => self.integer(),
            _ => false,
        }
    }

    /// An integer as serde_json writes one it read: no `+`, no leading zero, no `-0`, and
    /// short enough to be an `i64` or `u64` (longer ones become floats when decoded).
    fn integer(&mut self) -> bool {
        let negative = self.eat(b"-");
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        let digits = &self.bytes[start..self.at];
        let followed_by_fraction = matches!(self.peek(), Some(b'.' | b'e' | b'E'));
        !digits.is_empty()
            && digits.len() <= 18
            && (digits[0] != b'0' || (digits.len() == 1 && !negative))
            && !followed_by_fraction
    }

    /// A string in canonical form (its bytes between the quotes): characters below U+0020,
    /// `"` and `\` escaped exactly as serde_json escapes them, nothing else escaped.
    fn string(&mut self) -> Option<&'a [u8]> {
        if !self.eat(b"\"") {
            return None;
        }
        let start = self.at;
        loop {
            let rest = &self.bytes[self.at..];
            let stop = memchr::memchr2(b'"', b'\\', rest)?;
            if crate::has_control(&rest[..stop]) {
                return None;
            }
            self.at += stop + 1;
            if rest[stop] == b'"' {
                return Some(&self.bytes[start..self.at - 1]);
            }
            let e = self.peek()?;
            self.at += 1;
            match e {
                b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                b'u' => {
                    // Only `\u00XX` for a control character without a short form, in
                    // lower-case hex.
                    let hex = self.bytes.get(self.at..self.at + 4)?;
                    self.at += 4;
                    let value = match hex {
                        [b'0', b'0', high @ (b'0' | b'1'), low] => {
                            let low = match low {
                                b'0'..=b'9' => low - b'0',
                                b'a'..=b'f' => low - b'a' + 10,
                                _ => return None,
                            };
                            (high - b'0') * 16 + low
                        }
                        _ => return None,
                    };
                    if matches!(value, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d) {
                        return None;
                    }
                }
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leaf_hash;
    use crate::{AuditReason, AuditRecord, Outcome};
    use custos_domain::{PersonId, RequestId};
    use proptest::prelude::*;

    fn stored<'a>(
        record: &'a AuditRecord,
        seq: i64,
        texts: &'a (String, String, Option<String>, String, String),
    ) -> StoredEntry<'a> {
        StoredEntry {
            seq,
            at_ms: record.at_ms,
            request_id: &texts.0,
            actor: texts.2.as_deref(),
            action: &record.action,
            resource: &record.resource,
            outcome: record.outcome.as_str(),
            reasons: &texts.3,
            detail: &texts.4,
            leaf_hash: &[],
            chain_hash: &[],
        }
    }

    /// The texts the store writes for a record (as `areas/audit.rs` binds them).
    fn texts(record: &AuditRecord) -> (String, String, Option<String>, String, String) {
        (
            record.request_id.to_string(),
            String::new(),
            record.actor.map(|a| a.to_string()),
            serde_json::to_string(&record.reasons).unwrap_or_default(),
            crate::canonical_json(&record.detail),
        )
    }

    fn record(detail: serde_json::Value, message: &str) -> AuditRecord {
        AuditRecord {
            at_ms: 1_764_000_000_123,
            request_id: RequestId::new(),
            actor: Some(PersonId::new()),
            action: "document.read".to_owned(),
            resource: "document:\"x\"\n".to_owned(),
            outcome: Outcome::Deny,
            reasons: vec![AuditReason {
                rule: "R3.wall".to_owned(),
                message: message.to_owned(),
            }],
            detail,
        }
    }

    #[test]
    fn stored_text_hashes_like_the_record() {
        let mut scratch = Vec::new();
        for detail in [
            serde_json::Value::Null,
            serde_json::json!({"zeta": [1, "two", null, true], "alpha": {"b": -7, "a": 0}}),
            serde_json::json!(["\u{1}\u{7f}\t é 事务所", {}, []]),
        ] {
            let r = record(detail.clone(), "screened \"W\"\n\u{0}\u{1f} — Zürich");
            let t = texts(&r);
            let want = leaf_hash(&r.canonical_bytes(7));
            assert_eq!(stored(&r, 7, &t).leaf_hash(&mut scratch), Some(want));
            let long = format!("{}\u{1}\\{}\"", "x".repeat(45), "事".repeat(30));
            let r = AuditRecord {
                action: long.clone(),
                ..record(detail, &long)
            };
            let t = texts(&r);
            let want = leaf_hash(&r.canonical_bytes(7));
            assert_eq!(stored(&r, 7, &t).leaf_hash(&mut scratch), Some(want));
        }
        let anonymous = AuditRecord {
            actor: None,
            reasons: vec![],
            ..record(serde_json::Value::Null, "")
        };
        let t = texts(&anonymous);
        assert_eq!(
            stored(&anonymous, 1, &t).leaf_hash(&mut scratch),
            Some(leaf_hash(&anonymous.canonical_bytes(1)))
        );
    }

    #[test]
    fn text_in_another_form_is_left_to_the_exact_path() {
        let mut scratch = Vec::new();
        let r = record(serde_json::json!({"a": 1, "b": 2}), "m");
        let t = texts(&r);
        let ok = stored(&r, 3, &t);
        assert!(ok.leaf_hash(&mut scratch).is_some());
        let upper = t.0.to_uppercase();
        for bad in [
            StoredEntry { seq: 0, ..ok },
            StoredEntry {
                request_id: &upper,
                ..ok
            },
            StoredEntry {
                actor: Some("{00000000-0000-0000-0000-000000000000}"),
                ..ok
            },
            StoredEntry {
                actor: Some("0-000000-0000-0000-0000-000000000000"),
                ..ok
            },
            StoredEntry {
                actor: Some("00000000-0000-0000-0000-00000000000G"),
                ..ok
            },
            StoredEntry {
                outcome: "Allow",
                ..ok
            },
            StoredEntry {
                reasons: r#"[{"message":"m","rule":"R3.wall"}]"#,
                ..ok
            },
            StoredEntry {
                reasons: r#"[{"rule":"R3.wall","message":"m","extra":1}]"#,
                ..ok
            },
            StoredEntry {
                reasons: r#"[{"rule":"R3.wall","message":"\u006d"}]"#,
                ..ok
            },
            StoredEntry {
                detail: r#"{"b":2,"a":1}"#,
                ..ok
            },
            StoredEntry {
                detail: r#"{"a":1,"a":2}"#,
                ..ok
            },
            StoredEntry {
                detail: r#"{"a": 1}"#,
                ..ok
            },
            StoredEntry {
                detail: r#"{"a":1.0}"#,
                ..ok
            },
            StoredEntry {
                detail: r#"{"a":-0}"#,
                ..ok
            },
            StoredEntry {
                detail: r#"{"a":01}"#,
                ..ok
            },
            StoredEntry {
                detail: r#"{"a":"\u000a"}"#,
                ..ok
            },
            StoredEntry {
                detail: r#"{"a":"\u001F"}"#,
                ..ok
            },
            StoredEntry {
                detail: r#"{"a":"\/"}"#,
                ..ok
            },
            StoredEntry {
                detail: "{\"a\":\"\u{1}\"}",
                ..ok
            },
            StoredEntry {
                detail: r#"{"a":1}x"#,
                ..ok
            },
            StoredEntry {
                detail: r#"{"a":12345678901234567890}"#,
                ..ok
            },
            StoredEntry { detail: "", ..ok },
            StoredEntry {
                detail: &format!("\"{}\u{1}{}\"", "a".repeat(40), "b".repeat(40)),
                ..ok
            },
            StoredEntry {
                reasons: &format!(
                    "[{{\"rule\":\"R\",\"message\":\"{}\u{1f}\"}}]",
                    "a".repeat(70)
                ),
                ..ok
            },
        ] {
            assert_eq!(bad.leaf_hash(&mut scratch), None, "{bad:?}");
        }
    }

    fn json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(|n| serde_json::json!(n)),
            any::<u64>().prop_map(|n| serde_json::json!(n)),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| serde_json::json!(f)),
            any::<String>().prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::Array),
                prop::collection::vec((any::<String>(), inner), 0..5)
                    .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Whatever the record, a stored text either hashes exactly like the record's
        /// canonical bytes or is left to the exact path; and the texts the store writes for
        /// strings and integers are always taken on the fast path.
        #[test]
        fn fast_path_agrees_with_the_record(detail in json(), message in any::<String>(), raw in any::<String>()) {
            let mut scratch = Vec::new();
            let r = record(detail.clone(), &message);
            let t = texts(&r);
            let want = leaf_hash(&r.canonical_bytes(9));
            match stored(&r, 9, &t).leaf_hash(&mut scratch) {
                Some(got) => prop_assert_eq!(got, want),
                None => prop_assert!(not_canonical_text(&detail), "{:?}", t.4),
            }
            // Any text at all: if taken, it hashes like the value decoded from it.
            let t2 = (t.0.clone(), String::new(), t.2.clone(), t.3.clone(), raw.clone());
            if let Some(got) = stored(&r, 9, &t2).leaf_hash(&mut scratch) {
                let decoded: serde_json::Value = serde_json::from_str(&raw).unwrap_or_default();
                let again = AuditRecord { detail: decoded, ..r.clone() };
                prop_assert_eq!(got, leaf_hash(&again.canonical_bytes(9)));
            }
        }
    }

    /// What the fast path leaves to the exact one: a fraction, an integer of 19 digits or
    /// more, a key that needs an escape.
    fn not_canonical_text(value: &serde_json::Value) -> bool {
        match value {
            serde_json::Value::Number(n) => {
                n.is_f64()
                    || n.as_i64()
                        .is_some_and(|i| i.unsigned_abs() >= 10u64.pow(18))
                    || n.as_u64().is_some_and(|u| u >= 10u64.pow(18))
            }
            serde_json::Value::Array(items) => items.iter().any(not_canonical_text),
            serde_json::Value::Object(map) => map.iter().any(|(k, v)| {
                k.chars().any(|c| c < ' ' || c == '"' || c == '\\') || not_canonical_text(v)
            }),
            _ => false,
        }
    }
}
