//! The passcode email: the 8-digit code, the reference word the portal shows beside the form, how
//! long the code lasts, and what to do if you did not ask for it. From the tenant's own domain.

use lettre::message::{Mailbox, MultiPart};

use super::MailError;
use super::notice::escape_html;
use super::words::{PasscodeWords, passcode_words};
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
    fn what(self, words: &PasscodeWords) -> String {
        match self {
            Purpose::Read { sender } => words.read.replace("{sender}", sender),
            Purpose::SentMessages => words.sent_messages.to_owned(),
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
    /// The language (a recipient's: their message's branding template's); `None`: English.
    pub language: Option<&'a str>,
}

/// The subject line (never the code: subjects show on lock screens).
pub fn subject(m: &PasscodeMail<'_>) -> String {
    passcode_words(m.language)
        .subject
        .replace("{reference}", m.reference)
}

/// The sentences of the mail, the reference word marked by `mark` (plain or bold).
fn sentences(
    m: &PasscodeMail<'_>,
    escape: fn(&str) -> String,
    mark: fn(&str) -> String,
) -> [String; 4] {
    let w = passcode_words(m.language);
    [
        escape(&w.intro.replace("{what}", &m.purpose.what(w))),
        escape(w.reference).replace("{reference}", &mark(&escape(m.reference))),
        escape(
            &w.validity
                .replace("{minutes}", &(VALID_FOR / 60).to_string()),
        ),
        escape(&w.sent_by.replace("{tenant}", m.tenant_name)),
    ]
}

fn plain(m: &PasscodeMail<'_>) -> String {
    let [intro, reference, validity, sent_by] = sentences(m, str::to_owned, str::to_owned);
    format!(
        "{intro}\n\n{code}\n\n{reference}\n\n{validity}\n\n{sent_by}\n",
        code = m.code
    )
}

fn html(m: &PasscodeMail<'_>) -> String {
    let [intro, reference, validity, sent_by] =
        sentences(m, escape_html, |r| format!("<strong>{r}</strong>"));
    let subject = escape_html(&subject(m));
    format!(
        r#"<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{subject}</title></head>
<body style="margin:0;padding:24px;font-family:Segoe UI,Helvetica,Arial,sans-serif;color:#1b1b1b">
<p>{intro}</p>
<p style="font-size:28px;font-weight:600;letter-spacing:4px;font-family:Consolas,Menlo,monospace">{code}</p>
<p>{reference}</p>
<p>{validity}</p>
<p style="font-size:13px;color:#555">{sent_by}</p>
</body></html>
"#,
        lang = escape_html(m.language.unwrap_or("en")),
        code = escape_html(m.code),
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
            language: None,
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
        let swedish = PasscodeMail {
            language: Some("sv-FI"),
            ..m
        };
        assert_eq!(subject(&swedish), "Din engångskod (referens: maple)");
        assert!(plain(&swedish).contains(
            "Här är din engångskod för att läsa det skyddade meddelandet som anna@contoso.example skickade till dig:"
        ));
        assert!(plain(&swedish).contains("\n01234567\n"));
        assert!(html(&swedish).contains("Referens: <strong>maple</strong>."));
        assert!(html(&swedish).contains(r#"<html lang="sv-FI">"#));
    }
}
