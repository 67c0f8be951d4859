//! Drafts: messages being put together through the API whose attachments arrive window by window
//! (see `services::uploads`). What is kept between the requests of one upload, so any node can
//! take the next window and a crash loses at most the window being written.

use async_trait::async_trait;

use super::StoreResult;

/// A new draft: the message's reserved id and its key, wrapped as a message's is.
#[derive(Clone, PartialEq, Eq)]
pub struct NewDraft {
    pub tenant_id: String,
    /// The id the message will have.
    pub id: String,
    /// The sender, whose data encryption policy the key is wrapped under.
    pub sender: String,
    pub wrapped_key: Vec<u8>,
    pub policy_id: Option<String>,
    pub key_version: u32,
    pub created_at: i64,
    pub expires_at: i64,
    /// Bytes per window, fixed for the draft's life.
    pub window_size: u64,
    /// A recipient's reply draft: the message it answers (the sender is the recipient). `None`
    /// for a draft begun through the admin API.
    pub answering: Option<String>,
}

impl std::fmt::Debug for NewDraft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewDraft")
            .field("tenant_id", &self.tenant_id)
            .field("id", &self.id)
            .field("key_version", &self.key_version)
            .finish_non_exhaustive()
    }
}

/// A stored draft with its attachments, in index order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDraft {
    pub draft: NewDraft,
    pub attachments: Vec<DraftAttachment>,
}

/// A new attachment of a draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDraftAttachment {
    pub name: String,
    pub content_type: String,
    pub content_id: Option<String>,
    /// Its size in bytes, declared up front.
    pub size: u64,
    /// The sealed part's prefix (version and Cobblestone header).
    pub prefix: Vec<u8>,
}

/// One attachment of a draft and how far its upload is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftAttachment {
    /// Its place among the message's attachments.
    pub index: u32,
    pub name: String,
    pub content_type: String,
    pub content_id: Option<String>,
    pub size: u64,
    pub prefix: Vec<u8>,
    /// Plaintext bytes sealed and stored.
    pub received: u64,
    /// The window being written and the SHA-256 of its plaintext.
    pub pending: Option<(u64, Vec<u8>)>,
    /// Until when a request holds the right to write it.
    pub writing_until: Option<i64>,
    /// S3: the multipart upload.
    pub upload_id: Option<String>,
    /// S3: the stored parts' ETags, in order.
    pub etags: Vec<String>,
}

impl DraftAttachment {
    /// Whether every byte is sealed and stored.
    pub fn complete(&self) -> bool {
        self.received == self.size
    }
}

/// Why a window could not be begun.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowRefusal {
    /// Another request is writing this attachment.
    Busy,
    /// The window does not start where the stored bytes end.
    OutOfOrder { received: u64 },
    /// The window was begun before with other bytes.
    Changed,
    /// The draft is being sent.
    Sending,
}

/// Which attachment of which draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttachmentRef<'a> {
    pub tenant_id: &'a str,
    pub draft_id: &'a str,
    pub index: u32,
}

/// How many drafts, and how many bytes their attachments declare, some owners may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub drafts: u32,
    pub bytes: u64,
}

/// Limits a new draft or attachment is checked against, in the same transaction that adds it.
/// A recipient's reply draft is checked against all three quotas, an admin's against the
/// tenant's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DraftLimits {
    /// Most attachments one draft may have.
    pub attachments: u32,
    /// All of a tenant's drafts.
    pub tenant: Quota,
    /// All recipients' reply drafts in a tenant.
    pub recipients: Quota,
    /// One recipient address's reply drafts in a tenant.
    pub per_recipient: Quota,
}

#[async_trait]
pub trait DraftStore: Send + Sync {
    /// Keep a new draft; `Conflict("too_many_drafts")` if the tenant (or, for a reply draft, its
    /// recipients together) has as many as the limits allow, `Conflict("too_many_recipient_drafts")`
    /// if the one recipient has.
    async fn create_draft(&self, draft: &NewDraft, limits: &DraftLimits) -> StoreResult<()>;
    /// A tenant's draft (`NotFound` if another tenant's, gone or expired at `now`).
    async fn draft(&self, tenant_id: &str, id: &str, now: i64) -> StoreResult<StoredDraft>;
    /// Add an attachment at `index`, which must be the next one (`Conflict("index_taken")` if
    /// not). `Conflict("too_many_attachments")`, `Conflict("upload_quota")` (the tenant's bytes, or its
    /// recipients' together) or `Conflict("recipient_upload_quota")` past the limits.
    async fn add_draft_attachment(
        &self,
        tenant_id: &str,
        draft_id: &str,
        attachment: &NewDraftAttachment,
        limits: &DraftLimits,
        index: u32,
        now: i64,
    ) -> StoreResult<()>;
    /// Take the right to write the window at `start` whose plaintext has SHA-256 `digest`, until
    /// `until`. Refused if another request holds it, the window is not the next one, or it was
    /// begun before with other bytes.
    async fn begin_window(
        &self,
        at: AttachmentRef<'_>,
        start: u64,
        digest: &[u8],
        until: i64,
        now: i64,
    ) -> StoreResult<Result<DraftAttachment, WindowRefusal>>;
    /// Hold a draft for one send until `until`: `Conflict("draft_sending")` if another send holds
    /// it, `Conflict("upload_busy")` if a window of it is being written. While held, nothing can be
    /// added to, written to or removed from it.
    async fn claim_draft(&self, tenant_id: &str, id: &str, until: i64, now: i64)
    -> StoreResult<()>;
    /// Let go of a draft whose send failed.
    async fn release_draft(&self, tenant_id: &str, id: &str) -> StoreResult<()>;
    /// S3: the multipart upload begun for an attachment.
    async fn set_upload_id(&self, at: AttachmentRef<'_>, upload_id: &str) -> StoreResult<()>;
    /// The window at `start` is stored: `received` becomes `end`, the stored parts' ETags (S3)
    /// become `etags`, the lease (`lease`, what [`DraftStore::begin_window`] set) ends.
    /// `Conflict("lease_lost")` if the lease is not this request's any more.
    async fn commit_window(
        &self,
        at: AttachmentRef<'_>,
        start: u64,
        end: u64,
        etags: &[String],
        lease: i64,
    ) -> StoreResult<()>;
    /// Keep a draft until at least `until` (a recipient's draft whose upload goes on).
    async fn keep_draft_until(&self, tenant_id: &str, id: &str, until: i64) -> StoreResult<()>;
    /// The recipients' reply drafts answering a message: their ids and senders.
    async fn drafts_answering(
        &self,
        tenant_id: &str,
        message_id: &str,
    ) -> StoreResult<Vec<(String, String)>>;
    /// Give up the lease of a window that failed (the pending digest stays).
    async fn end_window(&self, at: AttachmentRef<'_>) -> StoreResult<()>;
    /// Remove a draft that is not being sent at `now`; returns it as it was (for its blobs).
    /// `NotFound` if there is none, `Conflict("draft_sending")` while a send holds it.
    async fn delete_draft(&self, tenant_id: &str, id: &str, now: i64) -> StoreResult<StoredDraft>;
    /// Drafts that expired before `now` and are not being sent, oldest first.
    async fn expired_drafts(&self, now: i64, limit: u32) -> StoreResult<Vec<StoredDraft>>;
}
