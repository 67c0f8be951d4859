//! Structured logs with `tracing`, to standard error, as pretty lines or JSON.
//!
//! What is logged is decided where it is logged; the rule everywhere is: never a key, a passcode, a
//! link token, a session id or message plaintext.

use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat};

/// Install the global subscriber. Safe to call once per process; later calls are ignored.
pub fn init(config: &Config) {
    let filter = EnvFilter::try_new(&config.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match config.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}
