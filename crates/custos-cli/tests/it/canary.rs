//! canary tests
