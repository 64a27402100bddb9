//! Sharing outside the firm: who may receive (R11), what the client agreed to (R10), the legal
//! bases for disclosure without consent (R13) and the words they are stored and audited with.

use crate::DomainError;
use serde::{Deserialize, Serialize};

/// What kind of outside party a recipient is (consents may name a category instead of a
/// recipient).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientCategory {
    /// An expert witness.
    ExpertWitness,
    /// Co-counsel at another firm.
    CoCounsel,
    /// A vendor working for the firm (translation, e-discovery...).
    Vendor,
    /// A court, regulator or other authority.
    Authority,
}

impl RecipientCategory {
    /// Every category.
    pub const ALL: [RecipientCategory; 4] = [
        RecipientCategory::ExpertWitness,
        RecipientCategory::CoCounsel,
        RecipientCategory::Vendor,
        RecipientCategory::Authority,
    ];

    /// The wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            RecipientCategory::ExpertWitness => "expert_witness",
            RecipientCategory::CoCounsel => "co_counsel",
            RecipientCategory::Vendor => "vendor",
            RecipientCategory::Authority => "authority",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| DomainError::Invalid {
                field: "category",
                message: format!(
                    "`{s}` is not one of expert_witness, co_counsel, vendor, authority"
                ),
            })
    }
}

/// The legal basis of a disclosure without the client's consent (R13).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalBasis {
    /// A court order (its reference recorded, the order uploaded).
    CourtOrder,
    /// A regulator's request.
    RegulatorRequest,
    /// Preventing imminent serious harm (a partner approves too).
    ImminentHarm,
}

impl LegalBasis {
    /// Every basis.
    pub const ALL: [LegalBasis; 3] = [
        LegalBasis::CourtOrder,
        LegalBasis::RegulatorRequest,
        LegalBasis::ImminentHarm,
    ];

    /// The wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            LegalBasis::CourtOrder => "court_order",
            LegalBasis::RegulatorRequest => "regulator_request",
            LegalBasis::ImminentHarm => "imminent_harm",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| DomainError::Invalid {
                field: "legal_basis",
                message: format!(
                    "`{s}` is not one of court_order, regulator_request, imminent_harm"
                ),
            })
    }
}

/// A purpose as consents and requests name it: a short label such as `expert_report`
/// (lowercase letters, digits and `_`, 2 to 48 characters), so that a consent's purposes and a
/// request's purpose compare exactly and no client content hides in them.
pub fn purpose(raw: &str) -> Result<String, DomainError> {
    let p = raw.trim();
    let ok = (2..=48).contains(&p.len())
        && p.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && p.as_bytes()[0].is_ascii_lowercase();
    if ok {
        Ok(p.to_owned())
    } else {
        Err(DomainError::Invalid {
            field: "purpose",
            message: format!(
                "`{p}` is not a purpose label: 2 to 48 lowercase letters, digits or `_`, \
                 starting with a letter (e.g. expert_report)"
            ),
        })
    }
}

/// A contact address as recipients give it: one `local@domain` without spaces or angle
/// brackets (it goes into mail headers), at most 254 characters, stored lowercase.
pub fn email_address(raw: &str) -> Result<String, DomainError> {
    let a = raw.trim().to_ascii_lowercase();
    let bad = |m: &str| DomainError::Invalid {
        field: "email",
        message: m.to_owned(),
    };
    if a.len() > 254 || a.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad(
            "an e-mail address has no spaces and at most 254 characters",
        ));
    }
    if a.contains(['<', '>', ',', ';', '"', '(', ')', '\\', '[', ']']) {
        return Err(bad("an e-mail address cannot contain <>,;\"()\\[]"));
    }
    match a.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.') =>
        {
            Ok(a)
        }
        _ => Err(bad("expected one address of the form name@example.com")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_are_labels() {
        assert_eq!(purpose(" expert_report ").as_deref(), Ok("expert_report"));
        for bad in [
            "",
            "x",
            "Expert",
            "expert report",
            "1abc",
            "a-b",
            &"a".repeat(49),
        ] {
            assert!(purpose(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn addresses_are_single_and_plain() {
        assert_eq!(
            email_address(" Expert@Lab.Example ").as_deref(),
            Ok("expert@lab.example")
        );
        for bad in [
            "expert",
            "a@b",
            "a@@b.c",
            "a b@c.d",
            "a@b.c, x@y.z",
            "a@b.c\r\nBcc: x@y.z",
            "<a@b.c>",
            "@b.c",
            "a@.b",
        ] {
            assert!(email_address(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names_round_trip() {
        for c in RecipientCategory::ALL {
            assert_eq!(RecipientCategory::parse(c.as_str()), Ok(c));
        }
        for b in LegalBasis::ALL {
            assert_eq!(LegalBasis::parse(b.as_str()), Ok(b));
        }
        assert!(LegalBasis::parse("because").is_err());
    }
}
