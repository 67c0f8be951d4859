//! Key release: the server seals a message key to a key pair that exists only in one browser tab.
//!
//! HPKE (RFC 9180) base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM:
//!
//! ```text
//! release = version (0x01) || enc (32) || HPKE ciphertext of the message key (32 + 16)    = 81 bytes
//! info    = "sealpost/envelope/release" || 0x00 || version || len8(message id) || message id
//!           || be16(len(recipient)) || recipient || len8(session) || session
//! aad     = version
//! ```
//!
//! `recipient` is the recipient's address as the server stored it (lower-cased) and `session` is a
//! public per-session value the server hands the page at sign-in (never the session cookie itself,
//! which the page cannot and must not read). A release made for one message, recipient or session
//! does not open for another.
//!
//! The browser's [`RecipientKeyPair`] is generated in WASM, never leaves it, and is zeroized when
//! dropped (the page drops it when it leaves, the lease ends or the server says revoked).

use core::fmt;

use hpke::aead::AesGcm256;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::keys::{KEY_LEN, MessageKey};
use crate::part::{FORMAT_VERSION, MessageId};

type Kem = X25519HkdfSha256;

/// Length of an X25519 public key and of the encapsulated key.
pub const PUBLIC_KEY_LEN: usize = 32;
/// Length of a sealed release.
pub const RELEASE_LEN: usize = 1 + PUBLIC_KEY_LEN + KEY_LEN + 16;
/// Longest recipient address accepted.
pub const MAX_RECIPIENT_LEN: usize = 320;
/// Longest session binding accepted.
pub const MAX_SESSION_LEN: usize = 255;

const RELEASE_LABEL: &[u8] = b"sealpost/envelope/release";

/// What a release is bound to.
#[derive(Debug, Clone, Copy)]
pub struct ReleaseBinding<'a> {
    /// The message whose key is released.
    pub message_id: &'a MessageId,
    /// The recipient's address (as stored by the server).
    pub recipient: &'a str,
    /// A public per-session value known to the page and the server.
    pub session: &'a [u8],
}

impl ReleaseBinding<'_> {
    /// The HPKE `info` string.
    pub fn info(&self) -> Result<Vec<u8>> {
        let recipient = self.recipient.as_bytes();
        if recipient.is_empty() || recipient.len() > MAX_RECIPIENT_LEN {
            return Err(Error::Malformed);
        }
        if self.session.is_empty() || self.session.len() > MAX_SESSION_LEN {
            return Err(Error::Malformed);
        }
        let message = self.message_id.as_str().as_bytes();
        let mut info = Vec::with_capacity(
            RELEASE_LABEL.len() + 8 + message.len() + recipient.len() + self.session.len(),
        );
        info.extend_from_slice(RELEASE_LABEL);
        info.push(0);
        info.push(FORMAT_VERSION);
        info.push(message.len() as u8);
        info.extend_from_slice(message);
        info.extend_from_slice(&(recipient.len() as u16).to_be_bytes());
        info.extend_from_slice(recipient);
        info.push(self.session.len() as u8);
        info.extend_from_slice(self.session);
        Ok(info)
    }
}

/// The browser tab's key pair. Zeroized on drop (by `hpke`/`x25519-dalek`).
pub struct RecipientKeyPair {
    secret: <Kem as hpke::Kem>::PrivateKey,
    public: <Kem as hpke::Kem>::PublicKey,
}

impl fmt::Debug for RecipientKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecipientKeyPair")
            .field("public", &self.public_key())
            .field("secret", &"[redacted]")
            .finish()
    }
}

impl RecipientKeyPair {
    /// A fresh key pair from the CSPRNG.
    pub fn generate() -> Self {
        let (secret, public) = Kem::gen_keypair();
        RecipientKeyPair { secret, public }
    }

    /// A key pair from a known secret. For test vectors and interop checks only: a page MUST use
    /// [`RecipientKeyPair::generate`]. A secret that is not 32 bytes is [`Error::Malformed`].
    pub fn from_secret_bytes(secret: &[u8]) -> Result<Self> {
        if secret.len() != PUBLIC_KEY_LEN {
            return Err(Error::Malformed);
        }
        let secret =
            <Kem as hpke::Kem>::PrivateKey::from_bytes(secret).map_err(|_| Error::Malformed)?;
        let public = <Kem as hpke::Kem>::sk_to_pk(&secret);
        Ok(RecipientKeyPair { secret, public })
    }

