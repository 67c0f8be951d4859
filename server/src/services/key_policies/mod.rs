//! Customer Key: data encryption policies. A policy names two root keys (in two tokens, or a token
//! and a key file, like Microsoft's two key vaults); each version of its data key is stored wrapped
//! under both, so either one alone unwraps it. A message sealed under a policy has its key wrapped
//! by the policy's data key, bound to the policy's version.
//!
//! - [`roll`]: a new data-key version, and the background re-wrap of every message key under it.
//! - [`purge`]: a request with reason and contact, then on confirmation the crypto-shred.
//! - [`availability`]: the operator's availability key of each policy, and the recovery with it.
//! - [`roll_back`]: a sender or the tenant back to service-managed keys.
//! - Here: creating, replacing a root key (`-Replace`), assignment, and unwrapping a message's data
//!   key for sealing and for key release.

pub mod availability;
pub mod purge;
pub mod roll;
pub mod roll_back;

use sealpost_api::key_policies::{DataEncryptionPolicyView, PurgeView, RootKeyView};
use sealpost_envelope::TenantDataKey;

use crate::clock::rfc3339;
use crate::keys::{AvailabilityKeys, KeyError, LOCAL, RootKeyInfo, RootKeys};
use crate::secrets::new_id;
use crate::services::error::{RefusalKind, ServiceError};
use crate::state::AppState;
use crate::store::key_policies::{Policy, SenderKeys, WrappedDataKey};
use crate::store::{StoreError, StoredMessage, Tenant};

const MAX_NAME_LEN: usize = 64; // the bound in rules::POLICY_NAME
const MAX_DESCRIPTION_LEN: usize = sealpost_api::rules::POLICY_DESCRIPTION_MAX;

/// What a policy's data keys are bound to when wrapped: the tenant and the policy (never a bare
/// tenant id, which is what the tenant's own data key is bound to).
pub(super) fn bound(tenant_id: &str, policy_id: &str) -> String {
    format!("dep:{tenant_id}:{policy_id}")
}

/// Where a policy is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyStatus {
    /// Every message is under the current data key.
    Registered,
    /// A roll is moving messages to the current data key: `done` of `total`.
    Rolling {
        /// At the current version.
        done: u64,
        /// Under the policy.
        total: u64,
    },
    /// A purge was requested and not yet confirmed; messages still open.
    PurgeRequested,
    /// The keys are destroyed.
    Purged,
}

impl PolicyStatus {
    /// The status from the policy and its roll progress.
    pub fn of(policy: &Policy, (done, total): (u64, u64)) -> PolicyStatus {
        if policy.purged.is_some() {
            PolicyStatus::Purged
        } else if policy.purge_request.is_some() {
            PolicyStatus::PurgeRequested
        } else if done < total {
            PolicyStatus::Rolling { done, total }
        } else {
            PolicyStatus::Registered
        }
    }

    /// The name shown (`Registered`, `Rolling`, `PurgeRequested`, `Purged`).
    pub fn name(self) -> &'static str {
        match self {
            PolicyStatus::Registered => "Registered",
            PolicyStatus::Rolling { .. } => "Rolling",
            PolicyStatus::PurgeRequested => "PurgeRequested",
            PolicyStatus::Purged => "Purged",
        }
    }

    /// While rolling, the share done, rounded down (so 100 only when it is finished).
    pub fn percent(self) -> Option<u8> {
        match self {
            PolicyStatus::Rolling { done, total } if total > 0 => {
                Some(u8::try_from(done * 100 / total).unwrap_or(99).min(99))
            }
            _ => None,
        }
    }
}

/// Unwrap one version of a policy's data key with whichever root key answers: the first, else the
/// second. A key that does not answer is forgotten so the next use opens it afresh. Both failing
/// is `Unavailable` with both reasons (for the log; never shown to a recipient).
pub fn unwrap_data_key(
    roots: &RootKeys,
    policy: &Policy,
    key: &WrappedDataKey,
) -> Result<TenantDataKey, KeyError> {
    let bound = bound(&policy.tenant_id, &policy.id);
    let mut reasons = Vec::with_capacity(2);
    for (name, wrapped) in policy.root_keys.iter().zip(&key.wrapped) {
        let tried = roots
            .get(name)
            .and_then(|root| root.unwrap(&bound, key.version, wrapped));
        match tried {
            Ok(k) => return Ok(k),
            Err(e) => {
                if matches!(e, KeyError::Unavailable(_)) {
                    roots.forget(name);
                }
                tracing::warn!(policy = %policy.id, root_key = %name, error = %e, "a root key of a data encryption policy did not unwrap its data key");
                reasons.push(format!("{name}: {e}"));
            }
        }
    }
    Err(KeyError::Unavailable(reasons.join("; ")))
}

