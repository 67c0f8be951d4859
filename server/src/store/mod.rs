//! Storage behind one trait, so SQLite (the embedded default) and PostgreSQL (several nodes) can
//! both serve the routes unchanged. Sealed parts live in a blob directory ([`blobs`]); everything
//! else, including everything several nodes must agree on, lives in the database.
//!
//! Every query that reads or changes tenant data takes the tenant id, so one tenant's token can
//! never reach another tenant's rows: a wrong tenant looks exactly like a missing row.

pub mod blob_store;
pub mod blobs;
pub mod decisions;
pub mod dkim;
pub mod drafts;
pub mod key_policies;
pub mod mail_flow;
pub mod outbox;
pub mod portal;
pub mod postgres;
pub mod records;
pub mod s3;
pub mod sign_in;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use sealpost_api::admin::BrandingTemplateView;

use crate::domain::access::Revocation;
use crate::domain::address::Domain;
use crate::domain::rights::RightsTemplate;

pub use dkim::DkimStore;
pub use drafts::DraftStore;
pub use key_policies::KeyPolicyStore;
pub use mail_flow::MailFlowStore;
pub use outbox::OutboxStore;
pub use portal::PortalStore;
pub use sign_in::SignInStore;

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such row (or it belongs to another tenant).
    #[error("not found")]
    NotFound,
    /// A unique value is already taken; the text names which.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The database failed.
    #[error("database: {0}")]
    Database(String),
    /// The blob directory failed.
    #[error("blob store: {0}")]
    Blob(String),
}

/// Shorthand.
pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: String,
    /// Display name.
    pub name: String,
    /// Its mail domains.
    pub domains: Vec<Domain>,
    /// Whether notices show the subject.
    pub show_subject_in_notice: bool,
    /// Whether the portal tracking log is kept.
    pub portal_tracking_logs: bool,
    /// Its data key, wrapped by the root key.
    pub wrapped_data_key: Vec<u8>,
    /// Version of the data key (bound into every wrap).
    pub key_version: u32,
    /// When it was created.
    pub created_at: i64,
    /// The data encryption policy new messages are sealed under; `None`: the data key above.
    pub data_encryption_policy_id: Option<String>,
    /// Days the portal log keeps entries; `None`: for ever.
    pub portal_log_retention_days: Option<u32>,
}

/// A domain a tenant asked for, to be proven with a DNS TXT record holding its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainClaim {
    pub domain: Domain,
    /// The random value the TXT record must hold.
    pub token: String,
    pub created_at: i64,
}

/// An admin token's record (never the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminToken {
    pub id: String,
    /// Tenant it is scoped to.
    pub tenant_id: String,
    pub label: String,
    /// When it was created.
    pub created_at: i64,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
}

/// Whether a write makes something new or replaces what is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Put {
    /// Make it; `Conflict` if the name is taken.
    Create,
    /// Replace it; `NotFound` if there is none.
    Replace,
}

/// A sealed part to store, named by [`sealpost_envelope::Part::name`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedPart {
    /// `manifest`, `body-N` or `attachment-N`.
    pub name: String,
    /// The sealed bytes.
    pub bytes: Vec<u8>,
}

/// A recipient to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecipient {
    pub address: String,
    /// `to` or `cc`.
    pub kind: &'static str,
    /// SHA-256 of the recipient's link token.
    pub link_token_hash: [u8; 32],
}

/// A part sealed into the blob store before its message was written (a draft's attachment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedPart {
    /// `attachment-N`.
    pub name: String,
    /// Its sealed length.
    pub size: u64,
}

