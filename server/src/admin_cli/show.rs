//! How the admin commands print for people. (`--json` prints the server's JSON instead.)

use sealpost_api::admin::{
    AuditEventView, BrandingTemplateView, LocalizedText, MessageStatusView, NoticeView,
    PortalLogEntryView, RightsTemplateView, TenantView,
};

/// `Name  value` lines with the names padded to one width, as PowerShell's `Format-List` does.
pub fn list(rows: &[(&str, String)]) -> String {
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    rows.iter()
        .map(|(k, v)| format!("{k:width$} : {v}\n"))
        .collect()
}

fn yes_no(b: bool) -> String {
    if b { "True" } else { "False" }.to_owned()
}

fn or_none(v: Option<&str>) -> String {
    v.unwrap_or("(none)").to_owned()
}

fn text(t: Option<&LocalizedText>) -> String {
    match t {
        None => "(default)".to_owned(),
        Some(LocalizedText::Plain(s)) => s.clone(),
        Some(LocalizedText::Translated { text, translations }) => {
            let langs: Vec<_> = translations.keys().map(String::as_str).collect();
            if langs.is_empty() {
                text.clone()
            } else {
                format!("{text}  [also in: {}]", langs.join(", "))
            }
        }
    }
}

/// The tenant's settings (`Get-IRMConfiguration`).
pub fn tenant(t: &TenantView) -> String {
    list(&[
        ("Tenant", format!("{} ({})", t.name, t.id)),
        ("Domains", t.domains.join(", ")),
        ("ShowSubjectInNotice", yes_no(t.show_subject_in_notice)),
        (
            "EnablePortalTrackingLogs",
            yes_no(t.enable_portal_tracking_logs),
        ),
    ])
}

/// One branding template, every field.
pub fn branding(b: &BrandingTemplateView) -> String {
    list(&[
        ("Identity", b.identity.clone()),
        ("IntroductionText", text(b.introduction_text.as_ref())),
        ("ReadButtonText", text(b.read_button_text.as_ref())),
        ("EmailText", text(b.email_text.as_ref())),
        ("DisclaimerText", text(b.disclaimer_text.as_ref())),
        ("PortalText", text(b.portal_text.as_ref())),
        ("BackgroundColor", or_none(b.background_color.as_deref())),
        (
            "Image",
            b.image_base64.as_ref().map_or("(none)".to_owned(), |i| {
                format!("{} base64 characters", i.len())
            }),
        ),
        (
            "PrivacyStatementUrl",
            or_none(b.privacy_statement_url.as_deref()),
        ),
        ("OTPEnabled", yes_no(b.otp_enabled.unwrap_or(true))),
        (
            "SocialIdSignIn",
            yes_no(b.social_id_sign_in.unwrap_or(false)),
        ),
        (
            "ExternalMailExpiryInDays",
            b.external_mail_expiry_in_days.unwrap_or(0).to_string(),
        ),
    ])
}

/// One rights template.
pub fn rights(r: &RightsTemplateView) -> String {
    list(&[
        ("Name", r.name.clone()),
        ("Description", r.description.clone()),
        ("Rights", r.rights.join(", ")),
        ("BuiltIn", yes_no(r.built_in)),
    ])
}

fn notice(n: &NoticeView) -> String {
    match n {
        NoticeView::Sent { at } => format!("notice sent {at}"),
        NoticeView::Failed { at, reason } => format!("notice FAILED {at}: {reason}"),
    }
}

/// A message's status (`Get-OMEMessageStatus`), with each recipient.
pub fn status(m: &MessageStatusView) -> String {
    let mut rows = vec![
        ("MessageId", m.message_id.clone()),
        ("Subject", m.subject.clone()),
        ("Sender", m.sender.clone()),
        ("SentAt", m.sent_at.clone()),
        ("IsRevocable", yes_no(m.is_revocable)),
        ("Revoked", yes_no(m.revoked)),
    ];
    if let Some(r) = &m.revocation {
        rows.push(("RevokedBy", format!("{} at {}", r.by, r.at)));
    }
    rows.push((
        "ExpiresAt",
        m.expires_at.clone().unwrap_or_else(|| "never".into()),
    ));
    rows.push(("Expired", yes_no(m.expired)));
    rows.push(("BrandingTemplate", m.branding_template.clone()));
    rows.push(("RightsTemplate", m.rights_template.clone()));
    rows.push(("Rights", m.rights.join(", ")));
    let mut out = list(&rows);
    out.push_str("Recipients:\n");
    for r in &m.recipients {
        let opened = r
            .opened_at
            .as_ref()
            .map_or("not opened".to_owned(), |at| format!("opened {at}"));
        let revoked = r
            .revoked
            .as_ref()
            .map(|v| format!("; access removed by {} at {}", v.by, v.at))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {} ({}): {}; {opened}{revoked}\n",
            r.address,
            r.kind,
            notice(&r.notice)
        ));
    }
    out
}

/// One line per message.
pub fn message_line(m: &MessageStatusView) -> String {
    let state = if m.revoked {
        "revoked"
    } else if m.expired {
        "expired"
    } else {
        "active"
    };
    format!(
        "{}  {}  {:7}  {}  {}\n",
        m.message_id, m.sent_at, state, m.sender, m.subject
    )
}

/// One line per portal log entry.
pub fn log_line(e: &PortalLogEntryView) -> String {
    let detail = if e.detail.is_empty() {
        String::new()
    } else {
        format!(" ({})", e.detail)
    };
    format!(
        "{:>6}  {}  {}{detail}  {}  message {}  from {}\n",
        e.seq, e.at, e.event, e.recipient, e.message_id, e.client_address
    )
}

/// One line per audit event.
pub fn audit_line(e: &AuditEventView) -> String {
    format!("{}  {}  {}  {}\n", e.at, e.actor, e.action, e.target)
}
