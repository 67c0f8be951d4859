//! Message keys at rest: wrapped under the tenant's data key with AES-256-GCM.
//!
//! ```text
//! wrapped = version (0x01) || nonce (12, random) || AES-256-GCM(data key, nonce, aad, message key) (32 + 16)
//! aad     = "sealpost/envelope/wrap" || 0x00 || version || len8(tenant id) || tenant id
//!           || len8(message id) || message id || be32(key version)
//! ```
//!
//! A wrapped key is exactly 61 bytes. The associated data ties it to its tenant, its message and the
//! data-key version that wrapped it, so a wrapped key copied to another row (another message or
//! tenant) does not unwrap.
//!
//! # Caveats
//! Nonces are random 96-bit values: one data key MUST NOT wrap more than 2^32 message keys (NIST SP
//! 800-38D §8.3). Key roll (a new data-key version) resets the count; the server rolls long before.
//! RFC 3394/5649 key wrap is deliberately not used (see DESIGN.md: `aes-kw` accepts forged short
//! inputs, and GCM gives us associated data).

use aes_gcm::aead::{AeadInOut, KeyInit, inout::InOutBuf};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::keys::{KEY_LEN, MessageKey, TenantDataKey, fill_random};
use crate::part::{FORMAT_VERSION, MessageId};

/// Length of a wrapped message key.
pub const WRAPPED_KEY_LEN: usize = 1 + 12 + KEY_LEN + 16;
/// Longest tenant id accepted in the associated data.
pub const MAX_TENANT_ID_LEN: usize = 255;

const WRAP_LABEL: &[u8] = b"sealpost/envelope/wrap";

/// What a wrapped key is bound to.
#[derive(Debug, Clone, Copy)]
pub struct WrapBinding<'a> {
    /// The owning tenant's id.
    pub tenant_id: &'a str,
    /// The message the key belongs to.
    pub message_id: &'a MessageId,
    /// Version of the tenant data key that wraps it.
    pub key_version: u32,
}

impl WrapBinding<'_> {
    fn aad(&self) -> Result<Vec<u8>> {
        let tenant = self.tenant_id.as_bytes();
        if tenant.is_empty() || tenant.len() > MAX_TENANT_ID_LEN {
            return Err(Error::Malformed);
        }
        let message = self.message_id.as_str().as_bytes();
        let mut aad = Vec::with_capacity(WRAP_LABEL.len() + 8 + tenant.len() + message.len());
        aad.extend_from_slice(WRAP_LABEL);
        aad.push(0);
        aad.push(FORMAT_VERSION);
        aad.push(tenant.len() as u8);
        aad.extend_from_slice(tenant);
        aad.push(message.len() as u8);
        aad.extend_from_slice(message);
        aad.extend_from_slice(&self.key_version.to_be_bytes());
        Ok(aad)
    }
}

/// Wrap a 32-byte `key` under a 32-byte `kek` with associated data `aad`, in the 61-byte layout
/// above. This is the primitive under [`wrap_message_key`]; the server uses it with its own
/// associated data to wrap tenant data keys under the root key. Callers MUST bind, in `aad`, what
/// the wrapped key belongs to.
pub fn wrap_key(
    kek: &[u8; KEY_LEN],
    key: &[u8; KEY_LEN],
    aad: &[u8],
) -> Result<[u8; WRAPPED_KEY_LEN]> {
    let mut out = [0u8; WRAPPED_KEY_LEN];
    out[0] = FORMAT_VERSION;
    fill_random(&mut out[1..13]);
    let nonce = Nonce::try_from(&out[1..13]).map_err(|_| Error::Malformed)?;
    out[13..13 + KEY_LEN].copy_from_slice(key);
    let tag = Aes256Gcm::new_from_slice(kek)
        .map_err(|_| Error::Malformed)?
        .encrypt_inout_detached(&nonce, aad, InOutBuf::from(&mut out[13..13 + KEY_LEN]))
        .map_err(|_| Error::Malformed)?;
    out[13 + KEY_LEN..].copy_from_slice(&tag);
    Ok(out)
}

