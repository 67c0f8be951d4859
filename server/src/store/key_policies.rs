//! What data encryption policies store: each policy (its two root keys, its availability key, its
//! current data-key version, a purge request and a purge), each version of its data key wrapped
//! under both root keys and the availability key, which policy a tenant and each sender has, and
//! the re-wrapping of message keys in a key roll, a recovery and a roll back.

use async_trait::async_trait;

use super::{AuditEvent, StoreResult};

/// A data encryption policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Name (no spaces; unique in the tenant without regard to case).
    pub name: String,
    /// What it is for.
    pub description: String,
    /// The two root keys, by configured name.
    pub root_keys: [String; 2],
    /// The name of its availability key in the operator's availability key store, if it has one.
    pub availability_key: Option<String>,
    /// The data-key version new messages are sealed under.
    pub current_version: u32,
    /// When it was created.
    pub created_at: i64,
    /// Who created it.
    pub created_by: String,
    /// A purge request, if one was made.
    pub purge_request: Option<PurgeRequest>,
    /// When and by whom the purge was carried out.
    pub purged: Option<(i64, String)>,
}

/// A permanent data purge request (`-PermanentDataPurgeRequested`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeRequest {
    /// When.
    pub at: i64,
    /// Who.
    pub by: String,
    /// Why (`-PermanentDataPurgeReason`).
    pub reason: String,
    /// Whom to ask (`-PermanentDataPurgeContact`).
    pub contact: String,
}

/// One version of a policy's data key, wrapped under each root key (in the policy's order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedDataKey {
    /// Version (bound into every wrap).
    pub version: u32,
    /// Under `root_keys[0]` and `root_keys[1]`.
    pub wrapped: [Vec<u8>; 2],
    /// Under the policy's availability key, if it has one.
    pub availability: Option<Vec<u8>>,
}

/// What a sender's new messages are sealed under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SenderKeys {
    /// The tenant's choice (no setting of its own).
    FollowTenant,
    /// The tenant's own data key under the service's root key, whatever the tenant's policy: the
    /// sender was rolled back (`Set-Mailbox -DataEncryptionPolicy $null`).
    ServiceManaged,
    /// This policy (by id).
    Policy(String),
}

/// A message key to move from a policy to the tenant's own data key (a roll back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollBackRow {
    /// The message key as it is now.
    pub key: MessageKeyRow,
    /// The policy it is under now.
    pub policy_id: String,
}

/// A message key to move to a newer data-key version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageKeyRow {
    /// Tenant.
    pub tenant_id: String,
    /// Message.
    pub message_id: String,
    /// The version it is wrapped under.
    pub key_version: u32,
    /// The wrapped message key.
    pub wrapped_key: Vec<u8>,
}

/// What a purge removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgeCount {
    /// Data-key versions deleted.
    pub data_keys: u64,
    /// Message keys deleted (the messages stay, unreadable, so their status can say so).
    pub message_keys: u64,
}

