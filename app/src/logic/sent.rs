//! The sender's page (`/sent`), decided without the browser: what state a sent message is in, which
//! "Remove external access" buttons it offers, and which refusals send the sender back to sign in.

use sealpost_api::ErrorCode;
use sealpost_api::admin::{MessageStatusView, RecipientStatusView, RevocationView};

/// Where a sent message stands for its recipients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SentState<'a> {
    /// Access was removed for everyone.
    Revoked(&'a RevocationView),
    /// Access ended with the message's expiry.
    Expired,
    /// Recipients can read it.
    Active,
}

impl<'a> SentState<'a> {
    /// The state of `m`; a revocation wins over an expiry, which it may have come before.
    pub fn of(m: &'a MessageStatusView) -> SentState<'a> {
        match (&m.revocation, m.expired) {
            (Some(r), _) => SentState::Revoked(r),
            (None, true) => SentState::Expired,
            (None, false) => SentState::Active,
        }
    }
}

/// Whether access to `m` can still be removed (for everyone or for one recipient): the server says
/// it is revocable, and it has not expired already.
pub fn can_remove(m: &MessageStatusView) -> bool {
    m.is_revocable && !m.expired
}

/// Whether one recipient's access can be removed: the message's can, and theirs is not gone yet.
pub fn can_remove_one(m: &MessageStatusView, r: &RecipientStatusView) -> bool {
    can_remove(m) && r.revoked.is_none()
}

/// Whether a refusal means the sender is no longer signed in, so the page asks for the address again.
pub fn signed_out_by(code: &str) -> bool {
    matches!(
        ErrorCode::parse(code),
        Some(ErrorCode::SessionRequired | ErrorCode::SessionExpired)
    )
}

#[cfg(test)]
mod tests {
    use sealpost_api::admin::NoticeView;

    use super::*;

    fn message() -> MessageStatusView {
        MessageStatusView {
            message_id: "m1".into(),
            subject: "Q4".into(),
            sender: "anna@contoso.example".into(),
            sent_at: "2026-11-21T10:00:00Z".into(),
            is_revocable: true,
            revoked: false,
            revocation: None,
            expires_at: None,
            expired: false,
            branding_template: "default".into(),
            rights_template: "Encrypt".into(),
            rights: vec!["view".into()],
            recipients: vec![recipient(None)],
            data_encryption_policy: None,
            purged: false,
        }
    }

    fn recipient(revoked: Option<RevocationView>) -> RecipientStatusView {
        RecipientStatusView {
            address: "bob@example.net".into(),
            kind: "to".into(),
            notice: NoticeView::Sent {
                at: "2026-11-21T10:00:01Z".into(),
            },
            opened_at: None,
            revoked,
        }
    }

    fn by_admin() -> RevocationView {
        RevocationView {
            at: "2026-11-21T11:00:00Z".into(),
            by: "admin".into(),
        }
    }

    #[test]
    fn a_revocation_wins_over_an_expiry_and_an_active_message_is_active() {
        let mut m = message();
        assert_eq!(SentState::of(&m), SentState::Active);
        m.expired = true;
        assert_eq!(SentState::of(&m), SentState::Expired);
        m.revocation = Some(by_admin());
        assert_eq!(SentState::of(&m), SentState::Revoked(&by_admin()));
    }

    #[test]
    fn access_is_removable_only_while_revocable_and_unexpired_and_once_per_recipient() {
        let mut m = message();
        let r = recipient(None);
        assert!(can_remove(&m) && can_remove_one(&m, &r));
        assert!(!can_remove_one(&m, &recipient(Some(by_admin()))));
        m.expired = true;
        assert!(!can_remove(&m) && !can_remove_one(&m, &r));
        m.expired = false;
        m.is_revocable = false;
        assert!(!can_remove(&m) && !can_remove_one(&m, &r));
    }

    #[test]
    fn only_an_ended_session_sends_the_sender_back_to_sign_in() {
        assert!(signed_out_by("session_required"));
        assert!(signed_out_by("session_expired"));
        for other in ["passcode_invalid", "not_found", "internal", ""] {
            assert!(!signed_out_by(other), "{other}");
        }
    }
}
