//! "Remove external access": revoking a message for everyone or for one recipient, by an admin
//! (`Set-OMEMessageRevocation`) or by the message's sender in the portal. Immediate: the next key
//! request is refused, an open page loses the content at its next check, and reply drafts
//! answering the message (for whom it was revoked) are removed with their uploads.

use crate::domain::access::Revocation;
use crate::domain::address::EmailAddress;
use crate::services::error::ServiceError;
use crate::services::uploads;
use crate::state::AppState;
use crate::store::{AuditEvent, Tenant};

/// Revoke `message_id` of `tenant` for everyone (`recipient` is `None`) or for one recipient,
/// recorded as done by `by` (an admin token's label or the sender's address). Revoking again keeps
/// the first record and adds nothing to the audit log.
pub async fn revoke(
    state: &AppState,
    tenant: &Tenant,
    message_id: &str,
    recipient: Option<&EmailAddress>,
    by: &str,
) -> Result<(), ServiceError> {
    let revocation = Revocation {
        at: state.clock.now(),
        by: by.to_owned(),
    };
    let (changed, action, target) = match recipient {
        None => (
            state
                .store
                .revoke_message(&tenant.id, message_id, &revocation)
                .await?,
            "message.revoked",
            message_id.to_owned(),
        ),
        Some(address) => (
            state
                .store
                .revoke_recipient(&tenant.id, message_id, address.as_str(), &revocation)
                .await?,
            "recipient.revoked",
            format!("{message_id}/{address}"),
        ),
    };
    // What they were uploading to reply with goes too.
    uploads::remove_reply_drafts(state, tenant, message_id, recipient.map(|a| a.as_str())).await?;
    if changed {
        state
            .store
            .audit(&AuditEvent {
                tenant_id: tenant.id.clone(),
                at: revocation.at,
                actor: by.to_owned(),
                action: action.to_owned(),
                target,
            })
            .await?;
    }
    Ok(())
}
