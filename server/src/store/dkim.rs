//! What DKIM signing stores: each tenant's keys, per domain and selector, the private half sealed.

use async_trait::async_trait;

use super::StoreResult;

/// A DKIM key as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct DkimKeyRecord {
    /// Tenant.
    pub tenant_id: String,
    /// The signing domain (`d=`), one of the tenant's.
    pub domain: String,
    /// The selector (`s=`): the record is at `{selector}._domainkey.{domain}`.
    pub selector: String,
    /// `ed25519` or `rsa`.
    pub algorithm: String,
    /// The private key, sealed under the server's mail key.
    pub sealed_private_key: Vec<u8>,
    /// The public key as the DNS record carries it (before base64).
    pub public_key: Vec<u8>,
    /// When it was made.
    pub created_at: i64,
}

impl std::fmt::Debug for DkimKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DkimKeyRecord")
            .field("domain", &self.domain)
            .field("selector", &self.selector)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// Storage for DKIM keys.
#[async_trait]
pub trait DkimStore: Send + Sync {
    /// Keep a new key; `Conflict("dkim_selector_taken")` if the domain has the selector already.
    async fn put_dkim_key(&self, key: &DkimKeyRecord) -> StoreResult<()>;
    /// A tenant's keys, by domain then selector; only `domain`'s when given.
    async fn dkim_keys(
        &self,
        tenant_id: &str,
        domain: Option<&str>,
    ) -> StoreResult<Vec<DkimKeyRecord>>;
    /// Remove a tenant's key (`NotFound` if it has none such).
    async fn delete_dkim_key(
        &self,
        tenant_id: &str,
        domain: &str,
        selector: &str,
    ) -> StoreResult<()>;
}
