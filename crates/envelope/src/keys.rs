//! Key types. Every key zeroizes on drop and prints as `[redacted]` in `Debug`.
//!
//! Keys are created only from a CSPRNG ([`MessageKey::generate`]) or from exactly 32 bytes
//! ([`MessageKey::from_bytes`], used when a key is unwrapped or released). There is deliberately no
//! `Clone` on key types: a key lives in one place, and dies there.

use core::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::{Error, Result};

/// Length in bytes of every symmetric key in the format.
pub const KEY_LEN: usize = 32;

/// Fill `buf` from the operating system's CSPRNG (or `crypto.getRandomValues` in the browser).
///
/// # Panics
/// Panics if the platform has no working CSPRNG: continuing without randomness would silently
/// produce predictable keys, which is worse than stopping.
pub fn fill_random(buf: &mut [u8]) {
    #[allow(clippy::expect_used)]
    getrandom::fill(buf).expect("the platform CSPRNG must be available");
}

macro_rules! secret_key {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Zeroize, ZeroizeOnDrop)]
        pub struct $name([u8; KEY_LEN]);

        impl $name {
            /// A fresh key from the CSPRNG.
            pub fn generate() -> Self {
                let mut key = [0u8; KEY_LEN];
                fill_random(&mut key);
                let out = Self(key);
                key.zeroize();
                out
            }

            /// A key from exactly 32 bytes; any other length is [`Error::Malformed`].
            pub fn from_slice(bytes: &[u8]) -> Result<Self> {
                let arr: [u8; KEY_LEN] = bytes.try_into().map_err(|_| Error::Malformed)?;
                Ok(Self(arr))
            }

            /// A key from an array (the array is copied; zeroize your copy).
            pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
                Self(bytes)
            }

            /// The raw key bytes. Handle with care: never log them.
            pub fn expose_secret(&self) -> &[u8; KEY_LEN] {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}

secret_key!(
    /// The per-message key: 32 random bytes, one per message, never reused. It is the Cobblestone-256
    /// input key for every part of that message (parts are separated by their context).
    MessageKey
);

secret_key!(
    /// A tenant's data key: wraps message keys at rest (see [`crate::wrap`]).
    TenantDataKey
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_key_bytes() {
        let key = MessageKey::from_bytes([0xab; KEY_LEN]);
        let shown = format!("{key:?}");
        assert_eq!(shown, "MessageKey([redacted])");
        assert!(!shown.to_lowercase().contains("ab,"));
    }

    #[test]
    fn generated_keys_differ() {
        assert_ne!(
            MessageKey::generate().expose_secret(),
            MessageKey::generate().expose_secret()
        );
    }

    #[test]
    fn from_slice_rejects_wrong_lengths() {
        assert_eq!(
            MessageKey::from_slice(&[0; 31]).err(),
            Some(Error::Malformed)
        );
        assert_eq!(
            MessageKey::from_slice(&[0; 33]).err(),
            Some(Error::Malformed)
        );
        assert!(MessageKey::from_slice(&[0; 32]).is_ok());
    }
}
