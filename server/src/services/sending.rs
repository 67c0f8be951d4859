//! Sending a protected message: check it against the tenant, resolve its templates and expiry,
//! seal it, store it whole, then send each external recipient a branded notice with their own
//! link token. And the status report (`Get-OMEMessageStatus`) read back from what was stored.
//!
//! Link tokens exist in the clear only here, in memory, long enough to put them in the notices;
//! the store keeps their SHA-256.

use sealpost_api::admin::{
    MessageStatusView, NoticeView, RecipientStatusView, RevocationView, SendOptions,
};
use sealpost_envelope::{
    MessageId, MessageKey, Part, TenantDataKey, WrapBinding, open_manifest, unwrap_message_key,
    wrap_message_key,
};

use crate::clock::rfc3339;
use crate::domain::access::{MessageState, Revocation, expiry, message_state};
use crate::domain::address::EmailAddress;
use crate::domain::branding::{BrandingTemplate, DEFAULT_TEMPLATE};
use crate::domain::composed::ComposedMessage;
use crate::domain::rights::{ENCRYPT, Rights};
use crate::mail::notice;
use crate::secrets::{new_id, new_secret};
use crate::services::error::ServiceError;
use crate::services::key_policies;
use crate::services::outbox;
use crate::services::rights::resolve_rights;
use crate::services::sealing;
use crate::state::AppState;
use crate::store::{
    AuditEvent, NewMessage, NewRecipient, NoticeState, ParentLink, StoreError, StoredMessage,
    Tenant, UploadedPart,
};

/// Prefix of link token secrets.
pub const LINK_TOKEN_PREFIX: &str = "spl_";

/// Seal, store and notify. Nothing is stored unless everything is: the notices are written with
/// the message, into the outbox, and sent from there (at once, and again until the relay takes
/// them).
pub async fn send(
    state: &AppState,
    tenant: &Tenant,
    actor: &str,
    composed: ComposedMessage,
    options: SendOptions,
) -> Result<String, ServiceError> {
    let external = external_recipients(tenant, &composed);
    send_to(state, tenant, actor, composed, options, external).await
}

