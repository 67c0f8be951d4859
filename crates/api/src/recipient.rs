//! The recipient API (`/api/m/{message}/*`): passcode sign-in, the session, key release, sealed
//! parts, the access check an open page polls, and reply / reply-all / forward.
//!
//! Every state-changing request (`POST`, `DELETE`) must carry the header [`CSRF_HEADER`] with the
//! value `1`; the session travels in an HttpOnly cookie the page cannot read. Binary values are
//! base64url without padding.

use serde::{Deserialize, Serialize};

use crate::admin::{AttachmentRequest, LocalizedText};

/// The header every state-changing recipient request must carry (a cross-site form cannot set it).
pub const CSRF_HEADER: &str = "x-sealpost-request";

/// `POST /api/m/{message}/link`: what the page shows before sign-in, for the link token from the
/// notice. (`GET /api/m/{message}/link` answers the same to a signed-in page.)
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    /// The link token from the notice's "Read the message" link.
    pub token: String,
}

/// The tenant's branding as the portal shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalBranding {
    /// The tenant's display name.
    pub tenant_name: String,
    /// The logo as a `data:` URL (PNG or JPEG), if the template has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<String>,
    /// The brand colour, `#rrggbb` or a CSS colour name.
    pub background_color: String,
    /// The text colour that reads on it (WCAG AA where possible), `#rrggbb`.
    pub text_color: String,
    /// OME PortalText: shown on the sign-in page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portal_text: Option<LocalizedText>,
    /// OME IntroductionText.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduction_text: Option<LocalizedText>,
    /// OME DisclaimerText: at the foot of every page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disclaimer_text: Option<LocalizedText>,
    /// The tenant's privacy statement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy_statement_url: Option<String>,
}

/// The answer to [`LinkRequest`]: who sent the message, to which (masked) address the passcode
/// will go, whether it can still be read, and the branding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkView {
    /// The message.
    pub message_id: String,
    /// The sender's address.
    pub sender: String,
    /// The recipient's address, masked (`y•••@example.net`): where the passcode goes.
    pub recipient_hint: String,
    /// Whether the message can be read now.
    pub state: AccessState,
    /// When access ends (RFC 3339), if it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// The branding.
    pub branding: PortalBranding,
    /// Whether the recipient may sign in with an emailed passcode (the branding template's
    /// `OTPEnabled`). When not, the page says so instead of offering to send one.
    #[serde(default = "yes")]
    pub passcode_sign_in: bool,
    /// The identity providers the recipient may sign in with instead (the branding template's
    /// `SocialIdSignIn`, and the providers the server is configured with). Empty: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub social_providers: Vec<SocialProvider>,
    /// Whether the recipient has a passkey for this address with the sender's organisation, so
    /// the page offers to sign in with it (only in the answer to a link token).
    #[serde(default)]
    pub passkey_sign_in: bool,
}

/// An identity provider the recipient may sign in with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocialProvider {
    /// Its id, as in `POST /api/m/{message}/social/{provider}`.
    pub id: String,
    /// Its name for the button, "Sign in with {name}".
    pub name: String,
}

/// `POST /api/m/{message}/social/{provider}`: begin signing in with an identity provider. The
/// answer sets a short-lived cookie that binds the sign-in to this browser; the page then goes to
/// the provider, which sends the browser back to `/api/sign-in/callback`, which signs in and
/// returns to `/m/{message}` (or, refused, to `/m/{message}?sign_in_error={code}`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SocialSignInRequest {
    /// The link token from the notice.
    pub token: String,
    /// Keep the session across browser restarts (up to the absolute limit).
    #[serde(default)]
    pub keep_signed_in: bool,
}

impl std::fmt::Debug for SocialSignInRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocialSignInRequest")
            .field("keep_signed_in", &self.keep_signed_in)
            .finish_non_exhaustive()
    }
}

/// Where to send the browser to sign in with the provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocialSignInStart {
    /// The provider's authorization URL (with state, nonce and PKCE challenge).
    pub authorize_url: String,
}

/// The first half of a passkey ceremony: a single-use challenge, valid for five minutes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasskeyChallenge {
    /// The ceremony's id, sent back with the credential.
    pub challenge: String,
    /// The options in WebAuthn's JSON form (`{"publicKey": …}`), for
    /// `PublicKeyCredential.parseCreationOptionsFromJSON` or `…parseRequestOptionsFromJSON`.
    pub options: serde_json::Value,
}

/// `POST /api/m/{message}/passkeys`: keep the passkey this device just made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPasskeyRequest {
    /// The ceremony's id from [`PasskeyChallenge`].
    pub challenge: String,
    /// The credential, as the browser's `PublicKeyCredential.toJSON()` gives it.
    pub credential: serde_json::Value,
    /// What to call it (the browser and system it was made on); at most 64 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `POST /api/m/{message}/passkey-sign-in/challenge`: begin signing in with a passkey.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasskeyChallengeRequest {
    /// The link token from the notice.
    pub token: String,
}

impl std::fmt::Debug for PasskeyChallengeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasskeyChallengeRequest")
            .finish_non_exhaustive()
    }
}

/// `POST /api/m/{message}/passkey-sign-in`: sign in with the passkey's answer to the challenge.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasskeySignInRequest {
    /// The link token from the notice.
    pub token: String,
    /// The ceremony's id from [`PasskeyChallenge`].
    pub challenge: String,
    /// The assertion, as the browser's `PublicKeyCredential.toJSON()` gives it.
    pub credential: serde_json::Value,
    /// Keep the session across browser restarts (up to the absolute limit).
    #[serde(default)]
    pub keep_signed_in: bool,
}

