//! The non-delivery report a sender gets when Sealpost accepted their message and could not
//! deliver it to some recipients: who, and the reason, in plain text. It is sent with an empty
//! envelope sender (RFC 5321 §4.5.5), so it can never cause another bounce.

use lettre::message::Mailbox;
use lettre::message::header::ContentType;

use super::MailError;

/// Build the report to `to` about the message with `subject`.
pub fn build(
    hostname: &str,
    to: &str,
    subject: &str,
    failures: &[(String, String)],
) -> Result<lettre::Message, MailError> {
    let bad = |e: lettre::address::AddressError| MailError::Build(e.to_string());
    let from: Mailbox = format!("Mail Delivery System <MAILER-DAEMON@{hostname}>")
        .parse()
        .map_err(bad)?;
    let to_mailbox: Mailbox = to.parse().map_err(bad)?;
    let envelope = lettre::address::Envelope::new(None, vec![to_mailbox.email.clone()])
        .map_err(|e| MailError::Build(e.to_string()))?;
    let mut body = format!(
        "Sealpost at {hostname} accepted your message \"{subject}\" but could not deliver it to:\n\n"
    );
    for (address, reason) in failures {
        body.push_str(&format!("  {address}\n    {reason}\n"));
    }
    body.push_str(
        "\nThe other recipients, if any, received it. This report was sent automatically.\n",
    );
    lettre::Message::builder()
        .from(from)
        .to(to_mailbox)
        .subject(format!("Undelivered: {subject}"))
        .header(ContentType::TEXT_PLAIN)
        .envelope(envelope)
        .body(body)
        .map_err(|e| MailError::Build(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bounce_has_an_empty_envelope_sender_and_names_each_failure() {
        let m = build(
            "mx.contoso.example",
            "alex@contoso.example",
            "Budget",
            &[("bob@fabrikam.example".into(), "550 no such user".into())],
        )
        .unwrap();
        assert!(m.envelope().from().is_none());
        let text = String::from_utf8(m.formatted()).unwrap();
        assert!(text.contains("bob@fabrikam.example"));
        assert!(text.contains("550 no such user"));
        assert!(text.contains("Subject: Undelivered: Budget"));
    }
}
