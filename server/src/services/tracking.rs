//! Recording what recipients do: the portal tracking log (when the tenant keeps one) and, always,
//! key releases and refusals in the tenant's audit log.
//!
//! Entries name the message, the recipient, the event, the client's address and user agent, never a
//! secret: no passcode, link token, session id or key.

use crate::domain::portal_log::{ChainBreak, ChainHead, ChainVerifier, LogEntry, PortalEvent};
use crate::services::error::ServiceError;
use crate::state::AppState;
use crate::store::decisions::DecisionRecord;
use crate::store::{AuditEvent, Store, StoreError, Tenant};

/// Who is asking: the client's address and user agent (`http::extract` reads them from a request,
/// the SMTP listener from its connection).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// Address (from the configured proxy header, else the connection).
    pub addr: String,
    /// User agent, cut to 256 characters.
    pub user_agent: String,
}

/// What happened, to whom, from where.
#[derive(Debug, Clone, Copy)]
pub struct Happened<'a> {
    pub tenant: &'a Tenant,
    /// The message.
    pub message_id: &'a str,
    pub recipient: &'a str,
    pub client: &'a Client,
}

impl Happened<'_> {
    /// Add `event` to the portal tracking log if the tenant keeps one.
    pub async fn track(
        &self,
        state: &AppState,
        event: PortalEvent,
        detail: &str,
    ) -> Result<(), ServiceError> {
        if !self.tenant.portal_tracking_logs {
            return Ok(());
        }
        state
            .store
            .append_portal_log(&self.entry(state.clock.now(), event, detail))
            .await?;
        Ok(())
    }

    /// The portal log entry for `event` at `at`.
    fn entry(&self, at: i64, event: PortalEvent, detail: &str) -> LogEntry {
        LogEntry {
            tenant_id: self.tenant.id.clone(),
            at,
            message_id: self.message_id.to_owned(),
            recipient: self.recipient.to_owned(),
            event: event.as_str().to_owned(),
            detail: detail.to_owned(),
            client_addr: self.client.addr.clone(),
            user_agent: self.client.user_agent.clone(),
        }
    }

    /// Record a key refusal (`code`) in the audit log, always, and in the portal tracking log if
    /// kept; durable when this returns.
    pub async fn key_refused(&self, state: &AppState, code: &str) -> Result<(), ServiceError> {
        self.key_decision(state, Some(code), false, None).await
    }

    /// Record a key release as [`Self::key_refused`] records a refusal, with what the release
    /// changes: the recipient's first open (`first_open`), and the session's last use
    /// (`touched`: the hash of its id, when it is due). All of it is written in one group commit
    /// shared with concurrent releases (`store::decisions`), and is durable when this returns.
    pub async fn key_released(
        &self,
        state: &AppState,
        first_open: bool,
        touched: Option<[u8; 32]>,
    ) -> Result<(), ServiceError> {
        self.key_decision(state, None, first_open, touched).await
    }

    async fn key_decision(
        &self,
        state: &AppState,
        refusal: Option<&str>,
        first_open: bool,
        touched: Option<[u8; 32]>,
    ) -> Result<(), ServiceError> {
        state.metrics.key_decision(refusal);
        let at = state.clock.now();
        let (action, event, detail) = match refusal {
            None => ("key.released".to_owned(), PortalEvent::KeyReleased, ""),
            Some(code) => (format!("key.refused.{code}"), PortalEvent::KeyRefused, code),
        };
        let portal = self
            .tenant
            .portal_tracking_logs
            .then(|| self.entry(at, event, detail));
        state
            .decisions
            .record(DecisionRecord {
                audit: AuditEvent {
                    tenant_id: self.tenant.id.clone(),
                    at,
                    actor: self.recipient.to_owned(),
                    action,
                    target: self.message_id.to_owned(),
                },
                portal,
                opened: first_open.then(|| (self.message_id.to_owned(), self.recipient.to_owned())),
                touched,
            })
            .await?;
        Ok(())
    }
}

