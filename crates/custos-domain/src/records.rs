//! Client records: clients, matters, documents with their provenance (R7), and ethical walls (R3).

use crate::people::require_text;
use crate::{ClientId, DocumentId, DomainError, MatterId, PersonId, TeamId, Timestamp, WallId};
use serde::{Deserialize, Serialize};

/// How sensitive a document is; ordered from least to most sensitive.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    /// May be published (e.g. a filed court document).
    Public,
    /// For the matter team's internal use.
    Internal,
    /// Client confidential information.
    Confidential,
    /// Legally privileged (attorney-client, work product).
    Privileged,
    /// The most sensitive records: named access only.
    Restricted,
}

impl Classification {
    /// Every classification, least sensitive first.
    pub const ALL: [Classification; 5] = [
        Classification::Public,
        Classification::Internal,
        Classification::Confidential,
        Classification::Privileged,
        Classification::Restricted,
    ];

    /// The wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            Classification::Public => "public",
            Classification::Internal => "internal",
            Classification::Confidential => "confidential",
            Classification::Privileged => "privileged",
            Classification::Restricted => "restricted",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        Classification::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| DomainError::Invalid {
                field: "classification",
                message: format!(
                    "`{s}` is not one of public, internal, confidential, privileged, restricted"
                ),
            })
    }
}

/// A client of the firm. `name` and `contact` are personal data, encrypted at rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// Identifier.
    pub id: ClientId,
    /// Name of the person or organisation.
    pub name: String,
    /// Contact details (address, e-mail, phone).
    pub contact: String,
    /// The partner responsible for the client relationship.
    pub responsible: PersonId,
    /// When the client was taken on.
    pub created_at: Timestamp,
}

impl Client {
    /// Checks a client name from outside input.
    pub fn parse_name(raw: &str) -> Result<String, DomainError> {
        require_text("name", raw, 500)
    }
}

/// A matter: a case or transaction for one client, owned by one team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matter {
    /// Identifier.
    pub id: MatterId,
    /// The client the matter is for.
    pub client: ClientId,
    /// The practice team that owns the matter.
    pub team: TeamId,
    /// The lawyer leading the matter.
    pub lead: PersonId,
    /// Title; often names the parties, so it is encrypted at rest.
    pub title: String,
    /// When the matter was opened.
    pub created_at: Timestamp,
}

impl Matter {
    /// Checks a matter title from outside input.
    pub fn parse_title(raw: &str) -> Result<String, DomainError> {
        require_text("title", raw, 500)
    }
}

/// Provenance as received from outside input: every field optional so that all missing ones can
/// be named at once.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvenanceInput {
    /// Where the information came from.
    pub source: Option<String>,
    /// What it contains.
    pub content_description: Option<String>,
    /// Why it is held.
    pub purpose: Option<String>,
    /// The legal basis, or the reference of the client's consent.
    pub legal_basis: Option<String>,
    /// Who collected it (a person's name or user name).
    pub collected_by: Option<String>,
    /// When it was collected (RFC 3339).
    pub collected_at: Option<String>,
}

/// R7: where a record of client information came from and why the firm holds it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// Where the information came from.
    pub source: String,
    /// What it contains.
    pub content_description: String,
    /// Why it is held.
    pub purpose: String,
    /// The legal basis, or the reference of the client's consent.
    pub legal_basis: String,
    /// Who collected it.
    pub collected_by: String,
    /// When it was collected.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub collected_at: Timestamp,
}

impl Provenance {
    /// Validates provenance input; every missing or blank field is named in the error.
    pub fn parse(input: &ProvenanceInput) -> Result<Self, DomainError> {
        let fields: [(&'static str, &Option<String>); 6] = [
            ("source", &input.source),
            ("content_description", &input.content_description),
            ("purpose", &input.purpose),
            ("legal_basis", &input.legal_basis),
            ("collected_by", &input.collected_by),
            ("collected_at", &input.collected_at),
        ];
        let missing: Vec<&'static str> = fields
            .iter()
            .filter(|(_, v)| v.as_deref().is_none_or(|s| s.trim().is_empty()))
            .map(|(name, _)| *name)
            .collect();
        if !missing.is_empty() {
            return Err(DomainError::MissingProvenance(missing));
        }
        let text = |field: &'static str, v: &Option<String>| {
            require_text(field, v.as_deref().unwrap_or_default(), 2000)
        };
        let raw_at = input.collected_at.as_deref().unwrap_or_default().trim();
        let collected_at =
            time::OffsetDateTime::parse(raw_at, &time::format_description::well_known::Rfc3339)
                .map_err(|_| DomainError::Invalid {
                    field: "collected_at",
                    message: format!("`{raw_at}` is not an RFC 3339 time"),
                })?;
        Ok(Provenance {
            source: text("source", &input.source)?,
            content_description: text("content_description", &input.content_description)?,
            purpose: text("purpose", &input.purpose)?,
            legal_basis: text("legal_basis", &input.legal_basis)?,
            collected_by: text("collected_by", &input.collected_by)?,
            collected_at: collected_at.to_offset(time::UtcOffset::UTC),
        })
    }
}

