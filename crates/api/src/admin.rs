//! The tenant admin API (`/api/admin/*`): tenants, tokens, branding and rights templates, sending,
//! message status and revocation. Every request carries `Authorization: Bearer <admin token>`.
//!
//! Times are RFC 3339 strings in UTC. Names mirror Microsoft Purview Message Encryption where one
//! exists (`Get-OMEMessageStatus` → [`MessageStatusView`], OME configuration → branding template).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use crate::rules;

/// `GET /api/admin/tenant`: the tenant this token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct TenantView {
    /// Stable tenant id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Mail domains that belong to the tenant (its senders; recipients elsewhere are external),
    /// each proven: only these are used for notices, relaying and senders.
    pub domains: Vec<String>,
    /// Domains asked for and not yet proven, each with the DNS TXT record that proves it.
    #[serde(default)]
    pub pending_domains: Vec<PendingDomainView>,
    /// Whether notices show the message subject (`false`: a neutral subject instead).
    pub show_subject_in_notice: bool,
    /// Whether the portal tracking log is kept (OME `EnablePortalTrackingLogs`).
    pub enable_portal_tracking_logs: bool,
    /// Days the portal log keeps its entries (older ones are pruned, the chain still verifies);
    /// absent: for ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portal_log_retention_days: Option<u32>,
}

/// A domain the tenant asked for: publish the TXT record, then ask for it to be verified
/// (`POST /api/admin/tenant/domains/{domain}/verify`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PendingDomainView {
    /// The domain.
    pub domain: String,
    /// Where the TXT record goes, e.g. `_sealpost.example.com`.
    pub txt_name: String,
    /// What it must hold, e.g. `sealpost-verification=3q2+7w…`.
    pub txt_value: String,
}

/// A recipient's passkey, as an admin sees it (`GET /api/admin/tenant/passkeys`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RecipientPasskeyView {
    /// Its id.
    pub id: String,
    /// The recipient address it signs in for.
    pub address: String,
    /// What it is called (the browser and system it was made on, unless the recipient named it).
    pub name: String,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// When it last signed in (RFC 3339), if it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
}

/// A DKIM key that signs the mail Sealpost sends from one of the tenant's domains, and the DNS TXT
/// record that publishes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct DkimKeyView {
    /// The signing domain (`d=`).
    pub domain: String,
    /// The selector (`s=`).
    pub selector: String,
    /// `ed25519` or `rsa` (2048 bits).
    pub algorithm: String,
    /// When it was made.
    pub created_at: String,
    /// Where the TXT record goes: `{selector}._domainkey.{domain}`.
    pub record_name: String,
    /// What the TXT record holds, exactly.
    pub record_value: String,
}

/// `POST /api/admin/tenant/dkim`: make a DKIM key for one of the tenant's proven domains. Mail is
/// signed with it at once, so publish its record before a receiver looks for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewDkimKeyRequest {
    /// One of the tenant's proven domains.
    #[cfg_attr(feature = "openapi", schemars(length(max = rules::DOMAIN_MAX), pattern(rules::DOMAIN)))]
    pub domain: String,
    /// `ed25519` or `rsa` (2048 bits).
    #[cfg_attr(feature = "openapi", schemars(transform = rules::schema::dkim_algorithm))]
    pub algorithm: String,
    /// The selector; `sealpost-{algorithm}-{date}` if absent. Letters, digits and hyphens.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schemars(pattern(rules::DKIM_SELECTOR)))]
    pub selector: Option<String>,
}

/// `PATCH /api/admin/tenant`: change what is given, keep the rest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateTenantRequest {
    /// New display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schemars(length(max = rules::TENANT_NAME_MAX), pattern(rules::NAME)))]
    pub name: Option<String>,
    /// The full new list of domains: proven ones listed stay, ones not listed go, new ones wait
    /// for their DNS proof (see [`TenantView::pending_domains`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schemars(length(min = 1), inner(length(max = rules::DOMAIN_MAX), pattern(rules::DOMAIN))))]
    pub domains: Option<Vec<String>>,
    /// Show or hide the subject in notices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_subject_in_notice: Option<bool>,
    /// Turn the portal tracking log on or off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_portal_tracking_logs: Option<bool>,
    /// Keep portal log entries this many days, 1–3650; 0: for ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schemars(range(max = rules::PORTAL_LOG_RETENTION_MAX_DAYS)))]
    pub portal_log_retention_days: Option<u32>,
}

