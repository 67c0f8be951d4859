//! Which SMTP clients may send through Sealpost, and for which tenant.
//!
//! A client sends for the tenant that owns the envelope sender's domain, and only if it connects
//! from one of that tenant's connector networks or has signed in with that tenant's SMTP AUTH
//! password. A bounce (empty envelope sender) belongs to the tenant the client signed in as, or to
//! the one tenant whose networks hold the client. Everything else is refused: Sealpost is never an
//! open relay.

use std::net::IpAddr;

use subtle::ConstantTimeEq;

use super::Reply;
use crate::domain::address::EmailAddress;
use crate::domain::networks::Network;
use crate::secrets::hash_secret;
use crate::store::mail_flow::Connector;
use crate::store::{Store, StoreError, Tenant};

fn allows(connector: &Connector, ip: IpAddr) -> bool {
    connector
        .remote_addresses
        .iter()
        .filter_map(|n| Network::parse("remote_addresses", n).ok())
        .any(|n| n.contains(ip))
}

fn unavailable(e: &StoreError) -> Reply {
    tracing::error!(error = %e, "the store failed while checking an SMTP client");
    Reply::new(451, "4.3.0", "Try again later.")
}

/// The tenant `mail_from` may be sent for by this client, or the refusal.
pub async fn authorize(
    store: &dyn Store,
    ip: IpAddr,
    signed_in: Option<&str>,
    mail_from: Option<&EmailAddress>,
) -> Result<Tenant, Reply> {
    let Some(from) = mail_from else {
        let tenant_id = match signed_in {
            Some(t) => t.to_owned(),
            None => {
                let holding: Vec<Connector> = store
                    .connectors()
                    .await
                    .map_err(|e| unavailable(&e))?
                    .into_iter()
                    .filter(|c| allows(c, ip))
                    .collect();
                match holding.as_slice() {
                    [one] => one.tenant_id.clone(),
                    _ => {
                        return Err(Reply::new(
                            550,
                            "5.7.1",
                            format!("This client ({ip}) may not send bounces through Sealpost."),
                        ));
                    }
                }
            }
        };
        return store.tenant(&tenant_id).await.map_err(|e| unavailable(&e));
    };
    let tenant = match store.tenant_by_domain(from.domain()).await {
        Ok(t) => t,
        Err(StoreError::NotFound) => {
            return Err(Reply::new(
                550,
                "5.7.1",
                format!(
                    "Sealpost relays mail only for its tenants' domains, and {} is not one.",
                    from.domain()
                ),
            ));
        }
        Err(e) => return Err(unavailable(&e)),
    };
    if signed_in == Some(tenant.id.as_str()) {
        return Ok(tenant);
    }
    let connector = store
        .connector(&tenant.id)
        .await
        .map_err(|e| unavailable(&e))?;
    if allows(&connector, ip) {
        return Ok(tenant);
    }
    Err(Reply::new(
        550,
        "5.7.1",
        format!(
            "This client ({ip}) may not send mail for {}: add it to the tenant's inbound connector, or sign in with SMTP AUTH.",
            from.domain()
        ),
    ))
}

/// The tenant whose SMTP AUTH user name and password these are.
pub async fn sign_in(store: &dyn Store, username: &str, password: &str) -> Option<String> {
    let connector = store.connector_by_username(username).await.ok()?;
    let stored = connector.auth_password_hash?;
    let given = hash_secret(password);
    bool::from(given.ct_eq(&stored)).then_some(connector.tenant_id)
}
