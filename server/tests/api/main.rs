//! Server integration tests: one binary, one module per area.

mod helpers;

mod envelope_cli;
mod http;
mod process;
