//! DNS lookups: the TXT records by which a tenant proves it holds a domain. The system's resolver
//! (`/etc/resolv.conf`), or the server `dns_server` names (tests point it at one on loopback).

use hickory_resolver::Resolver;
use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig};
use hickory_resolver::name_server::TokioConnectionProvider;

use crate::config::Config;

/// Why a lookup gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    /// The resolver could not be set up or did not answer.
    #[error("the DNS lookup failed: {0}")]
    Failed(String),
}

/// The TXT records at `name` (each record's strings joined), none if the name or its TXT records
/// do not exist.
pub async fn txt(config: &Config, name: &str) -> Result<Vec<String>, DnsError> {
    let provider = TokioConnectionProvider::default();
    let resolver = match config.dns_server {
        Some(addr) => {
            let servers = NameServerConfigGroup::from_ips_clear(&[addr.ip()], addr.port(), true);
            Resolver::builder_with_config(
                ResolverConfig::from_parts(None, vec![], servers),
                provider,
            )
            .build()
        }
        None => Resolver::builder(provider)
            .map_err(|e| DnsError::Failed(e.to_string()))?
            .build(),
    };
    let fqdn = format!("{}.", name.trim_end_matches('.'));
    match resolver.txt_lookup(fqdn).await {
        Ok(found) => Ok(found
            .iter()
            .map(|txt| {
                txt.txt_data()
                    .iter()
                    .map(|part| String::from_utf8_lossy(part).into_owned())
                    .collect::<String>()
            })
            .collect()),
        Err(e) if e.is_no_records_found() => Ok(Vec::new()),
        Err(e) => Err(DnsError::Failed(e.to_string())),
    }
}