/// `POST /api/admin/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// What the token is for (shown in lists and in the audit log as who acted).
    #[cfg_attr(feature = "openapi", schemars(length(max = rules::TOKEN_LABEL_MAX), pattern(rules::NAME)))]
    pub label: String,
}

/// An admin token as listed: never the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct TokenView {
    /// Token id (use it to revoke).
    pub id: String,
    /// Label.
    pub label: String,
    /// When it was created.
    pub created_at: String,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
}

/// The answer to creating a token: the only time the secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CreatedTokenResponse {
    /// The token as listed.
    pub token: TokenView,
    /// The secret to send as `Authorization: Bearer …`. Store it now; it cannot be shown again.
    pub secret: String,
}

/// A text in the default language with optional translations keyed by language tag (`sv`,
/// `pt-BR`). On the wire either a plain string or `{"text": …, "translations": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum LocalizedText {
    /// Only the default text.
    Plain(String),
    /// A default text and translations.
    Translated {
        /// The default text, used when no translation matches.
        text: String,
        /// Translations keyed by language tag.
        #[serde(default)]
        translations: BTreeMap<String, String>,
    },
}

impl LocalizedText {
    /// The default text.
    pub fn text(&self) -> &str {
        match self {
            LocalizedText::Plain(t) | LocalizedText::Translated { text: t, .. } => t,
        }
    }

    /// The text for a language: an exact tag match, then the primary language (`pt-BR` → `pt`),
    /// then the default text. Tags compare without regard to case.
    pub fn for_language(&self, lang: &str) -> &str {
        let LocalizedText::Translated { text, translations } = self else {
            return self.text();
        };
        let find = |tag: &str| {
            translations
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(tag))
                .map(|(_, v)| v.as_str())
        };
        if let Some(t) = find(lang) {
            return t;
        }
        let primary = lang.split('-').next().unwrap_or(lang);
        find(primary).unwrap_or(text)
    }
}

/// A branding template (OME configuration) as sent to create one and as shown.
///
/// `PATCH` takes the same fields as a JSON merge patch (RFC 7396): a field given replaces, `null`
/// clears, an absent field stays.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BrandingTemplateView {
    /// Name (OME `Identity`), ≤ 64 characters. The default template is called `default`.
    #[cfg_attr(feature = "openapi", schemars(length(max = rules::BRANDING_NAME_MAX), pattern(rules::NAME)))]
    pub identity: String,
    /// First line of the notice, ≤ 1024 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schemars(
            schema_with = "rules::schema::optional_localized_text::<{ rules::NOTICE_TEXT_MAX }>"
        )
    )]
    pub introduction_text: Option<LocalizedText>,
    /// The notice's button text, ≤ 1024 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schemars(
            schema_with = "rules::schema::optional_localized_text::<{ rules::NOTICE_TEXT_MAX }>"
        )
    )]
    pub read_button_text: Option<LocalizedText>,
    /// Body text of the notice, ≤ 1024 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schemars(
            schema_with = "rules::schema::optional_localized_text::<{ rules::NOTICE_TEXT_MAX }>"
        )
    )]
    pub email_text: Option<LocalizedText>,
    /// Disclaimer at the foot of the notice and portal, ≤ 1024 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schemars(
            schema_with = "rules::schema::optional_localized_text::<{ rules::NOTICE_TEXT_MAX }>"
        )
    )]
    pub disclaimer_text: Option<LocalizedText>,
    /// Text shown on the portal's sign-in page, ≤ 128 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schemars(
            schema_with = "rules::schema::optional_localized_text::<{ rules::PORTAL_TEXT_MAX }>"
        )
    )]
    pub portal_text: Option<LocalizedText>,
    /// `#RRGGBB` or a CSS colour name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schemars(pattern(rules::colour_pattern())))]
    pub background_color: Option<String>,
    /// Logo, PNG or JPEG, base64, at most 54,616 characters (40 KB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schemars(length(max = rules::IMAGE_BASE64_MAX), pattern(rules::IMAGE_BASE64)))]
    pub image_base64: Option<String>,
    /// Link to the tenant's privacy statement (`https://host[:port]/…`, the host a name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schemars(length(max = rules::WEB_URL_MAX), pattern(rules::WEB_URL)))]
    pub privacy_statement_url: Option<String>,
    /// One-time passcode sign-in (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otp_enabled: Option<bool>,
    /// Sign-in with a social identity: the recipient may sign in with an identity provider the
    /// server is configured with (`[[identity_providers]]`) whose verified address is theirs
    /// (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub social_id_sign_in: Option<bool>,
    /// Days after sending that external access ends, 0–730; 0 or absent = never. Not settable on
    /// the default template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schemars(range(max = rules::EXPIRY_MAX_DAYS)))]
    pub external_mail_expiry_in_days: Option<u32>,
    /// The language of this template's notices and its recipients' passcode mail, a tag like `sv`
    /// or `de-CH`: the texts' translations for it are used, and Sealpost's own words (button,
    /// expiry, footer, the passcode mail) are in it where Sealpost has them (`en`, `sv`, `de`,
    /// `fr`, `es`; English otherwise). Absent: English. Mail flow rules
    /// choose a template per recipient, so one template per language reaches each in theirs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schemars(length(max = rules::LANGUAGE_TAG_MAX), pattern(rules::LANGUAGE_TAG)))]
    pub language: Option<String>,
}

