//! The SMTP listener: the smart host a tenant points its outbound mail server at.
//!
//! It accepts mail only from a tenant's own mail servers (see `mail_flow::relay_access`), offers
//! STARTTLS when a certificate is configured and SMTP AUTH only over TLS, and answers 250 to a
//! message only once it is in the queue in the database. [`session`] speaks the protocol.

pub mod session;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

use crate::config::Config;
use crate::state::AppState;

/// Most connections served at once; one more is told `421` and closed, never left waiting.
const MAX_CONNECTIONS: usize = 100;
/// Most connections from one client address (an IPv6 /64 counts as one), so one client cannot
/// take every slot. Postfix opens up to 20 at once to a relay host by default
/// (`default_destination_concurrency_limit`), so a tenant's own mail server is never throttled.
const MAX_PER_CLIENT: usize = 20;
/// Longest a connection may last, however busy: a client that keeps a slot with a NOOP every few
/// minutes still loses it.
const MAX_SESSION: Duration = Duration::from_secs(30 * 60);
/// How long a refusal may take to write before the connection is dropped anyway.
const REFUSAL_WRITE: Duration = Duration::from_secs(5);

/// The address connection limits count by: the IPv4 address, or the IPv6 /64.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
        },
        v4 => v4,
    }
}

/// A connection counted against its client's limit until dropped.
struct ClientSlot {
    key: IpAddr,
    counts: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl ClientSlot {
    fn take(counts: &Arc<Mutex<HashMap<IpAddr, usize>>>, key: IpAddr) -> Option<ClientSlot> {
        let mut map = counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = map.entry(key).or_insert(0);
        if *n >= MAX_PER_CLIENT {
            return None;
        }
        *n += 1;
        Some(ClientSlot {
            key,
            counts: counts.clone(),
        })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut map = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = map.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.key);
            }
        }
    }
}

/// Tell a client it cannot be served now, and close.
fn refuse(mut stream: TcpStream, reply: &'static str) {
    tokio::spawn(async move {
        let _ = tokio::time::timeout(REFUSAL_WRITE, async {
            stream.write_all(reply.as_bytes()).await?;
            stream.shutdown().await
        })
        .await;
    });
}

/// STARTTLS from the configured certificate and key, if both are set.
pub fn tls_acceptor(config: &Config) -> anyhow::Result<Option<TlsAcceptor>> {
    let (cert, key) = match (&config.smtp_listen_cert, &config.smtp_listen_key) {
        (Some(c), Some(k)) => (c, k),
        (None, None) => return Ok(None),
        _ => anyhow::bail!("set both smtp_listen_cert and smtp_listen_key, or neither"),
    };
    let certs = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("cannot read the certificate {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("the certificate {} is not PEM", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("cannot read the private key {}", key.display()))?;
    let tls = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .context("TLS versions")?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .context("the certificate and key do not make a TLS configuration")?;
    Ok(Some(TlsAcceptor::from(Arc::new(tls))))
}

/// Serve SMTP on `listener` until the process ends.
pub async fn run(listener: TcpListener, state: AppState, tls: Option<TlsAcceptor>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let per_client: Arc<Mutex<HashMap<IpAddr, usize>>> = Arc::default();
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "an SMTP connection could not be accepted");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Some(client) = ClientSlot::take(&per_client, client_key(peer.ip())) else {
            tracing::info!(client = %peer.ip(), "an SMTP client over its connection limit was refused");
            refuse(
                stream,
                "421 4.7.0 Too many connections from your address; try again later.\r\n",
            );
            continue;
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tracing::warn!("the SMTP listener is full; a connection was refused");
            refuse(stream, "421 4.3.2 Too busy right now; try again later.\r\n");
            continue;
        };
        let state = state.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let session = session::serve(Box::new(stream), peer, state, tls);
            if tokio::time::timeout(MAX_SESSION, session).await.is_err() {
                tracing::info!(client = %peer.ip(), "an SMTP connection reached its time limit");
            }
            drop(permit);
            drop(client);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_by_their_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn a_client_slot_is_given_back_when_dropped() {
        let counts = Arc::default();
        let key: IpAddr = "192.0.2.1".parse().unwrap();
        let held: Vec<_> = (0..MAX_PER_CLIENT)
            .map(|_| ClientSlot::take(&counts, key).unwrap())
            .collect();
        assert!(ClientSlot::take(&counts, key).is_none());
        drop(held);
        assert!(ClientSlot::take(&counts, key).is_some());
    }
}