/// As [`unwrap_data_key`], through the node's cache of unwrapped data keys (`keys::cache`: found
/// only by exactly these wraps, kept for seconds), for sealing and key release.
fn cached_data_key(
    state: &AppState,
    policy: &Policy,
    key: &WrappedDataKey,
) -> Result<TenantDataKey, KeyError> {
    let id = crate::keys::cache::digest(&policy.id, key.version, &policy.root_keys, &key.wrapped);
    state
        .data_keys
        .get_or_unwrap(state.clock.now(), &policy.id, id, || {
            unwrap_data_key(&state.root_keys, policy, key)
        })
}

/// Wrap one version of a policy's data key under both of its root keys and, if it has one, its
/// availability key (all must answer; which one did not is in the refusal).
fn wrap_version(
    roots: &RootKeys,
    policy: &Policy,
    version: u32,
    key: &TenantDataKey,
) -> Result<WrappedDataKey, ServiceError> {
    let bound = bound(&policy.tenant_id, &policy.id);
    let under = |name: &str| roots.get(name)?.wrap(&bound, version, key);
    let a = under(&policy.root_keys[0]).map_err(roots_unreachable)?;
    let b = under(&policy.root_keys[1]).map_err(roots_unreachable)?;
    let availability = match &policy.availability_key {
        Some(name) => Some(
            roots
                .availability()
                .get(name)
                .and_then(|k| k.wrap(&bound, version, key))
                .map_err(availability::availability_unreachable)?,
        ),
        None => None,
    };
    Ok(WrappedDataKey {
        version,
        wrapped: [a, b],
        availability,
    })
}

pub(super) fn roots_unreachable(e: KeyError) -> ServiceError {
    tracing::error!(error = %e, "a root key could not be used for a policy change");
    ServiceError::unavailable(
        "root_key_unavailable",
        "A root key the policy needs did not answer; nothing was changed. Check that its token or key file is reachable.",
    )
}

pub(super) fn bad(code: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::refused(RefusalKind::NotPossible, code, message)
}

pub(crate) fn check_name(name: &str) -> Result<(), ServiceError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(bad(
            "invalid_name",
            "A policy name is 1 to 64 letters, digits, '-', '_' or '.' (no spaces).",
        ))
    }
}

/// Check a description's length.
pub fn check_description(d: &str) -> Result<(), ServiceError> {
    if d.chars().count() > MAX_DESCRIPTION_LEN {
        return Err(bad(
            "invalid_description",
            "A description is at most 256 characters.",
        ));
    }
    Ok(())
}

/// Whether the configured root key `name` belongs to `tenant` (its `tenant` setting is the
/// tenant's id or one of its domains).
pub fn owned_by(state: &AppState, tenant: &Tenant, name: &str) -> bool {
    let Some(owner) = state
        .config
        .root_keys
        .iter()
        .find(|c| c.name == name)
        .and_then(|c| c.tenant.as_deref())
        .map(str::trim)
    else {
        return false;
    };
    owner == tenant.id
        || tenant
            .domains
            .iter()
            .any(|d| d.as_str().eq_ignore_ascii_case(owner.trim_end_matches('.')))
}

/// A root key a policy may name: configured, the tenant's own, and not the server's built-in key
/// (with which the database's holder could open everything, which is what a policy is there to
/// prevent). Another tenant's key gets the same answer as one that does not exist, so its name
/// tells nothing.
pub(super) fn check_root(
    state: &AppState,
    tenant: &Tenant,
    name: &str,
) -> Result<(), ServiceError> {
    if name == LOCAL {
        return Err(bad(
            "local_root_key_not_allowed",
            "A policy's root keys are the tenant's own, outside the server: the built-in \"local\" key cannot be one of them.",
        ));
    }
    // Which keys there are is the server's configuration: a name it lacks conflicts with it.
    if !state.root_keys.knows(name) || !owned_by(state, tenant, name) {
        return Err(ServiceError::conflict(
            "unknown_root_key",
            format!(
                "No root key {name:?} is configured for this tenant; ask the server's operator to add it and assign it to the tenant."
            ),
        ));
    }
    Ok(())
}

