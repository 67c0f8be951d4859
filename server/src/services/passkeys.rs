//! Recipients' passkeys (WebAuthn, through `webauthn-rs`): made after a sign-in, on the
//! recipient's explicit choice; used on the next link for the same address within the same
//! tenant instead of an emailed code; listed and removed by the recipient or an admin.
//!
//! A passkey is bound to (tenant, address) under a random user handle of that pair, so nothing is
//! shared across tenants: the same person's passkey with another organisation is another
//! credential. Each ceremony's challenge is kept in the database for five minutes, bound to the
//! session (registration) or the link token (sign-in), and taken exactly once.

use sealpost_api::ErrorCode;
use std::time::Duration;
use subtle::ConstantTimeEq;
use webauthn_rs::prelude::{
    Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
};

use crate::domain::portal_log::PortalEvent;
use crate::secrets::{hash_secret, new_id, new_secret};
use crate::services::error::{RefusalKind, ServiceError};
use crate::services::recipient_sessions::{self, Opened, SignInMethod};
use crate::services::tracking::{Client, Happened};
use crate::state::AppState;
use crate::store::portal::LinkedRecipient;
use crate::store::sign_in::{ChallengeKind, ChallengeRecord, PasskeyRecord};
use crate::store::{AuditEvent, StoreError, Tenant};

/// How long a ceremony's challenge is valid.
pub const CHALLENGE_VALID_FOR: i64 = 5 * 60;

/// How long after signing in a session may make a passkey: a session left open on a shared
/// computer (or taken) cannot add a way in that outlives it.
pub const REGISTER_WITHIN: i64 = 15 * 60;

/// Most passkeys one address may have with one tenant.
pub const MAX_PER_ADDRESS: u32 = 10;

/// The longest name a passkey may have.
pub const MAX_NAME: usize = 64;

/// A ceremony begun: its id (for the browser to send back) and the options for the browser.
#[derive(Debug)]
pub struct Challenge {
    pub id: String,
    pub options: serde_json::Value,
}

/// A registration's state between its two requests, with the user handle it was begun for.
#[derive(serde::Serialize, serde::Deserialize)]
struct Registration {
    handle: Uuid,
    state: PasskeyRegistration,
}

fn invalid() -> ServiceError {
    ServiceError::refused(
        RefusalKind::NotSignedIn,
        ErrorCode::PasskeyInvalid.as_str(),
        "That passkey did not sign you in. Use the passkey you made for this address, or ask for an emailed code.",
    )
}

fn challenge_expired() -> ServiceError {
    ServiceError::refused(
        RefusalKind::NotSignedIn,
        ErrorCode::SignInExpired.as_str(),
        "The passkey request was not finished in time or was already used. Try again.",
    )
}

fn internal(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(format!("passkeys: {e}"))
}

/// The relying party: the portal's host, for the tenant (whose name the authenticator shows).
fn relying_party(state: &AppState, tenant: &Tenant) -> Result<Webauthn, ServiceError> {
    let origin = Url::parse(&state.config.public_url()).map_err(internal)?;
    let rp_id = origin
        .host_str()
        .ok_or_else(|| internal("the public URL has no host"))?
        .to_owned();
    WebauthnBuilder::new(&rp_id, &origin)
        .map_err(internal)?
        .rp_name(&tenant.name)
        .timeout(Duration::from_secs(CHALLENGE_VALID_FOR as u64))
        .build()
        .map_err(internal)
}

/// A name for a passkey from the browser that made it ("Firefox on Linux").
pub fn name_from_user_agent(ua: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .into_iter()
    .find(|(mark, _)| ua.contains(mark))
    .map_or("A browser", |(_, name)| name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(mark, _)| ua.contains(mark))
    .map(|(_, name)| name);
    match system {
        Some(s) => format!("{browser} on {s}"),
        None => browser.to_owned(),
    }
}

fn checked_name(name: Option<&str>, client: &Client) -> Result<String, ServiceError> {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(name_from_user_agent(&client.user_agent));
    };
    if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(ServiceError::Invalid(crate::domain::ValidationError::new(
            "name",
            "invalid_passkey_name",
            format!("A passkey's name is at most {MAX_NAME} characters, without line breaks."),
        )));
    }
    Ok(name.to_owned())
}

