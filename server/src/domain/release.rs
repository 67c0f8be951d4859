//! When the server releases a message key to a signed-in recipient's page: only if every rule
//! holds. The rules are checked in a fixed order so the refusal names the first that failed.

use super::access::{MessageState, Revocation, message_state};
use super::rights::{Right, Rights};
use sealpost_api::ErrorCode;

/// What the decision is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseFacts<'a> {
    /// A live session for this message and this recipient.
    pub session_valid: bool,
    /// The message's revocation, if any.
    pub message_revoked: Option<&'a Revocation>,
    /// This recipient's revocation, if any.
    pub recipient_revoked: Option<&'a Revocation>,
    /// When access ends.
    pub expires_at: Option<i64>,
    pub now: i64,
    /// The message's rights.
    pub rights: Rights,
}

/// Why a key (or a part, or an answer) is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No live session for this message and recipient.
    SessionRequired,
    /// The message was revoked for everyone.
    MessageRevoked,
    /// This recipient's access was removed.
    RecipientRevoked,
    /// The message expired.
    Expired,
    /// The rights do not include what was asked for.
    NotAllowed(Right),
    /// The tenant's key could not be unwrapped.
    KeyUnavailable,
    /// The message's data encryption policy was purged: its key no longer exists.
    Purged,
}

impl Refusal {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::SessionRequired => ErrorCode::SessionRequired,
            Refusal::MessageRevoked => ErrorCode::MessageRevoked,
            Refusal::RecipientRevoked => ErrorCode::AccessRevoked,
            Refusal::Expired => ErrorCode::MessageExpired,
            Refusal::NotAllowed(_) => ErrorCode::NotAllowed,
            Refusal::KeyUnavailable => ErrorCode::KeyUnavailable,
            Refusal::Purged => ErrorCode::MessagePurged,
        }
        .as_str()
    }
}

/// Whether the recipient may do `right` with the message now: the session, both revocations,
/// the expiry and the rights, in that order. The key's availability is checked by whoever unwraps
/// it ([`release`] takes it as a fact for the table tests).
pub fn check(f: &ReleaseFacts<'_>, right: Right) -> Result<(), Refusal> {
    if !f.session_valid {
        return Err(Refusal::SessionRequired);
    }
    if f.message_revoked.is_some() {
        return Err(Refusal::MessageRevoked);
    }
    if f.recipient_revoked.is_some() {
        return Err(Refusal::RecipientRevoked);
    }
    if let MessageState::Expired { .. } = message_state(None, f.expires_at, f.now) {
        return Err(Refusal::Expired);
    }
    if !f.rights.allows(right) {
        return Err(Refusal::NotAllowed(right));
    }
    Ok(())
}

/// The whole key-release rule: [`check`] for `view`, then the tenant key.
pub fn release(f: &ReleaseFacts<'_>, key_available: bool) -> Result<(), Refusal> {
    check(f, Right::View)?;
    if !key_available {
        return Err(Refusal::KeyUnavailable);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000_000;

    fn revocation() -> Revocation {
        Revocation {
            at: 1,
            by: "admin".into(),
        }
    }

    /// Every combination of the six conditions: the key is released iff all hold, and the refusal
    /// names the first that failed.
    #[test]
    fn the_key_is_released_if_and_only_if_every_condition_holds() {
        let r = revocation();
        for bits in 0u32..64 {
            let on = |i: u32| bits & (1 << i) != 0;
            let rights = if on(4) {
                Rights::from_stored("view")
            } else {
                Rights::from_stored("")
            };
            let f = ReleaseFacts {
                session_valid: on(0),
                message_revoked: (!on(1)).then_some(&r),
                recipient_revoked: (!on(2)).then_some(&r),
                expires_at: Some(if on(3) { NOW + 1 } else { NOW }),
                now: NOW,
                rights,
            };
            let got = release(&f, on(5));
            let expected = if !on(0) {
                Err(Refusal::SessionRequired)
            } else if !on(1) {
                Err(Refusal::MessageRevoked)
            } else if !on(2) {
                Err(Refusal::RecipientRevoked)
            } else if !on(3) {
                Err(Refusal::Expired)
            } else if !on(4) {
                Err(Refusal::NotAllowed(Right::View))
            } else if !on(5) {
                Err(Refusal::KeyUnavailable)
            } else {
                Ok(())
            };
            assert_eq!(got, expected, "conditions {bits:06b}");
        }
    }

    #[test]
    fn expiry_is_refused_from_its_exact_second_and_never_without_one() {
        let facts = |expires_at, now| ReleaseFacts {
            session_valid: true,
            message_revoked: None,
            recipient_revoked: None,
            expires_at,
            now,
            rights: Rights::from_stored("view"),
        };
        assert_eq!(release(&facts(Some(NOW), NOW - 1), true), Ok(()));
        assert_eq!(release(&facts(Some(NOW), NOW), true), Err(Refusal::Expired));
        assert_eq!(release(&facts(None, i64::MAX), true), Ok(()));
    }

    #[test]
    fn other_rights_are_checked_the_same_way() {
        let f = ReleaseFacts {
            session_valid: true,
            message_revoked: None,
            recipient_revoked: None,
            expires_at: None,
            now: NOW,
            rights: Rights::from_stored("view,reply"),
        };
        assert_eq!(check(&f, Right::Reply), Ok(()));
        assert_eq!(
            check(&f, Right::Forward),
            Err(Refusal::NotAllowed(Right::Forward))
        );
        assert_eq!(Refusal::NotAllowed(Right::Forward).code(), "not_allowed");
    }
}
