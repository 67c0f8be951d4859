//! Sealpost server library: configuration, the HTTP application, the SMTP smart host and the
//! command-line tools.
//!
//! `main.rs` only parses arguments; everything it runs lives here so tests can drive it without a
//! process or a socket (`http::router` with `tower::ServiceExt::oneshot`).
//!
//! Layers, and the one way dependencies point (`scripts/check-layers` enforces it):
//! `http`, `smtp`, `cli` (adapters) → `services` (one operation each) → `state` → `store`, `mail`,
//! `keys` (I/O) → `domain` (pure rules). `config`, `clock`, `secrets`, `metrics` and `telemetry`
//! are leaves any layer may use.

pub mod cli;
pub mod clock;
pub mod config;
pub mod connections;
pub mod dns;
pub mod domain;
pub mod http;
pub mod identity;
pub mod keys;
pub mod mail;
pub mod metrics;
pub mod secrets;
pub mod services;
pub mod smtp;
pub mod state;
pub mod store;
pub mod telemetry;
