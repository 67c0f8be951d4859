//! What Sealpost does, one operation per module, over the state's store, mailer and keys. Services
//! never see HTTP or SMTP: the adapters (`http`, `smtp`, `cli`) call them and translate what they
//! answer.

pub mod dkim;
pub mod domains;
pub mod error;
pub mod key_policies;
pub mod limits;
pub mod mail_flow;
pub mod outbox;
pub mod passcodes;
pub mod passkeys;
pub mod recipient_sessions;
pub mod replies;
pub mod revoking;
pub mod rights;
#[cfg(test)]
mod rules_agreement;
pub mod sealing;
pub mod self_test;
pub mod sending;
pub mod social;
pub mod tenants;
pub mod tracking;
pub mod uploads;
