//! The branded notice a recipient receives instead of the message: HTML and plain text, the logo
//! inline, the template's texts, the expiry date, and the "Read the message" link carrying that
//! recipient's link token in the URL fragment (fragments never reach server logs or `Referer`).
//!
//! The notice holds no message content beyond the subject (and only when the tenant shows it).

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};

use super::MailError;
use super::words;
use crate::domain::address::EmailAddress;
use crate::domain::branding::BrandingTemplate;

const LOGO_CID: &str = "sealpost-logo";

/// What a notice is built from.
#[derive(Debug)]
pub struct NoticeInput<'a> {
    /// The tenant's display name.
    pub tenant_name: &'a str,
    /// Who sent the protected message.
    pub sender: &'a EmailAddress,
    /// Who this notice is for.
    pub recipient: &'a EmailAddress,
    /// The subject, when the tenant shows it.
    pub subject: Option<&'a str>,
    /// Texts, colour, logo.
    pub branding: &'a BrandingTemplate,
    /// The "Read the message" URL, with the link token.
    pub link: &'a str,
    /// When access ends.
    pub expires_at: Option<i64>,
    /// For the `Message-ID`.
    pub message_id: &'a str,
    /// When the sender is outside the tenant (a recipient's reply or forward): a tenant domain the
    /// notice is sent from instead, as `no-reply@` there with the sender as `Reply-To`, so it passes
    /// the sender's domain's SPF and DMARC checks it could never pass from our relay.
    pub outside_sender_via: Option<&'a str>,
}

/// The texts of a notice, chosen from the template or Sealpost's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeTexts {
    /// Notice subject line.
    pub subject: String,
    /// First line.
    pub introduction: String,
    /// The template's email text, if any.
    pub email_text: Option<String>,
    /// Button text.
    pub read_button: String,
    /// "This message expires on …", if it does.
    pub expiry: Option<String>,
    /// Disclaimer, if any.
    pub disclaimer: Option<String>,
    /// Who sent it securely, and where the passcode will go.
    pub footer: String,
    /// The privacy statement's link text.
    pub privacy: String,
    /// The notice's language tag (`Content-Language`, `<html lang>`).
    pub language: String,
}

/// Choose the texts in the template's language (English if it has none): the template's text
/// for that language, else its default text, else Sealpost's own words in that language.
pub fn texts(n: &NoticeInput<'_>) -> NoticeTexts {
    let view = n.branding.view();
    let language = view.language.as_deref();
    let words = words::for_language(language);
    let pick = |t: &Option<sealpost_api::admin::LocalizedText>| {
        t.as_ref().map(|t| match language {
            Some(tag) => t.for_language(tag).to_owned(),
            None => t.text().to_owned(),
        })
    };
    let sender = n.sender.as_str();
    NoticeTexts {
        subject: match n.subject {
            Some(s) if !s.trim().is_empty() => s.to_owned(),
            _ => words.subject(sender),
        },
        introduction: pick(&view.introduction_text).unwrap_or_else(|| words.introduction(sender)),
        email_text: pick(&view.email_text),
        read_button: pick(&view.read_button_text).unwrap_or_else(|| words.read_button.to_owned()),
        expiry: n.expires_at.map(|at| words.expiry(at)),
        disclaimer: pick(&view.disclaimer_text),
        footer: words.footer(n.tenant_name, n.recipient.as_str()),
        privacy: words.privacy.to_owned(),
        language: language.unwrap_or(words.tag).to_owned(),
    }
}

/// Escape text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn paragraphs(text: &str) -> String {
    escape_html(text).replace('\n', "<br>")
}

