//! The passcode email: the 8-digit code, the reference word the portal shows beside the form, how
//! long the code lasts, and what to do if you did not ask for it. From the tenant's own domain.

use lettre::message::{Mailbox, MultiPart};

use super::MailError;
use super::notice::escape_html;
use crate::domain::passcode::VALID_FOR;

/// What the code signs in to.
#[derive(Debug, Clone, Copy)]
pub enum Purpose<'a> {
    /// A recipient reading a message `sender` sent them.
    Read {
        /// Who sent the protected message.
        sender: &'a str,
    },
    /// A sender seeing the protected messages they sent.
    SentMessages,
}

impl Purpose<'_> {
    fn what(self) -> String {
        match self {
            Purpose::Read { sender } => format!("read the protected message {sender} sent you"),
            Purpose::SentMessages => {
                "see the protected messages you sent and remove external access".to_owned()
            }
        }
    }
}

/// What a passcode email is built from.
#[derive(Debug)]
pub struct PasscodeMail<'a> {
    /// The tenant's display name.
    pub tenant_name: &'a str,
    /// A domain of the tenant (the email comes from `no-reply@` there).
    pub tenant_domain: &'a str,
    /// What the code is for.
    pub purpose: Purpose<'a>,
    /// The recipient (the only address a code is ever sent to).
    pub recipient: &'a str,
    pub code: &'a str,
    /// The reference word.
    pub reference: &'a str,
}

/// The subject line (never the code: subjects show on lock screens).
pub fn subject(m: &PasscodeMail<'_>) -> String {
    format!("Your one-time passcode (reference: {})", m.reference)
}

fn plain(m: &PasscodeMail<'_>) -> String {
    format!(
        "Here is your one-time passcode to {what}:\n\n\
         {code}\n\n\
         Reference: {reference}. The page where you asked for the code shows the same word; if it \
         does not, do not enter the code there.\n\n\
         The code works once and for {minutes} minutes. If you did not ask for it, ignore this \
         email: nobody can read the message without it.\n\n\
         Sent by {tenant} with Sealpost.\n",
        what = m.purpose.what(),
        code = m.code,
        reference = m.reference,
        minutes = VALID_FOR / 60,
        tenant = m.tenant_name,
    )
}

fn html(m: &PasscodeMail<'_>) -> String {
    format!(
        r#"<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Your one-time passcode</title></head>
<body style="margin:0;padding:24px;font-family:Segoe UI,Helvetica,Arial,sans-serif;color:#1b1b1b">
<p>Here is your one-time passcode to {what}:</p>
<p style="font-size:28px;font-weight:600;letter-spacing:4px;font-family:Consolas,Menlo,monospace">{code}</p>
<p>Reference: <strong>{reference}</strong>. The page where you asked for the code shows the same word; if it does not, do not enter the code there.</p>
<p>The code works once and for {minutes} minutes. If you did not ask for it, ignore this email: nobody can read the message without it.</p>
<p style="font-size:13px;color:#555">Sent by {tenant} with Sealpost.</p>
</body></html>
"#,
        what = escape_html(&m.purpose.what()),
        code = escape_html(m.code),
        reference = escape_html(m.reference),
        minutes = VALID_FOR / 60,
        tenant = escape_html(m.tenant_name),
    )
}

/// Build the email.
pub fn build(m: &PasscodeMail<'_>) -> Result<lettre::Message, MailError> {
    let bad = |e: &dyn std::fmt::Display| MailError::Build(e.to_string());
    let from = Mailbox::new(
        Some(format!("{} via Sealpost", m.tenant_name)),
        format!("no-reply@{}", m.tenant_domain)
            .parse()
            .map_err(|e| bad(&e))?,
    );
    let to: Mailbox = m.recipient.parse().map_err(|e| bad(&e))?;
    lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(subject(m))
        .multipart(MultiPart::alternative_plain_html(plain(m), html(m)))
        .map_err(|e| bad(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_is_in_the_body_not_the_subject_and_names_are_escaped() {
        let m = PasscodeMail {
            tenant_name: "Contoso <Finance>",
            tenant_domain: "contoso.example",
            purpose: Purpose::Read {
                sender: "anna@contoso.example",
            },
            recipient: "bob@example.net",
            code: "01234567",
            reference: "maple",
        };
        assert!(!subject(&m).contains("01234567"));
        assert!(subject(&m).contains("maple"));
        assert!(plain(&m).contains("\n01234567\n"));
        assert!(html(&m).contains("Contoso &lt;Finance&gt;"));
        let built = build(&m).unwrap();
        let raw = String::from_utf8(built.formatted()).unwrap();
        assert!(raw.contains("no-reply@contoso.example"));
        assert!(raw.contains("To: bob@example.net"));
        assert!(plain(&m).contains("read the protected message anna@contoso.example sent you"));
        let sender = PasscodeMail {
            purpose: Purpose::SentMessages,
            ..m
        };
        assert!(plain(&sender).contains("see the protected messages you sent"));
    }
}