/// Everything about a message, stored together or not at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    pub sender: String,
    /// Branding template name.
    pub branding_template: String,
    /// Rights template name.
    pub rights_template: String,
    /// The rights, stored form.
    pub rights: String,
    /// The message key, wrapped by the tenant data key.
    pub wrapped_key: Vec<u8>,
    /// The data encryption policy whose data key wraps it; `None`: the tenant's own data key.
    pub policy_id: Option<String>,
    /// Data key version used.
    pub key_version: u32,
    /// Plaintext size in bytes.
    pub size: u64,
    /// When it was sent.
    pub created_at: i64,
    /// When access ends.
    pub expires_at: Option<i64>,
    /// External recipients.
    pub recipients: Vec<NewRecipient>,
    /// Sealed manifest, bodies and attachments.
    pub parts: Vec<SealedPart>,
    /// Sent from a draft: the draft goes with the write, and its attachments, already sealed in
    /// the blob store under the message's id, become parts of the message.
    pub draft: Option<Vec<UploadedPart>>,
    /// The message this one answers or forwards.
    pub parent: Option<ParentLink>,
    /// Each recipient's notice, kept in the outbox in the same transaction, due at `created_at`.
    pub notices: Vec<outbox::OutboxMail>,
}

/// How a reply or forward relates to the message it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// A reply to the sender.
    Reply,
    /// A reply to the sender and the other recipients.
    ReplyAll,
    /// A forward to new recipients; revoked with its parent.
    Forward,
}

impl Relation {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Reply => "reply",
            Relation::ReplyAll => "reply_all",
            Relation::Forward => "forward",
        }
    }

    /// From the stored name.
    pub fn parse(s: &str) -> Option<Relation> {
        match s {
            "reply" => Some(Relation::Reply),
            "reply_all" => Some(Relation::ReplyAll),
            "forward" => Some(Relation::Forward),
            _ => None,
        }
    }
}

/// The message a reply or forward came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentLink {
    /// Its id.
    pub message_id: String,
    /// How this one relates to it.
    pub relation: Relation,
}

/// How a recipient's notice is going.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeState {
    /// In the outbox, not tried yet.
    Queued {
        /// Since when.
        since: i64,
    },
    /// Handed to the relay.
    Sent {
        /// When.
        at: i64,
    },
    /// Tried and not taken yet (the relay down, or a 4xx); it will be tried again.
    Deferred {
        /// When it was last tried.
        at: i64,
        /// The relay's words.
        reason: String,
        /// The next try.
        next_attempt_at: i64,
    },
    /// Refused for good (a 5xx), or given up on after days of trying.
    Bounced {
        /// When.
        at: i64,
        /// The relay's words, or why it was given up on.
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecipient {
    pub address: String,
    /// `to` or `cc`.
    pub kind: String,
    pub notice: NoticeState,
    /// First opened.
    pub opened_at: Option<i64>,
    /// Access removed for this recipient.
    pub revocation: Option<Revocation>,
}

/// A stored message (without its parts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    pub sender: String,
    /// Branding template name.
    pub branding_template: String,
    /// Rights template name.
    pub rights_template: String,
    /// Rights, stored form.
    pub rights: String,
    /// Wrapped message key (empty once its policy was purged).
    pub wrapped_key: Vec<u8>,
    /// The data encryption policy whose data key wraps it; `None`: the tenant's own data key.
    pub policy_id: Option<String>,
    /// Data key version.
    pub key_version: u32,
    /// Plaintext size.
    pub size: u64,
    /// Sent.
    pub created_at: i64,
    /// Access ends.
    pub expires_at: Option<i64>,
    /// Access removed for everyone.
    pub revocation: Option<Revocation>,
    /// Recipients, in the order they were stored.
    pub recipients: Vec<StoredRecipient>,
    /// The message this one answers or forwards.
    pub parent: Option<ParentLink>,
}

/// One admin audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Tenant.
    pub tenant_id: String,
    /// When.
    pub at: i64,
    /// Who (token label).
    pub actor: String,
    /// What, e.g. `message.revoked`.
    pub action: String,
    /// To what.
    pub target: String,
}

/// A mail kept by the development mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevMail {
    /// Id (assigned when stored).
    pub id: i64,
    /// When.
    pub at: i64,
    /// Envelope sender.
    pub from: String,
    /// Envelope recipients, comma-separated.
    pub to: String,
    pub subject: String,
    /// The whole RFC 5322 message.
    pub raw: Vec<u8>,
}

