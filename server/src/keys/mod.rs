//! The key hierarchy above message keys: a root key from a key provider wraps each tenant's data
//! key, and the data key wraps each message key (see `sealpost_envelope::wrap`).
//!
//! A provider is behind [`RootKeyProvider`]: the built-in `local` root key is a key file created on
//! first run with mode 0600 (whoever can read it and the database can read every message not under
//! a data encryption policy); more root keys, in files or in PKCS#11 tokens, are configured by name
//! in [`RootKeys`] for data encryption policies to use, and the operator's [`AvailabilityKeys`] (one
//! per policy) hold a third copy of each policy's data key for an explicit recovery.

mod availability;
pub mod cache;
mod local_file;
pub mod pkcs11;
mod ring;

pub use crate::config::root_keys::{
    AvailabilitySpec, LOCAL, PinSource, Pkcs11Location, RootKeySpec, valid_name,
};
pub use availability::AvailabilityKeys;
pub use local_file::LocalKeyFile;
pub use pkcs11::Pkcs11RootKey;
pub use ring::{RootKeyInfo, RootKeys};

use sealpost_envelope::TenantDataKey;
use sealpost_envelope::keys::KEY_LEN;
use sealpost_envelope::wrap::{WRAPPED_KEY_LEN, unwrap_key, wrap_key};

/// A wrapped tenant data key: the envelope's key-wrap layout (version ‖ nonce ‖ key ‖ tag).
pub const WRAPPED_DATA_KEY_LEN: usize = WRAPPED_KEY_LEN;
const LABEL: &[u8] = b"sealpost/tenant-data-key/v1";

/// Why a key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key provider is missing or unreadable.
    #[error("the root key is not available: {0}")]
    Unavailable(String),
    /// The wrapped key is damaged or belongs to another tenant or version.
    #[error("the wrapped key does not open with this root key")]
    Corrupt,
}

/// Wraps and unwraps tenant data keys.
pub trait RootKeyProvider: Send + Sync + std::fmt::Debug {
    /// Wrap `key` for `tenant_id` at `version`.
    fn wrap(&self, tenant_id: &str, version: u32, key: &TenantDataKey)
    -> Result<Vec<u8>, KeyError>;
    /// Unwrap what [`RootKeyProvider::wrap`] produced for the same tenant and version.
    fn unwrap(
        &self,
        tenant_id: &str,
        version: u32,
        wrapped: &[u8],
    ) -> Result<TenantDataKey, KeyError>;
    /// Where the key is, for operators (never key material).
    fn describe(&self) -> String;
    /// Destroy the key itself, where the provider allows: `Ok(false)` if it does not.
    fn destroy(&self) -> Result<bool, KeyError> {
        Ok(false)
    }
}

fn aad(tenant_id: &str, version: u32) -> Vec<u8> {
    let mut aad = Vec::with_capacity(LABEL.len() + 6 + tenant_id.len());
    aad.extend_from_slice(LABEL);
    aad.extend_from_slice(&(tenant_id.len() as u16).to_be_bytes());
    aad.extend_from_slice(tenant_id.as_bytes());
    aad.extend_from_slice(&version.to_be_bytes());
    aad
}

/// Wrap under a 32-byte root key with the envelope's AES-256-GCM key wrap, binding tenant and
/// version as associated data. A random 96-bit nonce is safe here: a root key wraps at most a few
/// keys per tenant.
pub(crate) fn wrap_with(
    root: &[u8; KEY_LEN],
    tenant_id: &str,
    version: u32,
    key: &TenantDataKey,
) -> Result<Vec<u8>, KeyError> {
    wrap_key(root, key.expose_secret(), &aad(tenant_id, version))
        .map(|w| w.to_vec())
        .map_err(|_| KeyError::Corrupt)
}

/// The inverse of [`wrap_with`].
pub(crate) fn unwrap_with(
    root: &[u8; KEY_LEN],
    tenant_id: &str,
    version: u32,
    wrapped: &[u8],
) -> Result<TenantDataKey, KeyError> {
    let key = unwrap_key(root, wrapped, &aad(tenant_id, version)).map_err(|_| KeyError::Corrupt)?;
    Ok(TenantDataKey::from_bytes(*key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_data_key_unwraps_only_for_its_tenant_version_and_root() {
        let root = [7u8; KEY_LEN];
        let key = TenantDataKey::generate();
        let w = wrap_with(&root, "t1", 1, &key).unwrap();
        assert_eq!(w.len(), WRAPPED_DATA_KEY_LEN);
        let back = unwrap_with(&root, "t1", 1, &w).unwrap();
        assert_eq!(back.expose_secret(), key.expose_secret());
        assert!(unwrap_with(&root, "t2", 1, &w).is_err());
        assert!(unwrap_with(&root, "t1", 2, &w).is_err());
        assert!(unwrap_with(&[8u8; KEY_LEN], "t1", 1, &w).is_err());
        let mut flipped = w.clone();
        flipped[20] ^= 1;
        assert!(unwrap_with(&root, "t1", 1, &flipped).is_err());
        assert!(unwrap_with(&root, "t1", 1, &w[..w.len() - 1]).is_err());
        let mut longer = w.clone();
        longer.push(0);
        assert!(unwrap_with(&root, "t1", 1, &longer).is_err());
    }
}
