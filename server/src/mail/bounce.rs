//! The non-delivery report a sender gets when Sealpost accepted their message and could not
//! deliver it to some recipients, as RFC 3464 has it: `multipart/report` with a sentence a person
//! reads, a `message/delivery-status` part a program reads (one block per recipient, with the
//! status code and the relay's words), and the original message's headers. It is sent with an
//! empty envelope sender (RFC 5321 §4.5.5), so it can never cause another bounce.

use mail_builder::MessageBuilder;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::date::Date;
use mail_builder::mime::{BodyPart, MimePart};

use super::MailError;

/// What a report is about.
#[derive(Debug)]
pub struct Report<'a> {
    /// This server's name (`Reporting-MTA`).
    pub hostname: &'a str,
    /// The domain the report comes from (`MAILER-DAEMON@` there): the sender's own, where it is
    /// the tenant's, so the report is signed and aligned with the tenant's DKIM key.
    pub from_domain: &'a str,
    /// The original envelope sender, who gets the report.
    pub to: &'a str,
    /// The original message, whose headers go back with the report.
    pub original: &'a [u8],
    /// When Sealpost accepted it.
    pub arrived_at: i64,
    /// Now.
    pub at: i64,
    /// Each recipient it could not be delivered to, with why.
    pub failures: &'a [(String, String)],
    /// For the report's `Message-ID`.
    pub id: &'a str,
}

