//! The manifest: what a sealed message contains, sealed as its own part ([`Part::Manifest`]).
//!
//! The manifest is UTF-8 JSON with a fixed set of fields (unknown fields are refused). It carries the
//! subject and addresses as the sender wrote them, and for each body and attachment its type, name
//! and exact size, so the portal can list attachments before fetching any, and so an opened part
//! whose length differs from its manifest entry is refused. The server never sees it in the clear
//! after sealing.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::keys::MessageKey;
use crate::part::{MessageId, Part, open_part, seal_part};

/// Largest sealed manifest plaintext accepted (a guard for parsers, far above real use).
pub const MAX_MANIFEST_LEN: usize = 1 << 20;
/// Most attachments one message may carry.
pub const MAX_ATTACHMENTS: usize = 250;
/// Most bodies one message may carry (text and HTML alternatives).
pub const MAX_BODIES: usize = 4;
/// Longest subject, name, address or content type, in bytes: room for 998 characters (RFC 5322's
/// line, which the API counts in characters) of any script, at most four bytes each.
pub const MAX_FIELD_LEN: usize = 4 * 998;

/// One body of the message, e.g. `text/plain; charset=utf-8` or `text/html; charset=utf-8`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyEntry {
    /// MIME type with parameters.
    pub content_type: String,
    /// Exact plaintext size in bytes.
    pub size: u64,
}

/// One attachment of the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentEntry {
    /// File name as the sender gave it (display only; never used as a path).
    pub name: String,
    /// MIME type.
    pub content_type: String,
    /// Exact plaintext size in bytes.
    pub size: u64,
    /// For an inline image: the `Content-ID` (without `<>`) an HTML body refers to as `cid:…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_id: Option<String>,
}

/// The sealed description of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Subject line.
    pub subject: String,
    /// Sender address as written in the original message.
    pub from: String,
    /// `To` addresses.
    pub to: Vec<String>,
    /// `Cc` addresses.
    #[serde(default)]
    pub cc: Vec<String>,
    /// When the sender sent it, RFC 3339.
    pub sent_at: String,
    /// Bodies, in the order of their parts ([`Part::Body`] `n` is `bodies[n]`).
    pub bodies: Vec<BodyEntry>,
    /// Attachments, in the order of their parts ([`Part::Attachment`] `n` is `attachments[n]`).
    #[serde(default)]
    pub attachments: Vec<AttachmentEntry>,
}

fn field_ok(s: &str) -> bool {
    s.len() <= MAX_FIELD_LEN && !s.chars().any(|c| c.is_control() && c != '\t')
}

impl Manifest {
    /// Check limits and that no field carries control characters (which could forge headers or
    /// confuse a display). Returns [`Error::Malformed`] on any violation.
    pub fn validate(&self) -> Result<()> {
        let addresses = core::iter::once(&self.from).chain(&self.to).chain(&self.cc);
        let texts_ok = field_ok(&self.subject)
            && field_ok(&self.sent_at)
            && addresses.into_iter().all(|a| field_ok(a))
            && self.bodies.iter().all(|b| field_ok(&b.content_type))
            && self.attachments.iter().all(|a| {
                field_ok(&a.name)
                    && !a.name.is_empty()
                    && field_ok(&a.content_type)
                    && a.content_id.as_deref().is_none_or(field_ok)
            });
        let counts_ok = !self.bodies.is_empty()
            && self.bodies.len() <= MAX_BODIES
            && self.attachments.len() <= MAX_ATTACHMENTS;
        if texts_ok && counts_ok {
            Ok(())
        } else {
            Err(Error::Malformed)
        }
    }

    /// Encode as the JSON bytes that get sealed. Validates first.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        self.validate()?;
        serde_json::to_vec(self).map_err(|_| Error::Malformed)
    }

    /// Parse and validate the JSON bytes of an opened manifest.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_MANIFEST_LEN {
            return Err(Error::Malformed);
        }
        let manifest: Manifest = serde_json::from_slice(bytes).map_err(|_| Error::Malformed)?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// The size the manifest promises for `part`, or [`Error::Malformed`] if it has no such part.
    pub fn size_of(&self, part: Part) -> Result<u64> {
        let entry = match part {
            Part::Manifest => None,
            Part::Body(n) => self.bodies.get(n as usize).map(|b| b.size),
            Part::Attachment(n) => self.attachments.get(n as usize).map(|a| a.size),
        };
        entry.ok_or(Error::Malformed)
    }

    /// Check that an opened part has exactly the size the manifest promised.
    pub fn check_size(&self, part: Part, opened_len: u64) -> Result<()> {
        if self.size_of(part)? == opened_len {
            Ok(())
        } else {
            Err(Error::Malformed)
        }
    }
}

/// Seal the manifest of `message`.
pub fn seal_manifest(
    key: &MessageKey,
    message: &MessageId,
    manifest: &Manifest,
) -> Result<Vec<u8>> {
    let bytes = manifest.to_bytes()?;
    seal_part(key, message, Part::Manifest, &bytes)
}

/// Open and parse the manifest of `message`.
pub fn open_manifest(key: &MessageKey, message: &MessageId, sealed: &[u8]) -> Result<Manifest> {
    let bytes = open_part(key, message, Part::Manifest, sealed)?;
    Manifest::from_bytes(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Manifest {
        Manifest {
            subject: "Quarterly numbers".into(),
            from: "alice@example.com".into(),
            to: vec!["bob@example.net".into()],
            cc: vec![],
            sent_at: "2026-11-21T10:00:00Z".into(),
            bodies: vec![BodyEntry {
                content_type: "text/plain; charset=utf-8".into(),
                size: 5,
            }],
            attachments: vec![AttachmentEntry {
                name: "q3.pdf".into(),
                content_type: "application/pdf".into(),
                size: 1234,
                content_id: None,
            }],
        }
    }

    #[test]
    fn manifest_round_trips_through_sealing() {
        let key = MessageKey::generate();
        let m = MessageId::parse("m1").unwrap();
        let sealed = seal_manifest(&key, &m, &sample()).unwrap();
        assert_eq!(open_manifest(&key, &m, &sealed).unwrap(), sample());
    }

    #[test]
    fn unknown_fields_and_bad_values_are_malformed() {
        let mut v: serde_json::Value = serde_json::to_value(sample()).unwrap();
        v["extra"] = 1.into();
        assert_eq!(
            Manifest::from_bytes(v.to_string().as_bytes()),
            Err(Error::Malformed)
        );
        let mut bad = sample();
        bad.subject = "Hi\r\nBcc: eve@example.org".into();
        assert_eq!(bad.to_bytes(), Err(Error::Malformed));
        let mut empty = sample();
        empty.bodies.clear();
        assert_eq!(empty.to_bytes(), Err(Error::Malformed));
        assert_eq!(Manifest::from_bytes(b"not json"), Err(Error::Malformed));
    }

    #[test]
    fn part_sizes_are_checked_against_the_manifest() {
        let m = sample();
        assert!(m.check_size(Part::Attachment(0), 1234).is_ok());
        assert_eq!(
            m.check_size(Part::Attachment(0), 1233),
            Err(Error::Malformed)
        );
        assert_eq!(m.check_size(Part::Attachment(1), 0), Err(Error::Malformed));
        assert_eq!(m.check_size(Part::Manifest, 0), Err(Error::Malformed));
    }
}