fn html(n: &NoticeInput<'_>, t: &NoticeTexts) -> String {
    let privacy_text = escape_html(&t.privacy);
    let color = escape_html(n.branding.background_color());
    let logo = if n.branding.image().is_some() {
        format!(
            r#"<tr><td style="padding:24px 32px 0"><img src="cid:{LOGO_CID}" alt="{}" style="max-height:64px;max-width:240px"></td></tr>"#,
            escape_html(n.tenant_name)
        )
    } else {
        String::new()
    };
    let optional = |text: &Option<String>, style: &str| {
        text.as_ref()
            .map(|s| {
                format!(
                    r#"<tr><td style="padding:8px 32px;{style}">{}</td></tr>"#,
                    paragraphs(s)
                )
            })
            .unwrap_or_default()
    };
    let privacy = n
        .branding
        .view()
        .privacy_statement_url
        .as_ref()
        .map(|u| {
            format!(
                r#"<tr><td style="padding:8px 32px;font-size:12px"><a href="{}">{privacy_text}</a></td></tr>"#,
                escape_html(u)
            )
        })
        .unwrap_or_default();
    format!(
        r#"<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{subject}</title></head>
<body style="margin:0;padding:0;background:{color};font-family:Segoe UI,Helvetica,Arial,sans-serif">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:{color};padding:24px 0"><tr><td align="center">
<table role="presentation" width="560" cellpadding="0" cellspacing="0" style="max-width:560px;background:#ffffff;border-radius:6px;color:#1b1b1b">
{logo}
<tr><td style="padding:24px 32px 8px;font-size:18px;font-weight:600">{intro}</td></tr>
{email_text}
<tr><td style="padding:16px 32px"><a href="{link}" style="display:inline-block;padding:12px 24px;background:{color};color:{text_color};text-decoration:none;border-radius:4px;font-weight:600">{button}</a></td></tr>
{expiry}
<tr><td style="padding:8px 32px;font-size:13px;color:#555">{footer}</td></tr>
{disclaimer}
{privacy}
<tr><td style="padding:0 0 24px"></td></tr>
</table></td></tr></table></body></html>
"#,
        subject = escape_html(&t.subject),
        intro = paragraphs(&t.introduction),
        email_text = optional(&t.email_text, ""),
        link = escape_html(n.link),
        text_color = n.branding.text_color(),
        button = escape_html(&t.read_button),
        expiry = optional(&t.expiry, "font-size:14px"),
        footer = escape_html(&t.footer),
        lang = escape_html(&t.language),
        disclaimer = optional(&t.disclaimer, "font-size:12px;color:#555"),
    )
}

fn plain(n: &NoticeInput<'_>, t: &NoticeTexts) -> String {
    let mut out = format!("{}\n\n", t.introduction);
    if let Some(s) = &t.email_text {
        out.push_str(&format!("{s}\n\n"));
    }
    out.push_str(&format!("{}:\n{}\n\n", t.read_button, n.link));
    if let Some(s) = &t.expiry {
        out.push_str(&format!("{s}\n\n"));
    }
    out.push_str(&format!("{}\n", t.footer));
    if let Some(s) = &t.disclaimer {
        out.push_str(&format!("\n{s}\n"));
    }
    if let Some(u) = &n.branding.view().privacy_statement_url {
        out.push_str(&format!("\n{}: {u}\n", t.privacy));
    }
    out
}

/// The `Content-Language` field (RFC 3282): receivers and screen readers read it.
#[derive(Debug, Clone)]
struct ContentLanguage(String);

impl lettre::message::header::Header for ContentLanguage {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("Content-Language")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ContentLanguage(s.to_owned()))
    }

    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// Build the notice for one recipient.
