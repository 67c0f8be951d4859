//! Recording what recipients do: the portal tracking log (when the tenant keeps one) and, always,
//! key releases and refusals in the tenant's audit log.
//!
//! Entries name the message, the recipient, the event, the client's address and user agent, never a
//! secret: no passcode, link token, session id or key.

use crate::domain::portal_log::{ChainBreak, ChainHead, ChainVerifier, LogEntry, PortalEvent};
use crate::services::error::ServiceError;
use crate::state::AppState;
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
            .append_portal_log(&LogEntry {
                tenant_id: self.tenant.id.clone(),
                at: state.clock.now(),
                message_id: self.message_id.to_owned(),
                recipient: self.recipient.to_owned(),
                event: event.as_str().to_owned(),
                detail: detail.to_owned(),
                client_addr: self.client.addr.clone(),
                user_agent: self.client.user_agent.clone(),
            })
            .await?;
        Ok(())
    }

    /// Record a key release (`refusal` = `None`) or refusal in the audit log, always, and in the
    /// portal tracking log if kept.
    pub async fn key_decision(
        &self,
        state: &AppState,
        refusal: Option<&str>,
    ) -> Result<(), ServiceError> {
        state.metrics.key_decision(refusal);
        let action = match refusal {
            None => "key.released".to_owned(),
            Some(code) => format!("key.refused.{code}"),
        };
        state
            .store
            .audit(&AuditEvent {
                tenant_id: self.tenant.id.clone(),
                at: state.clock.now(),
                actor: self.recipient.to_owned(),
                action,
                target: self.message_id.to_owned(),
            })
            .await?;
        match refusal {
            None => self.track(state, PortalEvent::KeyReleased, "").await,
            Some(code) => self.track(state, PortalEvent::KeyRefused, code).await,
        }
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
    const PAGE: u32 = 1000;
    let mut verifier = ChainVerifier::new(expect);
    let mut after = 0;
    loop {
        let page = store.portal_log_after(tenant_id, after, PAGE).await?;
        for entry in &page {
            if let Err(broken) = verifier.push(entry) {
                return Ok(Err(broken));
            }
        }
        match page.last() {
            Some(last) if page.len() == PAGE as usize => after = last.seq,
            _ => return Ok(verifier.finish()),
        }
    }
}
