//! Mail flow: what happens to a message a tenant's mail server hands to the SMTP listener.
//!
//! [`assess`] reads the message, runs the tenant's rules for each envelope recipient and answers
//! exactly what the listener will reply at the end of `DATA` — with the [`Plan`] to carry out if it
//! is accepted. The simulation runs the same function and changes nothing. [`queue`] carries plans
//! out; [`relay_access`] decides which clients may send for which tenant.

pub mod queue;
pub mod relay_access;

use std::collections::BTreeMap;

use mail_parser::HeaderValue;
use serde::{Deserialize, Serialize};

use crate::domain::ValidationError;
use crate::domain::address::EmailAddress;
use crate::domain::branding::DEFAULT_TEMPLATE;
use crate::domain::composed::ComposeError;
use crate::domain::mail_rules::{self, MessageFacts, Outcome, Routing, Rule};
use crate::domain::rights::ENCRYPT;
use crate::mail::inbound;
use crate::services::rights::resolve_rights;
use crate::state::AppState;
use crate::store::{StoreError, Tenant};

/// An SMTP reply: code, enhanced status code (RFC 3463) and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// e.g. 250, 550.
    pub code: u16,
    /// e.g. `2.0.0`, `5.7.1`.
    pub status: &'static str,
    /// One line of ASCII.
    pub text: String,
}

impl Reply {
    /// A reply.
    pub fn new(code: u16, status: &'static str, text: impl Into<String>) -> Reply {
        let text: String = text
            .into()
            .chars()
            .map(|c| {
                if c.is_ascii() && !c.is_ascii_control() {
                    c
                } else {
                    '?'
                }
            })
            .collect();
        Reply { code, status, text }
    }

    /// Whether it accepts.
    pub fn is_positive(&self) -> bool {
        self.code < 400
    }
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.code, self.status, self.text)
    }
}

/// Recipients sealed together under the same templates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealGroup {
    /// The (first) rule that chose this.
    pub rule: String,
    pub rights_template: String,
    pub branding_template: String,
    /// Tags to remove from the subject.
    pub remove_tags: Vec<String>,
    /// External recipients who get a notice.
    pub recipients: Vec<String>,
    /// The sealed message's id, once sealed and stored.
    pub message_id: Option<String>,
    /// Whether it is finished (sealed, or given up on for good).
    pub done: bool,
}

/// What is to happen to an accepted message, and how far it got (kept with it in the queue).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Plan {
    /// Recipients who get the original, byte for byte, through the outbound relay.
    pub relay: Vec<String>,
    /// Whether that is done.
    pub relayed: bool,
    /// Sealed deliveries.
    pub seals: Vec<SealGroup>,
    /// Recipients the relay refused for good, with its answer (they get a bounce).
    pub failed: Vec<(String, String)>,
}

/// The listener's answer to a message, and what would happen to each recipient.
#[derive(Debug, Clone)]
pub struct Assessment {
    /// The reply at the end of `DATA` (250 is written as "Queued" by the listener).
    pub reply: Reply,
    /// Each recipient's routing (empty when the message could not be read).
    pub routings: Vec<Routing>,
    /// When accepted: what to do.
    pub plan: Option<Plan>,
}

impl Assessment {
    fn refused(reply: Reply, routings: Vec<Routing>) -> Assessment {
        Assessment {
            reply,
            routings,
            plan: None,
        }
    }
}

/// Refuse what is not an RFC 5322 message: header lines that are neither `Name: value` nor a
/// continuation, header names outside printable ASCII, too many header lines, or no `From`
/// address. Mail parsers are lenient on purpose; a security gateway must not be, because what it
/// reads must be what the recipient's client reads.
pub fn check_rfc5322(raw: &[u8]) -> Result<(), String> {
    let mut lines = 0usize;
    let mut first = true;
    for line in raw.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        lines += 1;
        if lines > 1000 {
            return Err("it has more than 1000 header lines".to_owned());
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if first {
                return Err("it starts with a continuation line".to_owned());
            }
            continue;
        }
        first = false;
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            return Err(format!(
                "header line {lines} is not \"Name: value\" (is the blank line after the headers missing?)"
            ));
        };
        let name = &line[..colon];
        if name.is_empty() || !name.iter().all(|b| (33..=126).contains(b)) {
            return Err(format!("header line {lines} has an invalid name"));
        }
    }
    let parsed = crate::mail::parse::headers(raw).ok_or_else(|| "it has no headers".to_owned())?;
    let from = parsed
        .from()
        .and_then(|f| f.first())
        .and_then(|a| a.address());
    match from {
        Some(a) if EmailAddress::parse("from", a).is_ok() => Ok(()),
        _ => Err("it has no valid From address".to_owned()),
    }
}

