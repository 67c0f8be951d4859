//! How the admin commands print for people. (`--json` prints the server's JSON instead.)

use sealpost_api::admin::{
    AuditEventView, BrandingTemplateView, LocalizedText, MessageStatusView, NoticeView,
    PortalLogEntryView, RightsTemplateView, TenantView,
};
use sealpost_api::key_policies::{
    DataEncryptionPoliciesView, DataEncryptionPolicyView, PolicyAssignment, RollBackView,
    SenderPolicyView,
};
use sealpost_api::mail_flow::{
    InboundConnectorView, MailFlowRule, RuleAction, RuleCondition, RuleTest, SimulationView,
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
        (
            "PendingDomains",
            t.pending_domains
                .iter()
                .map(|p| format!("{} (TXT {} \"{}\")", p.domain, p.txt_name, p.txt_value))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("ShowSubjectInNotice", yes_no(t.show_subject_in_notice)),
        (
            "EnablePortalTrackingLogs",
            yes_no(t.enable_portal_tracking_logs),
        ),
        (
            "PortalLogRetentionDays",
            t.portal_log_retention_days
                .map_or_else(|| "for ever".to_owned(), |d| d.to_string()),
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
        ("Language", or_none(b.language.as_deref())),
    ])
}

/// One rights template.
pub fn rights(r: &RightsTemplateView) -> String {
    list(&[
        ("Name", r.name.clone()),
        ("Description", r.description.clone()),
        ("Rights", r.rights.join(", ")),
        ("BuiltIn", yes_no(r.built_in)),
        (
            "ForwardLimits",
            format!(
                "{} recipients a forward, {} a day, {} deep",
                r.forward_limits.recipients_per_forward,
                r.forward_limits.recipients_per_day,
                r.forward_limits.depth
            ),
        ),
    ])
}

