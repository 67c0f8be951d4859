//! The outbox: every mail Sealpost writes itself (notices, passcodes, non-delivery reports) is
//! kept, sealed under the server's mail key, in the same transaction as what causes it, and sent
//! from there. The request that wrote a mail tries it at once ([`try_now`]); whatever that does
//! not send, the worker ([`run`]) does, on any node, with a lease per mail as the SMTP queue has.
//!
//! A mail the relay refuses for now is tried again after 15 s, 1 min, 5 min, 15 min, 30 min, then
//! hourly, and given up on after two days; one it refuses for good is given up on at once. A
//! passcode's mail is dropped once its code has expired. Each try is settled in one transaction
//! with the recipient's notice state, so a crash at any point leaves the mail either waiting (it
//! is sent again: at least once, as SMTP allows) or settled.

use std::time::Duration;

use sealpost_envelope::chunked;

use crate::domain::delivery::{GIVE_UP_AFTER, backoff};
use crate::mail::MailError;
use crate::secrets::new_id;
use crate::services::dkim;
use crate::services::error::ServiceError;
use crate::state::AppState;
use crate::store::StoreError;
pub use crate::store::outbox::Purpose;
use crate::store::outbox::{OutboxMail, Outcome};

/// How long a worker holds a mail while it sends it.
const LEASE: i64 = 300;

/// What a mail is for and what bounds it, besides its content.
#[derive(Debug, Clone, Copy)]
pub struct Cause<'a> {
    /// The tenant it is sent for.
    pub tenant_id: &'a str,
    pub purpose: Purpose,
    /// A notice's message, or a passcode's scope.
    pub message_id: Option<&'a str>,
    /// After this it is not sent.
    pub expires_at: Option<i64>,
}

/// What a kept mail is sealed to: its id and everything that routes it, so a row changed in the
/// database (another recipient, sender, tenant or purpose) no longer opens.
fn context(mail: &OutboxMail) -> Vec<u8> {
    [
        "sealpost outbox mail",
        &mail.id,
        &mail.tenant_id,
        mail.purpose.as_str(),
        mail.message_id.as_deref().unwrap_or(""),
        &mail.recipient,
        &mail.mail_from,
    ]
    .join("\n")
    .into_bytes()
}

/// An outbox row for `mail` (one envelope recipient), sealed under the mail key, to be written by
/// the caller in the transaction that causes it.
pub fn prepare(
    state: &AppState,
    cause: Cause<'_>,
    mail: &lettre::Message,
) -> Result<OutboxMail, ServiceError> {
    let envelope = mail.envelope();
    let [recipient] = envelope.to() else {
        return Err(ServiceError::Internal(
            "an outbox mail has exactly one recipient".to_owned(),
        ));
    };
    let from = envelope.from().map(ToString::to_string);
    prepare_raw(
        state,
        cause,
        from.as_deref(),
        recipient.as_ref(),
        &mail.formatted(),
    )
}

/// As [`prepare`], for a message already written out, with its envelope (`from`: `None` for a
/// non-delivery report).
pub fn prepare_raw(
    state: &AppState,
    cause: Cause<'_>,
    from: Option<&str>,
    to: &str,
    raw: &[u8],
) -> Result<OutboxMail, ServiceError> {
    let mut mail = OutboxMail {
        id: new_id(),
        tenant_id: cause.tenant_id.to_owned(),
        purpose: cause.purpose,
        message_id: cause.message_id.map(str::to_owned),
        recipient: to.to_owned(),
        mail_from: from.unwrap_or_default().to_owned(),
        sealed: Vec::new(),
        created_at: state.clock.now(),
        expires_at: cause.expires_at,
        attempts: 0,
    };
    mail.sealed = chunked::seal(state.mail_key.expose_secret(), &context(&mail), raw)
        .map_err(|e| ServiceError::Internal(format!("sealing an outbox mail: {e}")))?;
    Ok(mail)
}

/// Send these just-written mails now, from the request that wrote them. What cannot be sent now
/// is left to the worker, which is woken. `true`: every one was sent (or settled) now.
pub async fn try_now(state: &AppState, ids: &[String]) -> bool {
    let mut left = false;
    for id in ids {
        let now = state.clock.now();
        match state
            .store
            .claim_outbox(now, now + LEASE, &state.node_id, Some(id))
            .await
        {
            Ok(Some(mail)) => left |= !deliver(state, mail).await,
            Ok(None) => {} // another worker has it, or it is gone
            Err(e) => {
                tracing::warn!(error = %e, "an outbox mail could not be claimed; the worker will send it");
                left = true;
            }
        }
    }
    if left {
        state.outbox.notify_one();
    }
    !left
}

