//! The `sealpost` binary: parse the command line and hand over to the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    sealpost::cli::run(sealpost::cli::Cli::parse())
}
