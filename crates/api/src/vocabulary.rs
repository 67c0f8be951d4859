//! The words the portal, the server and the CLI share beyond field names: usage rights, and the
//! refusal codes a program acts on. Written once here so no side retypes them as strings.

use std::fmt;

/// One usage right of a rights template. On the wire, a rights template lists them by name
/// ([`Right::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Right {
    /// Read the message (without it, nothing is released).
    View,
    /// Reply to the sender.
    Reply,
    /// Reply to the sender and every recipient.
    ReplyAll,
    /// Forward to someone new.
    Forward,
    /// Print (enforced in the portal's interface only).
    Print,
    /// Copy text (enforced in the portal's interface only).
    Copy,
    /// Save attachments unprotected.
    Download,
}

impl Right {
    /// Every right, in display order.
    pub const ALL: [Right; 7] = [
        Right::View,
        Right::Reply,
        Right::ReplyAll,
        Right::Forward,
        Right::Print,
        Right::Copy,
        Right::Download,
    ];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Right::View => "view",
            Right::Reply => "reply",
            Right::ReplyAll => "reply_all",
            Right::Forward => "forward",
            Right::Print => "print",
            Right::Copy => "copy",
            Right::Download => "download",
        }
    }

    /// A right from its wire name.
    pub fn parse(name: &str) -> Option<Right> {
        Right::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl fmt::Display for Right {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The refusal codes ([`crate::ErrorBody::code`]) the portal chooses its pages and prompts by.
/// The server sends others too (validation codes, admin refusals); those are for people and
/// generic clients, and are listed in the OpenAPI document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// Nothing at this address.
    NotFound,
    /// The link's token names no recipient of this message.
    LinkNotFound,
    /// No session for this message.
    SessionRequired,
    /// The session ended (idle or absolute limit, or signed out elsewhere).
    SessionExpired,
    /// The passcode does not sign in (wrong, old, used, or used up).
    PasscodeInvalid,
    /// The hourly passcode limit is reached.
    TooManyPasscodes,
    /// Too many passcode tries from this client or on this link; wait and try again.
    TooManyAttempts,
    /// The sender's organisation turned passcode sign-in off for this message (`OTPEnabled`).
    PasscodesDisabled,
    /// The sender or an admin revoked the message for everyone.
    MessageRevoked,
    /// This recipient's access was removed.
    AccessRevoked,
    /// External access has ended.
    MessageExpired,
    /// The sender's organisation purged the message's keys.
    MessagePurged,
    /// The rights do not allow it.
    NotAllowed,
    /// The tenant's key cannot be reached now.
    KeyUnavailable,
    /// The page's public key is not an X25519 key.
    InvalidPublicKey,
    /// What arrived does not open (the portal's own code: the server never sends it).
    DecryptionFailed,
    /// The message's branding template does not offer that identity provider (`SocialIdSignIn`), or the server has no such provider.
    SocialSignInUnavailable,
    /// A social or passkey sign-in's state is unknown, used already, too old, or from another browser: start again.
    SignInExpired,
    /// The identity provider's verified address is not the one the message was sent to.
    IdentityMismatch,
    /// The identity provider does not vouch for the account's address (`email_verified` is not true).
    EmailUnverified,
    /// The identity provider could not be reached, refused, or sent something that does not verify.
    ProviderFailed,
    /// The passkey's answer does not verify, or names no passkey of this address.
    PasskeyInvalid,
    /// The address has as many passkeys with this organisation as it may; remove one first.
    TooManyPasskeys,
    /// A passkey can be made only soon after signing in; sign in again first.
    RecentSignInRequired,
}

impl ErrorCode {
    /// Every code.
    pub const ALL: [ErrorCode; 24] = [
        ErrorCode::NotFound,
        ErrorCode::LinkNotFound,
        ErrorCode::SessionRequired,
        ErrorCode::SessionExpired,
        ErrorCode::PasscodeInvalid,
        ErrorCode::TooManyPasscodes,
        ErrorCode::TooManyAttempts,
        ErrorCode::PasscodesDisabled,
        ErrorCode::MessageRevoked,
        ErrorCode::AccessRevoked,
        ErrorCode::MessageExpired,
        ErrorCode::MessagePurged,
        ErrorCode::NotAllowed,
        ErrorCode::KeyUnavailable,
        ErrorCode::InvalidPublicKey,
        ErrorCode::DecryptionFailed,
        ErrorCode::SocialSignInUnavailable,
        ErrorCode::SignInExpired,
        ErrorCode::IdentityMismatch,
        ErrorCode::EmailUnverified,
        ErrorCode::ProviderFailed,
        ErrorCode::PasskeyInvalid,
        ErrorCode::TooManyPasskeys,
        ErrorCode::RecentSignInRequired,
    ];

    /// The code on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "not_found",
            ErrorCode::LinkNotFound => "link_not_found",
            ErrorCode::SessionRequired => "session_required",
            ErrorCode::SessionExpired => "session_expired",
            ErrorCode::PasscodeInvalid => "passcode_invalid",
            ErrorCode::TooManyPasscodes => "too_many_passcodes",
            ErrorCode::TooManyAttempts => "too_many_attempts",
            ErrorCode::PasscodesDisabled => "passcodes_disabled",
            ErrorCode::MessageRevoked => "message_revoked",
            ErrorCode::AccessRevoked => "access_revoked",
            ErrorCode::MessageExpired => "message_expired",
            ErrorCode::MessagePurged => "message_purged",
            ErrorCode::NotAllowed => "not_allowed",
            ErrorCode::KeyUnavailable => "key_unavailable",
            ErrorCode::InvalidPublicKey => "invalid_public_key",
            ErrorCode::DecryptionFailed => "decryption_failed",
            ErrorCode::SocialSignInUnavailable => "social_sign_in_unavailable",
            ErrorCode::SignInExpired => "sign_in_expired",
            ErrorCode::IdentityMismatch => "identity_mismatch",
            ErrorCode::EmailUnverified => "email_unverified",
            ErrorCode::ProviderFailed => "provider_failed",
            ErrorCode::PasskeyInvalid => "passkey_invalid",
            ErrorCode::TooManyPasskeys => "too_many_passkeys",
            ErrorCode::RecentSignInRequired => "recent_sign_in_required",
        }
    }

    /// A code from the wire, if it is one of these.
    pub fn parse(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == code)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_right_and_code_parses_back_from_its_wire_name() {
        for r in Right::ALL {
            assert_eq!(Right::parse(r.as_str()), Some(r));
        }
        for c in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(c.as_str()), Some(c));
        }
        assert_eq!(Right::parse("View"), None);
        assert_eq!(ErrorCode::parse("otp_invalid"), None);
    }
}
