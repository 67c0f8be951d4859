//! Identity providers over HTTP: each OpenID provider's discovery document (with its signing keys),
//! read when first needed and kept for a while. Public data, so each node keeps its own.

use std::collections::HashMap;
use std::time::Duration;

use openidconnect::IssuerUrl;
use openidconnect::core::CoreProviderMetadata;
use tokio::sync::Mutex;

use crate::config::IdentityProviderConfig;

/// How long a discovery document and keys are kept before they are read again (seconds).
const KEPT_FOR: i64 = 10 * 60;

/// The providers' discovery documents, as last read.
#[derive(Debug, Default)]
pub struct ProviderCache {
    read: Mutex<HashMap<String, (i64, CoreProviderMetadata)>>,
}

/// An HTTP client for talking to providers: no redirects followed (a provider's answer must not
/// send the server elsewhere), ten seconds at most.
pub fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())
}

impl ProviderCache {
    /// `p`'s discovery document and keys, read again when older than ten minutes at `now`.
    pub async fn metadata(
        &self,
        p: &IdentityProviderConfig,
        http: &reqwest::Client,
        now: i64,
    ) -> Result<CoreProviderMetadata, String> {
        if let Some((at, m)) = self.read.lock().await.get(&p.id)
            && now - at < KEPT_FOR
        {
            return Ok(m.clone());
        }
        // Read without holding the lock, so one slow provider never holds up another.
        let issuer = IssuerUrl::new(p.issuer.clone()).map_err(|e| e.to_string())?;
        let m = CoreProviderMetadata::discover_async(issuer, http)
            .await
            .map_err(|e| e.to_string())?;
        self.read
            .lock()
            .await
            .insert(p.id.clone(), (now, m.clone()));
        Ok(m)
    }

    /// Forget what was read from `provider_id` (its keys may have changed).
    pub async fn forget(&self, provider_id: &str) {
        self.read.lock().await.remove(provider_id);
    }
}