/// A rights template: a name and the usage rights it grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RightsTemplateView {
    /// Name, ≤ 64 characters. Built-ins: `Encrypt`, `Do Not Forward`.
    #[cfg_attr(feature = "openapi", schemars(length(max = rules::RIGHTS_NAME_MAX), pattern(rules::NAME)))]
    pub name: String,
    /// What it is for, ≤ 1024 characters.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schemars(length(max = rules::RIGHTS_DESCRIPTION_MAX), pattern(rules::TEXT)))]
    pub description: String,
    /// Rights: `view`, `reply`, `reply_all`, `forward`, `print`, `copy`, `download`.
    #[cfg_attr(feature = "openapi", schemars(schema_with = "rules::schema::rights"))]
    pub rights: Vec<String>,
    /// Built-in templates cannot be changed or removed.
    #[serde(default)]
    pub built_in: bool,
    /// How far recipients may forward, so nobody can use the portal to send your branded
    /// notices to many people. Omitted: the defaults.
    #[serde(default)]
    pub forward_limits: ForwardLimits,
}

/// Limits on what a recipient may forward (part of a rights template).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct ForwardLimits {
    /// Most new recipients one forward may name, 1–500 (default 10).
    #[cfg_attr(feature = "openapi", schemars(range(min = rules::FORWARD_RECIPIENTS_PER_FORWARD.0, max = rules::FORWARD_RECIPIENTS_PER_FORWARD.1)))]
    pub recipients_per_forward: u32,
    /// Most new recipients one recipient may forward one message to in a day, 1–5000 (default 50).
    #[cfg_attr(feature = "openapi", schemars(range(min = rules::FORWARD_RECIPIENTS_PER_DAY.0, max = rules::FORWARD_RECIPIENTS_PER_DAY.1)))]
    pub recipients_per_day: u32,
    /// How many forwards deep a chain may go, 1–10 (default 3): a forward of a forward of a
    /// forward may not be forwarded again.
    #[cfg_attr(feature = "openapi", schemars(range(min = rules::FORWARD_DEPTH.0, max = rules::FORWARD_DEPTH.1)))]
    pub depth: u32,
}

impl Default for ForwardLimits {
    fn default() -> Self {
        ForwardLimits {
            recipients_per_forward: 10,
            recipients_per_day: 50,
            depth: 3,
        }
    }
}

/// An attachment in a JSON send request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AttachmentRequest {
    /// File name.
    #[cfg_attr(feature = "openapi", schemars(length(max = rules::ATTACHMENT_NAME_MAX), pattern(rules::ONE_LINE_NAME)))]
    pub name: String,
    /// MIME type; `application/octet-stream` if absent.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schemars(length(max = rules::MIME_TOKEN_MAX), pattern(rules::CONTENT_TYPE)))]
    pub content_type: Option<String>,
    /// The bytes, base64.
    #[cfg_attr(feature = "openapi", schemars(pattern(rules::BASE64)))]
    pub content_base64: String,
    /// For inline images: the `Content-ID` the HTML body refers to as `cid:…`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schemars(length(max = rules::MIME_TOKEN_MAX), pattern(rules::CONTENT_ID)))]
    pub content_id: Option<String>,
}

