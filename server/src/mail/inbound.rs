//! A message handed to us whole (RFC 5322, as a mail server would relay it), read with a real MIME
//! parser into a [`ComposedMessage`]: the first plain-text and first HTML body as written (never a
//! conversion of one into the other), and every other part — attachments, inline images, nested
//! messages — as an attachment with its name, type and Content-ID. Encoded words, charsets and
//! transfer encodings are decoded, so non-ASCII names and bodies arrive intact.

use mail_parser::{MimeHeaders, PartType};

use crate::domain::ValidationError;
use crate::domain::address::EmailAddress;
use crate::domain::composed::{
    ComposeError, ComposedAttachment, ComposedMessage, DisplayOnly, bare_content_id,
};

/// A header's recipients: those that are addresses, and the rest as display text (an address like
/// `greg@inbucket` that has no domain we could send to, or a name without an address). Neither
/// kind blocks the message: relayed mail is addressed by its envelope.
fn recipients(list: Option<&mail_parser::Address<'_>>) -> (Vec<EmailAddress>, Vec<String>) {
    let mut addresses = Vec::new();
    let mut shown = Vec::new();
    for a in list.into_iter().flat_map(|l| l.iter()) {
        match a.address().map(|s| EmailAddress::parse("to", s)) {
            Some(Ok(address)) => addresses.push(address),
            Some(Err(_)) => shown.extend(a.address().and_then(DisplayOnly::clean)),
            None => shown.extend(a.name().and_then(DisplayOnly::clean)),
        }
    }
    (addresses, shown)
}

fn content_type(part: &mail_parser::MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
            None => ct.ctype().to_ascii_lowercase(),
        },
        None if part.is_text() => "text/plain".to_owned(),
        None => "application/octet-stream".to_owned(),
    }
}

/// Parse a raw message. `limit` is the content size limit, as for JSON sends.
pub fn parse(raw: &[u8], limit: u64) -> Result<ComposedMessage, ComposeError> {
    let composed = read(raw)?;
    composed.check(limit)?;
    Ok(composed)
}

/// Read a raw message without checking it has To or Cc recipients (mail relayed over SMTP is
/// addressed by its envelope) or its size.
pub fn read(raw: &[u8]) -> Result<ComposedMessage, ComposeError> {
    let invalid = || {
        ValidationError::new(
            "message",
            "invalid_mime",
            "The body is not an RFC 5322 message with From and To headers.",
        )
    };
    let message = super::parse::message(raw).ok_or_else(invalid)?;
    let from = message
        .from()
        .and_then(|l| l.iter().find_map(|a| a.address()))
        .ok_or_else(invalid)?;
    let from = EmailAddress::parse("from", from)?;
    let (to, to_shown) = recipients(message.to());
    let (cc, cc_shown) = recipients(message.cc());
    let text_id = message.text_body.iter().copied().find(|id| {
        matches!(
            message.parts.get(*id as usize).map(|p| &p.body),
            Some(PartType::Text(_))
        )
    });
    let html_id = message.html_body.iter().copied().find(|id| {
        matches!(
            message.parts.get(*id as usize).map(|p| &p.body),
            Some(PartType::Html(_))
        )
    });
    let body_of = |id: Option<u32>| {
        id.and_then(|id| message.parts.get(id as usize))
            .and_then(|p| p.text_contents())
            .map(str::to_owned)
    };
    let mut attachments = Vec::new();
    for (n, part) in message.attachments().enumerate() {
        let (bytes, ctype) = match &part.body {
            PartType::Message(nested) => {
                (nested.raw_message().to_vec(), "message/rfc822".to_owned())
            }
            _ => (part.contents().to_vec(), content_type(part)),
        };
        let name = part
            .attachment_name()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("attachment-{}", n + 1));
        attachments.push(ComposedAttachment {
            name,
            content_type: ctype,
            content_id: part.content_id().map(bare_content_id),
            bytes,
        });
    }
    let composed = ComposedMessage {
        from,
        to,
        cc,
        display_only: DisplayOnly {
            to: to_shown,
            cc: cc_shown,
        },
        subject: message.subject().unwrap_or_default().to_owned(),
        text: body_of(text_id),
        html: body_of(html_id),
        attachments,
    };
    Ok(composed)
}
