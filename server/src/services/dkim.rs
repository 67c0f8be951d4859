//! DKIM: each tenant's keys per domain (Ed25519 and RSA-2048, made and used through `mail-auth`),
//! the exact TXT record each needs, and signing every mail Sealpost sends from a domain with
//! every key that domain has, so a receiver that knows only one algorithm still finds a signature
//! it can check. Private keys are kept sealed under the server's mail key, which the root key
//! wraps, as every key at rest is.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;
use mail_auth::dkim::generate::DkimKeyPair;
use sealpost_api::admin::DkimKeyView;
use sealpost_envelope::chunked;
use zeroize::Zeroizing;

use crate::clock::rfc3339;
use crate::domain::ValidationError;
use crate::domain::address::Domain;
use crate::services::error::ServiceError;
use crate::state::AppState;
use crate::store::dkim::DkimKeyRecord;
use crate::store::{StoreError, Tenant};

/// Ed25519 (RFC 8463): short, fast; not every receiver checks it yet.
pub const ED25519: &str = "ed25519";
/// RSA-2048 with SHA-256: what every receiver checks.
pub const RSA: &str = "rsa";
/// Most DKIM keys one tenant may hold.
pub const MAX_KEYS: usize = 20;

/// The header fields signed, where the message has them (and, where it does not, their absence:
/// none can be added on the way without breaking the signature).
const SIGNED_HEADERS: [&str; 13] = [
    "From",
    "Reply-To",
    "Sender",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Content-Type",
    "Auto-Submitted",
];

/// Where a key's record goes.
pub fn record_name(selector: &str, domain: &str) -> String {
    format!("{selector}._domainkey.{domain}")
}

/// What a key's record holds.
pub fn record_value(algorithm: &str, public_key: &[u8]) -> String {
    format!("v=DKIM1; k={algorithm}; p={}", BASE64.encode(public_key))
}

/// How the API shows a key.
pub fn view(k: &DkimKeyRecord) -> DkimKeyView {
    DkimKeyView {
        domain: k.domain.clone(),
        selector: k.selector.clone(),
        algorithm: k.algorithm.clone(),
        created_at: rfc3339(k.created_at),
        record_name: record_name(&k.selector, &k.domain),
        record_value: record_value(&k.algorithm, &k.public_key),
    }
}

fn context(k: &DkimKeyRecord) -> Vec<u8> {
    format!(
        "sealpost dkim key {} {} {} {}",
        k.tenant_id, k.domain, k.selector, k.algorithm
    )
    .into_bytes()
}

pub(crate) fn check_selector(selector: &str) -> Result<(), ValidationError> {
    let ok = !selector.is_empty()
        && selector.len() <= 63
        && selector
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !selector.starts_with('-')
        && !selector.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new(
            "selector",
            "invalid_selector",
            "A selector is 1 to 63 letters, digits and hyphens, not starting or ending with a hyphen.",
        ))
    }
}