/// What the rules look at, read from the message.
pub fn facts(raw: &[u8], envelope_sender: Option<&EmailAddress>) -> Option<MessageFacts> {
    let message = crate::mail::parse::message(raw)?;
    let sender = message
        .from()
        .and_then(|f| f.first())
        .and_then(|a| a.address())
        .and_then(|a| EmailAddress::parse("from", a).ok())
        .or_else(|| envelope_sender.cloned());
    let headers = message
        .headers()
        .iter()
        .map(|h| {
            let value = match &h.value {
                HeaderValue::Text(t) => t.to_string(),
                _ => raw
                    .get(h.offset_start as usize..h.offset_end as usize)
                    .map(|v| String::from_utf8_lossy(v).replace(['\r', '\n'], ""))
                    .unwrap_or_default(),
            };
            (
                h.name.as_str().to_ascii_lowercase(),
                value.trim().to_owned(),
            )
        })
        .collect();
    Some(MessageFacts {
        sender,
        subject: message.subject().unwrap_or_default().to_owned(),
        body: message
            .body_text(0)
            .map(|b| b.into_owned())
            .unwrap_or_default(),
        headers,
        has_attachments: message.attachment_count() > 0,
        size: raw.len() as u64,
    })
}

/// The tenant's rules, validated (a stored rule that no longer validates is skipped and logged:
/// rules are checked when written, so this is a sign of a hand-edited database).
pub async fn rules(state: &AppState, tenant: &Tenant) -> Result<Vec<Rule>, StoreError> {
    let views = state.store.mail_flow_rules(&tenant.id).await?;
    Ok(views
        .iter()
        .filter_map(|v| match mail_rules::validate(v) {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::error!(rule = %v.name, error = %e, "a stored mail flow rule is invalid; skipped");
                None
            }
        })
        .collect())
}

fn temporary(text: impl Into<String>) -> Reply {
    Reply::new(451, "4.3.0", text)
}

/// Decide what happens to `raw`, sent by `mail_from` to `recipients`, for `tenant`.
pub async fn assess(
    state: &AppState,
    tenant: &Tenant,
    mail_from: Option<&EmailAddress>,
    recipients: &[EmailAddress],
    raw: &[u8],
) -> Assessment {
    if let Err(why) = check_rfc5322(raw) {
        return Assessment::refused(
            Reply::new(
                554,
                "5.6.0",
                format!("The message is not valid RFC 5322: {why}."),
            ),
            Vec::new(),
        );
    }
    let Some(facts) = facts(raw, mail_from) else {
        return Assessment::refused(
            Reply::new(554, "5.6.0", "The message could not be read as MIME."),
            Vec::new(),
        );
    };
    let rules = match rules(state, tenant).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "mail flow rules could not be read");
            return Assessment::refused(temporary("Try again later."), Vec::new());
        }
    };
    let routings = mail_rules::route(&rules, &facts, recipients, &tenant.domains);
    if let Some(r) = routings.iter().find_map(|r| match &r.outcome {
        Outcome::Reject { reason } => Some(reason.clone()),
        _ => None,
    }) {
        return Assessment::refused(Reply::new(550, "5.7.1", r), routings);
    }
    let mut plan = Plan::default();
    let mut groups: BTreeMap<(String, String, Vec<String>), SealGroup> = BTreeMap::new();
    for r in &routings {
        match &r.outcome {
            Outcome::Seal {
                rights_template,
                branding_template,
                remove_tags,
            } if !r.inside => {
                let rights = rights_template
                    .clone()
                    .unwrap_or_else(|| ENCRYPT.to_owned());
                let branding = branding_template
                    .clone()
                    .unwrap_or_else(|| DEFAULT_TEMPLATE.to_owned());
                groups
                    .entry((rights.clone(), branding.clone(), remove_tags.clone()))
                    .or_insert_with(|| SealGroup {
                        rule: r.rule.clone().unwrap_or_default(),
                        rights_template: rights,
                        branding_template: branding,
                        remove_tags: remove_tags.clone(),
                        recipients: Vec::new(),
                        message_id: None,
                        done: false,
                    })
                    .recipients
                    .push(r.address.to_string());
            }
            _ => plan.relay.push(r.address.to_string()),
        }
    }
    plan.seals = groups.into_values().collect();
    if !plan.seals.is_empty()
        && let Err(reply) = check_sealable(state, tenant, raw, &plan.seals).await
    {
        return Assessment::refused(reply, routings);
    }
    Assessment {
        reply: Reply::new(250, "2.0.0", "Accepted"),
        routings,
        plan: Some(plan),
    }
}

