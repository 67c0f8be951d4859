//! What mail flow stores: each tenant's rules in order, its inbound connector, and the queue of
//! messages the SMTP listener has accepted and not yet delivered.

use async_trait::async_trait;
use sealpost_api::mail_flow::MailFlowRule;

use super::StoreResult;

/// A tenant's inbound connector.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Connector {
    /// Tenant.
    pub tenant_id: String,
    /// Allowed client networks, as written (each parses as a `Network`).
    pub remote_addresses: Vec<String>,
    /// SMTP AUTH user name, when a password is set.
    pub auth_username: Option<String>,
    /// SHA-256 of the SMTP AUTH password.
    pub auth_password_hash: Option<[u8; 32]>,
}

/// A message accepted by the SMTP listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMail {
    pub id: String,
    /// The tenant it was accepted for.
    pub tenant_id: String,
    /// When it was accepted.
    pub received_at: i64,
    /// The client's address.
    pub client: String,
    /// Envelope sender (empty for a bounce).
    pub mail_from: String,
    /// Envelope recipients.
    pub recipients: Vec<String>,
    /// The message as received.
    pub raw: Vec<u8>,
    /// What is to happen and what already has (JSON owned by `mail_flow`).
    pub plan: String,
    /// Delivery attempts so far.
    pub attempts: u32,
}

/// Storage for mail flow.
#[async_trait]
pub trait MailFlowStore {
    /// A tenant's rules, first first, each with its `priority` filled in.
    async fn mail_flow_rules(&self, tenant_id: &str) -> StoreResult<Vec<MailFlowRule>>;
    /// Create a rule (`Conflict` if the name is taken). It goes to its `priority` (1 first; beyond
    /// the end means last), else last. Names compare without regard to case.
    async fn create_mail_flow_rule(
        &self,
        tenant_id: &str,
        rule: &MailFlowRule,
        at: i64,
    ) -> StoreResult<()>;
    /// Replace a rule (`NotFound` if there is none by its name). It moves to its `priority` if it
    /// has one, else keeps its place.
    async fn replace_mail_flow_rule(
        &self,
        tenant_id: &str,
        rule: &MailFlowRule,
        at: i64,
    ) -> StoreResult<()>;
    /// Remove a rule; the ones after it move up.
    async fn delete_mail_flow_rule(&self, tenant_id: &str, name: &str) -> StoreResult<()>;

    /// A tenant's connector (empty if never set).
    async fn connector(&self, tenant_id: &str) -> StoreResult<Connector>;
    /// Every tenant's connector.
    async fn connectors(&self) -> StoreResult<Vec<Connector>>;
    /// Set the allowed networks.
    async fn put_connector_networks(
        &self,
        tenant_id: &str,
        remote_addresses: &[String],
        at: i64,
    ) -> StoreResult<()>;
    /// Set (`Some`) or remove (`None`) the SMTP AUTH user name and password hash. `Conflict` if
    /// another tenant has the user name.
    async fn put_connector_password(
        &self,
        tenant_id: &str,
        credentials: Option<(&str, [u8; 32])>,
        at: i64,
    ) -> StoreResult<()>;
    /// The connector with this SMTP AUTH user name.
    async fn connector_by_username(&self, username: &str) -> StoreResult<Connector>;

    /// Keep an accepted message, durably, before the listener answers 250.
    async fn enqueue_mail(&self, mail: &QueuedMail, next_attempt_at: i64) -> StoreResult<()>;
    /// Take the next queued message due at `now`, leased to `holder` until `lease_until` so that no
    /// other worker takes it meanwhile.
    async fn claim_mail(
        &self,
        now: i64,
        lease_until: i64,
        holder: &str,
    ) -> StoreResult<Option<QueuedMail>>;
    /// Give up every lease `holder` has (a node starting again after a crash).
    async fn release_leases(&self, holder: &str) -> StoreResult<u64>;
    /// When the next queued message is due (`None`: the queue is empty).
    async fn next_mail_due(&self) -> StoreResult<Option<i64>>;
    /// Record progress and a failed attempt; the message is tried again at `next_attempt_at`.
    /// This and the three below change the message only while `holder` holds its lease:
    /// otherwise `Conflict("lease_lost")` (it expired and another worker has the message).
    async fn retry_mail(
        &self,
        id: &str,
        holder: &str,
        plan: &str,
        next_attempt_at: i64,
        error: &str,
    ) -> StoreResult<()>;
    /// Record progress without releasing the lease.
    async fn save_mail_plan(&self, id: &str, holder: &str, plan: &str) -> StoreResult<()>;
    /// Delivered (as far as it can be): forget it, and keep the sender's non-delivery report, if
    /// any, in the outbox in the same transaction.
    async fn finish_mail(
        &self,
        id: &str,
        holder: &str,
        report: Option<&super::outbox::OutboxMail>,
    ) -> StoreResult<()>;
    /// Given up: drop the content, keep why.
    async fn fail_mail(&self, id: &str, holder: &str, error: &str) -> StoreResult<()>;
    /// How many messages wait for delivery, and how many were given up on (every tenant).
    async fn mail_queue_depth(&self) -> StoreResult<(u64, u64)>;
    /// A tenant's queue (content left out), oldest first.
    async fn queued_mail(&self, tenant_id: &str) -> StoreResult<Vec<QueueEntry>>;
}

/// A queued or failed message as an admin sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEntry {
    pub id: String,
    /// Accepted.
    pub received_at: i64,
    /// Envelope sender.
    pub mail_from: String,
    /// Envelope recipients.
    pub recipients: Vec<String>,
    /// `queued` or `failed`.
    pub state: String,
    pub attempts: u32,
    /// Next attempt.
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
}