/// `POST /api/admin/messages` with `Content-Type: application/json`.
///
/// A raw RFC 5322 message can be sent instead with `Content-Type: message/rfc822`; then the
/// templates and expiry go in the query string (`?branding_template=…&rights_template=…&expires_in_days=…`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schemars(transform = rules::schema::send_message))]
pub struct SendMessageRequest {
    /// Sender; must be an address in one of the tenant's domains.
    #[cfg_attr(feature = "openapi", schemars(schema_with = "rules::schema::email"))]
    pub from: String,
    /// `To` addresses.
    #[cfg_attr(
        feature = "openapi",
        schemars(schema_with = "rules::schema::emails::<{ rules::RECIPIENTS_MAX }>")
    )]
    pub to: Vec<String>,
    /// `Cc` addresses.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schemars(schema_with = "rules::schema::emails::<{ rules::RECIPIENTS_MAX }>")
    )]
    pub cc: Vec<String>,
    /// Subject.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schemars(length(max = rules::SUBJECT_MAX), pattern(rules::ONE_LINE)))]
    pub subject: String,
    /// Plain-text body.
    #[serde(default)]
    pub text: Option<String>,
    /// HTML body.
    #[serde(default)]
    pub html: Option<String>,
    /// Attachments and inline images.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schemars(length(max = rules::ATTACHMENTS_MAX)))]
    pub attachments: Vec<AttachmentRequest>,
    /// Branding template; `default` if absent.
    #[serde(default)]
    pub branding_template: Option<String>,
    /// Rights template; `Encrypt` if absent.
    #[serde(default)]
    pub rights_template: Option<String>,
    /// Days until external access ends (0–730, 0 = never); the branding template's setting if absent.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schemars(range(max = rules::EXPIRY_MAX_DAYS)))]
    pub expires_in_days: Option<u32>,
}

/// `POST /api/admin/drafts`: begin a message whose attachments are sent in windows, each sealed
/// as it arrives (for attachments larger than a JSON body should carry).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateDraftRequest {
    /// Sender; must be an address in one of the tenant's domains, and the same when the draft is
    /// sent (its data encryption policy seals the attachments).
    #[cfg_attr(feature = "openapi", schemars(schema_with = "rules::schema::email"))]
    pub from: String,
}

/// `POST /api/admin/drafts/{id}/attachments`: declare an attachment, then send its bytes window
/// by window with `PUT /api/admin/drafts/{id}/attachments/{index}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateDraftAttachmentRequest {
    /// File name.
    #[cfg_attr(feature = "openapi", schemars(length(max = rules::ATTACHMENT_NAME_MAX), pattern(rules::ONE_LINE_NAME)))]
    pub name: String,
    /// MIME type; `application/octet-stream` if absent.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schemars(length(max = rules::MIME_TOKEN_MAX), pattern(rules::CONTENT_TYPE)))]
    pub content_type: Option<String>,
    /// For inline images: the `Content-ID` the HTML body refers to as `cid:…`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schemars(length(max = rules::MIME_TOKEN_MAX), pattern(rules::CONTENT_ID)))]
    pub content_id: Option<String>,
    /// Its size in bytes.
    #[cfg_attr(feature = "openapi", schemars(range(min = 1, max = rules::UPLOAD_MAX_BYTES)))]
    pub size: u64,
}

/// A draft and how far each attachment's upload is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct DraftView {
    /// The draft's id, which the message will have.
    pub id: String,
    /// Sender.
    pub from: String,
    /// When it goes, with whatever was uploaded, unless sent.
    pub expires_at: String,
    /// Bytes per window: every `PUT` carries exactly one window (the last one the rest).
    pub window_size: u64,
    /// Its attachments, in order; they come first in the message.
    pub attachments: Vec<DraftAttachmentView>,
}

/// One attachment of a draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct DraftAttachmentView {
    /// Its place among the message's attachments, and in its upload URL.
    pub index: u32,
    /// File name.
    pub name: String,
    /// MIME type.
    pub content_type: String,
    /// Content-ID, for inline images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_id: Option<String>,
    /// Its size in bytes.
    pub size: u64,
    /// Bytes received, sealed and stored: where the next window starts.
    pub received: u64,
    /// Whether every byte is.
    pub complete: bool,
}

