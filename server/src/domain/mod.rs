//! Pure rules: validated values, branding and rights templates, message state and expiry.
//!
//! Nothing here does I/O; `store`, `mail` and `keys` do, and `routes` wires them together. That
//! keeps every rule testable with plain unit tests.

pub mod access;
pub mod address;
pub mod branding;
pub mod composed;
pub mod rights;
pub mod validation;

pub use validation::ValidationError;
