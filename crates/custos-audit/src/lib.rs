//! custos-audit