async fn keep_challenge(
    state: &AppState,
    kind: ChallengeKind,
    l: &LinkedRecipient,
    bound_to: [u8; 32],
    ceremony: String,
) -> Result<String, ServiceError> {
    let (id, id_hash) = new_secret("");
    let now = state.clock.now();
    state
        .store
        .put_challenge(&ChallengeRecord {
            id_hash,
            kind,
            scope: l.message_id.clone(),
            address: l.address.clone(),
            bound_to,
            provider: None,
            ceremony,
            keep_signed_in: false,
            created_at: now,
            expires_at: now + CHALLENGE_VALID_FOR,
        })
        .await?;
    Ok(id.to_string())
}

/// Take the ceremony `id` of `kind`, which must be bound to `bound_to` and for `l`.
async fn take_challenge(
    state: &AppState,
    kind: ChallengeKind,
    id: &str,
    l: &LinkedRecipient,
    bound_to: &[u8; 32],
) -> Result<ChallengeRecord, ServiceError> {
    let c = match state
        .store
        .take_challenge(&hash_secret(id), kind, state.clock.now())
        .await
    {
        Ok(c) => c,
        Err(StoreError::NotFound) => return Err(challenge_expired()),
        Err(e) => return Err(e.into()),
    };
    let bound = bool::from(c.bound_to.ct_eq(bound_to));
    if !bound || c.scope != l.message_id || c.address != l.address {
        return Err(challenge_expired());
    }
    Ok(c)
}

fn stored(records: &[PasskeyRecord]) -> Result<Vec<(String, Passkey)>, ServiceError> {
    records
        .iter()
        .map(|r| {
            serde_json::from_str::<Passkey>(&r.credential)
                .map(|p| (r.id.clone(), p))
                .map_err(internal)
        })
        .collect()
}

/// Begin making a passkey for the signed-in recipient `l` (whose session's id hash is `session`).
pub async fn start_registration(
    state: &AppState,
    tenant: &Tenant,
    l: &LinkedRecipient,
    session: &[u8; 32],
    signed_in_at: i64,
) -> Result<Challenge, ServiceError> {
    recent_sign_in(state, signed_in_at)?;
    let existing = state.store.passkeys(&tenant.id, Some(&l.address)).await?;
    if existing.len() >= MAX_PER_ADDRESS as usize {
        return Err(too_many());
    }
    // One user handle per address per tenant: a second passkey joins the first's.
    let handle = match existing.first() {
        Some(r) => Uuid::from_slice(&r.user_handle).map_err(internal)?,
        None => Uuid::new_v4(),
    };
    let exclude = stored(&existing)?
        .into_iter()
        .map(|(_, p)| p.cred_id().clone())
        .collect();
    let (options, registration) = relying_party(state, tenant)?
        .start_passkey_registration(handle, &l.address, &l.address, Some(exclude))
        .map_err(internal)?;
    let ceremony = serde_json::to_string(&Registration {
        handle,
        state: registration,
    })
    .map_err(internal)?;
    let id = keep_challenge(
        state,
        ChallengeKind::PasskeyRegistration,
        l,
        *session,
        ceremony,
    )
    .await?;
    Ok(Challenge {
        id,
        options: serde_json::to_value(options).map_err(internal)?,
    })
}

/// A passkey is made only within [`REGISTER_WITHIN`] of signing in.
fn recent_sign_in(state: &AppState, signed_in_at: i64) -> Result<(), ServiceError> {
    if state.clock.now() - signed_in_at > REGISTER_WITHIN {
        return Err(ServiceError::refused(
            RefusalKind::NotSignedIn,
            ErrorCode::RecentSignInRequired.as_str(),
            "A passkey can be made only within 15 minutes of signing in. Sign out, sign in again, then make it.",
        ));
    }
    Ok(())
}

fn too_many() -> ServiceError {
    ServiceError::conflict(
        ErrorCode::TooManyPasskeys.as_str(),
        format!(
            "This address has {MAX_PER_ADDRESS} passkeys with this organisation already. Remove one before making another."
        ),
    )
}

