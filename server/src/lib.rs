//! Sealpost server library: configuration, the HTTP application, and the command-line tools.
//!
//! `main.rs` only parses arguments; everything it runs lives here so tests can drive it without a
//! process or a socket (`app::router` with `tower::ServiceExt::oneshot`).

pub mod app;
pub mod cli;
pub mod config;
pub mod envelope_cmd;
pub mod error;
pub mod routes;
pub mod security_headers;
pub mod serve;
pub mod telemetry;
