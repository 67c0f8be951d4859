//! Opening a recipient's session, whichever way they proved their address: an emailed passcode, an
//! identity provider, or a passkey. One place makes the session, records how it began, and says
//! what the page needs; the routes only set the cookie.

use zeroize::Zeroizing;

use crate::domain::portal_log::PortalEvent;
use crate::domain::rights::Rights;
use crate::domain::session::SessionTimes;
use crate::secrets::{new_id, new_secret};
use crate::services::error::ServiceError;
use crate::services::tracking::{Client, Happened};
use crate::state::AppState;
use crate::store::portal::{LinkedRecipient, NewSession};
use crate::store::{AuditEvent, Tenant};

/// How the recipient proved their address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInMethod<'a> {
    /// An emailed passcode.
    Passcode,
    /// An identity provider's verified address (its id).
    Provider(&'a str),
    /// A passkey (its name).
    Passkey(&'a str),
}

/// A session just opened.
#[derive(Debug)]
pub struct Opened {
    /// The cookie's secret (shown only to this browser).
    pub secret: Zeroizing<String>,
    /// The public value bound into key releases.
    pub binding: String,
    pub times: SessionTimes,
    pub rights: Rights,
}

/// Open a session for `l` (ending `replaced`, the session this browser held for the message, if
/// any), and record how it began in the portal tracking log and the audit log.
pub async fn open(
    state: &AppState,
    tenant: &Tenant,
    l: &LinkedRecipient,
    keep_signed_in: bool,
    replaced: Option<&[u8; 32]>,
    method: SignInMethod<'_>,
    client: &Client,
) -> Result<Opened, ServiceError> {
    let now = state.clock.now();
    // A fresh session id at every sign-in; whatever session this browser held for the message ends.
    let (secret, id_hash) = new_secret("");
    let binding = new_id();
    state
        .store
        .create_session(
            &NewSession {
                id_hash,
                binding: binding.clone(),
                scope: l.message_id.clone(),
                address: l.address.clone(),
                created_at: now,
                keep_signed_in,
            },
            replaced,
        )
        .await?;
    let keep = if keep_signed_in { "keep_signed_in" } else { "" };
    let (event, detail, action) = match method {
        SignInMethod::Passcode => (PortalEvent::SignedIn, keep.to_owned(), "signed_in.passcode"),
        SignInMethod::Provider(id) => (
            PortalEvent::SignedInWithProvider,
            join(id, keep),
            "signed_in.provider",
        ),
        SignInMethod::Passkey(name) => (
            PortalEvent::SignedInWithPasskey,
            join(name, keep),
            "signed_in.passkey",
        ),
    };
    // Passcode sign-ins are in the portal tracking log only, as before; the newer ways are in
    // the audit log as well, so an admin sees them whether or not the tenant keeps a portal log.
    if method != SignInMethod::Passcode {
        state
            .store
            .audit(&AuditEvent {
                tenant_id: tenant.id.clone(),
                at: now,
                actor: l.address.clone(),
                action: match method {
                    SignInMethod::Provider(id) => format!("{action}.{id}"),
                    _ => action.to_owned(),
                },
                target: l.message_id.clone(),
            })
            .await?;
    }
    Happened {
        tenant,
        message_id: &l.message_id,
        recipient: &l.address,
        client,
    }
    .track(state, event, &detail)
    .await?;
    let message = state.store.message_by_id(&l.message_id).await?;
    Ok(Opened {
        secret,
        binding,
        times: SessionTimes {
            created_at: now,
            last_seen_at: now,
            keep_signed_in,
        },
        rights: Rights::from_stored(&message.rights),
    })
}

fn join(a: &str, b: &str) -> String {
    if b.is_empty() {
        a.to_owned()
    } else {
        format!("{a} {b}")
    }
}