/// The sender must be in one of the tenant's domains (`sender_not_in_tenant`).
pub fn check_sender(tenant: &Tenant, from: &EmailAddress) -> Result<(), ServiceError> {
    if from.is_in(&tenant.domains) {
        return Ok(());
    }
    Err(ServiceError::conflict(
        "sender_not_in_tenant",
        format!(
            "{from} is not in one of this tenant's domains ({}).",
            tenant
                .domains
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ))
}

/// The message's To and Cc outside the tenant's domains: who gets a notice.
fn external_recipients(
    tenant: &Tenant,
    composed: &ComposedMessage,
) -> Vec<(EmailAddress, &'static str)> {
    composed
        .recipients()
        .into_iter()
        .filter(|(a, _)| !a.is_in(&tenant.domains))
        .map(|(a, k)| (a.clone(), k))
        .collect()
}

/// As [`send`], for a message whose id and key a draft reserved and whose first attachments it
/// already sealed (see `services::uploads`).
pub async fn send_draft(
    state: &AppState,
    tenant: &Tenant,
    actor: &str,
    composed: ComposedMessage,
    options: SendOptions,
    draft: DraftSeal,
) -> Result<String, ServiceError> {
    let external = external_recipients(tenant, &composed);
    let mut delivery = delivery_for(state, tenant, &composed, options, external).await?;
    delivery.draft = Some(draft);
    deliver(state, tenant, actor, composed, delivery).await
}

/// As [`send`], to the given external recipients (`to`, `cc` or `bcc`) rather than the message's
/// own external To and Cc: the SMTP listener seals for the envelope's recipients.
pub async fn send_to(
    state: &AppState,
    tenant: &Tenant,
    actor: &str,
    composed: ComposedMessage,
    options: SendOptions,
    external: Vec<(EmailAddress, &'static str)>,
) -> Result<String, ServiceError> {
    let delivery = delivery_for(state, tenant, &composed, options, external).await?;
    deliver(state, tenant, actor, composed, delivery).await
}

/// The checks every send makes, and the delivery they settle: the sender in the tenant, someone
/// outside it, the templates and the expiry.
async fn delivery_for(
    state: &AppState,
    tenant: &Tenant,
    composed: &ComposedMessage,
    options: SendOptions,
    external: Vec<(EmailAddress, &'static str)>,
) -> Result<Delivery, ServiceError> {
    check_sender(tenant, &composed.from)?;
    if external.is_empty() {
        return Err(ServiceError::conflict(
            "no_external_recipients",
            "Every recipient is inside the organisation; Sealpost protects mail to people outside it.",
        ));
    }
    let branding_name = options
        .branding_template
        .as_deref()
        .unwrap_or(DEFAULT_TEMPLATE);
    let branding_view = match state
        .store
        .branding_template(&tenant.id, branding_name)
        .await
    {
        Err(StoreError::NotFound) => {
            return Err(ServiceError::conflict(
                "unknown_branding_template",
                format!("There is no branding template called {branding_name:?}."),
            ));
        }
        other => other?,
    };
    let branding = BrandingTemplate::stored(branding_view)
        .map_err(|e| ServiceError::Internal(format!("stored branding template is invalid: {e}")))?;
    let rights_name = options.rights_template.as_deref().unwrap_or(ENCRYPT);
    let rights = match resolve_rights(state.store.as_ref(), &tenant.id, rights_name).await {
        Err(StoreError::NotFound) => {
            return Err(ServiceError::conflict(
                "unknown_rights_template",
                format!("There is no rights template called {rights_name:?}."),
            ));
        }
        other => other?,
    };
    let now = state.clock.now();
    let expires_at = expiry(now, options.expires_in_days, branding.expiry_days())?;
    Ok(Delivery {
        branding,
        rights_template: rights.name.clone(),
        rights: rights.rights,
        expires_at,
        parent: None,
        recipients: external,
        draft: None,
    })
}

/// A draft's reservation: the message's id and key, and its attachments already sealed under
/// them, in order.
#[derive(Debug)]
pub struct DraftSeal {
    pub id: String,
    pub key: MessageKey,
    /// What the manifest lists for them.
    pub attachments: Vec<sealpost_envelope::AttachmentEntry>,
    /// Their sealed parts, in the blob store.
    pub parts: Vec<UploadedPart>,
}

/// How a composed message is to be delivered: its templates, expiry, the message it answers, and
/// who gets a notice.
#[derive(Debug)]
pub struct Delivery {
    /// Branding for the notices and portal.
    pub branding: BrandingTemplate,
    /// The rights template's name.
    pub rights_template: String,
    pub rights: Rights,
    /// When access ends.
    pub expires_at: Option<i64>,
    /// The message this one answers or forwards.
    pub parent: Option<ParentLink>,
    /// Who reads it in the portal (`to` or `cc`).
    pub recipients: Vec<(EmailAddress, &'static str)>,
    /// Sent from a draft: its id, key and sealed attachments.
    pub draft: Option<DraftSeal>,
}

/// A tenant's branding template by name, or the default one if it has since been removed.
pub async fn branding_or_default(
    state: &AppState,
    tenant_id: &str,
    name: &str,
) -> Result<BrandingTemplate, ServiceError> {
    let view = match state.store.branding_template(tenant_id, name).await {
        Err(StoreError::NotFound) => {
            state
                .store
                .branding_template(tenant_id, DEFAULT_TEMPLATE)
                .await?
        }
        other => other?,
    };
    BrandingTemplate::stored(view)
        .map_err(|e| ServiceError::Internal(format!("stored branding template is invalid: {e}")))
}

/// Seal `composed` and store it whole with a notice for each recipient in `delivery`, carrying their
/// own link token, in the outbox; then try the notices at once. Returns the new message's id.
pub async fn deliver(
    state: &AppState,
    tenant: &Tenant,
    actor: &str,
    composed: ComposedMessage,
    delivery: Delivery,
) -> Result<String, ServiceError> {
    let Delivery {
        branding,
        rights_template,
        rights,
        expires_at,
        parent,
        recipients: external,
        draft,
    } = delivery;
    let now = state.clock.now();
    let (id, draft_key, uploaded, uploaded_parts) = match draft {
        Some(d) => (d.id, d.key, d.attachments, Some(d.parts)),
        None => (new_id(), MessageKey::generate(), Vec::new(), None),
    };
    let message_id = MessageId::parse(&id).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let (mut policy_id, mut key_version, mut data_key) =
        key_policies::key_for_sealing(state, tenant, composed.from.as_str()).await?;
    let sealed_id = message_id.clone();
    let size = composed.size() + uploaded.iter().map(|a| a.size).sum::<u64>();
    let (composed, sealed) = tokio::task::spawn_blocking(move || {
        let sealed = sealing::seal_with(draft_key, &sealed_id, &composed, now, &uploaded);
        (composed, sealed)
    })
    .await
    .map_err(|e| ServiceError::Internal(e.to_string()))?;
    let (key, parts) =
        sealed.map_err(|e| ServiceError::Internal(format!("sealing failed: {e}")))?;
    let wrap = |data_key: &TenantDataKey, key_version: u32| {
        wrap_message_key(
            data_key,
            &key,
            &WrapBinding {
                tenant_id: &tenant.id,
                message_id: &message_id,
                key_version,
            },
        )
        .map(|w| w.to_vec())
        .map_err(|e| ServiceError::Internal(format!("wrapping failed: {e}")))
    };
    let mut wrapped_key = wrap(&data_key, key_version)?;

    let mut links = Vec::with_capacity(external.len());
    let mut recipients = Vec::with_capacity(external.len());
    for (address, kind) in &external {
        let (secret, hash) = new_secret(LINK_TOKEN_PREFIX);
        recipients.push(NewRecipient {
            address: address.to_string(),
            kind,
            link_token_hash: hash,
        });
        links.push(secret);
    }
    // Each recipient's notice is written with the message, into the outbox, and sent from there.
    let public_url = state.config.public_url();
    let subject = tenant
        .show_subject_in_notice
        .then_some(composed.subject.as_str());
    let mut notices = Vec::with_capacity(external.len());
    for ((address, _), secret) in external.iter().zip(&links) {
        let link = format!(
            "{}/m/{id}#t={}",
            public_url.trim_end_matches('/'),
            secret.as_str()
        );
        let input = notice::NoticeInput {
            tenant_name: &tenant.name,
            sender: &composed.from,
            recipient: address,
            subject,
            branding: &branding,
            link: &link,
            expires_at,
            message_id: &id,
            outside_sender_via: (!composed.from.is_in(&tenant.domains))
                .then(|| tenant.domains.first().map(|d| d.as_str()))
                .flatten(),
        };
        let mail = notice::build(&input).map_err(|e| {
            ServiceError::Internal(format!("the notice to {address} could not be built: {e}"))
        })?;
        notices.push(outbox::prepare(
            state,
            outbox::Cause {
                tenant_id: &tenant.id,
                purpose: outbox::Purpose::Notice,
                message_id: Some(&id),
                expires_at: None,
            },
            &mail,
        )?);
    }
    drop(links);
    let notice_ids: Vec<String> = notices.iter().map(|n| n.id.clone()).collect();
    let mut message = NewMessage {
        id: id.clone(),
        tenant_id: tenant.id.clone(),
        sender: composed.from.to_string(),
        branding_template: branding.identity().to_owned(),
        rights_template,
        rights: rights.to_stored(),
        wrapped_key: Vec::new(),
        policy_id: None,
        key_version: 0,
        size,
        created_at: now,
        expires_at,
        recipients,
        parts,
        draft: uploaded_parts,
        parent,
        notices,
    };
    // A key roll can retire the data-key version between wrapping and writing (rarely); the
    // message key is then wrapped again under the policy's current version. Content is unchanged.
    let mut attempts = 0;
    loop {
        message.wrapped_key = std::mem::take(&mut wrapped_key);
        message.policy_id = policy_id.clone();
        message.key_version = key_version;
        match state.store.store_message(&message).await {
            Err(StoreError::Conflict("key_version_retired")) if attempts < 3 => {
                attempts += 1;
                let tenant = state.store.tenant(&tenant.id).await?;
                (policy_id, key_version, data_key) =
                    key_policies::key_for_sealing(state, &tenant, &message.sender).await?;
                wrapped_key = wrap(&data_key, key_version)?;
            }
            other => {
                other?;
                break;
            }
        }
    }
    drop(data_key);
    drop(key);
    state
        .store
        .audit(&AuditEvent {
            tenant_id: tenant.id.clone(),
            at: now,
            actor: actor.to_owned(),
            action: "message.sent".to_owned(),
            target: id.clone(),
        })
        .await?;

    outbox::try_now(state, &notice_ids).await;
    Ok(id)
}

/// Unwrap a stored message's key: its data key (the tenant's own, or its policy's, from a root
/// key), then the message key. A root key that cannot be used is `key_unavailable`; a purged policy
/// is `message_purged`; a wrapped key that does not open is internal.
pub async fn message_key(
    state: &AppState,
    tenant: &Tenant,
    m: &StoredMessage,
) -> Result<(MessageId, MessageKey), ServiceError> {
    let message_id = MessageId::parse(&m.id).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let (data_key, reread) = key_policies::key_for_message(state, tenant, m).await?;
    let m = reread.as_ref().unwrap_or(m);
    let key = unwrap_message_key(
        &data_key,
        &m.wrapped_key,
        &WrapBinding {
            tenant_id: &tenant.id,
            message_id: &message_id,
            key_version: m.key_version,
        },
    )
    .map_err(|e| ServiceError::Internal(format!("message key: {e}")))?;
    Ok((message_id, key))
}

fn notice_view(n: &NoticeState) -> NoticeView {
    match n {
        NoticeState::Queued { since } => NoticeView::Queued {
            since: rfc3339(*since),
        },
        NoticeState::Sent { at } => NoticeView::Sent { at: rfc3339(*at) },
        NoticeState::Deferred {
            at,
            reason,
            next_attempt_at,
        } => NoticeView::Deferred {
            at: rfc3339(*at),
            reason: reason.clone(),
            next_attempt_at: rfc3339(*next_attempt_at),
        },
        NoticeState::Bounced { at, reason } => NoticeView::Bounced {
            at: rfc3339(*at),
            reason: reason.clone(),
        },
    }
}

fn revocation_view(r: &Revocation) -> RevocationView {
    RevocationView {
        at: rfc3339(r.at),
        by: r.by.clone(),
    }
}

/// The status report, with the subject read from the sealed manifest.
pub async fn status_view(
    state: &AppState,
    tenant: &Tenant,
    m: &StoredMessage,
) -> Result<MessageStatusView, ServiceError> {
    let policy = match &m.policy_id {
        Some(p) => Some(state.store.policy(&tenant.id, p).await?),
        None => None,
    };
    let purged = policy.as_ref().is_some_and(|p| p.purged.is_some());
    // A purged message cannot be opened, so its subject cannot be read any more.
    let subject = if purged {
        String::new()
    } else {
        let (message_id, key) = message_key(state, tenant, m).await?;
        let sealed = state
            .store
            .read_part(&tenant.id, &m.id, &Part::Manifest.name())
            .await?;
        open_manifest(&key, &message_id, &sealed)
            .map_err(|e| ServiceError::Internal(format!("manifest: {e}")))?
            .subject
    };
    let now = state.clock.now();
    let state_now = message_state(m.revocation.as_ref(), m.expires_at, now);
    Ok(MessageStatusView {
        message_id: m.id.clone(),
        subject,
        sender: m.sender.clone(),
        sent_at: rfc3339(m.created_at),
        is_revocable: m.revocation.is_none(),
        revoked: m.revocation.is_some(),
        revocation: m.revocation.as_ref().map(revocation_view),
        expires_at: m.expires_at.map(rfc3339),
        expired: matches!(state_now, MessageState::Expired { .. }),
        branding_template: m.branding_template.clone(),
        rights_template: m.rights_template.clone(),
        rights: Rights::from_stored(&m.rights).names(),
        recipients: m
            .recipients
            .iter()
            .map(|r| RecipientStatusView {
                address: r.address.clone(),
                kind: r.kind.clone(),
                notice: notice_view(&r.notice),
                opened_at: r.opened_at.map(rfc3339),
                revoked: r.revocation.as_ref().map(revocation_view),
            })
            .collect(),
        data_encryption_policy: policy.map(|p| p.name),
        purged,
    })
}