/// Finish making a passkey: keep it for `l` in the tenant.
#[allow(clippy::too_many_arguments)]
pub async fn finish_registration(
    state: &AppState,
    tenant: &Tenant,
    l: &LinkedRecipient,
    session: (&[u8; 32], i64),
    challenge: &str,
    credential: serde_json::Value,
    name: Option<&str>,
    client: &Client,
) -> Result<PasskeyRecord, ServiceError> {
    let (session, signed_in_at) = session;
    recent_sign_in(state, signed_in_at)?;
    let name = checked_name(name, client)?;
    let c = take_challenge(
        state,
        ChallengeKind::PasskeyRegistration,
        challenge,
        l,
        session,
    )
    .await?;
    let registration: Registration = serde_json::from_str(&c.ceremony).map_err(internal)?;
    let credential: RegisterPublicKeyCredential =
        serde_json::from_value(credential).map_err(|_| invalid())?;
    let passkey = relying_party(state, tenant)?
        .finish_passkey_registration(&credential, &registration.state)
        .map_err(|e| {
            tracing::info!(error = %e, "a passkey registration did not verify");
            invalid()
        })?;
    let record = PasskeyRecord {
        id: new_id(),
        tenant_id: tenant.id.clone(),
        address: l.address.clone(),
        user_handle: registration.handle.as_bytes().to_vec(),
        credential_id: AsRef::<[u8]>::as_ref(passkey.cred_id()).to_vec(),
        credential: serde_json::to_string(&passkey).map_err(internal)?,
        name,
        created_at: state.clock.now(),
        last_used_at: None,
    };
    let audit = AuditEvent {
        tenant_id: tenant.id.clone(),
        at: state.clock.now(),
        actor: l.address.clone(),
        action: "passkey.added".to_owned(),
        target: record.id.clone(),
    };
    state
        .store
        .put_passkey(&record, MAX_PER_ADDRESS, &audit)
        .await
        .map_err(|e| match e {
            StoreError::Conflict("too_many_passkeys") => too_many(),
            StoreError::Conflict(_) => {
                ServiceError::conflict("passkey_exists", "This passkey is kept already.")
            }
            other => other.into(),
        })?;
    // Kept and audited; the portal log's entry follows, and its failure does not undo them.
    let tracked = Happened {
        tenant,
        message_id: &l.message_id,
        recipient: &l.address,
        client,
    }
    .track(state, PortalEvent::PasskeyAdded, &record.name)
    .await;
    if let Err(e) = tracked {
        tracing::error!(error = %e, "a new passkey could not be added to the portal log");
    }
    Ok(record)
}

/// Whether `l` has a passkey with the tenant (so the page offers it).
pub async fn has_passkey(
    state: &AppState,
    tenant_id: &str,
    address: &str,
) -> Result<bool, ServiceError> {
    Ok(!state
        .store
        .passkeys(tenant_id, Some(address))
        .await?
        .is_empty())
}

/// Begin signing `l` in with a passkey; the ceremony is bound to the link token's hash.
pub async fn start_sign_in(
    state: &AppState,
    tenant: &Tenant,
    l: &LinkedRecipient,
    token_hash: &[u8; 32],
    client: &Client,
) -> Result<Challenge, ServiceError> {
    let records = state.store.passkeys(&tenant.id, Some(&l.address)).await?;
    let passkeys: Vec<Passkey> = stored(&records)?.into_iter().map(|(_, p)| p).collect();
    if passkeys.is_empty() {
        // Removed since the page was shown (or never made): a refusal worth seeing in the log.
        Happened {
            tenant,
            message_id: &l.message_id,
            recipient: &l.address,
            client,
        }
        .track(state, PortalEvent::PasskeyRefused, "no passkey")
        .await?;
        return Err(invalid());
    }
    let (options, authentication) = relying_party(state, tenant)?
        .start_passkey_authentication(&passkeys)
        .map_err(internal)?;
    let ceremony = serde_json::to_string(&authentication).map_err(internal)?;
    let id = keep_challenge(
        state,
        ChallengeKind::PasskeySignIn,
        l,
        *token_hash,
        ceremony,
    )
    .await?;
    Ok(Challenge {
        id,
        options: serde_json::to_value(options).map_err(internal)?,
    })
}