/// `New-DataEncryptionPolicy`: a policy over two different configured root keys, with a fresh data
/// key wrapped under both (so both must answer now).
pub async fn create(
    state: &AppState,
    tenant: &Tenant,
    actor: &str,
    name: &str,
    description: &str,
    root_keys: &[String],
) -> Result<Policy, ServiceError> {
    let name = name.trim();
    check_name(name)?;
    check_description(description)?;
    let [a, b] = root_keys else {
        return Err(bad(
            "two_root_keys_required",
            "A policy names exactly two root keys, so that either one alone can unwrap its data key.",
        ));
    };
    let (a, b) = (a.trim().to_owned(), b.trim().to_owned());
    if a == b {
        return Err(bad(
            "two_root_keys_required",
            "The two root keys must be different keys, ideally in different tokens.",
        ));
    }
    for r in [&a, &b] {
        check_root(state, tenant, r)?;
    }
    let id = new_id();
    let availability = state.root_keys.availability();
    let availability_key = availability
        .configured()
        .then(|| AvailabilityKeys::new_name(&id));
    let policy = Policy {
        id,
        tenant_id: tenant.id.clone(),
        name: name.to_owned(),
        description: description.trim().to_owned(),
        root_keys: [a, b],
        availability_key,
        current_version: 1,
        created_at: state.clock.now(),
        created_by: actor.to_owned(),
        purge_request: None,
        purged: None,
    };
    if let Some(name) = &policy.availability_key {
        availability
            .create(name)
            .map_err(availability::availability_unreachable)?;
    }
    // Made for this policy only: if the policy is not stored, its availability key goes.
    let forget_availability = || {
        if let Some(name) = &policy.availability_key
            && let Err(e) = availability.destroy(name)
        {
            tracing::error!(error = %e, "the availability key of a policy that was not made could not be removed");
        }
    };
    let data_key = TenantDataKey::generate();
    let first = match wrap_version(&state.root_keys, &policy, 1, &data_key) {
        Ok(w) => w,
        Err(e) => {
            forget_availability();
            return Err(e);
        }
    };
    drop(data_key);
    match state.store.create_policy(&policy, &first).await {
        Ok(()) => Ok(policy),
        Err(StoreError::Conflict(_)) => {
            forget_availability();
            Err(ServiceError::conflict(
                "already_exists",
                "The tenant already has a policy of that name.",
            ))
        }
        Err(e) => {
            forget_availability();
            Err(e.into())
        }
    }
}

/// `Set-DataEncryptionPolicy -Replace`: put `new` in `old`'s place, with every data-key version
/// unwrapped (by either root key) and wrapped afresh under `new`. Message keys do not change.
pub async fn replace_root(
    state: &AppState,
    tenant: &Tenant,
    policy: &Policy,
    old: &str,
    new: &str,
) -> Result<(), ServiceError> {
    refuse_if_purging(policy)?;
    let slot = policy
        .root_keys
        .iter()
        .position(|r| r == old.trim())
        .ok_or_else(|| {
            ServiceError::conflict(
                "unknown_root_key",
                format!("{old:?} is not one of this policy's root keys."),
            )
        })?;
    let new = new.trim();
    if policy.root_keys.iter().any(|r| r == new) {
        return Err(ServiceError::conflict(
            "two_root_keys_required",
            "The new root key is already in the policy; a policy needs two different keys.",
        ));
    }
    check_root(state, tenant, new)?;
    let bound = bound(&policy.tenant_id, &policy.id);
    for _ in 0..3 {
        let versions = state.store.policy_data_keys(&policy.id).await?;
        let target = state.root_keys.get(new).map_err(roots_unreachable)?;
        let mut rewrapped = Vec::with_capacity(versions.len());
        for v in &versions {
            let key = unwrap_data_key(&state.root_keys, policy, v).map_err(roots_unreachable)?;
            let w = target
                .wrap(&bound, v.version, &key)
                .map_err(roots_unreachable)?;
            rewrapped.push((v.version, w));
        }
        match state
            .store
            .replace_policy_root(&policy.id, slot, new, &rewrapped)
            .await
        {
            // A roll added or retired a version meanwhile: read them again.
            Err(StoreError::Conflict(_)) => continue,
            other => return other.map_err(ServiceError::from),
        }
    }
    Err(ServiceError::conflict(
        "policy_busy",
        "The policy's keys kept changing while the root key was replaced; try again.",
    ))
}