/// Storage for data encryption policies.
#[async_trait]
pub trait KeyPolicyStore {
    /// Store a new policy with its first data-key version. `Conflict` if the name is taken.
    async fn create_policy(&self, policy: &Policy, first: &WrappedDataKey) -> StoreResult<()>;
    /// A tenant's policies, by name.
    async fn policies(&self, tenant_id: &str) -> StoreResult<Vec<Policy>>;
    /// A tenant's policy by name (without regard to case) or id.
    async fn policy(&self, tenant_id: &str, name_or_id: &str) -> StoreResult<Policy>;
    /// Change a policy's description.
    async fn set_policy_description(
        &self,
        tenant_id: &str,
        policy_id: &str,
        description: &str,
    ) -> StoreResult<()>;
    /// Every stored version of a policy's data key, oldest first.
    async fn policy_data_keys(&self, policy_id: &str) -> StoreResult<Vec<WrappedDataKey>>;
    /// One version; `NotFound` if it was retired or purged.
    async fn policy_data_key(&self, policy_id: &str, version: u32) -> StoreResult<WrappedDataKey>;
    /// Put root key `new_root` in the place of the one at `slot` (0 or 1), with every version of
    /// the data key re-wrapped under it (`rewrapped`, by version), in one transaction. `Conflict`
    /// if the versions changed meanwhile (a roll or purge ran): try again.
    async fn replace_policy_root(
        &self,
        policy_id: &str,
        slot: usize,
        new_root: &str,
        rewrapped: &[(u32, Vec<u8>)],
    ) -> StoreResult<()>;
    /// Add `next` as the policy's current data-key version, if its current version is still
    /// `next.version - 1` and it has an availability key exactly when `next` is wrapped under one
    /// (`Conflict` otherwise: another roll won, or the policy was given an availability key).
    async fn add_policy_data_key(
        &self,
        policy_id: &str,
        next: &WrappedDataKey,
        at: i64,
    ) -> StoreResult<()>;
    /// How many of a policy's messages are at its current version, out of how many.
    async fn roll_progress(&self, policy_id: &str) -> StoreResult<(u64, u64)>;
    /// Policies (of every tenant) with messages still at an older version than the current one.
    async fn rolling_policies(&self) -> StoreResult<Vec<Policy>>;
    /// Up to `limit` of a policy's message keys at versions older than `below`.
    async fn message_keys_to_roll(
        &self,
        policy_id: &str,
        below: u32,
        limit: u32,
    ) -> StoreResult<Vec<MessageKeyRow>>;
    /// Write re-wrapped message keys at `version`, each only if it is still at the version it was
    /// read at, in one transaction; then delete the data-key versions older than `version` that no
    /// message uses any more. Returns how many messages moved.
    async fn store_rolled_keys(
        &self,
        policy_id: &str,
        version: u32,
        rolled: &[MessageKeyRow],
    ) -> StoreResult<u64>;
    /// Record a purge request (or clear it with `None`). `NotFound` if the policy was purged.
    async fn set_purge_request(
        &self,
        tenant_id: &str,
        policy_id: &str,
        request: Option<&PurgeRequest>,
    ) -> StoreResult<()>;
    /// Carry out a purge: delete every data-key version and every message key under the policy,
    /// unassign it from the tenant, and mark it purged; then checkpoint the journal so no copy of
    /// the deleted keys stays in it. `NotFound` if there is no purge request or it already ran;
    /// `Conflict` if the policy has an availability key (destroy and clear it first).
    async fn purge_policy(
        &self,
        tenant_id: &str,
        policy_id: &str,
        by: &str,
        at: i64,
    ) -> StoreResult<PurgeCount>;
    /// Assign a policy to the tenant for new messages (`None`: the tenant's own data key).
    async fn assign_policy(&self, tenant_id: &str, policy_id: Option<&str>) -> StoreResult<()>;
    /// What `address`'s new messages are sealed under. `NotFound` if the policy is not the
    /// tenant's, or is purged or being purged.
    async fn assign_sender_policy(
        &self,
        tenant_id: &str,
        address: &str,
        keys: &SenderKeys,
        at: i64,
    ) -> StoreResult<()>;
    /// What `address`'s new messages are sealed under.
    async fn sender_policy(&self, tenant_id: &str, address: &str) -> StoreResult<SenderKeys>;
    /// How many messages `address` sent, and how many of them are under `policy_id` (`None`: under
    /// the tenant's own data key).
    async fn sender_messages(
        &self,
        tenant_id: &str,
        address: &str,
        policy_id: Option<&str>,
    ) -> StoreResult<(u64, u64)>;
    /// Whether any policy not yet purged, of any tenant, names this root key.
    async fn root_key_in_use(&self, root_key: &str) -> StoreResult<bool>;
    /// Policies not purged nor being purged that have no availability key.
    async fn policies_without_availability(&self) -> StoreResult<Vec<Policy>>;
    /// Give a policy the availability key `name`, with every data-key version wrapped under it
    /// (`wrapped`, by version), in one transaction. `Conflict` if the versions changed meanwhile,
    /// it has one already, or a purge was requested.
    async fn set_policy_availability(
        &self,
        policy_id: &str,
        name: &str,
        wrapped: &[(u32, Vec<u8>)],
    ) -> StoreResult<()>;
    /// Forget a policy's availability key `name` (destroyed by a purge about to run) and every
    /// copy wrapped under it.
    async fn clear_policy_availability(&self, policy_id: &str, name: &str) -> StoreResult<()>;
    /// Recovery: put `roots` in the place of both root keys, with every data-key version
    /// re-wrapped under them (`rewrapped`, by version), and record `audit`, in one transaction.
    /// `Conflict` if the versions changed meanwhile; `NotFound` if the policy is purged or being
    /// purged.
    async fn recover_policy(
        &self,
        policy_id: &str,
        roots: &[String; 2],
        rewrapped: &[(u32, [Vec<u8>; 2])],
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// Roll the tenant back to service-managed keys: no policy for new messages, no sender
    /// assignments to policies, and a roll back under way for every message sealed under a policy
    /// until `at`.
    async fn roll_back_tenant(&self, tenant_id: &str, at: i64) -> StoreResult<()>;
    /// When the roll back of the tenant (`None`) or of one sender was asked for, while it is under
    /// way.
    async fn roll_back_requested(
        &self,
        tenant_id: &str,
        sender: Option<&str>,
    ) -> StoreResult<Option<i64>>;
    /// How many messages the roll back of the tenant (`None`) or of one sender still has to move
    /// (0 when none is under way). Those of a policy being purged count, until the purge.
    async fn roll_back_left(&self, tenant_id: &str, sender: Option<&str>) -> StoreResult<u64>;
    /// Whether any roll back is under way (on any tenant).
    async fn roll_backs_pending(&self) -> StoreResult<bool>;
    /// Policies (of every tenant; not purged nor being purged) with messages a roll back is to
    /// move.
    async fn roll_back_policies(&self) -> StoreResult<Vec<Policy>>;
    /// Up to `limit` of a policy's message keys that a roll back is to move.
    async fn message_keys_to_roll_back(
        &self,
        policy_id: &str,
        limit: u32,
    ) -> StoreResult<Vec<RollBackRow>>;
    /// Write message keys re-wrapped under their tenant's own data key at `version`, each only if
    /// it is still under the policy and version it was read at, a roll back still covers it, and
    /// the policy is not being purged, in one transaction. Returns how many moved.
    async fn store_rolled_back_keys(&self, rows: &[RollBackRow], version: u32) -> StoreResult<u64>;
    /// End the roll backs asked for before `before` that have nothing left to move. Returns how
    /// many ended.
    async fn finish_roll_backs(&self, before: i64) -> StoreResult<u64>;
}