/// The enhanced status code a relay gave in `reason` (`5.1.1`, or `4.4.2` made permanent), if any.
fn relay_code(reason: &str) -> Option<String> {
    reason
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .find(|t| {
            let parts: Vec<&str> = t.split('.').collect();
            parts.len() == 3
                && (parts[0] == "5" || parts[0] == "4")
                && parts[1..]
                    .iter()
                    .all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(|s| format!("5{}", &s[1..]))
}

/// The status code for a failure: the enhanced code the relay gave (`5.1.1`), else `5.0.0`.
pub fn status(reason: &str) -> String {
    relay_code(reason).unwrap_or_else(|| "5.0.0".to_owned())
}

/// The `Diagnostic-Code` field's value: the relay's words as `smtp;`, Sealpost's own as
/// `X-Sealpost;` (RFC 3464 §2.3.6), in US-ASCII as the delivery status must be.
fn diagnostic(reason: &str) -> String {
    let kind = if relay_code(reason).is_some() {
        "smtp"
    } else {
        "X-Sealpost"
    };
    format!("{kind}; {}", ascii_line(reason))
}

/// One line: a header field value must not break the report.
fn line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// One line of US-ASCII: anything else becomes `?`.
fn ascii_line(s: &str) -> String {
    line(s)
        .chars()
        .map(|c| if c.is_ascii() { c } else { '?' })
        .collect()
}

/// The original message's header section (everything before the first blank line).
fn headers_of(raw: &[u8]) -> &[u8] {
    raw.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(raw, |end| &raw[..end + 2])
}

/// Build the report, whole: the envelope is an empty sender and `report.to`.
pub fn build(report: &Report<'_>) -> Result<Vec<u8>, MailError> {
    let subject = crate::mail::parse::headers(report.original)
        .and_then(|m| m.subject().map(str::to_owned))
        .unwrap_or_default();
    let hostname = line(report.hostname);
    let mut human = format!(
        "Sealpost at {hostname} accepted your message \"{}\" but could not deliver it to:\n\n",
        line(&subject)
    );
    for (address, reason) in report.failures {
        human.push_str(&format!("  {address}\n    {}\n", line(reason)));
    }
    human.push_str(
        "\nThe other recipients, if any, received it. This report was sent automatically.\n",
    );
    let mut status_text = format!(
        "Reporting-MTA: dns; {}\r\nArrival-Date: {}\r\n",
        ascii_line(&hostname),
        Date::new(report.arrived_at).to_rfc822()
    );
    for (address, reason) in report.failures {
        status_text.push_str(&format!(
            "\r\nFinal-Recipient: rfc822; {}\r\nAction: failed\r\nStatus: {}\r\n\
             Diagnostic-Code: {}\r\nLast-Attempt-Date: {}\r\n",
            ascii_line(address),
            status(reason),
            diagnostic(reason),
            Date::new(report.at).to_rfc822()
        ));
    }
    let original = headers_of(report.original);
    let body = MimePart::new(
        ContentType::new("multipart/report").attribute("report-type", "delivery-status"),
        BodyPart::Multipart(vec![
            MimePart::new("text/plain", human),
            MimePart::new(
                ContentType::new("message/delivery-status"),
                BodyPart::Binary(status_text.into_bytes().into()),
            )
            .transfer_encoding("7bit"),
            MimePart::new(
                ContentType::new("text/rfc822-headers"),
                BodyPart::Binary(original.into()),
            )
            .transfer_encoding(if original.is_ascii() { "7bit" } else { "8bit" }),
        ]),
    );
    MessageBuilder::new()
        .from((
            "Mail Delivery System".to_owned(),
            format!("MAILER-DAEMON@{}", line(report.from_domain)),
        ))
        .to(report.to)
        .subject(format!("Undelivered: {}", line(&subject)))
        .date(Date::new(report.at))
        .message_id(format!("{}@{hostname}", report.id))
        .header(
            "Auto-Submitted",
            mail_builder::headers::raw::Raw::new("auto-replied"),
        )
        .body(body)
        .write_to_vec()
        .map_err(|e| MailError::Build(e.to_string()))
}

#[cfg(test)]
mod tests {
    use mail_parser::MimeHeaders;

    use super::*;

    fn report() -> Vec<u8> {
        let original = b"From: alex@contoso.example\r\nTo: bob@fabrikam.example\r\n\
                         Subject: Budget\r\nMessage-ID: <orig-1@contoso.example>\r\n\r\nsecret body\r\n";
        build(&Report {
            hostname: "mx.contoso.example",
            from_domain: "contoso.example",
            to: "alex@contoso.example",
            original,
            arrived_at: 1_700_000_000,
            at: 1_700_000_100,
            failures: &[(
                "bob@fabrikam.example".into(),
                "550 5.1.1 no such user".into(),
            )],
            id: "r1",
        })
        .unwrap()
    }

    /// The report, as text, about `failures` of a one-line original.
    fn text_about(failures: &[(String, String)]) -> String {
        let raw = build(&Report {
            hostname: "mx.contoso.example",
            from_domain: "contoso.example",
            to: "alex@contoso.example",
            original: b"Subject: x\r\n\r\n",
            arrived_at: 0,
            at: 0,
            failures,
            id: "r2",
        })
        .unwrap();
        String::from_utf8(raw).unwrap()
    }

    #[test]
    fn a_report_is_multipart_report_with_a_status_per_recipient_and_the_original_headers() {
        let raw = report();
        let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
        let ct = m.content_type().unwrap();
        assert_eq!(ct.ctype(), "multipart");
        assert_eq!(ct.subtype(), Some("report"));
        assert_eq!(ct.attribute("report-type"), Some("delivery-status"));
        assert_eq!(m.subject(), Some("Undelivered: Budget"));
        assert_eq!(
            m.from().unwrap().first().unwrap().address(),
            Some("MAILER-DAEMON@contoso.example")
        );
        let text = String::from_utf8(raw.clone()).unwrap();
        assert!(text.contains("Content-Type: message/delivery-status"));
        assert!(text.contains("Reporting-MTA: dns; mx.contoso.example\r\n"));
        assert!(text.contains("Final-Recipient: rfc822; bob@fabrikam.example\r\n"));
        assert!(text.contains("Action: failed\r\nStatus: 5.1.1\r\n"));
        assert!(text.contains("Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n"));
        assert!(text.contains("Content-Type: text/rfc822-headers"));
        assert!(text.contains("Message-ID: <orig-1@contoso.example>"));
        assert!(!text.contains("secret body"), "the body does not go back");
    }

    #[test]
    fn a_status_is_the_relays_enhanced_code_as_a_permanent_one_or_5_0_0() {
        assert_eq!(status("550 5.1.1 no such user"), "5.1.1");
        assert_eq!(status("gave up: 421 4.4.2 timeout"), "5.4.2");
        assert_eq!(status("connection refused"), "5.0.0");
        assert_eq!(status("version 1.2.3 of x"), "5.0.0");
    }

    #[test]
    fn the_delivery_status_is_us_ascii_and_says_whose_words_it_carries() {
        let text = text_about(&[
            (
                "bob@fabrikam.example".into(),
                "Sealpost gave up: kön är full ✓".into(),
            ),
            ("eve@fabrikam.example".into(), "550 5.7.1 refused".into()),
        ]);
        let start = text.find("Reporting-MTA").unwrap();
        let end = start + text[start..].find("\r\n--").unwrap();
        assert!(text[start..end].is_ascii(), "{}", &text[start..end]);
        assert!(text.contains("Diagnostic-Code: X-Sealpost; Sealpost gave up: k?n ?r full ?\r\n"));
        assert!(text.contains("Diagnostic-Code: smtp; 550 5.7.1 refused\r\n"));
    }

    #[test]
    fn a_line_break_in_a_reason_cannot_add_a_field() {
        let text = text_about(&[(
            "bob@fabrikam.example".into(),
            "550 no\r\nAction: delivered".into(),
        )]);
        assert!(!text.contains("\r\nAction: delivered"));
    }
}
