//! Customer Key (`/api/admin/data-encryption-policies`, `/api/admin/data-encryption-policy-assignment`):
//! a tenant's data encryption policies, each naming two root keys the server is configured with, so
//! that the tenant, not the database, holds what unlocks its mail. Mirrors Exchange Online's
//! `New-/Get-/Set-DataEncryptionPolicy`, `Set-/Get-M365DataAtRestEncryptionPolicyAssignment`,
//! `Set-Mailbox -DataEncryptionPolicy` (per sender, and `$null` to roll back), the availability
//! key's recovery, and the roll back to service-managed keys.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use crate::rules;

/// A root key the server is configured with (by its operator).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RootKeyView {
    /// Its name, as policies name it.
    pub name: String,
    /// `local` (the built-in key file), `file` or `pkcs11`.
    pub provider: String,
    /// Whether it answered just now.
    pub available: bool,
}

/// A permanent data purge: the request, and when it was carried out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PurgeView {
    /// When it was requested (RFC 3339).
    pub requested_at: String,
    /// Who requested it (the admin token's label).
    pub requested_by: String,
    /// Why (`-PermanentDataPurgeReason`).
    pub reason: String,
    /// Whom to ask about it (`-PermanentDataPurgeContact`).
    pub contact: String,
    /// When the keys were destroyed, once they were.
    pub purged_at: Option<String>,
    /// Who confirmed it.
    pub purged_by: Option<String>,
}

/// A data encryption policy (`Get-DataEncryptionPolicy`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct DataEncryptionPolicyView {
    /// Id.
    pub id: String,
    /// Name (no spaces).
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Its two root keys: either alone unwraps its data key.
    pub root_keys: Vec<RootKeyView>,
    /// `Registered`, `Rolling`, `PurgeRequested` or `Purged`.
    pub status: String,
    /// While `Rolling`: the share of its messages already re-wrapped under the newest data key.
    pub roll_percent: Option<u8>,
    /// The data-key version new messages get.
    pub key_version: u32,
    /// Messages sealed under it.
    pub messages: u64,
    /// Whether new messages of the tenant are sealed under it.
    pub assigned: bool,
    /// Whether its data key is also wrapped under the server's availability key for it, which
    /// an explicit recovery can use when neither root key answers (destroyed by a purge).
    pub availability_key: bool,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// A purge request, and the purge.
    pub purge: Option<PurgeView>,
}

/// `GET /api/admin/data-encryption-policies`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct DataEncryptionPoliciesView {
    /// The tenant's policies, by name.
    pub policies: Vec<DataEncryptionPolicyView>,
    /// The root keys the tenant's policies can name: those the operator assigned to it.
    pub root_keys: Vec<RootKeyView>,
}

/// `POST /api/admin/data-encryption-policies` (`New-DataEncryptionPolicy`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewDataEncryptionPolicy {
    /// Name: 1–64 letters, digits, `-`, `_` or `.`; unique in the tenant.
    #[cfg_attr(feature = "openapi", schemars(pattern(rules::POLICY_NAME)))]
    pub name: String,
    /// What it is for (≤ 256).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schemars(length(max = rules::POLICY_DESCRIPTION_MAX)))]
    pub description: String,
    /// Exactly two different root keys, by name (`-AzureKeyIDs`).
    #[cfg_attr(
        feature = "openapi",
        schemars(schema_with = "rules::schema::root_keys")
    )]
    pub root_keys: Vec<String>,
}

/// `PATCH /api/admin/data-encryption-policies/{name}` (`Set-DataEncryptionPolicy`): what is given
/// changes; one change of key (roll or replace) or of purge request per call.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schemars(transform = rules::schema::set_policy))]
pub struct SetDataEncryptionPolicy {
    /// A new description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schemars(length(max = rules::POLICY_DESCRIPTION_MAX)))]
    pub description: Option<String>,
    /// Roll: make a new data-key version for new messages, and re-wrap every existing message's
    /// key under it in the background (`-Refresh`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub roll: bool,
    /// Replace one root key with another (`-Replace`): the data key is re-wrapped under the new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace: Option<ReplaceRootKey>,
    /// `true` requests a permanent data purge (with reason and contact); `false` withdraws a
    /// request not yet carried out (`-PermanentDataPurgeRequested`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permanent_data_purge_requested: Option<bool>,
    /// Why (`-PermanentDataPurgeReason`, ≤ 512).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schemars(schema_with = "rules::schema::optional_reason::<{ rules::PURGE_REASON_MAX }>")
    )]
    pub permanent_data_purge_reason: Option<String>,
    /// Whom to ask (`-PermanentDataPurgeContact`, ≤ 256).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schemars(schema_with = "rules::schema::optional_reason::<{ rules::PURGE_CONTACT_MAX }>")
    )]
    pub permanent_data_purge_contact: Option<String>,
}

