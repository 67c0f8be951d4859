//! The queue worker: carries out the plans of messages the SMTP listener accepted.
//!
//! Each message is leased to this node while it is worked on, so a second worker (another node)
//! never takes it at the same time. A lease left by a crash expires, or is given back at once when
//! the same node starts again; a worker whose lease expired and went to another stops, and none of
//! its late writes count. Progress is
//! saved after each step (the relay, each sealed group), so a retry redoes only what did not
//! happen. Delivery is at least once: a crash between a step and saving it repeats that step.
//!
//! A step that failed for now (relay unreachable, key unavailable) is retried after 15 s, 1 min,
//! 5 min, 15 min, 30 min, then hourly; after two days, or at once for a permanent failure (a 5xx
//! from the relay, a message that cannot be sealed), the sender gets a non-delivery report
//! (RFC 3464), written to the outbox in the transaction that removes the message from the queue.

use std::time::Duration;

use sealpost_api::admin::SendOptions;

use super::{Plan, SealGroup};
use crate::domain::address::EmailAddress;
use crate::domain::delivery::{GIVE_UP_AFTER, backoff};
use crate::domain::mail_rules::remove_tags;
use crate::mail::{bounce, inbound, trace};
use crate::services::error::ServiceError;
use crate::services::{outbox, sending};
use crate::state::AppState;
use crate::store::mail_flow::QueuedMail;
use crate::store::outbox::OutboxMail;
use crate::store::{AuditEvent, StoreError, Tenant};

/// How long a worker holds a message.
const LEASE: i64 = 300;

/// Run the worker until the process ends: everything due now, then sleep until the next message
/// is due or the listener says one arrived.
pub async fn run(state: AppState) {
    match state.store.release_leases(&state.node_id).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            messages = n,
            "took back the queue leases of this node's previous run"
        ),
        Err(e) => tracing::error!(error = %e, "this node's old queue leases could not be released"),
    }
    loop {
        loop {
            let now = state.clock.now();
            match state
                .store
                .claim_mail(now, now + LEASE, &state.node_id)
                .await
            {
                Ok(Some(mail)) => process(&state, mail).await,
                Ok(None) => break,
                Err(e) => {
                    tracing::error!(error = %e, "the mail queue could not be read");
                    break;
                }
            }
        }
        let wait = match state.store.next_mail_due().await {
            Ok(Some(due)) => (due - state.clock.now()).clamp(1, 60),
            _ => 60,
        };
        tokio::select! {
            () = state.mail_queue.notified() => {}
            () = tokio::time::sleep(Duration::from_secs(wait.unsigned_abs())) => {}
        }
    }
}

enum Failure {
    /// Trying again may work.
    ForNow(String),
    /// It never will.
    ForGood(String),
}

/// Whether a service's refusal may pass (the retry decision is the queue's, not an HTTP status).
fn service_failure(e: ServiceError) -> Failure {
    match e {
        ServiceError::Internal(m) => Failure::ForNow(m),
        ServiceError::Unavailable { message, .. } | ServiceError::TooMany { message, .. } => {
            Failure::ForNow(message)
        }
        ServiceError::Refused { message, .. } | ServiceError::Conflict { message, .. } => {
            Failure::ForGood(message)
        }
        ServiceError::Key(refusal @ crate::domain::release::Refusal::Purged) => {
            Failure::ForGood(ServiceError::key_text(refusal).to_owned())
        }
        ServiceError::Key(refusal) => Failure::ForNow(ServiceError::key_text(refusal).to_owned()),
        ServiceError::Invalid(v) => Failure::ForGood(v.message),
        ServiceError::NotFound => Failure::ForGood(e.to_string()),
    }
}

/// Whether the store says the lease is gone (another worker has the message now).
fn lost(e: &StoreError) -> bool {
    matches!(e, StoreError::Conflict("lease_lost"))
}

/// Save progress. `false`: this node no longer holds the message, and must leave it alone.
async fn save(state: &AppState, mail: &QueuedMail, plan: &Plan) -> bool {
    match serde_json::to_string(plan) {
        Ok(json) => match state
            .store
            .save_mail_plan(&mail.id, &state.node_id, &json)
            .await
        {
            Ok(()) => true,
            Err(e) if lost(&e) => {
                tracing::warn!(mail = %mail.id, "the queue lease expired and another worker has the message; stopping here");
                false
            }
            Err(e) => {
                tracing::error!(mail = %mail.id, error = %e, "mail queue progress could not be saved");
                true
            }
        },
        Err(e) => {
            tracing::error!(error = %e, "mail queue progress could not be written");
            true
        }
    }
}