/// Tenants and their admin tokens.
#[async_trait]
pub trait TenantStore: Send + Sync {
    /// Create a tenant with its domains, default branding template and first admin token.
    async fn create_tenant(
        &self,
        tenant: &Tenant,
        first_token: &AdminToken,
        token_hash: &[u8; 32],
    ) -> StoreResult<()>;
    /// A tenant by id.
    async fn tenant(&self, tenant_id: &str) -> StoreResult<Tenant>;
    /// The tenant a mail domain belongs to.
    async fn tenant_by_domain(&self, domain: &str) -> StoreResult<Tenant>;
    /// Change a tenant's name, domains and notice setting.
    async fn update_tenant(&self, tenant: &Tenant) -> StoreResult<()>;
    /// The domains a tenant has claimed but not proven, oldest first.
    async fn domain_claims(&self, tenant_id: &str) -> StoreResult<Vec<DomainClaim>>;
    /// Replace a tenant's unproven claims (a claim kept keeps its token).
    async fn replace_domain_claims(
        &self,
        tenant_id: &str,
        claims: &[DomainClaim],
    ) -> StoreResult<()>;
    /// A claim proven: it becomes one of the tenant's domains (`Conflict("domain_taken")` if another
    /// tenant has it), all at once.
    async fn prove_domain(&self, tenant_id: &str, domain: &str) -> StoreResult<()>;

    /// Add an admin token.
    async fn create_token(&self, token: &AdminToken, token_hash: &[u8; 32]) -> StoreResult<()>;
    /// The unrevoked token with this hash.
    async fn active_token(&self, token_hash: &[u8; 32]) -> StoreResult<AdminToken>;
    /// A tenant's tokens.
    async fn tokens(&self, tenant_id: &str) -> StoreResult<Vec<AdminToken>>;
    /// Revoke a token; `NotFound` if the tenant has no such token.
    async fn revoke_token(&self, tenant_id: &str, token_id: &str, at: i64) -> StoreResult<()>;
}

/// Branding templates and the tenant's own rights templates.
#[async_trait]
pub trait TemplateStore: Send + Sync {
    /// A tenant's branding templates, by name.
    async fn branding_templates(&self, tenant_id: &str) -> StoreResult<Vec<BrandingTemplateView>>;
    /// One branding template (names compare without regard to case).
    async fn branding_template(
        &self,
        tenant_id: &str,
        name: &str,
    ) -> StoreResult<BrandingTemplateView>;
    /// Create a branding template (`Conflict` if one has its name).
    async fn create_branding_template(
        &self,
        tenant_id: &str,
        view: &BrandingTemplateView,
        at: i64,
    ) -> StoreResult<()>;
    /// Replace a branding template (`NotFound` if there is none by its name).
    async fn replace_branding_template(
        &self,
        tenant_id: &str,
        view: &BrandingTemplateView,
        at: i64,
    ) -> StoreResult<()>;
    /// Remove a branding template.
    async fn delete_branding_template(&self, tenant_id: &str, name: &str) -> StoreResult<()>;

    /// A tenant's own rights templates (built-ins are not stored).
    async fn rights_templates(&self, tenant_id: &str) -> StoreResult<Vec<RightsTemplate>>;
    /// One of the tenant's own rights templates.
    async fn rights_template(&self, tenant_id: &str, name: &str) -> StoreResult<RightsTemplate>;
    /// Create one of the tenant's rights templates (`Conflict` if one has its name).
    async fn create_rights_template(
        &self,
        tenant_id: &str,
        template: &RightsTemplate,
        at: i64,
    ) -> StoreResult<()>;
    /// Replace one (`NotFound` if there is none by its name).
    async fn replace_rights_template(
        &self,
        tenant_id: &str,
        template: &RightsTemplate,
        at: i64,
    ) -> StoreResult<()>;
    /// Remove one.
    async fn delete_rights_template(&self, tenant_id: &str, name: &str) -> StoreResult<()>;
}