/// The inverse of [`wrap_key`]. The length MUST be exactly [`WRAPPED_KEY_LEN`].
pub fn unwrap_key(
    kek: &[u8; KEY_LEN],
    wrapped: &[u8],
    aad: &[u8],
) -> Result<Zeroizing<[u8; KEY_LEN]>> {
    let (&version, _) = wrapped.split_first().ok_or(Error::Truncated)?;
    if version != FORMAT_VERSION {
        return Err(Error::UnsupportedVersion);
    }
    if wrapped.len() < WRAPPED_KEY_LEN {
        return Err(Error::Truncated);
    }
    if wrapped.len() > WRAPPED_KEY_LEN {
        return Err(Error::Malformed);
    }
    let nonce = Nonce::try_from(&wrapped[1..13]).map_err(|_| Error::Malformed)?;
    let tag = Tag::try_from(&wrapped[13 + KEY_LEN..]).map_err(|_| Error::Malformed)?;
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    key.copy_from_slice(&wrapped[13..13 + KEY_LEN]);
    Aes256Gcm::new_from_slice(kek)
        .map_err(|_| Error::Malformed)?
        .decrypt_inout_detached(&nonce, aad, InOutBuf::from(&mut key[..]), &tag)
        .map_err(|_| Error::DecryptionFailed)?;
    Ok(key)
}

/// Wrap `key` for storage.
pub fn wrap_message_key(
    data_key: &TenantDataKey,
    key: &MessageKey,
    binding: &WrapBinding<'_>,
) -> Result<[u8; WRAPPED_KEY_LEN]> {
    wrap_key(
        data_key.expose_secret(),
        key.expose_secret(),
        &binding.aad()?,
    )
}

/// Unwrap a stored key. The length MUST be exactly [`WRAPPED_KEY_LEN`].
pub fn unwrap_message_key(
    data_key: &TenantDataKey,
    wrapped: &[u8],
    binding: &WrapBinding<'_>,
) -> Result<MessageKey> {
    let aad = binding.aad()?;
    let key = unwrap_key(data_key.expose_secret(), wrapped, &aad)?;
    Ok(MessageKey::from_bytes(*key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_key_unwraps_only_with_its_own_binding() {
        let dk = TenantDataKey::generate();
        let key = MessageKey::generate();
        let m1 = MessageId::parse("m1").unwrap();
        let m2 = MessageId::parse("m2").unwrap();
        let b = WrapBinding {
            tenant_id: "t1",
            message_id: &m1,
            key_version: 1,
        };
        let wrapped = wrap_message_key(&dk, &key, &b).unwrap();
        assert_eq!(wrapped.len(), 61);
        let back = unwrap_message_key(&dk, &wrapped, &b).unwrap();
        assert_eq!(back.expose_secret(), key.expose_secret());

        for other in [
            WrapBinding {
                tenant_id: "t2",
                ..b
            },
            WrapBinding {
                message_id: &m2,
                ..b
            },
            WrapBinding {
                key_version: 2,
                ..b
            },
        ] {
            assert_eq!(
                unwrap_message_key(&dk, &wrapped, &other).err(),
                Some(Error::DecryptionFailed)
            );
        }
        assert_eq!(
            unwrap_message_key(&TenantDataKey::generate(), &wrapped, &b).err(),
            Some(Error::DecryptionFailed)
        );
    }

    #[test]
    fn wrong_lengths_and_versions_are_refused() {
        let dk = TenantDataKey::generate();
        let m = MessageId::parse("m1").unwrap();
        let b = WrapBinding {
            tenant_id: "t1",
            message_id: &m,
            key_version: 1,
        };
        let wrapped = wrap_message_key(&dk, &MessageKey::generate(), &b).unwrap();
        assert_eq!(
            unwrap_message_key(&dk, &[], &b).err(),
            Some(Error::Truncated)
        );
        assert_eq!(
            unwrap_message_key(&dk, &wrapped[..8], &b).err(),
            Some(Error::Truncated)
        );
        assert_eq!(
            unwrap_message_key(&dk, &wrapped[..60], &b).err(),
            Some(Error::Truncated)
        );
        let mut long = wrapped.to_vec();
        long.push(0);
        assert_eq!(
            unwrap_message_key(&dk, &long, &b).err(),
            Some(Error::Malformed)
        );
        let mut v2 = wrapped;
        v2[0] = 2;
        assert_eq!(
            unwrap_message_key(&dk, &v2, &b).err(),
            Some(Error::UnsupportedVersion)
        );
    }
}
