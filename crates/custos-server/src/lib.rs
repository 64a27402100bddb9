//! custos-server