/// Query string for a raw (`message/rfc822`) send.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SendOptions {
    /// Branding template; `default` if absent.
    #[serde(default)]
    pub branding_template: Option<String>,
    /// Rights template; `Encrypt` if absent.
    #[serde(default)]
    pub rights_template: Option<String>,
    /// Days until external access ends (0–730, 0 = never).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schemars(range(max = rules::EXPIRY_MAX_DAYS)))]
    pub expires_in_days: Option<u32>,
}

/// How the notice to one recipient is going.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum NoticeView {
    /// Waiting in the outbox for its first try.
    Queued {
        /// Since when.
        since: String,
    },
    /// Handed to the mail server (or the development mailbox).
    Sent {
        /// When.
        at: String,
    },
    /// The mail server could not be reached or refused it for now; it will be tried again.
    Deferred {
        /// When it was last tried.
        at: String,
        /// Why, as the mail server said it.
        reason: String,
        /// When it will be tried next.
        next_attempt_at: String,
    },
    /// The mail server refused it for good, or Sealpost gave up after two days of trying.
    Bounced {
        /// When.
        at: String,
        /// Why, as the mail server said it.
        reason: String,
    },
}

/// One recipient in a message's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RecipientStatusView {
    /// Address.
    pub address: String,
    /// `to` or `cc`.
    pub kind: String,
    /// The notice.
    pub notice: NoticeView,
    /// When the recipient first opened the message, if they have.
    pub opened_at: Option<String>,
    /// Set when this recipient's access was removed.
    pub revoked: Option<RevocationView>,
}

/// Who removed access, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RevocationView {
    /// When.
    pub at: String,
    /// Who: an admin token's label or a sender's address.
    pub by: String,
}

/// `GET /api/admin/messages/{id}`: `Get-OMEMessageStatus` and more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "PascalCase")]
pub struct MessageStatusView {
    /// Message id.
    pub message_id: String,
    /// Subject (read from the sealed manifest).
    pub subject: String,
    /// Sender.
    pub sender: String,
    /// When it was sent.
    pub sent_at: String,
    /// Whether external access can still be removed.
    pub is_revocable: bool,
    /// Whether external access has been removed.
    pub revoked: bool,
    /// Who removed it and when.
    pub revocation: Option<RevocationView>,
    /// When external access ends, if it does.
    pub expires_at: Option<String>,
    /// Whether that time has passed.
    pub expired: bool,
    /// Branding template used for the notice and portal.
    pub branding_template: String,
    /// Rights template applied.
    pub rights_template: String,
    /// The rights the recipients have.
    pub rights: Vec<String>,
    /// Recipients.
    pub recipients: Vec<RecipientStatusView>,
    /// The data encryption policy it is sealed under, by name, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_encryption_policy: Option<String>,
    /// Whether its policy was purged: its key is destroyed, nobody can open it, and the subject
    /// is empty because it cannot be read any more.
    #[serde(default)]
    pub purged: bool,
}

/// `GET /api/admin/messages`: the tenant's messages, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct MessageListView {
    /// Messages.
    pub messages: Vec<MessageStatusView>,
}

/// One entry of the admin audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct AuditEventView {
    /// When.
    pub at: String,
    /// Who (token label).
    pub actor: String,
    /// What, e.g. `message.revoked`.
    pub action: String,
    /// What it was done to.
    pub target: String,
}

/// One entry of the portal tracking log (`GET /api/admin/portal-log`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PortalLogEntryView {
    /// Position in the tenant's chain, from 1.
    pub seq: u64,
    /// When.
    pub at: String,
    /// The message.
    pub message_id: String,
    /// The recipient's address.
    pub recipient: String,
    /// What happened, e.g. `signed_in`, `key_released`, `passcode_burned`.
    pub event: String,
    /// More about it (a refusal's code, a part's name); never a secret.
    pub detail: String,
    /// The client's address.
    pub client_address: String,
    /// The client's user agent.
    pub user_agent: String,
    /// This entry's hash (hex); the next entry carries it as `prev_hash`.
    pub hash: String,
}

/// `GET /api/admin/portal-log/verify`: whether the tenant's portal log chain is intact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PortalLogVerifyView {
    /// No entry was changed, removed or reordered.
    pub intact: bool,
    /// Entries checked (when intact).
    pub entries: Option<u64>,
    /// The newest entry's hash, hex (when intact): record it to detect a cut-off tail later.
    pub head_hash: Option<String>,
    /// Where the chain breaks (when not).
    pub problem: Option<String>,
}