/// Make a key for one of the tenant's proven domains. Mail from that domain is signed with it
/// from now on.
pub async fn create(
    state: &AppState,
    tenant: &Tenant,
    domain: &str,
    algorithm: &str,
    selector: Option<&str>,
) -> Result<DkimKeyRecord, ServiceError> {
    let domain = Domain::parse("domain", domain)?;
    let algorithm = match algorithm.to_ascii_lowercase().as_str() {
        ED25519 => ED25519,
        RSA | "rsa-2048" | "rsa2048" => RSA,
        other => {
            return Err(ValidationError::new(
                "algorithm",
                "unknown_algorithm",
                format!("{other:?} is not a DKIM key type Sealpost makes; use ed25519 or rsa."),
            )
            .into());
        }
    };
    let now = state.clock.now();
    let selector = match selector {
        Some(s) => s.to_ascii_lowercase(),
        None => format!(
            "sealpost-{algorithm}-{}",
            rfc3339(now).get(..10).unwrap_or("0").replace('-', "")
        ),
    };
    check_selector(&selector)?;
    if !tenant.domains.contains(&domain) {
        return Err(ServiceError::Conflict {
            code: "domain_not_proven",
            message: format!(
                "{domain} is not one of this tenant's proven domains; prove it first (config verify-domain)."
            ),
        });
    }
    if state.store.dkim_keys(&tenant.id, None).await?.len() >= MAX_KEYS {
        return Err(ServiceError::Conflict {
            code: "too_many_dkim_keys",
            message: format!("A tenant may hold {MAX_KEYS} DKIM keys; remove one first."),
        });
    }
    // RSA key generation takes a while; it does not hold up other requests.
    let pair = tokio::task::spawn_blocking(move || generate(algorithm))
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))??;
    let mut record = DkimKeyRecord {
        tenant_id: tenant.id.clone(),
        domain: domain.to_string(),
        selector,
        algorithm: algorithm.to_owned(),
        sealed_private_key: Vec::new(),
        public_key: pair.public,
        created_at: now,
    };
    record.sealed_private_key = chunked::seal(
        state.mail_key.expose_secret(),
        &context(&record),
        &pair.private,
    )
    .map_err(|e| ServiceError::Internal(format!("sealing a DKIM key: {e}")))?;
    match state.store.put_dkim_key(&record).await {
        Ok(()) => Ok(record),
        Err(StoreError::Conflict(_)) => Err(ServiceError::Conflict {
            code: "dkim_selector_taken",
            message: format!(
                "{domain} already has a key with the selector {:?}; choose another.",
                record.selector
            ),
        }),
        Err(e) => Err(e.into()),
    }
}

struct Pair {
    private: Zeroizing<Vec<u8>>,
    /// As the record publishes it: the raw key for Ed25519, SubjectPublicKeyInfo for RSA.
    public: Vec<u8>,
}

fn generate(algorithm: &str) -> Result<Pair, ServiceError> {
    let failed = |e: &dyn std::fmt::Display| ServiceError::Internal(format!("DKIM key: {e}"));
    if algorithm == ED25519 {
        let (private, public) = DkimKeyPair::generate_ed25519()
            .map_err(|e| failed(&e))?
            .into_inner();
        return Ok(Pair {
            private: Zeroizing::new(private),
            public,
        });
    }
    let (private, _) = DkimKeyPair::generate_rsa(2048)
        .map_err(|e| failed(&e))?
        .into_inner();
    let private = Zeroizing::new(private);
    // Receivers expect an RSA record's key as SubjectPublicKeyInfo (RFC 6376 §3.6.1).
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::EncodePublicKey;
    let public = rsa::RsaPrivateKey::from_pkcs1_der(&private)
        .map_err(|e| failed(&e))?
        .to_public_key()
        .to_public_key_der()
        .map_err(|e| failed(&e))?
        .into_vec();
    Ok(Pair { private, public })
}

/// A tenant's keys (one domain's when given).
pub async fn list(
    state: &AppState,
    tenant: &Tenant,
    domain: Option<&str>,
) -> Result<Vec<DkimKeyRecord>, ServiceError> {
    Ok(state.store.dkim_keys(&tenant.id, domain).await?)
}

/// Remove a key: mail is no longer signed with it. Its record can go from DNS once mail signed
/// with it has been delivered (a few days).
pub async fn remove(
    state: &AppState,
    tenant: &Tenant,
    domain: &str,
    selector: &str,
) -> Result<(), ServiceError> {
    Ok(state
        .store
        .delete_dkim_key(
            &tenant.id,
            &domain.to_ascii_lowercase(),
            &selector.to_ascii_lowercase(),
        )
        .await?)
}

/// The domain of a message's `From` address, lowercase.
fn from_domain(raw: &[u8]) -> Option<String> {
    let message = crate::mail::parse::headers(raw)?;
    let from = message.from()?.first()?.address()?.to_owned();
    let (_, domain) = from.rsplit_once('@')?;
    Some(domain.to_ascii_lowercase())
}

