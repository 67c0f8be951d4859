//! One-time passcodes: how they look, how long they live, how many tries and codes a recipient
//! gets, and how they are stored (a keyed hash, compared in constant time).
//!
//! The code itself comes from the CSPRNG ([`crate::secrets::new_passcode`]); everything here is a
//! pure function of its inputs.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Digits in a passcode.
pub const DIGITS: usize = 8;
/// How long a passcode is valid, in seconds.
pub const VALID_FOR: i64 = 15 * 60;
/// Wrong tries after which a passcode is burned.
pub const MAX_ATTEMPTS: u32 = 5;
/// Passcodes a recipient may request for one message per [`RATE_WINDOW`].
pub const MAX_PER_WINDOW: u32 = 5;
/// The rate-limit window, in seconds.
pub const RATE_WINDOW: i64 = 60 * 60;

/// The key passcodes are hashed with. It never leaves the server; a stolen database without it
/// cannot be used to test the 10^8 possible codes offline.
pub struct PasscodeKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for PasscodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasscodeKey([redacted])")
    }
}

impl PasscodeKey {
    /// From its bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> PasscodeKey {
        PasscodeKey(Zeroizing::new(bytes))
    }

    /// The stored form of `code` for this message and recipient: HMAC-SHA256 over a labelled,
    /// length-prefixed encoding, so a hash is only valid for the recipient it was made for.
    pub fn hash(&self, message_id: &str, address: &str, code: &str) -> [u8; 32] {
        #[allow(clippy::expect_used)]
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.0.as_ref())
            .expect("HMAC accepts keys of any length");
        mac.update(b"sealpost/passcode/v1\0");
        for field in [message_id, address, code] {
            mac.update(&(field.len() as u32).to_be_bytes());
            mac.update(field.as_bytes());
        }
        mac.finalize().into_bytes().into()
    }

    /// Whether `code` is the one `stored` was made from, in constant time.
    pub fn verify(&self, message_id: &str, address: &str, code: &str, stored: &[u8]) -> bool {
        let computed = self.hash(message_id, address, code);
        computed.ct_eq(stored).into()
    }
}

/// A passcode from 4 random 32-bit words: each is used only if below the largest multiple of 10^8
/// that fits, so every code is equally likely. `None` (probability about 10^-11) means "draw again".
pub fn code_from_random(words: &[u32]) -> Option<Zeroizing<String>> {
    const SPACE: u32 = 100_000_000;
    let limit = u32::MAX - (u32::MAX % SPACE);
    words
        .iter()
        .find(|w| **w < limit)
        .map(|w| Zeroizing::new(format!("{:08}", w % SPACE)))
}

/// What the recipient typed, as a code: spaces and hyphens dropped, exactly [`DIGITS`] ASCII digits.
pub fn normalize(input: &str) -> Option<Zeroizing<String>> {
    let code: Zeroizing<String> = Zeroizing::new(
        input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect(),
    );
    (code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// Words for the reference shown in the email and on screen: short, common, unambiguous.
const WORDS: [&str; 64] = [
    "amber", "anchor", "apple", "arrow", "aspen", "badge", "basil", "beacon", "birch", "bison",
    "cedar", "cherry", "cloud", "clover", "comet", "coral", "daisy", "delta", "ember", "falcon",
    "fern", "fjord", "forest", "garnet", "ginger", "glacier", "harbor", "hazel", "heron", "indigo",
    "island", "jasper", "juniper", "kestrel", "lagoon", "lantern", "lemon", "lilac", "maple",
    "meadow", "mint", "nectar", "olive", "orchid", "otter", "pebble", "pepper", "pine", "plum",
    "quartz", "raven", "river", "saffron", "salmon", "spruce", "summit", "thistle", "tulip",
    "velvet", "violet", "walnut", "willow", "yarrow", "zephyr",
];

/// The reference word for a random byte (64 words: the low 6 bits, no bias).
pub fn reference_word(random: u8) -> &'static str {
    WORDS[usize::from(random) % WORDS.len()]
}

/// The key the hourly limit is counted under: one per recipient of a message when the link is
/// real, one per client address when it is not (so made-up tokens cannot add rows without end).
/// Both are hashes, so the table looks the same either way.
pub fn rate_key(linked: Option<(&str, &str)>, client_addr: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    match linked {
        Some((message_id, address)) => {
            h.update(b"sealpost/passcode-rate/recipient\0");
            h.update((message_id.len() as u32).to_be_bytes());
            h.update(message_id.as_bytes());
            h.update(address.as_bytes());
        }
        None => {
            h.update(b"sealpost/passcode-rate/unknown-link\0");
            h.update(client_addr.as_bytes());
        }
    }
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_eight_digits_and_biased_words_are_skipped() {
        assert_eq!(code_from_random(&[0]).unwrap().as_str(), "00000000");
        assert_eq!(code_from_random(&[123]).unwrap().as_str(), "00000123");
        assert_eq!(
            code_from_random(&[4_199_999_999]).unwrap().as_str(),
            "99999999"
        );
        // 4_200_000_000 and above would make low codes more likely: skipped.
        assert_eq!(
            code_from_random(&[4_200_000_000, 7]).unwrap().as_str(),
            "00000007"
        );
        assert!(code_from_random(&[u32::MAX, u32::MAX]).is_none());
    }

    #[test]
    fn typed_codes_are_normalized_or_refused() {
        assert_eq!(normalize(" 1234 5678 ").unwrap().as_str(), "12345678");
        assert_eq!(normalize("1234-5678").unwrap().as_str(), "12345678");
        for bad in ["1234567", "123456789", "1234567a", "", "１２３４５６７８"] {
            assert!(normalize(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn a_hash_verifies_only_for_its_code_message_recipient_and_key() {
        let key = PasscodeKey::from_bytes([1; 32]);
        let stored = key.hash("m1", "a@example.net", "12345678");
        assert!(key.verify("m1", "a@example.net", "12345678", &stored));
        assert!(!key.verify("m1", "a@example.net", "12345679", &stored));
        assert!(!key.verify("m2", "a@example.net", "12345678", &stored));
        assert!(!key.verify("m1", "b@example.net", "12345678", &stored));
        assert!(!key.verify("m1", "a@example.net", "12345678", &stored[..31]));
        let other = PasscodeKey::from_bytes([2; 32]);
        assert!(!other.verify("m1", "a@example.net", "12345678", &stored));
        // Length prefixes: moving a character between fields changes the hash.
        assert_ne!(key.hash("m1a", "b", "1"), key.hash("m1", "ab", "1"));
        assert_eq!(format!("{key:?}"), "PasscodeKey([redacted])");
    }

    #[test]
    fn reference_words_cover_every_byte_and_rate_keys_separate_kinds() {
        assert_eq!(reference_word(0), reference_word(64));
        assert!((0..=255u8).all(|b| !reference_word(b).is_empty()));
        assert_ne!(rate_key(Some(("m", "a@x.net")), "ip"), rate_key(None, "ip"));
        assert_eq!(
            rate_key(Some(("m", "a@x.net")), "ip"),
            rate_key(Some(("m", "a@x.net")), "other ip")
        );
        assert_ne!(rate_key(None, "192.0.2.1"), rate_key(None, "192.0.2.2"));
    }
}
