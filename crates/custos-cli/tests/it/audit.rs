//! audit tests