/// `raw` with a DKIM-Signature field for each key the tenant has for its `From` domain (so the
/// signature aligns with `From`, as DMARC asks). Unsigned when the domain has no key; a key that
/// cannot be used is logged and skipped, never a reason not to send.
pub async fn sign(state: &AppState, tenant_id: &str, raw: Vec<u8>) -> Vec<u8> {
    let Some(domain) = from_domain(&raw) else {
        return raw;
    };
    let keys = match state.store.dkim_keys(tenant_id, Some(&domain)).await {
        Ok(keys) => keys,
        Err(e) => {
            tracing::error!(error = %e, "the DKIM keys could not be read; the mail goes unsigned");
            return raw;
        }
    };
    let mut fields = String::new();
    for key in &keys {
        match sign_with(state, key, &raw) {
            Ok(field) => fields.push_str(&field),
            Err(e) => tracing::error!(
                domain = %key.domain,
                selector = %key.selector,
                error = %e,
                "a DKIM key could not sign; the mail goes without its signature"
            ),
        }
    }
    if fields.is_empty() {
        return raw;
    }
    let mut signed = fields.into_bytes();
    signed.extend_from_slice(&raw);
    signed
}

fn sign_with(state: &AppState, key: &DkimKeyRecord, raw: &[u8]) -> Result<String, String> {
    let private = Zeroizing::new(
        chunked::open(
            state.mail_key.expose_secret(),
            &context(key),
            &key.sealed_private_key,
        )
        .map_err(|e| format!("the key does not open: {e}"))?,
    );
    let signature = if key.algorithm == ED25519 {
        let signer = Ed25519Key::from_pkcs8_der(&private).map_err(|e| e.to_string())?;
        DkimSigner::from_key(signer)
            .domain(&key.domain)
            .selector(&key.selector)
            .headers(SIGNED_HEADERS)
            .sign(raw)
    } else {
        let signer = RsaKey::<Sha256>::from_der(&private).map_err(|e| e.to_string())?;
        DkimSigner::from_key(signer)
            .domain(&key.domain)
            .selector(&key.selector)
            .headers(SIGNED_HEADERS)
            .sign(raw)
    }
    .map_err(|e| e.to_string())?;
    Ok(signature.to_header())
}

/// The tags of a DKIM record (`v=DKIM1; k=rsa; p=…`), whitespace removed.
fn tags(record: &str) -> Vec<(String, String)> {
    record
        .split(';')
        .filter_map(|t| t.split_once('='))
        .map(|(k, v)| {
            (
                k.trim().to_ascii_lowercase(),
                v.chars().filter(|c| !c.is_whitespace()).collect(),
            )
        })
        .collect()
}

/// Whether a published record carries this key: the same type and public key.
pub fn record_matches(published: &str, key: &DkimKeyRecord) -> bool {
    let tags = tags(published);
    let tag = |name: &str| {
        tags.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    tag("k").unwrap_or(RSA).eq_ignore_ascii_case(&key.algorithm)
        && tag("p") == Some(BASE64.encode(&key.public_key).as_str())
        && tag("v").is_none_or(|v| v == "DKIM1")
}

/// The self-test's check: each of the domain's keys has its record published, and it matches.
/// A domain with no key passes with a warning (its mail is sent unsigned).
pub async fn check_published(
    state: &AppState,
    tenant: &Tenant,
    domain: &str,
) -> Result<String, String> {
    let keys = state
        .store
        .dkim_keys(&tenant.id, Some(domain))
        .await
        .map_err(|e| e.to_string())?;
    if keys.is_empty() {
        return Ok(format!(
            "{domain} has no DKIM key, so its mail is sent unsigned and may be taken for spam; make one with `sealpost dkim new --domain {domain}`"
        ));
    }
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for key in &keys {
        let name = record_name(&key.selector, &key.domain);
        match crate::dns::txt(&state.config, &name).await {
            Ok(found) if found.iter().any(|r| record_matches(r, key)) => good.push(name),
            Ok(found) if found.is_empty() => bad.push(format!("no TXT record at {name}")),
            Ok(_) => bad.push(format!(
                "the TXT record at {name} does not match the key (publish `{}`)",
                record_value(&key.algorithm, &key.public_key)
            )),
            Err(e) => bad.push(format!("{name}: {e}")),
        }
    }
    if bad.is_empty() {
        Ok(format!("published and matching: {}", good.join(", ")))
    } else {
        Err(bad.join("; "))
    }
}
