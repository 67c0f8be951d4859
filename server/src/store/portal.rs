//! What the recipient side stores: passcodes and their hourly limit, sessions, server keys and the
//! portal tracking log. All of it in the database, so several nodes agree on every counter.

use async_trait::async_trait;

use super::blob_store::ByteStream;
use super::decisions::DecisionRecord;
use super::{StoreResult, StoredMessage, Tenant};
use crate::domain::portal_log::{ChainedEntry, LogEntry};
use crate::domain::session::SessionTimes;

/// One limit to count events against: at most `max` events under `key` after `since`; this
/// request adds `count` of them (one per recipient, for a forward).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateCheck {
    pub key: [u8; 32],
    pub since: i64,
    pub max: u32,
    pub count: u32,
}

/// The longest window any limit counts events in (a day); older events are removed.
pub const MAX_RATE_WINDOW: i64 = 24 * 3600;

/// The scope of a sender's passcodes and sessions: the tenant whose messages they see. It can
/// never equal a message id (32 hex digits), so a sender's session never opens a message.
pub fn sender_scope(tenant_id: &str) -> String {
    format!("sender:{tenant_id}")
}

/// The recipient a link token was made for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedRecipient {
    /// Tenant of the message.
    pub tenant_id: String,
    /// The message.
    pub message_id: String,
    /// The recipient's address.
    pub address: String,
}

/// A passcode to store (only its keyed hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPasscode {
    pub id: String,
    /// What it signs in to: a message id (a recipient), or [`sender_scope`] (a sender).
    pub scope: String,
    /// Who it is for.
    pub address: String,
    /// Keyed hash of the code.
    pub code_hash: [u8; 32],
    /// When it was made.
    pub created_at: i64,
    /// When it stops working.
    pub expires_at: i64,
    /// The mail that carries it, kept in the outbox in the same transaction (`None`: no mail is
    /// to be sent, as for an address that has never sent protected mail).
    pub mail: Option<super::outbox::OutboxMail>,
}

/// The passcode a recipient can use now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPasscode {
    pub id: String,
    /// Keyed hash of the code.
    pub code_hash: Vec<u8>,
}

/// A session to store (only the hash of its id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// SHA-256 of the cookie's secret.
    pub id_hash: [u8; 32],
    /// The public value bound into key releases.
    pub binding: String,
    /// What it is signed in to: a message id (a recipient), or [`sender_scope`] (a sender).
    pub scope: String,
    /// Who is signed in.
    pub address: String,
    /// Sign-in time.
    pub created_at: i64,
    /// "Keep me signed in".
    pub keep_signed_in: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// The public value bound into key releases.
    pub binding: String,
    /// What it is signed in to: a message id (a recipient), or [`sender_scope`] (a sender).
    pub scope: String,
    /// Who is signed in.
    pub address: String,
    pub times: SessionTimes,
}

/// A recipient's session with the message it is signed in to and that message's tenant, read
/// together (what every signed-in request needs first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionContext {
    pub session: StoredSession,
    pub message: StoredMessage,
    pub tenant: Tenant,
}

/// What to search the portal log for; every field narrows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortalLogFilter {
    /// One message.
    pub message_id: Option<String>,
    /// One recipient.
    pub recipient: Option<String>,
    /// At or after.
    pub from: Option<i64>,
    /// Before.
    pub to: Option<i64>,
    /// At most this many, newest first.
    pub limit: u32,
}

