//! The SMTP listener: the smart host a tenant points its outbound mail server at.
//!
//! It accepts mail only from a tenant's own mail servers (see `mail_flow::relay_access`), offers
//! STARTTLS when a certificate is configured and SMTP AUTH only over TLS, and answers 250 to a
//! message only once it is in the queue in the database. [`session`] speaks the protocol.

pub mod session;

use std::sync::Arc;

use anyhow::Context;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

use crate::config::Config;
use crate::state::AppState;

/// Most connections served at once; more wait for a free slot.
const MAX_CONNECTIONS: usize = 100;

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
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "an SMTP connection could not be accepted");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let state = state.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            session::serve(Box::new(stream), peer, state, tls).await;
            drop(permit);
        });
    }
}
