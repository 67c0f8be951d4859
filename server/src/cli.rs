//! The command line: `sealpost serve` and the tools that sit beside it.
//!
//! Exit status: 0 success; 1 the command failed (the reason is on standard error); 2 the command
//! line itself was wrong (from `clap`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::{envelope_cmd, serve, telemetry};

/// Sealpost: encrypted mail for recipients outside your organisation.
#[derive(Debug, Parser)]
#[command(name = "sealpost", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: the portal and the API.
    Serve {
        /// Configuration file (TOML). Environment variables `SEALPOST_*` override it.
        #[arg(long, env = "SEALPOST_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Raw Cobblestone-256 on stdin/stdout, for interop checks and debugging.
    #[command(subcommand)]
    Envelope(EnvelopeCommand),
}

/// `sealpost envelope ...`
#[derive(Debug, Subcommand)]
pub enum EnvelopeCommand {
    /// Encrypt standard input to standard output.
    Seal {
        /// The 32-byte input key, as 64 hex digits.
        #[arg(long)]
        key_hex: String,
        /// The context, as hex (may be empty).
        #[arg(long, default_value = "")]
        context_hex: String,
    },
    /// Decrypt standard input to standard output; exits 1 with the error class if it is invalid.
    Open {
        /// The 32-byte input key, as 64 hex digits.
        #[arg(long)]
        key_hex: String,
        /// The context, as hex (may be empty).
        #[arg(long, default_value = "")]
        context_hex: String,
    },
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("sealpost: {message}");
    ExitCode::from(1)
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Serve { config } => {
            let config = match Config::load(config.as_deref()) {
                Ok(c) => c,
                Err(e) => return fail(e),
            };
            telemetry::init(&config);
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(r) => r,
                Err(e) => return fail(format!("cannot start the runtime: {e}")),
            };
            match runtime.block_on(serve::serve(config)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(format!("{e:#}")),
            }
        }
        Command::Envelope(cmd) => {
            let stdin = std::io::stdin().lock();
            let stdout = std::io::stdout().lock();
            let result = match cmd {
                EnvelopeCommand::Seal {
                    key_hex,
                    context_hex,
                } => envelope_cmd::seal(&key_hex, &context_hex, stdin, stdout),
                EnvelopeCommand::Open {
                    key_hex,
                    context_hex,
                } => envelope_cmd::open(&key_hex, &context_hex, stdin, stdout),
            };
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(e),
            }
        }
    }
}
