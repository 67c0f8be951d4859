//! Replies, replies to all and forwards from a signed-in recipient, each a new protected message
//! under the original's templates:
//!
//! - a reply goes to the original sender (who reads it in the portal like anyone else); reply-all
//!   also to everyone else the original was sent to;
//! - a forward carries the original (bodies and attachments, opened and sealed again under a new
//!   key) below the forwarder's note to new recipients, expires when the original does, and is
//!   revoked with it.
//!
//! The rights are checked by the caller (the route), against the original's rights.

use sealpost_api::admin::ForwardLimits;
use sealpost_api::recipient::{ForwardRequest, ReplyRequest};
use sealpost_envelope::{Manifest, MessageId, MessageKey, Part, open_manifest, open_part};

use crate::domain::ValidationError;
use crate::domain::access::expiry;
use crate::domain::address::EmailAddress;
use crate::domain::composed::{
    ComposedAttachment, ComposedMessage, MAX_RECIPIENTS, decode_attachments,
};
use crate::domain::rights::Rights;
use crate::mail::notice::escape_html;
use crate::services::error::{RefusalKind, ServiceError};
use crate::services::limits::{self, Limit};
use crate::services::rights::resolve_rights;
use crate::services::sending::{Delivery, branding_or_default, deliver, message_key};
use crate::services::uploads::{self, Owner};
use crate::state::AppState;
use crate::store::{ParentLink, Relation, StoreError, StoredMessage, Tenant};

/// A stored message opened on the server: its key and manifest.
struct Opened {
    id: MessageId,
    key: MessageKey,
    manifest: Manifest,
}

async fn open(
    state: &AppState,
    tenant: &Tenant,
    m: &StoredMessage,
) -> Result<Opened, ServiceError> {
    let (id, key) = message_key(state, tenant, m).await?;
    let sealed = state
        .store
        .read_part(&tenant.id, &m.id, &Part::Manifest.name())
        .await?;
    let manifest = open_manifest(&key, &id, &sealed)
        .map_err(|e| ServiceError::Internal(format!("manifest: {e}")))?;
    Ok(Opened { id, key, manifest })
}

impl Opened {
    async fn part(
        &self,
        state: &AppState,
        tenant: &Tenant,
        part: Part,
    ) -> Result<Vec<u8>, ServiceError> {
        let sealed = state
            .store
            .read_part(&tenant.id, self.id.as_str(), &part.name())
            .await?;
        open_part(&self.key, &self.id, part, &sealed)
            .map_err(|e| ServiceError::Internal(format!("{}: {e}", part.name())))
    }
}

fn prefixed(prefix: &str, subject: &str) -> String {
    let trimmed = subject.trim_start();
    let already = trimmed
        .get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix));
    if already {
        subject.to_owned()
    } else {
        format!("{prefix} {subject}")
    }
}

fn address(field: &str, s: &str) -> Result<EmailAddress, ServiceError> {
    EmailAddress::parse(field, s)
        .map_err(|_| ServiceError::Internal(format!("a stored address does not parse: {field}")))
}

