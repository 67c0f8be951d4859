//! Sealing a composed message per the envelope spec: a fresh message key, the manifest, one part
//! per body (text first, then HTML) and one per attachment. And the reverse for the manifest, which
//! the status report reads for the subject (the database never holds it in the clear).

use sealpost_envelope::{
    AttachmentEntry, BodyEntry, Manifest, MessageId, MessageKey, Part, seal_manifest, seal_part,
};

use crate::clock::rfc3339;
use crate::domain::composed::ComposedMessage;
use crate::store::SealedPart;

/// Seal `composed` as message `id` sent at `sent_at`. Returns the new key and the sealed parts.
pub fn seal(
    id: &MessageId,
    composed: &ComposedMessage,
    sent_at: i64,
) -> sealpost_envelope::Result<(MessageKey, Vec<SealedPart>)> {
    seal_with(MessageKey::generate(), id, composed, sent_at, &[])
}

/// Seal `composed` under `key` as message `id`, whose first attachments, `uploaded`, are already
/// sealed under that key (a draft's): they are listed first in the manifest, and `composed`'s
/// own attachments follow them.
pub fn seal_with(
    key: MessageKey,
    id: &MessageId,
    composed: &ComposedMessage,
    sent_at: i64,
    uploaded: &[AttachmentEntry],
) -> sealpost_envelope::Result<(MessageKey, Vec<SealedPart>)> {
    let mut bodies: Vec<(&str, &[u8])> = Vec::new();
    if let Some(t) = &composed.text {
        bodies.push(("text/plain; charset=utf-8", t.as_bytes()));
    }
    if let Some(h) = &composed.html {
        bodies.push(("text/html; charset=utf-8", h.as_bytes()));
    }
    if bodies.is_empty() {
        // The format needs one body; an attachments-only message gets an empty text body.
        bodies.push(("text/plain; charset=utf-8", b""));
    }
    let manifest = Manifest {
        subject: composed.subject.clone(),
        from: composed.from.to_string(),
        to: (composed.to.iter().map(ToString::to_string))
            .chain(composed.display_only.to.iter().cloned())
            .collect(),
        cc: (composed.cc.iter().map(ToString::to_string))
            .chain(composed.display_only.cc.iter().cloned())
            .collect(),
        sent_at: rfc3339(sent_at),
        bodies: bodies
            .iter()
            .map(|(ct, b)| BodyEntry {
                content_type: (*ct).to_owned(),
                size: b.len() as u64,
            })
            .collect(),
        attachments: (uploaded.iter().cloned())
            .chain(composed.attachments.iter().map(|a| AttachmentEntry {
                name: a.name.clone(),
                content_type: a.content_type.clone(),
                size: a.bytes.len() as u64,
                content_id: a.content_id.clone(),
            }))
            .collect(),
    };
    let mut parts = vec![SealedPart {
        name: Part::Manifest.name(),
        bytes: seal_manifest(&key, id, &manifest)?,
    }];
    for (n, (_, bytes)) in (0u32..).zip(&bodies) {
        parts.push(SealedPart {
            name: Part::Body(n).name(),
            bytes: seal_part(&key, id, Part::Body(n), bytes)?,
        });
    }
    let first = u32::try_from(uploaded.len()).map_err(|_| sealpost_envelope::Error::Malformed)?;
    for (n, a) in (first..).zip(&composed.attachments) {
        parts.push(SealedPart {
            name: Part::Attachment(n).name(),
            bytes: seal_part(&key, id, Part::Attachment(n), &a.bytes)?,
        });
    }
    Ok((key, parts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::address::EmailAddress;
    use crate::domain::composed::ComposedAttachment;
    use sealpost_envelope::{open_manifest, open_part};

    #[test]
    fn every_part_opens_with_the_key_and_only_in_its_place() {
        let composed = ComposedMessage {
            from: EmailAddress::parse("from", "anna@contoso.example").unwrap(),
            to: vec![EmailAddress::parse("to", "bob@gmail.example").unwrap()],
            cc: vec![],
            display_only: Default::default(),
            subject: "Lön för november".into(),
            text: Some("Hej Bob".into()),
            html: Some("<p>Hej Bob</p>".into()),
            attachments: vec![ComposedAttachment {
                name: "lön.pdf".into(),
                content_type: "application/pdf".into(),
                content_id: None,
                bytes: vec![7; 40_000],
            }],
        };
        let id = MessageId::parse("abc").unwrap();
        let (key, parts) = seal(&id, &composed, 0).unwrap();
        let names: Vec<_> = parts.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["manifest", "body-0", "body-1", "attachment-0"]);
        let m = open_manifest(&key, &id, &parts[0].bytes).unwrap();
        assert_eq!(m.subject, "Lön för november");
        assert_eq!(m.bodies[1].content_type, "text/html; charset=utf-8");
        assert_eq!(m.attachments[0].size, 40_000);
        assert_eq!(
            open_part(&key, &id, Part::Body(0), &parts[1].bytes).unwrap(),
            b"Hej Bob"
        );
        assert!(open_part(&key, &id, Part::Body(1), &parts[1].bytes).is_err());
        assert_eq!(
            open_part(&key, &id, Part::Attachment(0), &parts[3].bytes)
                .unwrap()
                .len(),
            40_000
        );
    }
}