async fn audit(state: &AppState, tenant: &Tenant, actor: String, action: &str, target: &str) {
    let event = AuditEvent {
        tenant_id: tenant.id.clone(),
        at: state.clock.now(),
        actor,
        action: action.to_owned(),
        target: target.to_owned(),
    };
    if let Err(e) = state.store.audit(&event).await {
        tracing::error!(error = %e, "a mail flow audit entry could not be written");
    }
}

/// Work on one claimed message.
pub async fn process(state: &AppState, mail: QueuedMail) {
    let mut plan: Plan = match serde_json::from_str(&mail.plan) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(mail = %mail.id, error = %e, "a queued message's plan is unreadable");
            let _ = state
                .store
                .fail_mail(&mail.id, &state.node_id, "the plan is unreadable")
                .await;
            return;
        }
    };
    let tenant = match state.store.tenant(&mail.tenant_id).await {
        Ok(t) => t,
        Err(StoreError::NotFound) => {
            let _ = state
                .store
                .fail_mail(&mail.id, &state.node_id, "the tenant was removed")
                .await;
            return;
        }
        Err(e) => {
            retry(state, &mail, &plan, &e.to_string()).await;
            return;
        }
    };
    let mut for_now: Option<String> = None;

    if !plan.relay.is_empty() && !plan.relayed {
        let from = (!mail.mail_from.is_empty()).then_some(mail.mail_from.as_str());
        // The trace field every MTA adds (RFC 5321 §4.4); the message follows unchanged.
        let mut stamped = trace::received(
            &mail.client,
            &state.config.smtp_listen_hostname(),
            &mail.id,
            mail.received_at,
        )
        .into_bytes();
        stamped.extend_from_slice(&mail.raw);
        match state.mailer.send_raw(from, &plan.relay, &stamped).await {
            Ok(()) => {
                plan.relayed = true;
                audit(
                    state,
                    &tenant,
                    format!("smtp {}", mail.client),
                    "mail_flow.relayed",
                    &mail.id,
                )
                .await;
            }
            Err(e) if e.is_permanent() => {
                plan.relayed = true;
                let reason = e.to_string();
                plan.failed
                    .extend(plan.relay.iter().map(|a| (a.clone(), reason.clone())));
            }
            Err(e) => for_now = Some(format!("outbound relay: {e}")),
        }
        if !save(state, &mail, &plan).await {
            return;
        }
    }

    for i in 0..plan.seals.len() {
        if plan.seals[i].done {
            continue;
        }
        match seal(state, &tenant, &mail, &plan.seals[i]).await {
            Ok(id) => {
                audit(
                    state,
                    &tenant,
                    format!("mail flow rule {}", plan.seals[i].rule),
                    "mail_flow.sealed",
                    &id,
                )
                .await;
                plan.seals[i].message_id = Some(id);
                plan.seals[i].done = true;
            }
            Err(Failure::ForGood(reason)) => {
                plan.seals[i].done = true;
                let failed: Vec<(String, String)> = plan.seals[i]
                    .recipients
                    .iter()
                    .map(|a| (a.clone(), reason.clone()))
                    .collect();
                plan.failed.extend(failed);
            }
            Err(Failure::ForNow(reason)) => {
                for_now.get_or_insert(reason);
            }
        }
        if !save(state, &mail, &plan).await {
            return;
        }
    }

    if let Some(reason) = for_now {
        if state.clock.now() - mail.received_at < GIVE_UP_AFTER {
            retry(state, &mail, &plan, &reason).await;
            return;
        }
        let undone: Vec<String> = plan
            .seals
            .iter()
            .filter(|g| !g.done)
            .flat_map(|g| g.recipients.clone())
            .chain(plan.relay.iter().filter(|_| !plan.relayed).cloned())
            .collect();
        let gave_up = format!("Sealpost gave up after two days of trying: {reason}");
        plan.failed
            .extend(undone.into_iter().map(|a| (a, gave_up.clone())));
    }
    let report = if plan.failed.is_empty() {
        None
    } else {
        audit(
            state,
            &tenant,
            format!("smtp {}", mail.client),
            "mail_flow.undelivered",
            &mail.id,
        )
        .await;
        report(state, &tenant, &mail, &plan.failed)
    };
    // The report is written as the message leaves the queue, in one transaction: neither is lost.
    match state
        .store
        .finish_mail(&mail.id, &state.node_id, report.as_ref())
        .await
    {
        Ok(()) => {
            if let Some(report) = report {
                outbox::try_now(state, &[report.id]).await;
            }
        }
        Err(e) => {
            tracing::error!(mail = %mail.id, error = %e, "a delivered message could not be removed from the queue");
        }
    }
}