/// Before accepting a message that is to be sealed: it reads as a message Sealpost can seal, its
/// `From` is the tenant's, it fits, and the templates exist.
async fn check_sealable(
    state: &AppState,
    tenant: &Tenant,
    raw: &[u8],
    seals: &[SealGroup],
) -> Result<(), Reply> {
    let composed = inbound::read(raw).map_err(|e| compose_reply(&e))?;
    composed
        .check_content(state.config.max_message_size)
        .map_err(|e| compose_reply(&e))?;
    if !composed.from.is_in(&tenant.domains) {
        return Err(Reply::new(
            550,
            "5.7.1",
            format!(
                "The From address {} is not in one of {}'s domains, so Sealpost cannot seal it.",
                composed.from, tenant.name
            ),
        ));
    }
    for g in seals {
        match missing_template(state, &tenant.id, &g.rights_template, &g.branding_template).await {
            Ok(None) => {}
            Ok(Some(missing)) => {
                return Err(temporary(format!(
                    "The rule {:?} cannot run: {} An admin must fix the rule.",
                    g.rule, missing.message
                )));
            }
            Err(e) => {
                tracing::error!(error = %e, "a template could not be read");
                return Err(temporary("Try again later."));
            }
        }
    }
    Ok(())
}

/// Which of a rule's templates does not exist (the refusal to give), if either.
pub async fn missing_template(
    state: &AppState,
    tenant_id: &str,
    rights: &str,
    branding: &str,
) -> Result<Option<ValidationError>, StoreError> {
    match resolve_rights(state.store.as_ref(), tenant_id, rights).await {
        Ok(_) => {}
        Err(StoreError::NotFound) => {
            return Ok(Some(ValidationError::new(
                "action.rights_template",
                "unknown_rights_template",
                format!("There is no rights template called {rights:?}."),
            )));
        }
        Err(e) => return Err(e),
    }
    match state.store.branding_template(tenant_id, branding).await {
        Ok(_) => Ok(None),
        Err(StoreError::NotFound) => Ok(Some(ValidationError::new(
            "action.branding_template",
            "unknown_branding_template",
            format!("There is no branding template called {branding:?}."),
        ))),
        Err(e) => Err(e),
    }
}

fn compose_reply(e: &ComposeError) -> Reply {
    match e {
        ComposeError::TooLarge { size, limit } => Reply::new(
            552,
            "5.3.4",
            format!("The message's content is {size} bytes; Sealpost seals at most {limit}."),
        ),
        ComposeError::Invalid(v) => Reply::new(
            554,
            "5.6.0",
            format!("Sealpost cannot seal this message: {}", v.message),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc5322_checks_refuse_what_is_not_a_message() {
        let ok = b"From: a@contoso.example\r\nTo: b@fabrikam.example\r\nSubject: x\r\n  folded\r\n\r\nbody\r\nnot: a header\r\n";
        assert_eq!(check_rfc5322(ok), Ok(()));
        for (bad, why) in [
            (
                &b"From: a@contoso.example\r\nthis is not a header\r\n\r\nx"[..],
                "not \"Name",
            ),
            (b" From: a@contoso.example\r\n\r\nx", "continuation"),
            (b"To: b@fabrikam.example\r\n\r\nx", "no valid From"),
            (b"From: nobody\r\n\r\nx", "no valid From"),
            (b"Fr\xc3\xb6m: a@contoso.example\r\n\r\nx", "invalid name"),
            (b"", "no headers"),
        ] {
            let e = check_rfc5322(bad).unwrap_err();
            assert!(e.contains(why), "{e}");
        }
    }

    #[test]
    fn facts_read_headers_bodies_and_attachments() {
        let raw = b"From: Alex <Alex@Contoso.example>\r\nTo: b@fabrikam.example\r\nSubject: =?utf-8?q?L=C3=B6n?=\r\nX-Sealpost-Encrypt: yes\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>top <b>secret</b></p>\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n\r\n%PDF\r\n--b--\r\n";
        let f = facts(raw, None).unwrap();
        assert_eq!(f.sender.unwrap().as_str(), "alex@contoso.example");
        assert_eq!(f.subject, "Lön");
        assert!(f.body.contains("top secret"), "{}", f.body);
        assert!(f.has_attachments);
        assert!(
            f.headers
                .contains(&("x-sealpost-encrypt".to_owned(), "yes".to_owned()))
        );
        assert_eq!(f.size, raw.len() as u64);
    }

    #[test]
    fn replies_are_one_line_of_ascii() {
        let r = Reply::new(550, "5.7.1", "Nej tack\r\n250 ok");
        assert_eq!(r.to_string(), "550 5.7.1 Nej tack??250 ok");
    }
}