/// `GET /api/admin/portal-log`: matching entries, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PortalLogView {
    /// The entries.
    pub entries: Vec<PortalLogEntryView>,
}

/// `POST /api/admin/self-test`: `Test-IRMConfiguration -Sender -Recipient`. The server seals a
/// test message from `sender` to `recipient` containing `nonce`, stores it, checks the mail relay,
/// reads the message back from storage, releases its key to `public_key` as it would to a
/// recipient's page, and removes it again. The caller opens the release and the parts to finish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SelfTestRequest {
    /// An address in one of the tenant's domains.
    pub sender: String,
    /// An address outside them (no mail is sent to it).
    pub recipient: String,
    /// The caller's X25519 public key, 32 bytes in base64url, for the key release.
    pub public_key: String,
    /// A value the test message's body carries, so the caller knows the message it opens is new.
    pub nonce: String,
}

/// One step of a self-test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SelfTestStepView {
    /// What was checked, e.g. `Mail relay`.
    pub name: String,
    /// Whether it worked.
    pub ok: bool,
    /// What happened, or why it failed.
    pub detail: String,
}

/// The server's part of a self-test. `release`, `manifest` and `body` are present only when every
/// step up to the release worked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SelfTestResponse {
    /// The test message's id (already removed).
    pub message_id: String,
    /// The session value bound into the release.
    pub binding: String,
    /// The steps, in order.
    pub steps: Vec<SelfTestStepView>,
    /// The HPKE key release, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// The sealed manifest as read back from storage, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    /// The sealed text body as read back from storage, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn localized_text_accepts_a_plain_string_or_translations() {
        let plain: LocalizedText = serde_json::from_str(r#""Hello""#).unwrap();
        assert_eq!(plain.for_language("sv"), "Hello");
        let t: LocalizedText =
            serde_json::from_str(r#"{"text":"Hello","translations":{"sv":"Hej","pt-BR":"Olá"}}"#)
                .unwrap();
        assert_eq!(t.for_language("sv-FI"), "Hej");
        assert_eq!(t.for_language("SV"), "Hej");
        assert_eq!(t.for_language("pt-br"), "Olá");
        assert_eq!(t.for_language("de"), "Hello");
        assert_eq!(t.text(), "Hello");
    }

    #[test]
    fn status_uses_the_ome_field_names() {
        let v = MessageStatusView {
            message_id: "m".into(),
            subject: "s".into(),
            sender: "a@b".into(),
            sent_at: "2026-01-01T00:00:00Z".into(),
            is_revocable: true,
            revoked: false,
            revocation: None,
            expires_at: None,
            expired: false,
            branding_template: "default".into(),
            rights_template: "Encrypt".into(),
            rights: vec!["view".into()],
            recipients: vec![],
            data_encryption_policy: None,
            purged: false,
        };
        let json = serde_json::to_value(&v).unwrap();
        for key in ["Subject", "IsRevocable", "Revoked"] {
            assert!(json.get(key).is_some(), "{key}");
        }
    }
}

/// `GET /api/admin/tenant/dkim` query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct DkimKeysQuery {
    /// Only this domain's keys.
    #[serde(default)]
    pub domain: Option<String>,
}

/// `GET /api/admin/tenant/passkeys` query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PasskeysQuery {
    /// Only this recipient address's passkeys.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schemars(schema_with = "rules::schema::email"))]
    pub address: Option<String>,
}

/// `GET /api/admin/portal-log` query: every filter given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PortalLogQuery {
    /// Only this message's entries (its id).
    #[serde(default)]
    pub message: Option<String>,
    /// Only this recipient's entries (an address, any case).
    #[serde(default)]
    pub recipient: Option<String>,
    /// Entries at or after this time (RFC 3339).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schemars(extend("format" = "date-time")))]
    pub from: Option<String>,
    /// Entries before this time (RFC 3339).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schemars(extend("format" = "date-time")))]
    pub to: Option<String>,
    /// Most entries to answer, newest first: 100 if absent; 0 is taken as 1, and more than 1000
    /// as 1000.
    #[serde(default)]
    pub limit: Option<u32>,
}

/// `GET /api/admin/portal-log/verify` query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PortalLogVerifyQuery {
    /// A head an earlier verify printed (`SEQ:HASH`), which must still be in the chain.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schemars(pattern(rules::PORTAL_LOG_HEAD)))]
    pub head: Option<String>,
}