/// The refusal for anything asked of a purged policy.
pub fn policy_purged() -> ServiceError {
    ServiceError::conflict(
        "policy_purged",
        "This policy was purged; its keys are destroyed and it cannot be changed or used.",
    )
}

/// Refuse key changes to a policy that is being or was purged.
pub fn refuse_if_purging(policy: &Policy) -> Result<(), ServiceError> {
    if policy.purged.is_some() {
        return Err(policy_purged());
    }
    if policy.purge_request.is_some() {
        return Err(purge_requested());
    }
    Ok(())
}

/// The refusal for a policy whose purge is requested.
pub fn purge_requested() -> ServiceError {
    ServiceError::conflict(
        "purge_requested",
        "A permanent data purge is requested for this policy; withdraw the request before changing or using it.",
    )
}

/// A sender address of the tenant's, checked (one of its domains), as stored.
pub(super) fn tenant_sender(tenant: &Tenant, address: &str) -> Result<String, ServiceError> {
    // The address names a resource (a sender): one that is no address is not found.
    let a = crate::domain::address::EmailAddress::parse("address", address)
        .map_err(|_| ServiceError::NotFound)?;
    if !a.is_in(&tenant.domains) {
        return Err(ServiceError::conflict(
            "sender_not_in_tenant",
            format!("{a} is not in one of this tenant's domains."),
        ));
    }
    Ok(a.as_str().to_owned())
}

/// `Set-Mailbox -DataEncryptionPolicy`: seal `address`'s new messages under `policy` (`None`:
/// under the tenant's choice again). Existing messages keep their keys.
pub async fn assign_sender(
    state: &AppState,
    tenant: &Tenant,
    address: &str,
    policy: Option<&Policy>,
) -> Result<String, ServiceError> {
    // Clearing needs no domain check: a sender whose domain the tenant gave up can still be
    // cleared.
    let (address, keys) = match policy {
        Some(p) => {
            refuse_if_purging(p)?;
            (
                tenant_sender(tenant, address)?,
                SenderKeys::Policy(p.id.clone()),
            )
        }
        None => (
            crate::domain::address::EmailAddress::parse("address", address)
                .map_err(|_| ServiceError::NotFound)?
                .as_str()
                .to_owned(),
            SenderKeys::FollowTenant,
        ),
    };
    state
        .store
        .assign_sender_policy(&tenant.id, &address, &keys, state.clock.now())
        .await?;
    Ok(address)
}

/// One sender's keys, as `Get-MailboxStatistics` shows them; policies by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderStatus {
    /// The address, as stored.
    pub address: String,
    /// The sender's own setting.
    pub own: SenderKeys,
    /// The policy its new messages are sealed under (`None`: service-managed keys).
    pub effective: Option<String>,
    /// Its messages.
    pub messages: u64,
    /// How many of them are under `effective`.
    pub under_effective: u64,
    /// How many a roll back still has to move to service-managed keys.
    pub roll_back_left: u64,
}

/// What `address` is sealed under and how many of its messages are (`Get-MailboxStatistics`).
pub async fn sender_status(
    state: &AppState,
    tenant: &Tenant,
    address: &str,
) -> Result<SenderStatus, ServiceError> {
    let address = tenant_sender(tenant, address)?;
    let own = state.store.sender_policy(&tenant.id, &address).await?;
    let effective = effective_policy(tenant, &own);
    let (messages, under_effective) = state
        .store
        .sender_messages(&tenant.id, &address, effective.as_deref())
        .await?;
    let roll_back_left = state
        .store
        .roll_back_left(&tenant.id, Some(&address))
        .await?;
    Ok(SenderStatus {
        address,
        own,
        effective,
        messages,
        under_effective,
        roll_back_left,
    })
}

