//! custos-app
