//! Random identifiers and bearer secrets (admin tokens, link tokens), and how they are stored.
//!
//! A bearer secret is 32 random bytes, shown once in base64url and stored only as its SHA-256. The
//! secret has 256 bits of entropy, so an unkeyed hash is enough to make a stolen database useless
//! for signing in, and lookups by hash leak nothing an attacker could use to guess.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// The CSPRNG the envelope uses (the operating system's); panics if the platform has none.
pub use sealpost_envelope::keys::fill_random;

/// A fresh random id: 16 bytes as 32 lower-case hex digits (valid as a `MessageId`).
pub fn new_id() -> String {
    let mut bytes = [0u8; 16];
    fill_random(&mut bytes);
    hex::encode(bytes)
}

/// A new bearer secret with `prefix` (`spa_` admin, `spl_` link), and the hash to store.
pub fn new_secret(prefix: &str) -> (Zeroizing<String>, [u8; 32]) {
    let mut bytes = Zeroizing::new([0u8; 32]);
    fill_random(bytes.as_mut());
    let secret = Zeroizing::new(format!("{prefix}{}", BASE64URL.encode(bytes.as_ref())));
    let hash = hash_secret(&secret);
    (secret, hash)
}

/// A new one-time passcode: 8 digits, every code equally likely.
pub fn new_passcode() -> Zeroizing<String> {
    loop {
        let mut bytes = Zeroizing::new([0u8; 16]);
        fill_random(bytes.as_mut());
        let words: Vec<u32> = bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if let Some(code) = crate::domain::passcode::code_from_random(&words) {
            return code;
        }
    }
}

/// One random byte.
pub fn random_byte() -> u8 {
    let mut b = [0u8; 1];
    fill_random(&mut b);
    b[0]
}

/// The stored form of a bearer secret.
pub fn hash_secret(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_distinct_prefixed_and_hash_to_what_is_stored() {
        let (a, ha) = new_secret("spa_");
        let (b, _) = new_secret("spa_");
        assert_ne!(*a, *b);
        assert!(a.starts_with("spa_") && a.len() == 4 + 43);
        assert_eq!(hash_secret(&a), ha);
        assert_ne!(new_id(), new_id());
        assert!(sealpost_envelope::part::MessageId::parse(&new_id()).is_ok());
        let code = new_passcode();
        assert!(code.len() == 8 && code.bytes().all(|b| b.is_ascii_digit()));
    }
}
