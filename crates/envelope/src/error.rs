//! The four classes of failure, and nothing more.
//!
//! An error says *what kind* of input was refused, never *which byte* or *what key*: a caller may show
//! it to anyone. Decryption failures in particular are deliberately undistinguished (wrong key, wrong
//! context, tampered tag, swapped part all look the same), as distinguishing them would hand an attacker
//! an oracle.

/// Why the envelope refused an input. Carries no secret and no position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Error {
    /// The input is not in the format at all: a field of the wrong length, a bad encoding, a key of the
    /// wrong size, a manifest that does not parse.
    #[error("the sealed data is malformed")]
    Malformed,
    /// The input names a format version this code does not implement.
    #[error("the sealed data uses an unsupported format version")]
    UnsupportedVersion,
    /// The input ends early: a header, a chunk or the short final chunk is missing.
    #[error("the sealed data is truncated")]
    Truncated,
    /// Authentication failed: wrong key, wrong context or recipient, or modified, reordered, extended
    /// or moved ciphertext.
    #[error("decryption failed")]
    DecryptionFailed,
}

impl Error {
    /// A stable, machine-readable name for the class (used on the command line and in the API).
    pub fn class(self) -> &'static str {
        match self {
            Error::Malformed => "malformed",
            Error::UnsupportedVersion => "unsupported_version",
            Error::Truncated => "truncated",
            Error::DecryptionFailed => "decryption_failed",
        }
    }
}

/// Shorthand used across the crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;