/// Take back the leases this node's previous run left (a crash). Called at start, before the
/// listeners and workers run: a lease taken in this run must never be released by it.
pub async fn take_back_leases(state: &AppState) {
    match state.store.release_outbox_leases(&state.node_id).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            mails = n,
            "took back the outbox leases of this node's previous run"
        ),
        Err(e) => {
            tracing::error!(error = %e, "this node's old outbox leases could not be released")
        }
    }
}

/// Run the worker until the process ends: everything due now, then sleep until the next mail is
/// due or a request says one is waiting.
pub async fn run(state: AppState) {
    loop {
        deliver_due(&state).await;
        let wait = match state.store.next_outbox_due().await {
            Ok(Some(due)) => (due - state.clock.now()).clamp(1, 60),
            _ => 60,
        };
        tokio::select! {
            () = state.outbox.notified() => {}
            () = tokio::time::sleep(Duration::from_secs(wait.unsigned_abs())) => {}
        }
    }
}

/// Send every mail due now; returns how many were tried.
pub async fn deliver_due(state: &AppState) -> usize {
    let mut tried = 0;
    loop {
        let now = state.clock.now();
        match state
            .store
            .claim_outbox(now, now + LEASE, &state.node_id, None)
            .await
        {
            Ok(Some(mail)) => {
                tried += 1;
                deliver(state, mail).await;
            }
            Ok(None) => return tried,
            Err(e) => {
                tracing::error!(error = %e, "the outbox could not be read");
                return tried;
            }
        }
    }
}

/// Try one claimed mail and settle it. `true`: it is done with (sent, bounced or expired).
async fn deliver(state: &AppState, mail: OutboxMail) -> bool {
    let now = state.clock.now();
    let outcome = if mail.expires_at.is_some_and(|e| e <= now) {
        Outcome::Expired { at: now }
    } else {
        match send(state, &mail).await {
            Ok(()) => Outcome::Sent { at: now },
            Err(e) if e.is_permanent() => Outcome::Bounced {
                at: now,
                reason: e.to_string(),
            },
            Err(e) if now - mail.created_at >= GIVE_UP_AFTER => Outcome::Bounced {
                at: now,
                reason: format!("Sealpost gave up after two days of trying: {e}"),
            },
            Err(e) => Outcome::Deferred {
                at: now,
                reason: e.to_string(),
                next_attempt_at: now + backoff(mail.attempts),
            },
        }
    };
    let label = match &outcome {
        Outcome::Sent { .. } => "sent",
        Outcome::Deferred { reason, .. } => {
            tracing::warn!(mail = %mail.id, purpose = mail.purpose.as_str(), attempts = mail.attempts + 1, error = %reason, "a mail was not sent yet; it will be tried again");
            "deferred"
        }
        Outcome::Bounced { reason, .. } => {
            tracing::warn!(mail = %mail.id, purpose = mail.purpose.as_str(), error = %reason, "a mail could not be sent and was given up on");
            "bounced"
        }
        Outcome::Expired { .. } => "expired",
    };
    state.metrics.mail(mail.purpose.as_str(), label);
    let done = !matches!(outcome, Outcome::Deferred { .. });
    match state
        .store
        .settle_outbox(&mail.id, &state.node_id, &outcome)
        .await
    {
        Ok(()) => done,
        Err(StoreError::Conflict("lease_lost")) => {
            tracing::warn!(mail = %mail.id, "the outbox lease expired and another worker has the mail");
            true
        }
        Err(e) => {
            // The lease runs out and the mail is tried again: at least once.
            tracing::error!(mail = %mail.id, error = %e, "an outbox mail could not be settled");
            false
        }
    }
}

/// Open the mail, sign it with the tenant's DKIM keys for its `From` domain, and hand it to the
/// relay. Signed as it leaves, so a key made or removed meanwhile counts.
async fn send(state: &AppState, mail: &OutboxMail) -> Result<(), MailError> {
    let raw = chunked::open(state.mail_key.expose_secret(), &context(mail), &mail.sealed)
        .map_err(|e| MailError::Build(format!("the kept mail does not open: {e}")))?;
    let raw = dkim::sign(state, &mail.tenant_id, raw).await;
    let from = (!mail.mail_from.is_empty()).then_some(mail.mail_from.as_str());
    state
        .mailer
        .send_raw(from, std::slice::from_ref(&mail.recipient), &raw)
        .await
}
