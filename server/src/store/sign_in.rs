//! What the other sign-in choices store: the first half of a ceremony waiting for its second
//! (social sign-in, passkey registration and passkey sign-in), and recipients' passkeys.

use async_trait::async_trait;

use super::{AuditEvent, StoreResult};

/// Which ceremony a challenge belongs to (a challenge is only ever taken by its own kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeKind {
    /// A social sign-in waiting for the provider to send the browser back.
    Social,
    /// A passkey being made for a signed-in recipient.
    PasskeyRegistration,
    /// A passkey sign-in on a link.
    PasskeySignIn,
}

impl ChallengeKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ChallengeKind::Social => "social",
            ChallengeKind::PasskeyRegistration => "passkey_registration",
            ChallengeKind::PasskeySignIn => "passkey_sign_in",
        }
    }
}

/// A ceremony's first half.
#[derive(Clone, PartialEq, Eq)]
pub struct ChallengeRecord {
    /// SHA-256 of its id (the id travels only with the browser).
    pub id_hash: [u8; 32],
    pub kind: ChallengeKind,
    /// The message it signs in to.
    pub scope: String,
    /// The recipient's address.
    pub address: String,
    /// SHA-256 of what must come back with it: the browser's flow cookie (social), the session id
    /// (passkey registration) or the link token (passkey sign-in).
    pub bound_to: [u8; 32],
    /// The identity provider (social only).
    pub provider: Option<String>,
    /// What the second half needs (JSON): the nonce and PKCE verifier, or webauthn-rs's state.
    pub ceremony: String,
    /// "Keep me signed in" as asked for when the ceremony began.
    pub keep_signed_in: bool,
    pub created_at: i64,
    pub expires_at: i64,
}

impl std::fmt::Debug for ChallengeRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChallengeRecord")
            .field("kind", &self.kind)
            .field("scope", &self.scope)
            .field("provider", &self.provider)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A recipient's passkey.
#[derive(Clone, PartialEq, Eq)]
pub struct PasskeyRecord {
    /// Its id (shown to the recipient and the admin).
    pub id: String,
    pub tenant_id: String,
    /// The address it signs in for, within the tenant.
    pub address: String,
    /// The WebAuthn user handle: random, one per address per tenant.
    pub user_handle: Vec<u8>,
    /// The authenticator's credential id.
    pub credential_id: Vec<u8>,
    /// webauthn-rs's `Passkey` (public key and counter), JSON.
    pub credential: String,
    /// What the recipient sees it as (the browser and system it was made on).
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

impl std::fmt::Debug for PasskeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasskeyRecord")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Storage for sign-in ceremonies and passkeys.
#[async_trait]
pub trait SignInStore: Send + Sync {
    /// Keep a ceremony's first half (and forget every expired one).
    async fn put_challenge(&self, challenge: &ChallengeRecord) -> StoreResult<()>;
    /// Take a ceremony's first half: removed as it is read, so at most one request ever gets it.
    /// `NotFound` if there is none of `kind` with that id, or it expired before `now`.
    async fn take_challenge(
        &self,
        id_hash: &[u8; 32],
        kind: ChallengeKind,
        now: i64,
    ) -> StoreResult<ChallengeRecord>;
    /// Keep a new passkey, with `audit` recording it (both or neither), unless its address already
    /// has `max` in the tenant (`Conflict("too_many_passkeys")`) or the credential is kept already
    /// (`Conflict("passkey_exists")`).
    async fn put_passkey(
        &self,
        passkey: &PasskeyRecord,
        max: u32,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// A tenant's passkeys, oldest first; only `address`'s when given.
    async fn passkeys(
        &self,
        tenant_id: &str,
        address: Option<&str>,
    ) -> StoreResult<Vec<PasskeyRecord>>;
    /// Record a sign-in with a passkey: its new counter (in `credential`) and when.
    async fn passkey_used(&self, id: &str, credential: &str, at: i64) -> StoreResult<()>;
    /// Remove a tenant's passkey (only `address`'s when given), with `audit` recording it (both or
    /// neither); `NotFound` if there is none such.
    async fn delete_passkey(
        &self,
        tenant_id: &str,
        id: &str,
        address: Option<&str>,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
}