fn effective_policy(tenant: &Tenant, own: &SenderKeys) -> Option<String> {
    match own {
        SenderKeys::Policy(id) => Some(id.clone()),
        SenderKeys::ServiceManaged => None,
        SenderKeys::FollowTenant => tenant.data_encryption_policy_id.clone(),
    }
}

/// The policy `sender`'s new messages are sealed under: its own (`Set-Mailbox
/// -DataEncryptionPolicy`), else the tenant's; `None`: the tenant's own data key (also for a sender
/// rolled back to service-managed keys).
pub async fn policy_for_sender(
    state: &AppState,
    tenant: &Tenant,
    sender: &str,
) -> Result<Option<String>, ServiceError> {
    let own = state
        .store
        .sender_policy(&tenant.id, &sender.to_lowercase())
        .await?;
    Ok(effective_policy(tenant, &own))
}

/// The data key new messages of `tenant` from `sender` are sealed under: `(policy id, version,
/// key)`, from the sender's or the tenant's policy, or the tenant's own data key under the
/// built-in root key.
pub async fn key_for_sealing(
    state: &AppState,
    tenant: &Tenant,
    sender: &str,
) -> Result<(Option<String>, u32, TenantDataKey), ServiceError> {
    let Some(policy_id) = &policy_for_sender(state, tenant, sender).await? else {
        let key = state
            .keys
            .unwrap(&tenant.id, tenant.key_version, &tenant.wrapped_data_key)
            .map_err(key_unavailable)?;
        return Ok((None, tenant.key_version, key));
    };
    let policy = state.store.policy(&tenant.id, policy_id).await?;
    refuse_if_purging(&policy)?;
    let wrapped = state
        .store
        .policy_data_key(&policy.id, policy.current_version)
        .await?;
    let key = cached_data_key(state, &policy, &wrapped).map_err(key_unavailable)?;
    Ok((Some(policy.id), policy.current_version, key))
}

/// A data key that no root key would unwrap: the reason is logged, the refusal is
/// `key_unavailable`.
pub fn key_unavailable(e: crate::keys::KeyError) -> ServiceError {
    tracing::error!(error = %e, "a tenant data key could not be unwrapped");
    ServiceError::Key(crate::domain::release::Refusal::KeyUnavailable)
}

/// The refusal for a message whose policy was purged.
pub fn purged() -> ServiceError {
    ServiceError::Key(crate::domain::release::Refusal::Purged)
}