async fn retry(state: &AppState, mail: &QueuedMail, plan: &Plan, reason: &str) {
    let next = state.clock.now() + backoff(mail.attempts);
    tracing::warn!(mail = %mail.id, attempts = mail.attempts + 1, error = %reason, "queued message not delivered yet; will retry");
    let json = serde_json::to_string(plan).unwrap_or_else(|_| mail.plan.clone());
    if let Err(e) = state
        .store
        .retry_mail(&mail.id, &state.node_id, &json, next, reason)
        .await
    {
        tracing::error!(mail = %mail.id, error = %e, "a retry could not be scheduled");
    }
}

async fn seal(
    state: &AppState,
    tenant: &Tenant,
    mail: &QueuedMail,
    group: &SealGroup,
) -> Result<String, Failure> {
    let mut composed = inbound::read(&mail.raw).map_err(|e| Failure::ForGood(e.to_string()))?;
    if !group.remove_tags.is_empty() {
        composed.subject = remove_tags(&composed.subject, &group.remove_tags);
    }
    let recipients = group
        .recipients
        .iter()
        .map(|a| {
            let address = EmailAddress::parse("recipient", a)
                .map_err(|e| Failure::ForGood(e.message.clone()))?;
            let kind = if composed.to.contains(&address) {
                "to"
            } else if composed.cc.contains(&address) {
                "cc"
            } else {
                "bcc"
            };
            Ok((address, kind))
        })
        .collect::<Result<Vec<_>, Failure>>()?;
    sending::send_to(
        state,
        tenant,
        &format!("mail flow rule {}", group.rule),
        composed,
        SendOptions {
            branding_template: Some(group.branding_template.clone()),
            rights_template: Some(group.rights_template.clone()),
            expires_in_days: None,
        },
        recipients,
    )
    .await
    .map_err(service_failure)
}

/// The sender's non-delivery report, as an outbox mail to write as the message leaves the queue
/// (`None` for a bounce, which is never bounced, or a report that cannot be made).
fn report(
    state: &AppState,
    tenant: &Tenant,
    mail: &QueuedMail,
    failed: &[(String, String)],
) -> Option<OutboxMail> {
    if mail.mail_from.is_empty() {
        return None; // a bounce is never bounced
    }
    let id = crate::secrets::new_id();
    let hostname = state.config.smtp_listen_hostname();
    // From the sender's own domain where it is the tenant's, so it is signed and aligned.
    let sender_domain = mail
        .mail_from
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase());
    let from_domain = tenant
        .domains
        .iter()
        .find(|d| Some(d.as_str()) == sender_domain.as_deref())
        .or_else(|| tenant.domains.first())
        .map_or_else(|| hostname.clone(), ToString::to_string);
    let built = bounce::build(&bounce::Report {
        hostname: &hostname,
        from_domain: &from_domain,
        to: &mail.mail_from,
        original: &mail.raw,
        arrived_at: mail.received_at,
        at: state.clock.now(),
        failures: failed,
        id: &id,
    })
    .map_err(|e| ServiceError::Internal(e.to_string()))
    .and_then(|raw| {
        outbox::prepare_raw(
            state,
            outbox::Cause {
                tenant_id: &mail.tenant_id,
                purpose: outbox::Purpose::Bounce,
                message_id: None,
                expires_at: None,
            },
            None,
            &mail.mail_from,
            &raw,
        )
    });
    match built {
        Ok(report) => Some(report),
        Err(e) => {
            tracing::error!(mail = %mail.id, error = %e, "a non-delivery report could not be made");
            None
        }
    }
}