    /// The public key to send to the server with the key request.
    pub fn public_key(&self) -> [u8; PUBLIC_KEY_LEN] {
        let mut out = [0u8; PUBLIC_KEY_LEN];
        out.copy_from_slice(&self.public.to_bytes());
        out
    }

    /// Open a release made for this key pair and `binding`.
    pub fn open_release(&self, release: &[u8], binding: &ReleaseBinding<'_>) -> Result<MessageKey> {
        let (&version, _) = release.split_first().ok_or(Error::Truncated)?;
        if version != FORMAT_VERSION {
            return Err(Error::UnsupportedVersion);
        }
        if release.len() < RELEASE_LEN {
            return Err(Error::Truncated);
        }
        if release.len() > RELEASE_LEN {
            return Err(Error::Malformed);
        }
        let info = binding.info()?;
        let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&release[1..1 + PUBLIC_KEY_LEN])
            .map_err(|_| Error::Malformed)?;
        let key = hpke::single_shot_open::<AesGcm256, HkdfSha256, Kem>(
            &OpModeR::Base,
            &self.secret,
            &enc,
            &info,
            &release[1 + PUBLIC_KEY_LEN..],
            &[FORMAT_VERSION],
        )
        .map_err(|_| Error::DecryptionFailed)?;
        let key = Zeroizing::new(key);
        MessageKey::from_slice(&key).map_err(|_| Error::DecryptionFailed)
    }
}

/// Seal `key` to the page's public key (server side). A public key that is not 32 bytes, or that
/// is a low-order point, is [`Error::Malformed`].
pub fn seal_release(
    recipient_public_key: &[u8],
    key: &MessageKey,
    binding: &ReleaseBinding<'_>,
) -> Result<Vec<u8>> {
    if recipient_public_key.len() != PUBLIC_KEY_LEN {
        return Err(Error::Malformed);
    }
    let info = binding.info()?;
    let public = <Kem as hpke::Kem>::PublicKey::from_bytes(recipient_public_key)
        .map_err(|_| Error::Malformed)?;
    let (enc, ct) = hpke::single_shot_seal::<AesGcm256, HkdfSha256, Kem>(
        &OpModeS::Base,
        &public,
        &info,
        key.expose_secret(),
        &[FORMAT_VERSION],
    )
    .map_err(|_| Error::Malformed)?;
    let mut out = Vec::with_capacity(RELEASE_LEN);
    out.push(FORMAT_VERSION);
    out.extend_from_slice(&enc.to_bytes());
    out.extend_from_slice(&ct);
    if out.len() != RELEASE_LEN {
        return Err(Error::Malformed);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_opens_only_for_its_binding_and_key_pair() {
        let m1 = MessageId::parse("m1").unwrap();
        let m2 = MessageId::parse("m2").unwrap();
        let pair = RecipientKeyPair::generate();
        let key = MessageKey::generate();
        let b = ReleaseBinding {
            message_id: &m1,
            recipient: "bob@example.net",
            session: b"s1",
        };
        let release = seal_release(&pair.public_key(), &key, &b).unwrap();
        assert_eq!(release.len(), RELEASE_LEN);
        assert_eq!(
            pair.open_release(&release, &b).unwrap().expose_secret(),
            key.expose_secret()
        );

        for other in [
            ReleaseBinding {
                message_id: &m2,
                ..b
            },
            ReleaseBinding {
                recipient: "eve@example.net",
                ..b
            },
            ReleaseBinding {
                session: b"s2",
                ..b
            },
        ] {
            assert_eq!(
                pair.open_release(&release, &other).err(),
                Some(Error::DecryptionFailed)
            );
        }
        let stranger = RecipientKeyPair::generate();
        assert_eq!(
            stranger.open_release(&release, &b).err(),
            Some(Error::DecryptionFailed)
        );
    }

    #[test]
    fn bad_public_keys_are_malformed() {
        let m = MessageId::parse("m1").unwrap();
        let b = ReleaseBinding {
            message_id: &m,
            recipient: "bob@example.net",
            session: b"s",
        };
        let key = MessageKey::generate();
        assert_eq!(
            seal_release(&[9; 31], &key, &b).err(),
            Some(Error::Malformed)
        );
        // The all-zero point is of low order: the DH output would be all zeros.
        assert_eq!(
            seal_release(&[0; 32], &key, &b).err(),
            Some(Error::Malformed)
        );
    }

    #[test]
    fn debug_hides_the_secret() {
        let shown = format!("{:?}", RecipientKeyPair::generate());
        assert!(shown.contains("[redacted]"));
    }
}