fn notice(n: &NoticeView) -> String {
    match n {
        NoticeView::Queued { since } => format!("notice queued since {since}"),
        NoticeView::Sent { at } => format!("notice sent {at}"),
        NoticeView::Deferred {
            at,
            reason,
            next_attempt_at,
        } => format!("notice DEFERRED {at}: {reason} (next try {next_attempt_at})"),
        NoticeView::Bounced { at, reason } => format!("notice BOUNCED {at}: {reason}"),
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
    if let Some(p) = &m.data_encryption_policy {
        rows.push(("DataEncryptionPolicy", p.clone()));
    }
    if m.purged {
        rows.push((
            "Purged",
            "True (its keys were destroyed; it can never be opened)".to_owned(),
        ));
    }
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

fn condition(c: &RuleCondition) -> String {
    let not = if c.negate { " not" } else { "" };
    let joined = |v: &[String]| v.join(", ");
    match &c.test {
        RuleTest::RecipientInOrganisation => {
            if c.negate {
                "the recipient is outside the organisation".to_owned()
            } else {
                "the recipient is inside the organisation".to_owned()
            }
        }
        RuleTest::RecipientIn { values } => format!("the recipient is{not} in {}", joined(values)),
        RuleTest::SenderIn { values } => format!("the sender is{not} in {}", joined(values)),
        RuleTest::SubjectOrBodyWords { words } => {
            format!("the subject or body does{not} contain {}", joined(words))
        }
        RuleTest::SubjectWords { words } => {
            format!("the subject does{not} contain {}", joined(words))
        }
        RuleTest::SubjectTag { tag } => format!("the subject does{not} carry the tag {tag}"),
        RuleTest::Header { name, value } => format!("the header {name} is{not} {value:?}"),
        RuleTest::HasAttachments => format!("the message does{not} have attachments"),
        RuleTest::SizeOver { bytes } => format!("the message is{not} over {bytes} bytes"),
    }
}

fn action(a: &RuleAction) -> String {
    match a {
        RuleAction::Seal {
            rights_template,
            branding_template,
            remove_subject_tag,
        } => format!(
            "seal with {} and the branding template {}{}",
            rights_template.as_deref().unwrap_or("Encrypt"),
            branding_template.as_deref().unwrap_or("default"),
            if *remove_subject_tag {
                ", removing the subject tag"
            } else {
                ""
            }
        ),
        RuleAction::SendUnencrypted => "send unencrypted".to_owned(),
        RuleAction::Reject { reason } => format!("reject: {reason}"),
    }
}

/// A mail flow rule (`Get-TransportRule | Format-List`).
pub fn rule(r: &MailFlowRule) -> String {
    let conditions = if r.conditions.is_empty() {
        "(none: every message)".to_owned()
    } else {
        r.conditions
            .iter()
            .map(condition)
            .collect::<Vec<_>>()
            .join("\n                 and ")
    };
    list(&[
        ("Name", r.name.clone()),
        (
            "Priority",
            r.priority.map(|p| p.to_string()).unwrap_or_default(),
        ),
        (
            "State",
            if r.enabled { "Enabled" } else { "Disabled" }.to_owned(),
        ),
        ("Conditions", conditions),
        ("Action", action(&r.action)),
        ("StopRuleProcessing", yes_no(r.stop_processing)),
    ])
}

/// What a simulation found.
pub fn simulation(s: &SimulationView) -> String {
    let mut out = list(&[
        ("Verdict", s.verdict.clone()),
        ("SmtpReply", s.smtp_reply.clone()),
    ]);
    for r in &s.recipients {
        let by = match &r.rule {
            Some(rule) => format!("rule {rule:?}"),
            None => "no rule matched".to_owned(),
        };
        let templates = match (&r.rights_template, &r.branding_template) {
            (Some(rights), Some(branding)) => format!(" ({rights}, {branding})"),
            _ => String::new(),
        };
        out.push_str(&format!(
            "{}: {}{templates} by {by}; delivered as {}\n",
            r.address, r.action, r.delivered_as
        ));
    }
    out
}

/// The inbound connector (`Get-InboundConnector`).
pub fn connector(c: &InboundConnectorView) -> String {
    list(&[
        (
            "RemoteIPAddresses",
            if c.remote_addresses.is_empty() {
                "(none)".to_owned()
            } else {
                c.remote_addresses.join(", ")
            },
        ),
        ("SmtpAuthUsername", or_none(c.smtp_auth_username.as_deref())),
    ])
}

/// A data encryption policy, as `Get-DataEncryptionPolicy | Format-List` shows one.
pub fn policy(p: &DataEncryptionPolicyView) -> String {
    let status = match p.roll_percent {
        Some(n) => format!("{} ({n}%)", p.status),
        None => p.status.clone(),
    };
    let roots = p
        .root_keys
        .iter()
        .map(|k| {
            let state = if k.available { "" } else { ", not available" };
            format!("{} ({}{state})", k.name, k.provider)
        })
        .collect::<Vec<_>>()
        .join(", ");
    let mut rows = vec![
        ("Name", p.name.clone()),
        ("Id", p.id.clone()),
        (
            "Description",
            or_none(Some(p.description.as_str()).filter(|d| !d.is_empty())),
        ),
        ("RootKeys", roots),
        ("Status", status),
        ("KeyVersion", p.key_version.to_string()),
        ("Messages", p.messages.to_string()),
        ("Assigned", yes_no(p.assigned)),
        ("AvailabilityKey", yes_no(p.availability_key)),
        ("Created", p.created_at.clone()),
    ];
    if let Some(purge) = &p.purge {
        rows.push((
            "PermanentDataPurgeRequested",
            format!("{} by {}", purge.requested_at, purge.requested_by),
        ));
        rows.push(("PermanentDataPurgeReason", purge.reason.clone()));
        rows.push(("PermanentDataPurgeContact", purge.contact.clone()));
        if let (Some(at), Some(by)) = (&purge.purged_at, &purge.purged_by) {
            rows.push(("Purged", format!("{at} by {by}")));
        }
    }
    list(&rows)
}

/// Every policy, then the root keys a policy can name.
pub fn policies(v: &DataEncryptionPoliciesView) -> String {
    let mut out = if v.policies.is_empty() {
        "No data encryption policies: messages are sealed under the tenant's own data key.\n"
            .to_owned()
    } else {
        v.policies.iter().map(policy).collect::<Vec<_>>().join("\n")
    };
    out.push_str("\nRoot keys on this server:\n");
    for k in &v.root_keys {
        out.push_str(&format!(
            "  {} ({}){}\n",
            k.name,
            k.provider,
            if k.available { "" } else { " - not available" }
        ));
    }
    out
}

/// One sender's policy, as `Get-MailboxStatistics | fl DataEncryptionPolicyID, IsEncrypted` shows it.
pub fn sender_policy(v: &SenderPolicyView) -> String {
    let assigned = if v.service_managed {
        "(service-managed keys)".to_owned()
    } else {
        v.data_encryption_policy.clone().unwrap_or_default()
    };
    let mut rows = vec![
        ("Identity", v.address.clone()),
        (
            "DataEncryptionPolicyID",
            v.effective_policy.clone().unwrap_or_default(),
        ),
        ("AssignedToSender", assigned),
        ("IsEncrypted", yes_no(v.is_encrypted)),
        (
            "Messages",
            format!(
                "{} ({} under the policy)",
                v.messages, v.messages_under_policy
            ),
        ),
    ];
    if v.service_managed {
        rows.push((
            "RollBack",
            if v.roll_back_left == 0 {
                "done".to_owned()
            } else {
                format!("{} message(s) left to move", v.roll_back_left)
            },
        ));
    }
    list(&rows)
}

/// The tenant's roll back to service-managed keys.
pub fn roll_back(v: &RollBackView) -> String {
    match &v.requested_at {
        Some(at) => format!(
            "Rolling back to service-managed keys since {at}: {} message(s) left to move.\n",
            v.messages_left
        ),
        None if v.messages_left == 0 => {
            "No roll back is under way; none of the tenant's messages is waiting for one.\n"
                .to_owned()
        }
        None => format!(
            "No roll back is under way ({} message(s) left).\n",
            v.messages_left
        ),
    }
}

/// The tenant's assignment.
pub fn assignment(a: &PolicyAssignment) -> String {
    match &a.data_encryption_policy {
        Some(name) => format!("New messages are sealed under the data encryption policy {name}.\n"),
        None => "New messages are sealed under the tenant's own data key (no policy assigned).\n"
            .to_owned(),
    }
}