pub fn build(n: &NoticeInput<'_>) -> Result<lettre::Message, MailError> {
    let t = texts(n);
    let language = ContentLanguage(t.language.clone());
    let bad = |e: &dyn std::fmt::Display| MailError::Build(e.to_string());
    let sender: Mailbox = n.sender.as_str().parse().map_err(|e| bad(&e))?;
    let (from, reply_to, id_domain) = match n.outside_sender_via {
        None => (sender, None, n.sender.domain().to_owned()),
        Some(domain) => (
            Mailbox::new(
                Some(format!("{} via {}", n.sender, n.tenant_name)),
                format!("no-reply@{domain}").parse().map_err(|e| bad(&e))?,
            ),
            Some(sender),
            domain.to_owned(),
        ),
    };
    let to: Mailbox = n.recipient.as_str().parse().map_err(|e| bad(&e))?;
    let html_part = SinglePart::html(html(n, &t));
    let html_block = match n.branding.image() {
        Some((format, bytes)) => MultiPart::related().singlepart(html_part).singlepart(
            Attachment::new_inline(LOGO_CID.to_owned()).body(
                bytes.to_vec(),
                ContentType::parse(format.content_type()).map_err(|e| bad(&e))?,
            ),
        ),
        None => MultiPart::related().singlepart(html_part),
    };
    let body = MultiPart::alternative()
        .singlepart(SinglePart::plain(plain(n, &t)))
        .multipart(html_block);
    let mut random = [0u8; 12];
    crate::secrets::fill_random(&mut random);
    let mut builder = lettre::Message::builder().from(from).to(to);
    if let Some(r) = reply_to {
        builder = builder.reply_to(r);
    }
    builder
        .header(language)
        .subject(t.subject)
        .message_id(Some(format!(
            "<{}.{}@{id_domain}>",
            n.message_id,
            hex::encode(random),
        )))
        .multipart(body)
        .map_err(|e| bad(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealpost_api::admin::{BrandingTemplateView, LocalizedText};

    fn input<'a>(
        b: &'a BrandingTemplate,
        sender: &'a EmailAddress,
        rcpt: &'a EmailAddress,
    ) -> NoticeInput<'a> {
        NoticeInput {
            tenant_name: "Contoso <Finance>",
            sender,
            recipient: rcpt,
            subject: Some("Årsredovisning"),
            branding: b,
            link: "https://sealpost.example/m/abc#t=spl_x&y",
            expires_at: Some(1_795_255_200),
            message_id: "abc",
            outside_sender_via: None,
        }
    }

    #[test]
    fn defaults_name_the_sender_and_the_expiry() {
        let b = BrandingTemplate::initial_default();
        let s = EmailAddress::parse("from", "anna@contoso.example").unwrap();
        let r = EmailAddress::parse("to", "bob@gmail.example").unwrap();
        let t = texts(&input(&b, &s, &r));
        assert_eq!(
            t.introduction,
            "anna@contoso.example has sent you a protected message."
        );
        assert_eq!(t.read_button, "Read the message");
        assert_eq!(
            t.expiry.as_deref(),
            Some("This message expires on 21 November 2026 10:00 UTC.")
        );
        let hidden = NoticeInput {
            subject: None,
            ..input(&b, &s, &r)
        };
        assert_eq!(
            texts(&hidden).subject,
            "Protected message from anna@contoso.example"
        );
    }

    #[test]
    fn a_template_with_a_language_speaks_it_where_it_has_words_for_it() {
        let b = BrandingTemplate::validate(BrandingTemplateView {
            identity: "Svenska".into(),
            language: Some("sv".into()),
            introduction_text: Some(LocalizedText::Translated {
                text: "Contoso sent you a protected message.".into(),
                translations: [(
                    "sv".to_owned(),
                    "Contoso har skickat något till dig.".to_owned(),
                )]
                .into(),
            }),
            email_text: Some(LocalizedText::Plain("Only in English.".into())),
            ..BrandingTemplateView::default()
        })
        .unwrap();
        let s = EmailAddress::parse("from", "anna@contoso.example").unwrap();
        let r = EmailAddress::parse("to", "bob@gmail.example").unwrap();
        let n = input(&b, &s, &r);
        let t = texts(&n);
        assert_eq!(t.introduction, "Contoso har skickat något till dig.");
        assert_eq!(
            t.email_text.as_deref(),
            Some("Only in English."),
            "no translation: the text"
        );
        assert_eq!(t.read_button, "Läs meddelandet");
        assert_eq!(
            t.expiry.as_deref(),
            Some("Meddelandet upphör att gälla 21 november 2026 10:00 UTC.")
        );
        let raw = String::from_utf8(build(&n).unwrap().formatted()).unwrap();
        assert!(raw.contains("Content-Language: sv\r\n"), "{raw}");
        assert!(html(&n, &t).contains(r#"<html lang="sv">"#));
        // Without a language, the English default of every text.
        let english = texts(&input(&BrandingTemplate::initial_default(), &s, &r));
        assert_eq!(english.language, "en");
        assert_eq!(english.read_button, "Read the message");
    }

    #[test]
    fn template_text_is_escaped_in_html() {
        let b = BrandingTemplate::validate(BrandingTemplateView {
            identity: "x".into(),
            email_text: Some(LocalizedText::Plain("<script>alert(1)</script>".into())),
            ..BrandingTemplateView::default()
        })
        .unwrap();
        let s = EmailAddress::parse("from", "anna@contoso.example").unwrap();
        let r = EmailAddress::parse("to", "bob@gmail.example").unwrap();
        let n = input(&b, &s, &r);
        let h = html(&n, &texts(&n));
        assert!(!h.contains("<script>"));
        assert!(h.contains("&lt;script&gt;"));
        assert!(h.contains("Contoso &lt;Finance&gt;"));
        assert!(h.contains(r#"href="https://sealpost.example/m/abc#t=spl_x&amp;y""#));
    }

    #[test]
    fn a_notice_for_an_outside_sender_comes_from_the_tenant_with_the_sender_to_reply_to() {
        let b = BrandingTemplate::initial_default();
        let s = EmailAddress::parse("from", "bob@gmail.example").unwrap();
        let r = EmailAddress::parse("to", "anna@contoso.example").unwrap();
        let n = NoticeInput {
            outside_sender_via: Some("contoso.example"),
            ..input(&b, &s, &r)
        };
        let raw = String::from_utf8(build(&n).unwrap().formatted()).unwrap();
        assert!(raw.contains("<no-reply@contoso.example>"), "{raw}");
        assert!(raw.contains("Reply-To: bob@gmail.example"), "{raw}");
        assert!(
            raw.contains("@contoso.example>\r\n"),
            "Message-ID in our domain"
        );
    }
}
