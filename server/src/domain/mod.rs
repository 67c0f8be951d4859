//! Pure rules: validated values, branding and rights templates, message state and expiry,
//! passcodes, sessions, key release, the portal log's chain, mail flow rules and client networks.
//!
//! Nothing here does I/O; `store`, `mail` and `keys` do, and `routes` wires them together. That
//! keeps every rule testable with plain unit tests.

pub mod access;
pub mod address;
pub mod branding;
pub mod composed;
pub mod delivery;
pub mod mail_rules;
pub mod networks;
pub mod passcode;
pub mod portal_log;
pub mod release;
pub mod rights;
pub mod session;
pub mod validation;

pub use validation::ValidationError;
