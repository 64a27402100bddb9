//! Integration tests: the real server on a random port over real TLS, a real HTTPS client, a
//! temporary data directory, and the built `custos` binary for the CLI.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail by panicking"
)]

mod api;
mod api_contract;
mod audit;
mod auth;
mod auth_http;
mod backup;
mod canary;
mod cli;
mod client_access;
mod decision_cases;
mod decision_flows;
mod decision_http;
mod decision_table;
mod harness;
mod hostile_review;
mod jobs;
mod listing_reach;
mod logs;
mod mail;
mod network_policy;
mod node;
mod policy_flows;
mod recipients;
mod review;
mod review_walls;
mod round_trips;
mod scaleout;
mod tamper;
mod transfers;
mod transparency;
mod verify_stretches;
mod what_if;
mod witness;