/// Finish signing in with a passkey: verify the assertion against `l`'s passkeys in the tenant
/// (signature, challenge, origin, user verification, and a counter that only goes forward), and
/// open a session.
#[allow(clippy::too_many_arguments)]
pub async fn finish_sign_in(
    state: &AppState,
    tenant: &Tenant,
    l: &LinkedRecipient,
    token_hash: &[u8; 32],
    challenge: &str,
    credential: serde_json::Value,
    keep_signed_in: bool,
    replaced: Option<&[u8; 32]>,
    client: &Client,
) -> Result<Opened, ServiceError> {
    let c = take_challenge(
        state,
        ChallengeKind::PasskeySignIn,
        challenge,
        l,
        token_hash,
    )
    .await?;
    let happened = Happened {
        tenant,
        message_id: &l.message_id,
        recipient: &l.address,
        client,
    };
    let authentication: PasskeyAuthentication =
        serde_json::from_str(&c.ceremony).map_err(internal)?;
    let refused = |why: String| async move {
        happened
            .track(state, PortalEvent::PasskeyRefused, &why)
            .await?;
        Err::<Opened, ServiceError>(invalid())
    };
    let Ok(credential) = serde_json::from_value::<PublicKeyCredential>(credential) else {
        return refused("malformed".to_owned()).await;
    };
    let result = match relying_party(state, tenant)?
        .finish_passkey_authentication(&credential, &authentication)
    {
        Ok(r) => r,
        Err(e) => return refused(e.to_string()).await,
    };
    // The passkey must still be kept (removed since the challenge: refused).
    let records = state.store.passkeys(&tenant.id, Some(&l.address)).await?;
    let Some((id, mut passkey)) = stored(&records)?
        .into_iter()
        .find(|(_, p)| p.cred_id() == result.cred_id())
    else {
        return refused("removed".to_owned()).await;
    };
    passkey.update_credential(&result);
    state
        .store
        .passkey_used(
            &id,
            &serde_json::to_string(&passkey).map_err(internal)?,
            state.clock.now(),
        )
        .await?;
    let name = records
        .iter()
        .find(|r| r.id == id)
        .map(|r| r.name.clone())
        .unwrap_or_default();
    recipient_sessions::open(
        state,
        tenant,
        l,
        keep_signed_in,
        replaced,
        SignInMethod::Passkey(&name),
        client,
    )
    .await
}

/// Who removes a passkey.
#[derive(Debug, Clone, Copy)]
pub enum Remover<'a> {
    /// The recipient, signed in to `message_id` from `client`.
    Recipient {
        message_id: &'a str,
        client: &'a Client,
    },
    /// An admin (their token's label).
    Admin(&'a str),
}

/// Remove a passkey of the tenant's (only `address`'s when given).
pub async fn remove(
    state: &AppState,
    tenant: &Tenant,
    id: &str,
    address: Option<&str>,
    by: Remover<'_>,
) -> Result<(), ServiceError> {
    let records = state.store.passkeys(&tenant.id, address).await?;
    let Some(record) = records.into_iter().find(|r| r.id == id) else {
        return Err(ServiceError::NotFound);
    };
    let actor = match by {
        Remover::Recipient { .. } => record.address.clone(),
        Remover::Admin(label) => label.to_owned(),
    };
    let audit = AuditEvent {
        tenant_id: tenant.id.clone(),
        at: state.clock.now(),
        actor,
        action: "passkey.removed".to_owned(),
        target: format!("{} {}", record.address, record.id),
    };
    state
        .store
        .delete_passkey(&tenant.id, id, address, &audit)
        .await?;
    if let Remover::Recipient { message_id, client } = by {
        let tracked = Happened {
            tenant,
            message_id,
            recipient: &record.address,
            client,
        }
        .track(state, PortalEvent::PasskeyRemoved, &record.name)
        .await;
        if let Err(e) = tracked {
            tracing::error!(error = %e, "a removed passkey could not be added to the portal log");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::name_from_user_agent;

    #[test]
    fn passkeys_are_named_for_the_browser_that_made_them() {
        assert_eq!(
            name_from_user_agent(
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
            ),
            "Firefox on Linux"
        );
        assert_eq!(
            name_from_user_agent(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0"
            ),
            "Edge on Windows"
        );
        assert_eq!(name_from_user_agent("curl/8"), "A browser");
    }
}
