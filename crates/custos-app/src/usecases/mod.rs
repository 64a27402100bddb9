//! The use cases, one module per area.

pub(crate) mod access;
pub(crate) mod account;
pub(crate) mod audit;
pub(crate) mod audit_export;
pub(crate) mod break_glass;
pub(crate) mod checkpoints;
pub(crate) mod client_access;
pub(crate) mod clients;
pub(crate) mod compliance;
pub(crate) mod documents;
pub(crate) mod factors;
pub(crate) mod lockouts;
pub(crate) mod login;
pub(crate) mod matters;
mod media_type;
pub(crate) mod people;
pub(crate) mod person_access;
pub(crate) mod policies;
pub(crate) mod policy_test;
pub(crate) mod recovery;
pub(crate) mod sessions;
pub(crate) mod teams;
pub(crate) mod tokens;
pub(crate) mod walls;
pub(crate) mod what_if;