/// The recipient side of the store.
#[async_trait]
pub trait PortalStore: Send + Sync {
    /// The recipient whose link token hashes to `token_hash` (`NotFound` if none).
    async fn linked_recipient(&self, token_hash: &[u8; 32]) -> StoreResult<LinkedRecipient>;
    /// A message by id alone, for a recipient whose session already names it.
    async fn message_by_id(&self, message_id: &str) -> StoreResult<StoredMessage>;
    /// Count an event under `rate_key` unless `max` were counted since `since` (at most
    /// [`MAX_RATE_WINDOW`] before `now`). Returns `None` when counted, or the time of the oldest
    /// counted event when over the limit.
    async fn count_rate_event(
        &self,
        rate_key: &[u8; 32],
        now: i64,
        since: i64,
        max: u32,
    ) -> StoreResult<Option<i64>> {
        let counted = self
            .count_rate_events(
                &[RateCheck {
                    key: *rate_key,
                    since,
                    max,
                    count: 1,
                }],
                now,
            )
            .await?;
        Ok(counted.map(|(_, oldest)| oldest))
    }
    /// Count each check's events under its key, in one transaction, unless that would take one of
    /// them over its limit: then nothing is counted (and nothing written), and the answer is that
    /// check's index and the time of its oldest counted event.
    async fn count_rate_events(
        &self,
        checks: &[RateCheck],
        now: i64,
    ) -> StoreResult<Option<(usize, i64)>>;
    /// Store a new passcode; any earlier unused one for the same recipient stops working.
    async fn store_passcode(&self, passcode: &NewPasscode) -> StoreResult<()>;
    /// The newest passcode for `address` in `scope` that is unused, unburned and unexpired at `now`.
    async fn current_passcode(
        &self,
        scope: &str,
        address: &str,
        now: i64,
    ) -> StoreResult<Option<StoredPasscode>>;
    /// Take one try of a passcode, atomically: the try's number, or `None` if no tries are left.
    async fn claim_passcode_attempt(&self, id: &str, max: u32) -> StoreResult<Option<u32>>;
    /// Mark a passcode used; `false` if it already was (single use across nodes).
    async fn use_passcode(&self, id: &str, now: i64) -> StoreResult<bool>;
    /// Burn a passcode.
    async fn burn_passcode(&self, id: &str, now: i64) -> StoreResult<()>;

    /// Store a new session, ending `replaced` (the session the browser presented, if any).
    async fn create_session(
        &self,
        session: &NewSession,
        replaced: Option<&[u8; 32]>,
    ) -> StoreResult<()>;
    /// A session by the hash of its id.
    async fn session(&self, id_hash: &[u8; 32]) -> StoreResult<StoredSession>;
    /// A recipient's session by the hash of its id, with its message and tenant, in as few round
    /// trips as the engine allows (`NotFound` if there is no such session or it is not signed in
    /// to a message).
    async fn session_context(&self, id_hash: &[u8; 32]) -> StoreResult<SessionContext>;
    /// Record use of a session.
    async fn touch_session(&self, id_hash: &[u8; 32], now: i64) -> StoreResult<()>;
    /// End a session.
    async fn end_session(&self, id_hash: &[u8; 32]) -> StoreResult<()>;
    /// Write key decisions (see [`super::decisions`]), all in one transaction with one durable
    /// commit: each one's audit event, first open, session use and portal log entry, chained in
    /// the order given.
    async fn record_decisions(&self, records: &[DecisionRecord]) -> StoreResult<()>;
    /// A sealed part's size (only parts the database lists for this tenant's message).
    async fn part_size(&self, tenant_id: &str, message_id: &str, part: &str) -> StoreResult<u64>;
    /// `len` bytes of a part from `first`, streamed from the blob store (ask [`Self::part_size`]
    /// first: that is where the database says the part exists).
    async fn read_part_range(
        &self,
        tenant_id: &str,
        message_id: &str,
        part: &str,
        first: u64,
        len: u64,
    ) -> StoreResult<ByteStream>;

    /// A server key by name, wrapped by the root key.
    async fn server_key(&self, name: &str) -> StoreResult<Option<Vec<u8>>>;
    /// Store a wrapped server key unless one exists; returns the one stored (first writer wins).
    async fn put_server_key(&self, name: &str, wrapped: &[u8], at: i64) -> StoreResult<Vec<u8>>;

    /// Append to a tenant's portal log, chained to its previous entry.
    async fn append_portal_log(&self, entry: &LogEntry) -> StoreResult<ChainedEntry>;
    /// Search a tenant's portal log, newest first.
    async fn portal_log(
        &self,
        tenant_id: &str,
        filter: &PortalLogFilter,
    ) -> StoreResult<Vec<ChainedEntry>>;
    /// The last entry pruned from a tenant's log by retention: its sequence number and hash.
    async fn portal_log_checkpoint(&self, tenant_id: &str) -> StoreResult<Option<(u64, [u8; 32])>>;
    /// Every tenant that keeps its portal log for a limited number of days, with the days.
    async fn portal_log_retention(&self) -> StoreResult<Vec<(String, u32)>>;
    /// Remove a tenant's oldest entries written before `before`, as a prefix of the chain, and
    /// keep the last one's sequence number and hash as the checkpoint (all at once). Returns how
    /// many went.
    async fn prune_portal_log(&self, tenant_id: &str, before: i64, now: i64) -> StoreResult<u64>;
    /// Up to `limit` entries after `after_seq`, oldest first (for verifying the chain).
    async fn portal_log_after(
        &self,
        tenant_id: &str,
        after_seq: u64,
        limit: u32,
    ) -> StoreResult<Vec<ChainedEntry>>;
}