/// Sealed messages, their parts, notices and revocations.
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Store a whole message: metadata, wrapped key, recipients and every sealed part, or nothing.
    async fn store_message(&self, message: &NewMessage) -> StoreResult<()>;
    /// A tenant's message.
    async fn message(&self, tenant_id: &str, message_id: &str) -> StoreResult<StoredMessage>;
    /// A tenant's messages, newest first.
    async fn messages(&self, tenant_id: &str, limit: u32) -> StoreResult<Vec<StoredMessage>>;
    /// The messages one sender of a tenant sent, newest first.
    async fn messages_by_sender(
        &self,
        tenant_id: &str,
        sender: &str,
        limit: u32,
    ) -> StoreResult<Vec<StoredMessage>>;
    /// Remove a message that nothing answers or forwards (the self-test's own): its row,
    /// recipients, passcodes, sessions and sealed parts. `NotFound` if there is none.
    async fn delete_message(&self, tenant_id: &str, message_id: &str) -> StoreResult<()>;
    /// One sealed part of a tenant's message.
    async fn read_part(
        &self,
        tenant_id: &str,
        message_id: &str,
        part: &str,
    ) -> StoreResult<Vec<u8>>;
    /// Revoke a message for everyone, and every forward made from it (at any depth). Returns
    /// `false` if it already was (the first revocation stays).
    async fn revoke_message(
        &self,
        tenant_id: &str,
        message_id: &str,
        revocation: &Revocation,
    ) -> StoreResult<bool>;
    /// Revoke one recipient, and every forward they made from the message (at any depth). Returns
    /// `false` if they already were.
    async fn revoke_recipient(
        &self,
        tenant_id: &str,
        message_id: &str,
        address: &str,
        revocation: &Revocation,
    ) -> StoreResult<bool>;
}

/// Each tenant's audit log.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Append to the audit log.
    async fn audit(&self, event: &AuditEvent) -> StoreResult<()>;
    /// A tenant's audit log, newest first.
    async fn audit_events(&self, tenant_id: &str, limit: u32) -> StoreResult<Vec<AuditEvent>>;
}

/// The development mailbox (only used when it is on).
#[async_trait]
pub trait DevMailboxStore: Send + Sync {
    /// Keep a mail in the development mailbox; returns its id.
    async fn dev_mailbox_put(&self, mail: &DevMail) -> StoreResult<i64>;
    /// The development mailbox, newest first.
    async fn dev_mailbox_list(&self, limit: u32) -> StoreResult<Vec<DevMail>>;
    /// One mail from the development mailbox.
    async fn dev_mailbox_get(&self, id: i64) -> StoreResult<DevMail>;
}

/// Everything the server stores, one trait per section (callers through `dyn Store` reach every
/// section's methods without importing it).
#[async_trait]
pub trait Store:
    TenantStore
    + TemplateStore
    + MessageStore
    + AuditStore
    + DevMailboxStore
    + PortalStore
    + MailFlowStore
    + KeyPolicyStore
    + OutboxStore
    + DkimStore
    + SignInStore
    + DraftStore
    + Send
    + Sync
    + std::fmt::Debug
    + 'static
{
    /// Whether the database answers and the blob store is there (for `/readyz`); the error says
    /// which is not.
    async fn check_ready(&self) -> StoreResult<()>;
    /// Where sealed parts are kept (for uploads, written window by window).
    fn blobs(&self) -> &blob_store::BlobStore;
}

/// Open the configured database, with sealed parts in `blobs`: PostgreSQL when `database_url` is
/// set, otherwise SQLite in the data directory.
pub async fn open(
    config: &crate::config::Config,
    blobs: blob_store::BlobStore,
) -> StoreResult<Arc<dyn Store>> {
    Ok(match &config.database_url {
        Some(url) => {
            Arc::new(postgres::PgStore::open(&url.0, config.database_max_connections, blobs).await?)
        }
        None => Arc::new(sqlite::SqliteStore::open_with(&config.data_dir, blobs).await?),
    })
}
