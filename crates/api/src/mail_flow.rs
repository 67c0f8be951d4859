//! Mail flow (`/api/admin/mail-flow/*`): the tenant's rules that seal outbound mail automatically
//! (OME's `New-TransportRule … -ApplyRightsProtectionTemplate`), the inbound connector that says
//! which of the tenant's mail servers may send through Sealpost's SMTP listener
//! (`New-InboundConnector -RemoteIPAddresses`), and a simulation that says what would happen to a
//! message without changing anything.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use crate::rules;

/// A mail flow rule. Rules run in priority order for each recipient; every rule whose conditions
/// all hold acts, so a later rule's action replaces an earlier one's unless the earlier rule stops
/// processing. A rejection always ends processing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schemars(transform = rules::schema::mail_flow_rule))]
pub struct MailFlowRule {
    /// Unique within the tenant (compared without regard to case), 1–64 characters.
    #[cfg_attr(feature = "openapi", schemars(length(max = rules::RULE_NAME_MAX), pattern(rules::NAME)))]
    pub name: String,
    /// Position, 1 first. On creation, omitted means last; on replacement, omitted keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schemars(range(min = 1)))]
    pub priority: Option<u32>,
    /// Whether the rule runs.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// When this rule acts, no later rule runs for that recipient.
    #[serde(default)]
    pub stop_processing: bool,
    /// All must hold (none: every message).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schemars(length(max = rules::RULE_CONDITIONS_MAX)))]
    pub conditions: Vec<RuleCondition>,
    /// What happens when they do.
    pub action: RuleAction,
}

fn yes() -> bool {
    true
}

/// One condition, optionally negated (`ExceptIf…` in Exchange).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RuleCondition {
    /// The test.
    #[serde(flatten)]
    pub test: RuleTest,
    /// Holds when the test does not.
    #[serde(default, skip_serializing_if = "is_false")]
    pub negate: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// What a condition looks at. Recipient tests are asked of each recipient in turn; the others of
/// the whole message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleTest {
    /// The recipient's domain is one of the tenant's domains (`SentToScope InOrganization`;
    /// negated, `NotInOrganization`).
    RecipientInOrganisation,
    /// The recipient's address, or its domain, is in the list (`SentTo`, `RecipientDomainIs`).
    RecipientIn {
        #[cfg_attr(
            feature = "openapi",
            schemars(schema_with = "rules::schema::emails_or_domains")
        )]
        /// Addresses (`a@example.com`) and domains (`example.com`).
        values: Vec<String>,
    },
    /// The sender (the `From` header) or its domain is in the list (`From`, `SenderDomainIs`).
    SenderIn {
        #[cfg_attr(
            feature = "openapi",
            schemars(schema_with = "rules::schema::emails_or_domains")
        )]
        /// Addresses and domains.
        values: Vec<String>,
    },
    /// The subject or body contains any of the words or phrases, as whole words, without regard
    /// to case (`SubjectOrBodyContainsWords`).
    SubjectOrBodyWords {
        #[cfg_attr(feature = "openapi", schemars(length(min = 1, max = rules::RULE_VALUES_MAX), inner(pattern(rules::NOT_BLANK))))]
        /// Words or phrases.
        words: Vec<String>,
    },
    /// The subject contains any of the words or phrases (`SubjectContainsWords`).
    SubjectWords {
        #[cfg_attr(feature = "openapi", schemars(length(min = 1, max = rules::RULE_VALUES_MAX), inner(pattern(rules::NOT_BLANK))))]
        /// Words or phrases.
        words: Vec<String>,
    },
    /// The subject contains this tag, e.g. `[secure]`, without regard to case.
    SubjectTag {
        #[cfg_attr(feature = "openapi", schemars(length(max = rules::SUBJECT_TAG_MAX), pattern(rules::NAME)))]
        /// The tag as users type it.
        tag: String,
    },
    /// A header has this value, without regard to case or surrounding spaces
    /// (`HeaderMatchesMessageHeader`), e.g. `X-Sealpost-Encrypt: yes`.
    Header {
        /// Header name.
        #[cfg_attr(feature = "openapi", schemars(pattern(rules::HEADER_NAME)))]
        name: String,
        /// Value.
        #[cfg_attr(feature = "openapi", schemars(length(max = rules::HEADER_VALUE_MAX), pattern(rules::NAME)))]
        value: String,
    },
    /// The message has at least one attachment (`AttachmentIsPresent`… `HasAttachment`).
    HasAttachments,
    /// The message as received is larger than this many bytes (`MessageSizeOver`).
    SizeOver {
        /// Bytes.
        bytes: u64,
    },
}

