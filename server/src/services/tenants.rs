//! Creating tenants and issuing admin tokens: shared by the bootstrap command, the demo and the
//! admin API.

use sealpost_envelope::TenantDataKey;
use zeroize::Zeroizing;

use crate::domain::ValidationError;
use crate::domain::address::Domain;
use crate::domain::validation::check_name;
use crate::keys::{KeyError, RootKeyProvider};
use crate::secrets::{new_id, new_secret};
use crate::store::{AdminToken, Store, StoreError, Tenant};

/// Longest tenant name.
pub const MAX_TENANT_NAME_LEN: usize = sealpost_api::rules::TENANT_NAME_MAX;
/// Longest token label.
pub const MAX_LABEL_LEN: usize = sealpost_api::rules::TOKEN_LABEL_MAX;
/// Prefix of admin token secrets (so they are easy to spot in a leaked file).
pub const ADMIN_TOKEN_PREFIX: &str = "spa_";

/// Why a tenant could not be created.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    /// Invalid name or domain.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The root key failed.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// The store failed (a taken domain is `Conflict("domain_taken")`).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Parse a list of domains, refusing an empty list.
pub fn parse_domains(domains: &[String]) -> Result<Vec<Domain>, ValidationError> {
    if domains.is_empty() {
        return Err(ValidationError::new(
            "domains",
            "required",
            "A tenant needs at least one mail domain.",
        ));
    }
    let mut out: Vec<Domain> = domains
        .iter()
        .enumerate()
        .map(|(i, d)| Domain::parse(&format!("domains[{i}]"), d))
        .collect::<Result<_, _>>()?;
    out.sort();
    out.dedup();
    Ok(out)
}

/// A new admin token record and its secret (shown once).
pub fn new_token(
    tenant_id: &str,
    label: &str,
    now: i64,
) -> Result<(AdminToken, Zeroizing<String>, [u8; 32]), ValidationError> {
    check_name("label", label, MAX_LABEL_LEN)?;
    let (secret, hash) = new_secret(ADMIN_TOKEN_PREFIX);
    let token = AdminToken {
        id: new_id(),
        tenant_id: tenant_id.to_owned(),
        label: label.trim().to_owned(),
        created_at: now,
        revoked_at: None,
    };
    Ok((token, secret, hash))
}

/// Create a tenant with a fresh data key, its default branding template and a first admin token.
pub async fn create_tenant(
    store: &dyn Store,
    keys: &dyn RootKeyProvider,
    name: &str,
    domains: &[String],
    now: i64,
) -> Result<(Tenant, Zeroizing<String>), TenantError> {
    check_name("name", name, MAX_TENANT_NAME_LEN)?;
    let domains = parse_domains(domains)?;
    let id = new_id();
    let data_key = TenantDataKey::generate();
    let tenant = Tenant {
        wrapped_data_key: keys.wrap(&id, 1, &data_key)?,
        id,
        name: name.trim().to_owned(),
        domains,
        show_subject_in_notice: true,
        portal_tracking_logs: false,
        key_version: 1,
        created_at: now,
        data_encryption_policy_id: None,
        portal_log_retention_days: None,
    };
    let (token, secret, hash) = new_token(&tenant.id, "bootstrap", now)?;
    store.create_tenant(&tenant, &token, &hash).await?;
    Ok((tenant, secret))
}