/// A document held on a matter. Title and provenance are encrypted at rest; content lives in the
/// blob store, encrypted under the matter's data key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Identifier.
    pub id: DocumentId,
    /// The matter the document belongs to.
    pub matter: MatterId,
    /// Title.
    pub title: String,
    /// Sensitivity.
    pub classification: Classification,
    /// Provenance (R7).
    pub provenance: Provenance,
    /// Content length in bytes (plaintext).
    pub size: u64,
    /// Media type given at upload.
    pub media_type: String,
    /// Who uploaded it.
    pub created_by: PersonId,
    /// When it was uploaded.
    pub created_at: Timestamp,
}

impl Document {
    /// Checks a document title from outside input.
    pub fn parse_title(raw: &str) -> Result<String, DomainError> {
        require_text("title", raw, 500)
    }
}

/// Who an ethical wall screens.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum WallSubject {
    /// One person.
    Person(PersonId),
    /// Every member of a team.
    Team(TeamId),
}

/// What an ethical wall screens them from.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum WallObject {
    /// Every matter of a client.
    Client(ClientId),
    /// One matter.
    Matter(MatterId),
}

/// Whether a wall keeps its subject out, or keeps everyone but its subjects out.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WallKind {
    /// The subject is screened from the object (e.g. acted for the counterparty).
    #[default]
    Exclusionary,
    /// Only the subjects of the object's inclusionary walls may touch it (e.g. a sensitive
    /// M&A): one wall per admitted person or team.
    Inclusionary,
}

impl WallKind {
    /// The wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            WallKind::Exclusionary => "exclusionary",
            WallKind::Inclusionary => "inclusionary",
        }
    }

    /// Parses the wire name.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw {
            "exclusionary" => Ok(WallKind::Exclusionary),
            "inclusionary" => Ok(WallKind::Inclusionary),
            _ => Err(DomainError::Invalid {
                field: "kind",
                message: "expected exclusionary or inclusionary".to_owned(),
            }),
        }
    }
}

/// Who lifted a wall, when and why (a lifted wall screens no one and stays on record).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifted {
    /// The officer who lifted it.
    pub by: PersonId,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
    /// Why (not client content).
    pub reason: String,
}

/// An ethical wall (screen): R3, overrides every allow.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wall {
    /// Identifier.
    pub id: WallId,
    /// Exclusionary (the default) or inclusionary.
    #[serde(default)]
    pub kind: WallKind,
    /// Who is screened (exclusionary) or admitted (inclusionary).
    pub subject: WallSubject,
    /// From what.
    pub object: WallObject,
    /// Why (e.g. "previously acted for the counterparty"); not client content.
    pub reason: String,
    /// The officer who raised it.
    pub created_by: PersonId,
    /// When it was raised.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    /// Set once the wall is lifted.
    #[serde(default)]
    pub lifted: Option<Lifted>,
}

impl Wall {
    /// Whether the wall still screens (not lifted).
    pub fn is_active(&self) -> bool {
        self.lifted.is_none()
    }

    /// Checks a wall reason from outside input.
    pub fn parse_reason(raw: &str) -> Result<String, DomainError> {
        require_text("reason", raw, 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provenance_names_every_missing_field() {
        let input = ProvenanceInput {
            source: Some("client email".into()),
            purpose: Some("  ".into()),
            ..Default::default()
        };
        let err = Provenance::parse(&input).err();
        assert_eq!(
            err,
            Some(DomainError::MissingProvenance(vec![
                "content_description",
                "purpose",
                "legal_basis",
                "collected_by",
                "collected_at"
            ]))
        );
    }

    #[test]
    fn provenance_rejects_bad_time() {
        let input = ProvenanceInput {
            source: Some("a".into()),
            content_description: Some("b".into()),
            purpose: Some("c".into()),
            legal_basis: Some("d".into()),
            collected_by: Some("e".into()),
            collected_at: Some("yesterday".into()),
        };
        assert!(matches!(
            Provenance::parse(&input),
            Err(DomainError::Invalid {
                field: "collected_at",
                ..
            })
        ));
    }

    #[test]
    fn classification_order_and_names_round_trip() {
        for c in Classification::ALL {
            assert_eq!(Classification::parse(c.as_str()), Ok(c));
        }
        assert!(Classification::Privileged > Classification::Confidential);
        assert!(Classification::parse("secret").is_err());
    }

    #[test]
    fn names_titles_and_reasons_refuse_hidden_characters() {
        for bad in [
            "Acme\0 Ltd",
            "Acme\u{1b}[31m Ltd",
            "first\nsecond",
            "Acme\u{7f}",
            "Ac\u{85}me",
            "invoice\u{202E}fdp.exe",
            "\u{2066}isolated\u{2069}",
        ] {
            assert!(Client::parse_name(bad).is_err(), "{bad:?}");
            assert!(Matter::parse_title(bad).is_err(), "{bad:?}");
            assert!(Wall::parse_reason(bad).is_err(), "{bad:?}");
            assert!(crate::Person::parse_display_name(bad).is_err(), "{bad:?}");
        }
        for good in [
            "Société Générale",
            "华为技术有限公司",
            "שלום עולם",
            "O'Brien & Co. — 2026",
        ] {
            assert!(Client::parse_name(good).is_ok(), "{good:?}");
        }
    }
}