impl std::fmt::Debug for PasskeySignInRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasskeySignInRequest")
            .field("keep_signed_in", &self.keep_signed_in)
            .finish_non_exhaustive()
    }
}

/// One of the recipient's passkeys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyView {
    /// Its id.
    pub id: String,
    /// What it is called.
    pub name: String,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// When it last signed in (RFC 3339), if it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
}

/// `GET /api/m/{message}/passkeys`: the signed-in recipient's passkeys with the sender's
/// organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeysView {
    pub passkeys: Vec<PasskeyView>,
}

fn yes() -> bool {
    true
}

/// `POST /api/m/{message}/passcode`: email a passcode to the address the link was sent to.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasscodeRequest {
    /// The link token from the notice's "Read the message" link.
    pub token: String,
}

/// The answer to a passcode request. It is the same whether or not the link is real, so it says
/// "if": the page shows the reference word, and the email carries the same word.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasscodeResponse {
    /// A short word the email repeats, so the recipient can tell our email from a look-alike.
    pub reference: String,
    /// How long the code is valid.
    pub expires_in_seconds: u32,
    /// A sentence for the recipient.
    pub message: String,
}

/// `POST /api/m/{message}/session`: sign in with the emailed passcode.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    /// The link token.
    pub token: String,
    /// The 8-digit passcode from the email (spaces are ignored).
    pub passcode: String,
    /// "Keep me signed in on this private computer": 12 hours idle instead of 30 minutes.
    #[serde(default)]
    pub keep_signed_in: bool,
}

impl core::fmt::Debug for LinkRequest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LinkRequest")
            .field("token", &"[redacted]")
            .finish()
    }
}

impl core::fmt::Debug for PasscodeRequest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PasscodeRequest")
            .field("token", &"[redacted]")
            .finish()
    }
}

impl core::fmt::Debug for SignInRequest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SignInRequest")
            .field("token", &"[redacted]")
            .field("passcode", &"[redacted]")
            .field("keep_signed_in", &self.keep_signed_in)
            .finish()
    }
}

/// `GET /api/m/{message}/session` and the answer to signing in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// The message this session opens.
    pub message_id: String,
    /// The recipient signed in.
    pub recipient: String,
    /// A public per-session value bound into every key release (not the session secret).
    pub binding: String,
    /// What the recipient may do: `view`, `reply`, `reply_all`, `forward`, `print`, `copy`,
    /// `download`.
    pub rights: Vec<String>,
    /// When the session ends at the latest if it stays in use.
    pub expires_at: String,
    /// Inactivity after which the session ends.
    pub idle_timeout_seconds: u32,
    /// Whether "keep me signed in" was chosen.
    pub keep_signed_in: bool,
}

/// `POST /api/m/{message}/key`: release the message key to this page's fresh X25519 key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRequest {
    /// The page's X25519 public key (32 bytes, base64url).
    pub public_key: String,
}

/// The released key: HPKE-sealed to the page's key, bound to message, recipient and session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyResponse {
    /// The sealed release (81 bytes, base64url).
    pub release: String,
    /// The recipient, as bound into the release.
    pub recipient: String,
    /// The session binding, as bound into the release.
    pub binding: String,
    /// What the recipient may do.
    pub rights: Vec<String>,
    /// How long the page may keep the key before it must ask again.
    pub lease_seconds: u32,
}

/// Whether the message can still be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessState {
    /// It can.
    Active,
    /// The sender or an admin removed access for everyone.
    Revoked,
    /// The sender or an admin removed this recipient's access; others may still read it.
    AccessRemoved,
    /// Its expiry passed.
    Expired,
}

/// `GET /api/m/{message}/access`: what an open page polls. On anything but `active` the page wipes
/// the key and what it decrypted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessView {
    /// The state now.
    pub state: AccessState,
    /// Ask again after this many seconds.
    pub check_again_seconds: u32,
}

/// `POST /api/m/{message}/reply` and `/reply-all`: a protected answer to the sender (and, for
/// reply-all, everyone else the message was sent to).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyRequest {
    /// Plain text.
    pub text: String,
    /// HTML, if the page composed some.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// Attachments small enough to travel in this request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentRequest>,
    /// A reply draft (`POST /api/m/{message}/drafts`) whose uploaded attachments come first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft: Option<String>,
}

/// `POST /api/m/{message}/forward`: send the message on, protected, to new recipients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardRequest {
    /// New recipients.
    pub to: Vec<String>,
    /// A note placed above the forwarded message.
    #[serde(default)]
    pub text: String,
}

/// A reply or forward that was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentView {
    /// The new message.
    pub message_id: String,
    /// Who it went to.
    pub recipients: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_requests_never_print() {
        let r = SignInRequest {
            token: "spl_secret".into(),
            passcode: "12345678".into(),
            keep_signed_in: true,
        };
        let shown = format!(
            "{r:?} {:?} {:?}",
            PasscodeRequest {
                token: "spl_secret".into()
            },
            LinkRequest {
                token: "spl_secret".into()
            }
        );
        assert!(
            !shown.contains("spl_secret") && !shown.contains("12345678"),
            "{shown}"
        );
    }
}
