//! Sealpost server library: configuration, the HTTP application, and the command-line tools.
//!
//! `main.rs` only parses arguments; everything it runs lives here so tests can drive it without a
//! process or a socket (`app::router` with `tower::ServiceExt::oneshot`).
//!
//! Layers, and the way dependencies point: `domain` (pure rules) ← `store`, `mail`, `keys` (I/O) ←
//! `sealing`, `sending`, `tenants`, `mail_flow` (what one operation does) ← `routes`, `smtp` and
//! `cli` (wiring).

pub mod admin_cli;
pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod domain;
pub mod envelope_cmd;
pub mod error;
pub mod extract;
pub mod key_policies;
pub mod keys;
pub mod mail;
pub mod mail_flow;
pub mod metrics;
pub mod passcodes;
pub mod replies;
pub mod revoking;
pub mod routes;
pub mod sealing;
pub mod secrets;
pub mod security_headers;
pub mod self_test;
pub mod sending;
pub mod serve;
pub mod smtp;
pub mod store;
pub mod telemetry;
pub mod tenants;
pub mod tracking;
