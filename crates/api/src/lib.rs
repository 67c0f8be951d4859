//! Wire types shared by the portal (compiled to WASM) and the server.
//!
//! Everything that crosses HTTP between the two is declared here once, so the browser and the
//! server cannot disagree about a field name. This crate depends on no other crate of ours and does
//! no I/O. Types are named for what they are on the wire: `*Request`, `*Response`, `*View`, and
//! [`ErrorBody`] for every refusal.

use serde::{Deserialize, Serialize};

pub mod admin;
pub mod key_policies;
pub mod mail_flow;
pub mod recipient;
pub mod rules;
pub mod sender;
pub mod vocabulary;

pub use vocabulary::{ErrorCode, Right};

/// The body of every refusal the server sends.
///
/// `code` is stable and meant for programs (the portal chooses its page by it); `message` is one
/// sentence a person understands. Neither ever carries a secret or internal detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ErrorBody {
    /// A stable, lower-case, snake_case code such as `not_found` or `otp_invalid`.
    pub code: String,
    /// A sentence for a person.
    pub message: String,
    /// For a refused field in a request: its name, e.g. `background_color`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// `GET /healthz`: the server is up and can reach what it needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct HealthResponse {
    /// `"ok"` when healthy.
    pub status: String,
    /// The server's version (the crate version of the `sealpost` binary).
    pub version: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_round_trips_with_stable_field_names() {
        let body = ErrorBody {
            code: "not_found".into(),
            message: "There is nothing here.".into(),
            field: None,
        };
        let json = serde_json::to_string(&body).unwrap();
        assert_eq!(
            json,
            r#"{"code":"not_found","message":"There is nothing here."}"#
        );
        assert_eq!(serde_json::from_str::<ErrorBody>(&json).unwrap(), body);
    }
}
