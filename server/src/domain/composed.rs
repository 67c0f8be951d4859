//! A message as the sender wrote it, before sealing: addresses checked, bodies and attachments in
//! hand, total size within the limit. Built from the JSON send request or a parsed RFC 5322
//! message (see `mail::inbound`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sealpost_api::admin::{AttachmentRequest, SendMessageRequest};
use sealpost_api::rules;

use super::ValidationError;
use super::address::EmailAddress;
use super::validation::check_text;

/// Most recipients (To and Cc together) of one message.
pub const MAX_RECIPIENTS: usize = sealpost_api::rules::RECIPIENTS_MAX;
/// Longest subject, in characters (the envelope has room for that many of any script).
pub const MAX_SUBJECT_LEN: usize = sealpost_api::rules::SUBJECT_MAX;
/// Longest attachment name, in characters (at most 4 bytes each stays within the envelope's limit).
pub const MAX_ATTACHMENT_NAME_LEN: usize = sealpost_api::rules::ATTACHMENT_NAME_MAX;
/// Most attachments (the envelope's limit).
pub const MAX_ATTACHMENTS: usize = sealpost_envelope::manifest::MAX_ATTACHMENTS;

/// One attachment or inline image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposedAttachment {
    /// File name (display only; never a path).
    pub name: String,
    /// MIME type.
    pub content_type: String,
    /// For inline images: the Content-ID the HTML refers to.
    pub content_id: Option<String>,
    pub bytes: Vec<u8>,
}

/// Header recipients that are not addresses Sealpost could write to (`greg@inbucket`, a bare
/// name), kept as written so the reader sees who the message was shown as going to. Only mail
/// relayed whole has them: such a message is addressed by its envelope, not its headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DisplayOnly {
    pub to: Vec<String>,
    pub cc: Vec<String>,
}

/// Longest header recipient kept as display text, in characters.
pub const MAX_DISPLAY_ONLY_LEN: usize = 254;

impl DisplayOnly {
    /// The text as it may be shown: control characters dropped, at most
    /// [`MAX_DISPLAY_ONLY_LEN`] characters; `None` when nothing is left.
    pub fn clean(text: &str) -> Option<String> {
        let text: String = text
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_DISPLAY_ONLY_LEN)
            .collect();
        let text = text.trim();
        (!text.is_empty()).then(|| text.to_owned())
    }
}

/// A message ready to seal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposedMessage {
    /// Sender.
    pub from: EmailAddress,
    pub to: Vec<EmailAddress>,
    pub cc: Vec<EmailAddress>,
    /// Header recipients shown but not addressable (see [`DisplayOnly`]).
    pub display_only: DisplayOnly,
    pub subject: String,
    /// Plain-text body.
    pub text: Option<String>,
    /// HTML body.
    pub html: Option<String>,
    /// Attachments and inline images.
    pub attachments: Vec<ComposedAttachment>,
}

/// Why a message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    /// A field is invalid.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The content is larger than the limit.
    #[error("the message is {size} bytes; the limit is {limit}")]
    TooLarge { size: u64, limit: u64 },
}

fn parse_list(field: &str, list: &[String]) -> Result<Vec<EmailAddress>, ValidationError> {
    list.iter()
        .enumerate()
        .map(|(i, a)| EmailAddress::parse(&format!("{field}[{i}]"), a))
        .collect()
}

/// Attachments as sent in JSON, their content decoded from base64.
pub fn decode_attachments(
    list: &[AttachmentRequest],
) -> Result<Vec<ComposedAttachment>, ValidationError> {
    list.iter()
        .enumerate()
        .map(|(i, a)| {
            let bytes = BASE64.decode(a.content_base64.trim()).map_err(|_| {
                ValidationError::new(
                    format!("attachments[{i}].content_base64"),
                    "invalid_base64",
                    "The attachment's content is not valid base64.",
                )
            })?;
            let content_id = requested_content_id(
                &format!("attachments[{i}].content_id"),
                a.content_id.as_deref(),
            )?;
            Ok(ComposedAttachment {
                name: a.name.clone(),
                content_type: a
                    .content_type
                    .clone()
                    .unwrap_or_else(|| "application/octet-stream".to_owned()),
                content_id,
                bytes,
            })
        })
        .collect()
}

