//! # sealpost-envelope
//!
//! The sealed-message format and the key-release crypto of Sealpost. The same code seals on the
//! server and opens in the browser (compiled to WebAssembly). Pure and synchronous: no I/O, no
//! clocks, no HTTP. `SPEC.md` beside this crate is the normative description; this code implements
//! it and the tests in `tests/` hold the two together.
//!
//! - [`chunked`]: Cobblestone-256 (C2SP chunked-encryption with SHA-512 and AES-256-GCM), streaming
//!   and random access, bounded memory.
//! - [`part`]: a sealed part = version byte + Cobblestone-256, with a context binding the message id
//!   and the part's position.
//! - [`manifest`]: the sealed list of what a message contains.
//! - [`wrap`]: message keys at rest under a tenant data key (AES-256-GCM with associated data).
//! - [`release`]: HPKE sealing of a message key to a browser tab's key pair.
//!
//! Every error is one of four classes ([`Error`]) and never carries key material or plaintext. Key
//! types zeroize on drop and print as `[redacted]`.

pub mod chunked;
pub mod error;
pub mod keys;
pub mod manifest;
pub mod part;
pub mod release;
pub mod wrap;

pub use error::{Error, Result};
pub use keys::{MessageKey, TenantDataKey};
pub use manifest::{AttachmentEntry, BodyEntry, Manifest, open_manifest, seal_manifest};
pub use part::{
    FORMAT_VERSION, MessageId, Part, PartOpener, PartReader, PartSealer, open_part, seal_part,
};
pub use release::{RecipientKeyPair, ReleaseBinding, seal_release};
pub use wrap::{WrapBinding, unwrap_message_key, wrap_message_key};
