//! The use cases, one module per area.

pub(crate) mod access;
pub(crate) mod account;
pub(crate) mod approvals;
pub(crate) mod audit;
pub(crate) mod audit_export;
mod audit_verify;
pub(crate) mod break_glass;
pub(crate) mod checkpoints;
pub(crate) mod client_access;
pub(crate) mod clients;
pub(crate) mod compliance;
pub(crate) mod consents;
pub(crate) mod delivery;
pub(crate) mod documents;
pub(crate) mod factors;
pub(crate) mod lockouts;
pub(crate) mod login;
pub(crate) mod matters;
mod media_type;
pub(crate) mod notices;
pub(crate) mod outbox;
pub(crate) mod people;
pub(crate) mod person_access;
pub(crate) mod policies;
pub(crate) mod policy_test;
pub(crate) mod received;
pub(crate) mod recovery;
pub(crate) mod register;
pub(crate) mod release;
pub(crate) mod sessions;
pub(crate) mod teams;
pub(crate) mod third_parties;
pub(crate) mod tokens;
pub(crate) mod transfer_views;
pub(crate) mod transfers;
pub(crate) mod walls;
pub(crate) mod what_if;

/// Free text typed by a person (a justification, a reason, a name): trimmed, `min` to `max`
/// characters, no hidden characters.
pub(crate) fn checked_text(
    field: &'static str,
    raw: &str,
    min: usize,
    max: usize,
) -> Result<String, crate::AppError> {
    let trimmed = raw.trim();
    let n = trimmed.chars().count();
    if n < min || n > max {
        return Err(crate::AppError::BadInput(format!(
            "{field} must be {min} to {max} characters"
        )));
    }
    custos_domain::refuse_hidden_characters(field, trimmed)?;
    Ok(trimmed.to_owned())
}