/// What a rule does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleAction {
    /// Seal the message; external recipients get a notice, internal ones the original
    /// (`-ApplyRightsProtectionTemplate` and `-ApplyRightsProtectionCustomizationTemplate`).
    Seal {
        /// Rights template; omitted means `Encrypt`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rights_template: Option<String>,
        /// Branding template; omitted means the default one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        branding_template: Option<String>,
        /// Remove this rule's subject tags from the sealed message's subject.
        #[serde(default, skip_serializing_if = "is_false")]
        remove_subject_tag: bool,
    },
    /// Deliver as it came, unencrypted (`-RemoveOMEv2`).
    SendUnencrypted,
    /// Refuse the message; the sending server gets this sentence (`-RejectMessageReasonText`).
    Reject {
        /// The sentence.
        #[cfg_attr(feature = "openapi", schemars(length(max = rules::REJECT_REASON_MAX), pattern(rules::REJECT_REASON)))]
        reason: String,
    },
}

/// `GET /api/admin/mail-flow/rules`: every rule, in priority order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct MailFlowRulesView {
    /// Rules, first first.
    pub rules: Vec<MailFlowRule>,
}

/// `GET /api/admin/mail-flow/connector`: which of the tenant's mail servers may relay through
/// Sealpost's SMTP listener.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct InboundConnectorView {
    /// Client addresses and networks allowed without signing in, e.g. `192.0.2.10` or
    /// `10.0.0.0/8` (`-RemoteIPAddresses`).
    pub remote_addresses: Vec<String>,
    /// The SMTP AUTH user name, if a password is set (AUTH is offered only after STARTTLS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_auth_username: Option<String>,
}

/// `PUT /api/admin/mail-flow/connector`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct InboundConnectorRequest {
    /// Client addresses and networks allowed without signing in.
    #[cfg_attr(feature = "openapi", schemars(length(max = rules::NETWORKS_MAX), inner(pattern(rules::NETWORK))))]
    pub remote_addresses: Vec<String>,
}

/// `POST /api/admin/mail-flow/connector/password`: a new SMTP AUTH password, shown only now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SmtpPasswordResponse {
    /// User name.
    pub username: String,
    /// Password; the server keeps only its hash.
    pub password: String,
}

/// `POST /api/admin/mail-flow/simulate` (the body is the message, `message/rfc822`): what the SMTP
/// listener would answer and what would happen to each recipient. Nothing is changed or sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SimulationView {
    /// `accepted` or `rejected`.
    pub verdict: String,
    /// The SMTP reply the listener would give at the end of the message, e.g. `550 5.7.1 …`.
    pub smtp_reply: String,
    /// Each envelope recipient.
    pub recipients: Vec<SimulatedRecipient>,
}

/// What would happen to one recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SimulatedRecipient {
    /// Address.
    pub address: String,
    /// Whether it is in one of the tenant's domains.
    pub inside_organisation: bool,
    /// The rule whose action applies; none when no rule matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Every rule that matched, in the order they ran.
    pub matched_rules: Vec<String>,
    /// `seal`, `send_unencrypted` or `reject`.
    pub action: String,
    /// For `seal`: the rights template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rights_template: Option<String>,
    /// For `seal`: the branding template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branding_template: Option<String>,
    /// `notice` (a branded notice; the message is read in the portal), `original` (the message as
    /// it came, through the outbound relay) or `nothing` (rejected).
    pub delivered_as: String,
}

/// `GET /api/admin/mail-flow/queue`: messages the SMTP listener accepted and has not delivered
/// yet, and those it gave up on (their content is gone; the sender got a non-delivery report).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct MailQueueView {
    /// Oldest first.
    pub messages: Vec<QueuedMailView>,
}

/// One queued message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct QueuedMailView {
    /// Queue id (the listener's "Queued as …").
    pub id: String,
    /// When it was accepted.
    pub received_at: String,
    /// Envelope sender (empty for a bounce).
    pub mail_from: String,
    /// Envelope recipients.
    pub recipients: Vec<String>,
    /// `queued` or `failed`.
    pub state: String,
    /// Attempts so far.
    pub attempts: u32,
    /// When it is tried next (for `queued`).
    pub next_attempt_at: String,
    /// Why the last attempt failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// `POST /api/admin/mail-flow/simulate` query: the envelope; without it, the message's `From` and
/// its To, Cc and Bcc headers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SimulationQuery {
    /// The envelope sender (`MAIL FROM`); empty: none (a bounce).
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schemars(schema_with = "rules::schema::optional_email")
    )]
    pub mail_from: Option<String>,
    /// The envelope recipients (`RCPT TO`), separated by commas.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schemars(schema_with = "rules::schema::address_list")
    )]
    pub rcpt: Option<String>,
}
