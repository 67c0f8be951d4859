//! Server integration tests: one binary, one module per area.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic: that is how they fail

mod helpers;

mod hsm;

mod abuse;
mod admin;
mod answers;
mod blobs_s3;
mod cli;
mod clock_ahead;
mod contract;
mod dkim;
mod dns;
mod domains;
mod envelope_cli;
mod http;
mod http_limits;
mod key_policies;
mod key_policies_cli;
mod key_policies_recovery;
mod key_policies_roll_back;
mod mail_flow;
mod messages;
mod mime;
mod notice_language;
mod openapi;
mod operations;
mod outbox;
mod outbox_processes;
mod portal_log;
mod process;
mod processes;
mod queue_leases;
mod recipient;
mod release;
mod release_durability;
mod reply_uploads;
mod schema_parity;
mod sender;
mod shared_state;
mod sign_in_choices;
mod smtp;
mod smtp_limits;
mod smtp_loops;
mod smtp_proxy;
mod smtp_relayed;
mod smtp_smuggling;
mod two_nodes;
mod uploads;