/// An answer keeps the original's rights template and rights and points back at it.
fn answer_delivery(
    original: &StoredMessage,
    branding: crate::domain::branding::BrandingTemplate,
    expires_at: Option<i64>,
    relation: Relation,
    recipients: Vec<(EmailAddress, &'static str)>,
) -> Delivery {
    Delivery {
        branding,
        rights_template: original.rights_template.clone(),
        rights: Rights::from_stored(&original.rights),
        expires_at,
        parent: Some(ParentLink {
            message_id: original.id.clone(),
            relation,
        }),
        recipients,
        draft: None,
    }
}

/// Reply (to the sender) or reply to all (the sender, then every other To and Cc of the original).
/// Returns the new message's id and who it went to.
pub async fn reply(
    state: &AppState,
    tenant: &Tenant,
    original: &StoredMessage,
    me: &str,
    all: bool,
    req: ReplyRequest,
) -> Result<(String, Vec<String>), ServiceError> {
    let opened = open(state, tenant, original).await?;
    let from = address("from", me)?;
    let sender = address("to", &original.sender)?;
    let mut cc: Vec<EmailAddress> = Vec::new();
    if all {
        // A recipient kept only as display text (relayed mail may name `greg@inbucket`) cannot
        // be written to, so reply-all leaves it out.
        let listed = opened.manifest.to.iter().chain(&opened.manifest.cc);
        for a in listed.filter_map(|a| EmailAddress::parse("cc", a).ok()) {
            if a != from && a != sender && !cc.contains(&a) {
                cc.push(a);
            }
        }
    }
    let composed = ComposedMessage {
        from,
        to: vec![sender.clone()],
        cc: cc.clone(),
        display_only: Default::default(),
        subject: prefixed("Re:", &opened.manifest.subject),
        text: Some(req.text),
        html: req.html,
        attachments: decode_attachments(&req.attachments)?,
    };
    composed.check(state.config.max_message_size)?;
    let branding = branding_or_default(state, &tenant.id, &original.branding_template).await?;
    let expires_at = expiry(state.clock.now(), None, branding.expiry_days())?;
    // Attachments too large for one request were uploaded to a reply draft first.
    let owner = Owner::Recipient {
        address: me,
        message_id: &original.id,
    };
    let claimed = match &req.draft {
        Some(draft_id) => {
            let claimed = uploads::claim(state, tenant, owner, draft_id).await?;
            let fits = uploads::check_attachment_count(
                claimed.draft.attachments.len(),
                composed.attachments.len(),
            );
            if let Err(e) = fits {
                uploads::release(state, tenant, draft_id).await;
                return Err(e);
            }
            Some(claimed.seal)
        }
        None => None,
    };
    let mut recipients = vec![(sender, "to")];
    recipients.extend(cc.into_iter().map(|a| (a, "cc")));
    let went_to = recipients.iter().map(|(a, _)| a.to_string()).collect();
    let relation = if all {
        Relation::ReplyAll
    } else {
        Relation::Reply
    };
    let mut delivery = answer_delivery(original, branding, expires_at, relation, recipients);
    delivery.draft = claimed;
    let sent = deliver(state, tenant, me, composed, delivery).await;
    if sent.is_err()
        && let Some(draft_id) = &req.draft
    {
        uploads::release(state, tenant, draft_id).await;
    }
    Ok((sent?, went_to))
}

/// The original's rights template's forward limits, and the tenant's daily quota, for a forward
/// by `me` to `n` new recipients: its size and depth are checked, then the recipients are counted
/// (per forwarder and message, and per tenant, each a day) before anything is opened or sent.
async fn check_forward_limits(
    state: &AppState,
    tenant: &Tenant,
    original: &StoredMessage,
    me: &str,
    n: usize,
) -> Result<(), ServiceError> {
    // A template removed since keeps its messages on the defaults.
    let limits =
        match resolve_rights(state.store.as_ref(), &tenant.id, &original.rights_template).await {
            Ok(t) => t.forward_limits,
            Err(StoreError::NotFound) => ForwardLimits::default(),
            Err(e) => return Err(e.into()),
        };
    if n > limits.recipients_per_forward as usize {
        return Err(ValidationError::new(
            "to",
            "too_many_recipients",
            format!(
                "A forward of this message may name at most {} recipients.",
                limits.recipients_per_forward
            ),
        )
        .into());
    }
    // How many forwards led here: each step up the chain is one read, at most `depth` of them.
    let mut depth = 0;
    let mut parent = original.parent.clone();
    while let Some(p) = parent.filter(|p| p.relation == Relation::Forward) {
        depth += 1;
        if depth >= limits.depth {
            return Err(ServiceError::Refused {
                refusal: RefusalKind::NotPossible,
                code: "forward_too_deep",
                message: format!(
                    "This message has been forwarded {depth} times already, as far as its sender allows."
                ),
            });
        }
        parent = match state.store.message(&tenant.id, &p.message_id).await {
            Ok(m) => m.parent,
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        };
    }
    let day = 24 * 3600;
    let per_forwarder = Limit {
        name: "forward recipients per recipient and message",
        max: limits.recipients_per_day,
        window: day,
    };
    let per_tenant = Limit {
        name: "forward recipients per tenant",
        max: state.config.limits.forward_recipients_per_tenant,
        window: day,
    };
    let forwarder = format!("{}\0{me}", original.id);
    limits::take_n(
        state,
        &[
            (per_forwarder, forwarder.as_bytes()),
            (per_tenant, tenant.id.as_bytes()),
        ],
        u32::try_from(n).unwrap_or(u32::MAX),
        "too_many_forwards",
        "This message has been forwarded to as many people today as its sender allows. Try again in {minutes} minutes.",
    )
    .await
}

/// Forward the original, below `req.text`, to `req.to`. Returns the new message's id and who it
/// went to.
pub async fn forward(
    state: &AppState,
    tenant: &Tenant,
    original: &StoredMessage,
    me: &str,
    req: ForwardRequest,
) -> Result<(String, Vec<String>), ServiceError> {
    if req.to.is_empty() {
        return Err(ValidationError::new(
            "to",
            "no_recipients",
            "Say who to forward the message to.",
        )
        .into());
    }
    if req.to.len() > MAX_RECIPIENTS {
        return Err(ValidationError::new(
            "to",
            "too_many_recipients",
            format!("A message may have at most {MAX_RECIPIENTS} recipients."),
        )
        .into());
    }
    let mut to: Vec<EmailAddress> = Vec::new();
    for (i, a) in req.to.iter().enumerate() {
        let a = EmailAddress::parse(&format!("to[{i}]"), a)?;
        if !to.contains(&a) {
            to.push(a);
        }
    }
    check_forward_limits(state, tenant, original, me, to.len()).await?;
    let opened = open(state, tenant, original).await?;
    let m = &opened.manifest;
    let header = format!(
        "---------- Forwarded message ----------\nFrom: {}\nDate: {}\nSubject: {}\nTo: {}{}\n",
        m.from,
        m.sent_at,
        m.subject,
        m.to.join(", "),
        if m.cc.is_empty() {
            String::new()
        } else {
            format!("\nCc: {}", m.cc.join(", "))
        }
    );
    let mut text = None;
    let mut html = None;
    for (n, body) in (0u32..).zip(&m.bodies) {
        let bytes = opened.part(state, tenant, Part::Body(n)).await?;
        let content = String::from_utf8_lossy(&bytes).into_owned();
        if body.content_type.starts_with("text/html") && html.is_none() {
            html = Some(format!(
                "<div>{}</div><hr><pre>{}</pre>{content}",
                escape_html(&req.text).replace('\n', "<br>"),
                escape_html(&header)
            ));
        } else if text.is_none() {
            text = Some(format!("{}\n\n{header}\n{content}", req.text));
        }
    }
    if text.is_none() {
        let note = if html.is_some() {
            "\n(The forwarded message is in HTML.)\n"
        } else {
            ""
        };
        text = Some(format!("{}\n\n{header}{note}", req.text));
    }
    let mut attachments = Vec::with_capacity(m.attachments.len());
    for (n, a) in (0u32..).zip(&m.attachments) {
        attachments.push(ComposedAttachment {
            name: a.name.clone(),
            content_type: a.content_type.clone(),
            content_id: a.content_id.clone(),
            bytes: opened.part(state, tenant, Part::Attachment(n)).await?,
        });
    }
    let composed = ComposedMessage {
        from: address("from", me)?,
        to: to.clone(),
        cc: Vec::new(),
        display_only: Default::default(),
        subject: prefixed("Fwd:", &m.subject),
        text,
        html,
        attachments,
    };
    composed.check(state.config.max_message_size)?;
    drop(opened);
    let branding = branding_or_default(state, &tenant.id, &original.branding_template).await?;
    let went_to = to.iter().map(ToString::to_string).collect();
    // A forward never outlives what it forwards.
    let recipients = to.into_iter().map(|a| (a, "to")).collect();
    let delivery = answer_delivery(
        original,
        branding,
        original.expires_at,
        Relation::Forward,
        recipients,
    );
    let id = deliver(state, tenant, me, composed, delivery).await?;
    Ok((id, went_to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_prefixed_once() {
        assert_eq!(prefixed("Re:", "Budget"), "Re: Budget");
        assert_eq!(prefixed("Re:", "RE: Budget"), "RE: Budget");
        assert_eq!(prefixed("Fwd:", "Re: Budget"), "Fwd: Re: Budget");
        assert_eq!(prefixed("Re:", ""), "Re: ");
    }
}
