//! The pages where reading stops, each with the stable error code behind it.

use sealpost_api::ErrorCode;
use sealpost_api::recipient::AccessState;

/// Why the message is not (or no longer) on the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The sender or an admin revoked the message for everyone (`message_revoked`).
    Revoked,
    /// This recipient's access was removed (`access_revoked`).
    AccessRevoked,
    /// The sender's organisation purged the message's keys (`message_purged`).
    Purged,
    /// Access ended at `at` (RFC 3339), if known (`message_expired`).
    Expired { at: Option<String> },
    /// No such link or message (`link_not_found`, `not_found`).
    NotFound,
    /// The recipient signed out (`signed_out`).
    SignedOut,
    /// The session ended by time or on the server (`session_required`, `session_expired`).
    SessionEnded { code: String },
    /// The key was not released or did not open the message (`not_allowed`, `key_unavailable`,
    /// `decryption_failed`, …).
    KeyRefused { code: String },
    /// Anything else, such as the network (`network`).
    Failed { code: String, message: String },
}

impl Stop {
    /// The page for a refusal the server answered with `code`.
    pub fn from_refusal(code: &str, message: &str, expires_at: Option<&str>) -> Stop {
        match ErrorCode::parse(code) {
            Some(ErrorCode::MessageRevoked) => Stop::Revoked,
            Some(ErrorCode::AccessRevoked) => Stop::AccessRevoked,
            Some(ErrorCode::MessagePurged) => Stop::Purged,
            Some(ErrorCode::MessageExpired) => Stop::Expired {
                at: expires_at.map(str::to_owned),
            },
            Some(ErrorCode::LinkNotFound | ErrorCode::NotFound) => Stop::NotFound,
            Some(ErrorCode::SessionRequired | ErrorCode::SessionExpired) => {
                Stop::SessionEnded { code: code.into() }
            }
            Some(
                ErrorCode::NotAllowed
                | ErrorCode::KeyUnavailable
                | ErrorCode::InvalidPublicKey
                | ErrorCode::DecryptionFailed,
            ) => Stop::KeyRefused { code: code.into() },
            _ => Stop::Failed {
                code: code.into(),
                message: message.into(),
            },
        }
    }

    /// The page for an access check's answer, or `None` while the message is readable.
    pub fn from_access(state: AccessState, expires_at: Option<&str>) -> Option<Stop> {
        match state {
            AccessState::Active => None,
            AccessState::Revoked => Some(Stop::Revoked),
            AccessState::AccessRemoved => Some(Stop::AccessRevoked),
            AccessState::Expired => Some(Stop::Expired {
                at: expires_at.map(str::to_owned),
            }),
        }
    }

    /// The stable code shown on the page.
    pub fn code(&self) -> &str {
        match self {
            Stop::Revoked => ErrorCode::MessageRevoked.as_str(),
            Stop::AccessRevoked => ErrorCode::AccessRevoked.as_str(),
            Stop::Purged => ErrorCode::MessagePurged.as_str(),
            Stop::Expired { .. } => ErrorCode::MessageExpired.as_str(),
            Stop::NotFound => ErrorCode::LinkNotFound.as_str(),
            Stop::SignedOut => "signed_out",
            Stop::SessionEnded { code } | Stop::KeyRefused { code } | Stop::Failed { code, .. } => {
                code
            }
        }
    }

    /// Whether signing in again could help (so the page offers it).
    pub fn can_sign_in_again(&self) -> bool {
        matches!(self, Stop::SignedOut | Stop::SessionEnded { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_has_its_page_and_keeps_its_code() {
        for (code, page) in [
            ("message_revoked", Stop::Revoked),
            ("access_revoked", Stop::AccessRevoked),
            ("message_purged", Stop::Purged),
            (
                "message_expired",
                Stop::Expired {
                    at: Some("2026-12-01T00:00:00Z".into()),
                },
            ),
            ("link_not_found", Stop::NotFound),
            (
                "session_expired",
                Stop::SessionEnded {
                    code: "session_expired".into(),
                },
            ),
            (
                "key_unavailable",
                Stop::KeyRefused {
                    code: "key_unavailable".into(),
                },
            ),
            (
                "network",
                Stop::Failed {
                    code: "network".into(),
                    message: "m".into(),
                },
            ),
        ] {
            let got = Stop::from_refusal(code, "m", Some("2026-12-01T00:00:00Z"));
            assert_eq!(got, page);
            assert_eq!(got.code(), code);
        }
        assert_eq!(
            Stop::from_refusal("not_found", "", None).code(),
            "link_not_found"
        );
    }

    #[test]
    fn the_access_check_stops_reading_on_anything_but_active() {
        assert_eq!(Stop::from_access(AccessState::Active, None), None);
        assert_eq!(
            Stop::from_access(AccessState::Revoked, None),
            Some(Stop::Revoked)
        );
        assert_eq!(
            Stop::from_access(AccessState::AccessRemoved, None),
            Some(Stop::AccessRevoked)
        );
        assert_eq!(
            Stop::from_access(AccessState::Expired, Some("x")),
            Some(Stop::Expired {
                at: Some("x".into())
            })
        );
        assert!(Stop::SignedOut.can_sign_in_again());
        assert!(!Stop::Revoked.can_sign_in_again());
    }
}
