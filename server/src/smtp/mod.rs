//! The SMTP listener: the smart host a tenant points its outbound mail server at.
//!
//! It accepts mail only from a tenant's own mail servers (see `mail_flow::relay_access`), offers
//! STARTTLS when a certificate is configured and SMTP AUTH only over TLS, and answers 250 to a
//! message only once it is in the queue in the database. [`session`] speaks the protocol.

pub mod proxy;
pub mod session;

use std::sync::Arc;
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
use crate::connections::PerClient;
use crate::domain::networks::Network;
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
/// How long a load balancer may take to send its PROXY header.
const PROXY_HEADER: Duration = Duration::from_secs(5);

/// Tell a client it cannot be served now, and close.
async fn refuse(mut stream: TcpStream, reply: &'static str) {
    let _ = tokio::time::timeout(REFUSAL_WRITE, async {
        stream.write_all(reply.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
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
    let per_client = PerClient::new(MAX_PER_CLIENT);
    // Checked when the configuration was loaded.
    let proxies: Arc<[Network]> = state.config.smtp_proxies().unwrap_or_default().into();
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "an SMTP connection could not be accepted");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tracing::warn!("the SMTP listener is full; a connection was refused");
            tokio::spawn(refuse(
                stream,
                "421 4.3.2 Too busy right now; try again later.\r\n",
            ));
            continue;
        };
        let (state, tls) = (state.clone(), tls.clone());
        let (per_client, proxies) = (per_client.clone(), proxies.clone());
        tokio::spawn(async move {
            let mut stream = stream;
            let client = if proxies.iter().any(|n| n.contains(peer.ip())) {
                match tokio::time::timeout(PROXY_HEADER, proxy::read_header(&mut stream)).await {
                    Ok(Ok(client)) => client.unwrap_or(peer),
                    Ok(Err(e)) => {
                        tracing::info!(balancer = %peer.ip(), error = %e, "an SMTP connection from a load balancer was closed");
                        return;
                    }
                    Err(_) => {
                        tracing::info!(balancer = %peer.ip(), "an SMTP connection from a load balancer sent no PROXY header in time");
                        return;
                    }
                }
            } else {
                peer
            };
            let Some(slot) = per_client.take(client.ip()) else {
                tracing::info!(client = %client.ip(), "an SMTP client over its connection limit was refused");
                refuse(
                    stream,
                    "421 4.7.0 Too many connections from your address; try again later.\r\n",
                )
                .await;
                return;
            };
            let session = session::serve(Box::new(stream), client, state, tls);
            if tokio::time::timeout(MAX_SESSION, session).await.is_err() {
                tracing::info!(client = %client.ip(), "an SMTP connection reached its time limit");
            }
            drop(permit);
            drop(slot);
        });
    }
}