/// A Content-ID as a request gives it (`<…>` optional): one line of at most 255 characters, as
/// given (no spaces trimmed), then stored without its brackets.
pub fn requested_content_id(
    field: &str,
    raw: Option<&str>,
) -> Result<Option<String>, ValidationError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    if raw.chars().count() > rules::MIME_TOKEN_MAX || raw.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "invalid_content_id",
            format!(
                "A Content-ID must be one line of at most {} characters.",
                rules::MIME_TOKEN_MAX
            ),
        ));
    }
    Ok(Some(bare_content_id(raw)))
}

/// Strip the `<…>` a Content-ID is often written with.
pub fn bare_content_id(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned()
}

impl ComposedMessage {
    /// From the JSON send request (attachments already decoded from base64 by the caller, in order).
    pub fn from_request(
        req: &SendMessageRequest,
        attachments: Vec<ComposedAttachment>,
        limit: u64,
    ) -> Result<ComposedMessage, ComposeError> {
        let message = ComposedMessage {
            from: EmailAddress::parse("from", &req.from)?,
            to: parse_list("to", &req.to)?,
            cc: parse_list("cc", &req.cc)?,
            display_only: DisplayOnly::default(),
            subject: req.subject.clone(),
            text: req.text.clone(),
            html: req.html.clone(),
            attachments,
        };
        message.check(limit)?;
        Ok(message)
    }

    /// Check recipients, texts and the size limit.
    pub fn check(&self, limit: u64) -> Result<(), ComposeError> {
        if self.to.is_empty() && self.cc.is_empty() {
            return Err(ValidationError::new(
                "to",
                "no_recipients",
                "The message has no recipients.",
            )
            .into());
        }
        self.check_content(limit)
    }

    /// Check everything but the header recipients' presence: their number, texts and the size.
    pub fn check_content(&self, limit: u64) -> Result<(), ComposeError> {
        let shown = self.display_only.to.len() + self.display_only.cc.len();
        if self.to.len() + self.cc.len() + shown > MAX_RECIPIENTS {
            return Err(ValidationError::new(
                "to",
                "too_many_recipients",
                format!("A message may have at most {MAX_RECIPIENTS} recipients."),
            )
            .into());
        }
        check_subject(&self.subject)?;
        if self.attachments.len() > MAX_ATTACHMENTS {
            return Err(ValidationError::new(
                "attachments",
                "too_many_attachments",
                format!("A message may have at most {MAX_ATTACHMENTS} attachments."),
            )
            .into());
        }
        if self.text.is_none() && self.html.is_none() && self.attachments.is_empty() {
            return Err(ValidationError::new(
                "text",
                "empty_message",
                "The message has no body and no attachments.",
            )
            .into());
        }
        for (i, a) in self.attachments.iter().enumerate() {
            check_attachment(
                &format!("attachments[{i}]."),
                &a.name,
                &a.content_type,
                a.content_id.as_deref(),
            )?;
        }
        let size = self.size();
        if size > limit {
            return Err(ComposeError::TooLarge { size, limit });
        }
        Ok(())
    }

    /// Bytes of content: bodies and attachments.
    pub fn size(&self) -> u64 {
        let body =
            self.text.as_ref().map_or(0, String::len) + self.html.as_ref().map_or(0, String::len);
        let attachments: usize = self.attachments.iter().map(|a| a.bytes.len()).sum();
        (body + attachments) as u64
    }

    /// Every recipient, To then Cc, each once.
    pub fn recipients(&self) -> Vec<(&EmailAddress, &'static str)> {
        let mut seen = std::collections::BTreeSet::new();
        self.to
            .iter()
            .map(|a| (a, "to"))
            .chain(self.cc.iter().map(|a| (a, "cc")))
            .filter(|(a, _)| seen.insert(a.as_str().to_owned()))
            .collect()
    }
}

/// A subject: one line (tab allowed), at most [`MAX_SUBJECT_LEN`] characters (the sealed
/// manifest has room for that many of any script).
pub fn check_subject(subject: &str) -> Result<(), ValidationError> {
    check_text("subject", subject, MAX_SUBJECT_LEN)?;
    if subject.contains(['\r', '\n']) {
        return Err(ValidationError::new(
            "subject",
            "invalid_characters",
            "The subject must be one line.",
        ));
    }
    Ok(())
}

