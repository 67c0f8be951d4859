//! A tenant's domains: an admin may ask for any domain, but it is used (for notices' `From`,
//! relaying and senders) only once proven with a DNS TXT record, so a tenant cannot send as a
//! domain it does not hold. The operator's `tenant create` makes its domains proven at once.

use crate::domain::address::Domain;
use crate::secrets::new_id;
use crate::services::error::ServiceError;
use crate::services::limits::{self, Limit};
use crate::state::AppState;
use crate::store::{DomainClaim, StoreError, Tenant};

/// Most domains a tenant may have waiting for their proof.
pub const MAX_CLAIMS: usize = 20;
/// Domain proofs (DNS lookups) one tenant may ask for in an hour.
const PROOFS_PER_HOUR: u32 = 30;

/// Where the proving TXT record goes.
pub fn txt_name(domain: &Domain) -> String {
    format!("_sealpost.{domain}")
}

/// What the proving TXT record holds.
pub fn txt_value(token: &str) -> String {
    format!("sealpost-verification={token}")
}

/// Make `requested` the tenant's domains: proven ones listed stay, proven ones not listed go, and
/// the rest wait for their proof (claims asked for before keep their token). Updates `tenant`'s
/// proven domains; the caller stores the tenant. At least one proven domain must stay.
pub async fn request(
    state: &AppState,
    tenant: &mut Tenant,
    requested: &[Domain],
) -> Result<Vec<DomainClaim>, ServiceError> {
    let proven: Vec<Domain> = tenant
        .domains
        .iter()
        .filter(|d| requested.contains(d))
        .cloned()
        .collect();
    if proven.is_empty() {
        return Err(ServiceError::Conflict {
            code: "proven_domain_required",
            message:
                "Keep at least one of your proven domains; new ones are used only once proven."
                    .into(),
        });
    }
    let before = state.store.domain_claims(&tenant.id).await?;
    let now = state.clock.now();
    let claims: Vec<DomainClaim> = requested
        .iter()
        .filter(|d| !proven.contains(d))
        .map(|d| {
            before
                .iter()
                .find(|c| &c.domain == d)
                .cloned()
                .unwrap_or_else(|| DomainClaim {
                    domain: d.clone(),
                    token: new_id(),
                    created_at: now,
                })
        })
        .collect();
    if claims.len() > MAX_CLAIMS {
        return Err(ServiceError::Conflict {
            code: "too_many_values",
            message: format!("At most {MAX_CLAIMS} domains may wait for their proof at once."),
        });
    }
    state
        .store
        .replace_domain_claims(&tenant.id, &claims)
        .await?;
    tenant.domains = proven;
    Ok(claims)
}

/// Look for the claim's TXT record and, when it is there, make the domain the tenant's.
pub async fn prove(state: &AppState, tenant: &Tenant, domain: &Domain) -> Result<(), ServiceError> {
    let claims = state.store.domain_claims(&tenant.id).await?;
    let Some(claim) = claims.iter().find(|c| &c.domain == domain) else {
        return Err(ServiceError::NotFound);
    };
    limits::take_all(
        state,
        &[(
            Limit {
                name: "domain proofs per tenant",
                max: PROOFS_PER_HOUR,
                window: 3600,
            },
            tenant.id.as_bytes(),
        )],
        "too_many_proofs",
        "This tenant has asked for many domain proofs in the last hour. Try again in {minutes} minutes.",
    )
    .await?;
    let name = txt_name(domain);
    let want = txt_value(&claim.token);
    let found = crate::dns::txt(&state.config, &name).await.map_err(|e| {
        tracing::warn!(domain = %domain, error = %e, "a domain proof could not be looked up");
        ServiceError::Unavailable {
            code: "dns_unavailable",
            message: format!("The DNS lookup for {name} failed; try again later."),
        }
    })?;
    if !found.iter().any(|v| v.trim() == want) {
        return Err(ServiceError::Conflict {
            code: "domain_not_proven",
            message: format!(
                "No TXT record at {name} holds {want}. Publish it, then ask again (DNS changes can take a while to reach everyone)."
            ),
        });
    }
    match state.store.prove_domain(&tenant.id, domain.as_str()).await {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict(_)) => Err(ServiceError::Conflict {
            code: "domain_taken",
            message: format!("{domain} belongs to another tenant on this server."),
        }),
        Err(e) => Err(e.into()),
    }
}