/// How a recorded head is written, for a refusal that explains it.
pub const HEAD_FORMAT: &str =
    "a head is SEQ:HASH as printed by an earlier verify, e.g. 42:9f86d081884c7d65…";

/// Read a head printed by an earlier verify, `SEQ:HASH`.
pub fn parse_head(s: &str) -> Option<(u64, [u8; 32])> {
    let (seq, hash) = s.trim().split_once(':')?;
    let seq = seq.parse().ok()?;
    let hash: [u8; 32] = hex::decode(hash).ok()?.try_into().ok()?;
    Some((seq, hash))
}

/// Check a tenant's whole portal log chain, oldest first, a page at a time. `expect` is a head
/// recorded earlier that must still be there. The outer error is the database's; the inner one
/// says where the chain is broken.
pub async fn verify_chain(
    store: &dyn Store,
    tenant_id: &str,
    expect: Option<(u64, [u8; 32])>,
) -> Result<Result<ChainHead, ChainBreak>, StoreError> {
    // Retention may prune (on any node) while the pages are read: a break seen while the
    // checkpoint moved is read again from the new checkpoint rather than reported.
    let mut tries = 0;
    loop {
        let checkpoint = store.portal_log_checkpoint(tenant_id).await?;
        let verified = verify_from(store, tenant_id, checkpoint, expect, None).await?;
        tries += 1;
        if verified.is_err()
            && tries < 3
            && store.portal_log_checkpoint(tenant_id).await? != checkpoint
        {
            continue;
        }
        return Ok(verified);
    }
}

/// Verify from `checkpoint` on; with `until`, stop before the first entry written at or after
/// that time.
async fn verify_from(
    store: &dyn Store,
    tenant_id: &str,
    checkpoint: Option<(u64, [u8; 32])>,
    expect: Option<(u64, [u8; 32])>,
    until: Option<i64>,
) -> Result<Result<ChainHead, ChainBreak>, StoreError> {
    const PAGE: u32 = 1000;
    // Entries pruned by retention are gone; the rest must follow from their last hash.
    let mut verifier = ChainVerifier::after(checkpoint, expect);
    let mut after = verifier.start();
    loop {
        let page = store.portal_log_after(tenant_id, after, PAGE).await?;
        for entry in &page {
            if until.is_some_and(|until| entry.entry.at >= until) {
                return Ok(verifier.finish(None));
            }
            if let Err(broken) = verifier.push(entry) {
                return Ok(Err(broken));
            }
            after = entry.seq;
        }
        if page.len() < PAGE as usize {
            return Ok(verifier.finish(checkpoint.map(|(seq, _)| seq)));
        }
    }
}

/// Prune every tenant's portal log to its retention (`portal_log_retention_days`): entries older
/// than that go, as a prefix of the chain, and the last one's hash stays as the checkpoint the
/// rest verifies from. The prefix is verified first: a broken one is kept (and an error logged),
/// so pruning never erases the evidence that the log was tampered with. Returns how many
/// entries went.
pub async fn prune(store: &dyn Store, now: i64) -> Result<u64, StoreError> {
    let mut pruned = 0;
    for (tenant_id, days) in store.portal_log_retention().await? {
        let before = now - i64::from(days) * 86_400;
        let checkpoint = store.portal_log_checkpoint(&tenant_id).await?;
        match verify_from(store, &tenant_id, checkpoint, None, Some(before)).await? {
            Ok(_) => pruned += store.prune_portal_log(&tenant_id, before, now).await?,
            Err(broken) => tracing::error!(
                tenant = %tenant_id,
                error = %broken,
                "the portal log is broken where retention would prune it; nothing was pruned, so the break can still be found"
            ),
        }
    }
    Ok(pruned)
}

/// Prune every hour, for as long as the server runs (each node; pruning twice is harmless).
pub async fn prune_hourly(store: std::sync::Arc<dyn Store>, clock: crate::clock::Clock) {
    loop {
        match prune(store.as_ref(), clock.now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                entries = n,
                "pruned portal log entries past their retention"
            ),
            Err(e) => tracing::error!(error = %e, "the portal log could not be pruned"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
    }
}