/// Check one attachment's name, MIME type and Content-ID; `field_prefix` names it in a refusal
/// (`attachments[2].`).
pub fn check_attachment(
    field_prefix: &str,
    name: &str,
    content_type: &str,
    content_id: Option<&str>,
) -> Result<(), ValidationError> {
    let field = format!("{field_prefix}name");
    check_text(&field, name, MAX_ATTACHMENT_NAME_LEN)?;
    if name.trim().is_empty() || name.contains(['\r', '\n']) {
        return Err(ValidationError::new(
            field,
            "invalid_name",
            "Each attachment needs a one-line name.",
        ));
    }
    let ct_ok = content_type.split_once('/').is_some_and(|(t, s)| {
        !t.is_empty() && !s.is_empty() && !content_type.chars().any(|c| c.is_control())
    });
    if let Some(cid) = content_id
        && (cid.chars().count() > rules::MIME_TOKEN_MAX || cid.chars().any(char::is_control))
    {
        return Err(ValidationError::new(
            format!("{field_prefix}content_id"),
            "invalid_content_id",
            format!(
                "A Content-ID must be one line of at most {} characters.",
                rules::MIME_TOKEN_MAX
            ),
        ));
    }
    if !ct_ok || content_type.chars().count() > rules::MIME_TOKEN_MAX {
        return Err(ValidationError::new(
            format!("{field_prefix}content_type"),
            "invalid_content_type",
            format!(
                "{:?} is not a MIME type like application/pdf.",
                content_type
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> SendMessageRequest {
        SendMessageRequest {
            from: "anna@contoso.example".into(),
            to: vec!["bob@gmail.example".into()],
            subject: "Hej".into(),
            text: Some("Hello".into()),
            ..SendMessageRequest::default()
        }
    }

    fn err(
        req: SendMessageRequest,
        attachments: Vec<ComposedAttachment>,
        limit: u64,
    ) -> ComposeError {
        ComposedMessage::from_request(&req, attachments, limit).unwrap_err()
    }

    fn field_code(e: ComposeError) -> (String, &'static str) {
        match e {
            ComposeError::Invalid(v) => (v.field, v.code),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn recipients_are_deduplicated_across_to_and_cc() {
        let mut req = request();
        req.to.push("BOB@gmail.example".into());
        req.cc.push("carl@yahoo.example".into());
        req.cc.push("bob@gmail.example".into());
        let m = ComposedMessage::from_request(&req, vec![], 100).unwrap();
        let r: Vec<_> = m
            .recipients()
            .into_iter()
            .map(|(a, k)| (a.to_string(), k))
            .collect();
        assert_eq!(
            r,
            [
                ("bob@gmail.example".to_owned(), "to"),
                ("carl@yahoo.example".to_owned(), "cc")
            ]
        );
    }

    #[test]
    fn bad_messages_are_refused_with_their_field() {
        let mut r = request();
        r.to.clear();
        assert_eq!(
            field_code(err(r, vec![], 100)),
            ("to".into(), "no_recipients")
        );
        let mut r = request();
        r.cc = vec!["ok@x.example".into(), "nope".into()];
        assert_eq!(
            field_code(err(r, vec![], 100)),
            ("cc[1]".into(), "invalid_address")
        );
        let mut r = request();
        r.subject = "a\r\nBcc: evil@x.example".into();
        assert_eq!(field_code(err(r, vec![], 100)).0, "subject");
        let mut r = request();
        r.text = None;
        assert_eq!(field_code(err(r, vec![], 100)).1, "empty_message");
        let a = ComposedAttachment {
            name: "a.pdf".into(),
            content_type: "pdf".into(),
            content_id: None,
            bytes: vec![],
        };
        assert_eq!(
            field_code(err(request(), vec![a], 100)),
            ("attachments[0].content_type".into(), "invalid_content_type")
        );
    }

    #[test]
    fn the_size_limit_counts_bodies_and_attachments() {
        let a = ComposedAttachment {
            name: "a.bin".into(),
            content_type: "application/octet-stream".into(),
            content_id: None,
            bytes: vec![0; 96],
        };
        assert!(ComposedMessage::from_request(&request(), vec![a.clone()], 101).is_ok());
        assert_eq!(
            err(request(), vec![a], 100),
            ComposeError::TooLarge {
                size: 101,
                limit: 100
            }
        );
    }

    #[test]
    fn content_ids_lose_their_angle_brackets() {
        assert_eq!(bare_content_id(" <logo@x> "), "logo@x");
    }
}
