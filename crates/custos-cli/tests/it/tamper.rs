//! tamper tests
