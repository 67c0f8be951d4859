//! The key hierarchy above message keys: a root key from a key provider wraps each tenant's data
//! key, and the data key wraps each message key (see `sealpost_envelope::wrap`).
//!
//! The provider is behind [`RootKeyProvider`] so an HSM (PKCS#11) or a second root key can follow
//! (Customer Key); today's provider is a local key file, created on first run with mode 0600.
//! Whoever can read that file and the database can read every message: the security model says so.

mod local_file;

pub use local_file::LocalKeyFile;

use aes_gcm::aead::{AeadInOut, KeyInit, inout::InOutBuf};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use sealpost_envelope::TenantDataKey;
use sealpost_envelope::keys::KEY_LEN;
use zeroize::Zeroizing;

use crate::secrets::fill_random;

/// Format byte of a wrapped tenant data key.
const WRAP_VERSION: u8 = 0x01;
/// version ‖ nonce ‖ encrypted key ‖ tag.
pub const WRAPPED_DATA_KEY_LEN: usize = 1 + 12 + KEY_LEN + 16;
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
}

fn aad(tenant_id: &str, version: u32) -> Vec<u8> {
    let mut aad = Vec::with_capacity(LABEL.len() + 6 + tenant_id.len());
    aad.extend_from_slice(LABEL);
    aad.extend_from_slice(&(tenant_id.len() as u16).to_be_bytes());
    aad.extend_from_slice(tenant_id.as_bytes());
    aad.extend_from_slice(&version.to_be_bytes());
    aad
}

/// AES-256-GCM wrap under a 32-byte root key, binding tenant and version as associated data. A
/// random 96-bit nonce is safe here: a root key wraps at most a few keys per tenant.
pub(crate) fn wrap_with(
    root: &[u8; KEY_LEN],
    tenant_id: &str,
    version: u32,
    key: &TenantDataKey,
) -> Result<Vec<u8>, KeyError> {
    let cipher = Aes256Gcm::new_from_slice(root).map_err(|_| KeyError::Corrupt)?;
    let mut out = vec![0u8; WRAPPED_DATA_KEY_LEN];
    out[0] = WRAP_VERSION;
    fill_random(&mut out[1..13]);
    let nonce = Nonce::try_from(&out[1..13]).map_err(|_| KeyError::Corrupt)?;
    out[13..13 + KEY_LEN].copy_from_slice(key.expose_secret());
    let tag = cipher
        .encrypt_inout_detached(
            &nonce,
            &aad(tenant_id, version),
            InOutBuf::from(&mut out[13..13 + KEY_LEN]),
        )
        .map_err(|_| KeyError::Corrupt)?;
    out[13 + KEY_LEN..].copy_from_slice(&tag);
    Ok(out)
}

/// The inverse of [`wrap_with`]; the length must be exactly [`WRAPPED_DATA_KEY_LEN`].
pub(crate) fn unwrap_with(
    root: &[u8; KEY_LEN],
    tenant_id: &str,
    version: u32,
    wrapped: &[u8],
) -> Result<TenantDataKey, KeyError> {
    if wrapped.len() != WRAPPED_DATA_KEY_LEN || wrapped[0] != WRAP_VERSION {
        return Err(KeyError::Corrupt);
    }
    let cipher = Aes256Gcm::new_from_slice(root).map_err(|_| KeyError::Corrupt)?;
    let nonce = Nonce::try_from(&wrapped[1..13]).map_err(|_| KeyError::Corrupt)?;
    let tag = Tag::try_from(&wrapped[13 + KEY_LEN..]).map_err(|_| KeyError::Corrupt)?;
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    key.copy_from_slice(&wrapped[13..13 + KEY_LEN]);
    cipher
        .decrypt_inout_detached(
            &nonce,
            &aad(tenant_id, version),
            InOutBuf::from(&mut key[..]),
            &tag,
        )
        .map_err(|_| KeyError::Corrupt)?;
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