/// Which root key goes, and which comes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ReplaceRootKey {
    /// One of the policy's two root keys.
    pub old: String,
    /// A configured root key not in the policy.
    pub new: String,
}

/// One sender's data encryption policy and whether their messages are under it
/// (`Get-MailboxStatistics … | fl DataEncryptionPolicyID, IsEncrypted`); `PUT` with a
/// [`PolicyAssignment`] sets it (`Set-Mailbox -DataEncryptionPolicy`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SenderPolicyView {
    /// The sender, one of the tenant's addresses.
    pub address: String,
    /// The policy assigned to this sender, by name, if any: it wins over the tenant's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_encryption_policy: Option<String>,
    /// Whether the sender was rolled back to service-managed keys (`Set-Mailbox
    /// -DataEncryptionPolicy $null`): its new messages are sealed under the tenant's own data key,
    /// whatever the tenant's policy.
    #[serde(default)]
    pub service_managed: bool,
    /// The policy the sender's new messages are sealed under (theirs, else the tenant's), by name;
    /// absent: the tenant's own data key under the server's built-in root key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_policy: Option<String>,
    /// The sender's messages.
    pub messages: u64,
    /// How many of them are under the effective policy (or, without one, under the tenant's own
    /// data key).
    pub messages_under_policy: u64,
    /// Whether a policy applies and every one of the sender's messages is under it (`IsEncrypted`).
    pub is_encrypted: bool,
    /// Of a sender rolled back: how many of its messages are still to be moved from a policy to
    /// the tenant's own data key.
    #[serde(default)]
    pub roll_back_left: u64,
}

/// `POST /api/admin/data-encryption-policies/{name}/purge`: carry out a requested purge. It cannot
/// be undone, so the policy's name must be typed again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ConfirmPurge {
    /// The policy's name, again.
    pub confirm: String,
}

/// What a purge destroyed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PurgeResult {
    /// The policy, now `Purged`.
    pub policy: DataEncryptionPolicyView,
    /// Data-key versions deleted.
    pub data_keys_destroyed: u64,
    /// Message keys deleted: those messages can never be opened.
    pub message_keys_destroyed: u64,
    /// Root keys destroyed in their provider (a key another policy still uses is kept).
    pub root_keys_destroyed: Vec<String>,
    /// Whether the policy's availability key was destroyed (it had one).
    pub availability_key_destroyed: bool,
}

/// `POST /api/admin/data-encryption-policies/{name}/recover`: when neither of the policy's root
/// keys answers, open its data key with the server's availability key and wrap it under two new
/// root keys, which take the old ones' place. Refused while either old one answers. Audited with
/// the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RecoverDataEncryptionPolicy {
    /// Exactly two different root keys of the tenant's, by name.
    #[cfg_attr(
        feature = "openapi",
        schemars(schema_with = "rules::schema::root_keys")
    )]
    pub root_keys: Vec<String>,
    /// Why (≤ 512), kept in the audit log.
    #[cfg_attr(
        feature = "openapi",
        schemars(schema_with = "rules::schema::reason::<{ rules::PURGE_REASON_MAX }>")
    )]
    pub reason: String,
}

/// A tenant's roll back to service-managed keys
/// (`GET`/`POST /api/admin/data-encryption-policy-assignment/roll-back`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RollBackView {
    /// When it was asked for (RFC 3339), while messages are still being moved; absent when none
    /// is under way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_at: Option<String>,
    /// Messages still under a policy that it is to move (those of a policy whose purge is
    /// requested wait for the request to be withdrawn).
    pub messages_left: u64,
}

/// `GET`/`PUT /api/admin/data-encryption-policy-assignment`
/// (`Get-`/`Set-M365DataAtRestEncryptionPolicyAssignment`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PolicyAssignment {
    /// The policy new messages are sealed under, by name; `null`: the tenant's own data key under
    /// the server's built-in root key.
    pub data_encryption_policy: Option<String>,
}