/// The data key of version `key_version` of `policy_id` (`None`: the tenant's own data key), or
/// `None` when that version is gone (a roll retired it). A purged policy is refused.
pub async fn data_key_at(
    state: &AppState,
    tenant: &Tenant,
    policy_id: Option<&str>,
    key_version: u32,
) -> Result<Option<TenantDataKey>, ServiceError> {
    let Some(policy_id) = policy_id else {
        return state
            .keys
            .unwrap(&tenant.id, key_version, &tenant.wrapped_data_key)
            .map(Some)
            .map_err(key_unavailable);
    };
    let policy = state.store.policy(&tenant.id, policy_id).await?;
    if policy.purged.is_some() {
        return Err(purged());
    }
    match state.store.policy_data_key(&policy.id, key_version).await {
        Ok(wrapped) => cached_data_key(state, &policy, &wrapped)
            .map(Some)
            .map_err(key_unavailable),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The data key a stored message's key is wrapped under, with the message as it was when that key
/// was found: a roll may move the message to a newer version (and retire the old one), and a roll
/// back may move it off its policy, between reading the message and reading the key, so a missing
/// version means read the message again.
pub async fn key_for_message(
    state: &AppState,
    tenant: &Tenant,
    m: &StoredMessage,
) -> Result<(TenantDataKey, Option<StoredMessage>), ServiceError> {
    let mut reread: Option<StoredMessage> = None;
    for _ in 0..4 {
        let current = reread.as_ref().unwrap_or(m);
        let found = data_key_at(
            state,
            tenant,
            current.policy_id.as_deref(),
            current.key_version,
        )
        .await?;
        if let Some(key) = found {
            return Ok((key, reread));
        }
        let fresh = state.store.message(&tenant.id, &m.id).await?;
        if fresh.wrapped_key.is_empty() {
            return Err(purged());
        }
        reread = Some(fresh);
    }
    Err(ServiceError::Internal(
        "the message's data key version kept changing".into(),
    ))
}

/// A policy as the API shows it, with `available` from [`RootKeys::list`] (asked once per answer:
/// it tries every configured key).
pub async fn view(
    state: &AppState,
    tenant: &Tenant,
    policy: &Policy,
    available: &[RootKeyInfo],
) -> Result<DataEncryptionPolicyView, ServiceError> {
    let progress = state.store.roll_progress(&policy.id).await?;
    let status = PolicyStatus::of(policy, progress);
    let root_keys = policy
        .root_keys
        .iter()
        .map(|name| {
            let found = available.iter().find(|k| &k.name == name);
            RootKeyView {
                name: name.clone(),
                provider: found.map_or("unknown", |k| k.provider).to_owned(),
                available: found.is_some_and(|k| k.available),
            }
        })
        .collect();
    Ok(DataEncryptionPolicyView {
        id: policy.id.clone(),
        name: policy.name.clone(),
        description: policy.description.clone(),
        root_keys,
        status: status.name().to_owned(),
        roll_percent: status.percent(),
        key_version: policy.current_version,
        messages: progress.1,
        assigned: tenant.data_encryption_policy_id.as_deref() == Some(policy.id.as_str()),
        availability_key: policy.availability_key.is_some(),
        created_at: rfc3339(policy.created_at),
        purge: policy.purge_request.as_ref().map(|r| PurgeView {
            requested_at: rfc3339(r.at),
            requested_by: r.by.clone(),
            reason: r.reason.clone(),
            contact: r.contact.clone(),
            purged_at: policy.purged.as_ref().map(|(at, _)| rfc3339(*at)),
            purged_by: policy.purged.as_ref().map(|(_, by)| by.clone()),
        }),
    })
}

/// The root keys `tenant`'s policies can name (its own), as the API shows them.
pub fn root_key_views(
    state: &AppState,
    tenant: &Tenant,
    available: &[RootKeyInfo],
) -> Vec<RootKeyView> {
    available
        .iter()
        // The built-in key is shown (the tenant's own data key is under it), though no policy may
        // name it.
        .filter(|k| k.name == LOCAL || owned_by(state, tenant, &k.name))
        .map(|k| RootKeyView {
            name: k.name.clone(),
            provider: k.provider.to_owned(),
            available: k.available,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            id: "p".into(),
            tenant_id: "t".into(),
            name: "n".into(),
            description: String::new(),
            root_keys: ["a".into(), "b".into()],
            availability_key: None,
            current_version: 2,
            created_at: 0,
            created_by: "x".into(),
            purge_request: None,
            purged: None,
        }
    }

    #[test]
    fn the_status_follows_purge_then_roll_progress() {
        let mut p = policy();
        assert_eq!(PolicyStatus::of(&p, (0, 0)), PolicyStatus::Registered);
        assert_eq!(PolicyStatus::of(&p, (5, 5)), PolicyStatus::Registered);
        let rolling = PolicyStatus::of(&p, (1, 3));
        assert_eq!(rolling.name(), "Rolling");
        assert_eq!(rolling.percent(), Some(33));
        // Never 100 % while one message is left.
        assert_eq!(PolicyStatus::of(&p, (999, 1000)).percent(), Some(99));
        assert_eq!(PolicyStatus::Registered.percent(), None);
        p.purge_request = Some(crate::store::key_policies::PurgeRequest {
            at: 1,
            by: "a".into(),
            reason: "r".into(),
            contact: "c".into(),
        });
        assert_eq!(PolicyStatus::of(&p, (1, 3)), PolicyStatus::PurgeRequested);
        p.purged = Some((2, "b".into()));
        assert_eq!(PolicyStatus::of(&p, (0, 3)).name(), "Purged");
    }

    #[test]
    fn policy_names_have_no_spaces() {
        assert!(check_name("Contoso_Global").is_ok());
        assert!(check_name("USA.mailboxes-1").is_ok());
        for bad in ["", "has space", "ä", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
