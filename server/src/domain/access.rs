//! Whether a message can still be opened: revocation and expiry.
//!
//! Times are Unix seconds (UTC). Revocation wins over expiry when both apply, so the status says
//! who removed access rather than merely that time ran out.

use super::ValidationError;
use super::branding::MAX_EXPIRY_DAYS;

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// Who removed access, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// When (Unix seconds).
    pub at: i64,
    /// Who: an admin token's label or a sender's address.
    pub by: String,
}

/// The state of a message, or of one recipient's access to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageState {
    /// Recipients may open it.
    Active,
    /// Access was removed.
    Revoked(Revocation),
    /// Access ended at `at`.
    Expired {
        /// When it expired.
        at: i64,
    },
}

/// The state at `now` of a message revoked or not, expiring or not.
pub fn message_state(
    revoked: Option<&Revocation>,
    expires_at: Option<i64>,
    now: i64,
) -> MessageState {
    if let Some(r) = revoked {
        return MessageState::Revoked(r.clone());
    }
    match expires_at {
        Some(at) if now >= at => MessageState::Expired { at },
        _ => MessageState::Active,
    }
}

/// The expiry time of a message sent at `sent_at`: the per-message days if given, else the
/// branding template's; 0 days means never.
pub fn expiry(
    sent_at: i64,
    per_message_days: Option<u32>,
    template_days: Option<u32>,
) -> Result<Option<i64>, ValidationError> {
    if let Some(days) = per_message_days
        && days > MAX_EXPIRY_DAYS
    {
        return Err(ValidationError::new(
            "expires_in_days",
            "expiry_out_of_range",
            format!("The expiry must be between 0 and {MAX_EXPIRY_DAYS} days (0 = never)."),
        ));
    }
    let days = per_message_days.or(template_days).unwrap_or(0);
    Ok((days > 0).then(|| sent_at + i64::from(days) * DAY))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_message_expiry_overrides_the_template_and_zero_means_never() {
        assert_eq!(expiry(1000, None, None).unwrap(), None);
        assert_eq!(expiry(1000, None, Some(2)).unwrap(), Some(1000 + 2 * DAY));
        assert_eq!(expiry(1000, Some(1), Some(30)).unwrap(), Some(1000 + DAY));
        assert_eq!(expiry(1000, Some(0), Some(30)).unwrap(), None);
        assert_eq!(expiry(0, Some(730), None).unwrap(), Some(730 * DAY));
        assert_eq!(
            expiry(0, Some(731), None).unwrap_err().code,
            "expiry_out_of_range"
        );
    }

    #[test]
    fn revocation_wins_over_expiry_and_expiry_starts_at_its_second() {
        let r = Revocation {
            at: 5,
            by: "admin".into(),
        };
        assert_eq!(
            message_state(Some(&r), Some(1), 10),
            MessageState::Revoked(r)
        );
        assert_eq!(message_state(None, Some(10), 9), MessageState::Active);
        assert_eq!(
            message_state(None, Some(10), 10),
            MessageState::Expired { at: 10 }
        );
        assert_eq!(message_state(None, None, i64::MAX), MessageState::Active);
    }
}
