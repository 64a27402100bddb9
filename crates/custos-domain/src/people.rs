//! People, their roles and statuses, and practice teams.

use crate::{DomainError, PersonId, TeamId, Timestamp};
use serde::{Deserialize, Serialize};

/// The role a person holds in the firm; it caps what they may do (R2).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Member of the management team.
    Partner,
    /// The confidentiality officer (a senior lawyer).
    Officer,
    /// Head of a practice team.
    TeamLead,
    /// A lawyer.
    Lawyer,
    /// A paralegal.
    Paralegal,
    /// A secretary.
    Secretary,
    /// An intern: never privileged or restricted records.
    Intern,
    /// Administration / IT staff: metadata only, never client content.
    Admin,
    /// An external party (expert witness, co-counsel, vendor).
    External,
}

impl Role {
    /// Every role, in a stable order.
    pub const ALL: [Role; 9] = [
        Role::Partner,
        Role::Officer,
        Role::TeamLead,
        Role::Lawyer,
        Role::Paralegal,
        Role::Secretary,
        Role::Intern,
        Role::Admin,
        Role::External,
    ];

    /// The wire and database name of the role.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Partner => "partner",
            Role::Officer => "officer",
            Role::TeamLead => "team_lead",
            Role::Lawyer => "lawyer",
            Role::Paralegal => "paralegal",
            Role::Secretary => "secretary",
            Role::Intern => "intern",
            Role::Admin => "admin",
            Role::External => "external",
        }
    }

    /// Parses the wire name of a role.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| DomainError::Invalid {
                field: "role",
                message: format!("`{s}` is not a role"),
            })
    }
}

/// Whether a person may act at all (R4: suspended or departed people have no access).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonStatus {
    /// May act, within their role and need-to-know.
    Active,
    /// Temporarily without any access.
    Suspended,
    /// Has left the firm; no access, ever.
    Departed,
}

impl PersonStatus {
    /// The wire and database name of the status.
    pub fn as_str(self) -> &'static str {
        match self {
            PersonStatus::Active => "active",
            PersonStatus::Suspended => "suspended",
            PersonStatus::Departed => "departed",
        }
    }

    /// Parses the wire name of a status.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "active" => Ok(PersonStatus::Active),
            "suspended" => Ok(PersonStatus::Suspended),
            "departed" => Ok(PersonStatus::Departed),
            _ => Err(DomainError::Invalid {
                field: "status",
                message: format!("`{s}` is not one of active, suspended, departed"),
            }),
        }
    }
}

/// A login name: 2 to 64 characters of lowercase ASCII letters, digits, `.`, `-` or `_`,
/// starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
pub struct UserName(String);

impl UserName {
    /// Parses a user name, folding it to lowercase.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let s = raw.trim().to_ascii_lowercase();
        let valid_chars = s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'));
        let starts_with_letter = s.chars().next().is_some_and(|c| c.is_ascii_lowercase());
        if (2..=64).contains(&s.len()) && valid_chars && starts_with_letter {
            Ok(Self(s))
        } else {
            Err(DomainError::Invalid {
                field: "user_name",
                message: "expected 2 to 64 characters: lowercase letters, digits, `.`, `-`, `_`, \
                          starting with a letter"
                    .to_owned(),
            })
        }
    }

    /// The user name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for UserName {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<UserName> for String {
    fn from(value: UserName) -> Self {
        value.0
    }
}

impl std::fmt::Display for UserName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person known to Custos: staff or external party. Staff names are not client data.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Identifier.
    pub id: PersonId,
    /// Login name.
    pub user_name: UserName,
    /// Name shown to colleagues.
    pub display_name: String,
    /// Role in the firm.
    pub role: Role,
    /// Whether the person may act.
    pub status: PersonStatus,
    /// When the account was created.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    /// R4: the agreement and training on file.
    #[serde(default)]
    pub compliance: crate::Compliance,
}

/// A practice team; matters belong to one team.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    /// Identifier.
    pub id: TeamId,
    /// Name of the practice (e.g. "Corporate").
    pub name: String,
    /// The team lead, who owns the team's matters.
    pub lead: Option<PersonId>,
}

/// Checks that a free-text field is present, not blank and not too long.
/// Bidirectional embedding, override and isolate controls: they make text display in another
/// order than it is stored ("Trojan Source"), so a name or title could read differently in a
/// list than in the audit log.
const BIDI_CONTROLS: [char; 9] = [
    '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}',
    '\u{2069}',
];

/// Refuses control characters (NUL, C0 such as escape or newline, DEL, C1) and bidirectional
/// controls in text from outside: they corrupt logs and terminals, and hide what text says.
pub fn refuse_hidden_characters(field: &'static str, value: &str) -> Result<(), DomainError> {
    match value
        .chars()
        .find(|c| c.is_control() || BIDI_CONTROLS.contains(c))
    {
        Some(c) => Err(DomainError::Invalid {
            field,
            message: format!(
                "must not contain control or text-direction characters (found U+{:04X})",
                u32::from(c)
            ),
        }),
        None => Ok(()),
    }
}

pub(crate) fn require_text(
    field: &'static str,
    value: &str,
    max_len: usize,
) -> Result<String, DomainError> {
    refuse_hidden_characters(field, value.trim())?;
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(DomainError::Invalid {
            field,
            message: "must not be empty".to_owned(),
        });
    }
    if trimmed.chars().count() > max_len {
        return Err(DomainError::Invalid {
            field,
            message: format!("must be at most {max_len} characters"),
        });
    }
    Ok(trimmed.to_owned())
}

impl Person {
    /// Checks a display name from outside input.
    pub fn parse_display_name(raw: &str) -> Result<String, DomainError> {
        require_text("display_name", raw, 200)
    }
}

impl Team {
    /// Checks a team name from outside input.
    pub fn parse_name(raw: &str) -> Result<String, DomainError> {
        require_text("name", raw, 200)
    }
}
