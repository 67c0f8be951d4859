//! Signing in with an identity provider (`SocialIdSignIn`): OpenID Connect's authorization code
//! flow with PKCE and a nonce, through the `openidconnect` crate.
//!
//! [`start`] keeps the flow's state in the database (the nonce and PKCE verifier, found by the
//! SHA-256 of the `state` parameter and bound to a cookie only this browser holds) and gives the
//! provider's URL. [`finish`] takes that state exactly once, checks the browser is the one that
//! began, exchanges the code with the verifier, verifies the ID token (signature from the
//! provider's published keys, issuer, audience, expiry and nonce), and accepts the identity only
//! when the provider vouches for an address (`email_verified`) that is the recipient's.

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, Nonce, OAuth2TokenResponse as _,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse as _,
};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::config::IdentityProviderConfig;
use crate::domain::address::EmailAddress;
use crate::domain::portal_log::PortalEvent;
use crate::identity;
use crate::secrets::{hash_secret, new_secret};
use crate::services::error::{RefusalKind, ServiceError};
use crate::services::recipient_sessions::{self, Opened, SignInMethod};
use crate::services::tracking::{Client, Happened};
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::portal::LinkedRecipient;
use crate::store::sign_in::{ChallengeKind, ChallengeRecord};
use sealpost_api::ErrorCode;

/// How long a recipient has at the provider before the flow's state is forgotten.
pub const FLOW_VALID_FOR: i64 = 10 * 60;

/// The path providers send the browser back to (under the public URL).
pub const CALLBACK_PATH: &str = "/api/sign-in/callback";

/// What the second half of a flow needs, kept in the database until the browser comes back.
#[derive(Serialize, Deserialize)]
struct Ceremony {
    nonce: String,
    pkce_verifier: String,
}

/// A flow begun: where to send the browser, and the cookie that binds the flow to it.
#[derive(Debug)]
pub struct Started {
    pub authorize_url: String,
    /// The flow cookie's value (only this browser holds it; the database keeps its SHA-256).
    pub browser_secret: Zeroizing<String>,
}

/// A flow finished: the session opened, for the message it signs in to.
#[derive(Debug)]
pub struct Finished {
    pub message_id: String,
    pub opened: Opened,
}

/// Why a flow did not sign in: the message it was for (when known, so the page can say why) and
/// the refusal.
#[derive(Debug)]
pub struct Failed {
    pub message_id: Option<String>,
    pub error: ServiceError,
}

fn unavailable() -> ServiceError {
    ServiceError::refused(
        RefusalKind::NotPossible,
        ErrorCode::SocialSignInUnavailable.as_str(),
        "The sender's organisation does not offer that way of signing in for this message.",
    )
}

fn expired() -> ServiceError {
    ServiceError::refused(
        RefusalKind::NotSignedIn,
        ErrorCode::SignInExpired.as_str(),
        "This sign-in was not finished in time, was already used, or began in another browser. Start again from the message's link.",
    )
}

fn provider_failed(detail: impl std::fmt::Display, provider: &str) -> ServiceError {
    tracing::warn!(provider, error = %detail, "a sign-in with an identity provider failed");
    ServiceError::unavailable(
        ErrorCode::ProviderFailed.as_str(),
        "The sign-in service did not confirm who you are. Try again, or use another way to sign in.",
    )
}

/// The providers the message's branding template offers: every configured one when its
/// `SocialIdSignIn` is on, none otherwise.
pub fn offered(state: &AppState, social_id_sign_in: bool) -> Vec<&IdentityProviderConfig> {
    if !social_id_sign_in {
        return Vec::new();
    }
    state.config.identity_providers.iter().collect()
}

fn provider<'a>(
    state: &'a AppState,
    social_id_sign_in: bool,
    id: &str,
) -> Result<&'a IdentityProviderConfig, ServiceError> {
    offered(state, social_id_sign_in)
        .into_iter()
        .find(|p| p.id == id)
        .ok_or_else(unavailable)
}

fn http_client(provider: &str) -> Result<reqwest::Client, ServiceError> {
    identity::http_client().map_err(|e| provider_failed(e, provider))
}

async fn metadata(
    state: &AppState,
    p: &IdentityProviderConfig,
    http: &reqwest::Client,
) -> Result<CoreProviderMetadata, ServiceError> {
    state
        .providers
        .metadata(p, http, state.clock.now())
        .await
        .map_err(|e| provider_failed(e, &p.id))
}

fn redirect_url(state: &AppState) -> Result<RedirectUrl, ServiceError> {
    RedirectUrl::new(format!(
        "{}{CALLBACK_PATH}",
        state.config.public_url().trim_end_matches('/')
    ))
    .map_err(|e| ServiceError::Internal(format!("the public URL makes no redirect URL: {e}")))
}

/// Begin signing `l` in with the provider `provider_id`, if the message's template offers it.
pub async fn start(
    state: &AppState,
    l: &LinkedRecipient,
    social_id_sign_in: bool,
    provider_id: &str,
    keep_signed_in: bool,
) -> Result<Started, ServiceError> {
    let p = provider(state, social_id_sign_in, provider_id)?;
    let http = http_client(&p.id)?;
    let client = CoreClient::from_provider_metadata(
        metadata(state, p, &http).await?,
        ClientId::new(p.client_id.clone()),
        Some(ClientSecret::new(p.client_secret.0.clone())),
    )
    .set_redirect_uri(redirect_url(state)?);
    let (pkce_challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".to_owned()))
        // No login_hint: the URL goes to whoever holds the link, which shows the address masked.
        .set_pkce_challenge(pkce_challenge)
        .url();
    let (browser_secret, browser_hash) = new_secret("");
    let now = state.clock.now();
    let ceremony = serde_json::to_string(&Ceremony {
        nonce: nonce.secret().clone(),
        pkce_verifier: pkce_verifier.secret().clone(),
    })
    .map_err(|e| ServiceError::Internal(e.to_string()))?;
    state
        .store
        .put_challenge(&ChallengeRecord {
            id_hash: hash_secret(csrf.secret()),
            kind: ChallengeKind::Social,
            scope: l.message_id.clone(),
            address: l.address.clone(),
            bound_to: browser_hash,
            provider: Some(p.id.clone()),
            ceremony,
            keep_signed_in,
            created_at: now,
            expires_at: now + FLOW_VALID_FOR,
        })
        .await?;
    Ok(Started {
        authorize_url: url.to_string(),
        browser_secret,
    })
}

/// Whether the provider's `claimed` address is the recipient's `address` (as stored: parsed and
/// lower-cased, so `Bob@Example.NET` and `øystein@…` compare as the recipient's own).
pub fn same_address(claimed: &str, address: &str) -> bool {
    EmailAddress::parse("email", claimed).is_ok_and(|c| c.as_str() == address)
}

/// The provider sent the browser back with `code` for the flow `state_param`; `browser_secret` is
/// the flow cookie this browser brought, if any. Sign in, or say why not.
pub async fn finish(
    state: &AppState,
    state_param: &str,
    code: Option<&str>,
    browser_secret: Option<&str>,
    session_held: &(dyn Fn(&str) -> Option<[u8; 32]> + Sync),
    client: &Client,
) -> Result<Finished, Failed> {
    let now = state.clock.now();
    let flow = match state
        .store
        .take_challenge(&hash_secret(state_param), ChallengeKind::Social, now)
        .await
    {
        Ok(f) => f,
        Err(StoreError::NotFound) => {
            return Err(Failed {
                message_id: None,
                error: expired(),
            });
        }
        Err(e) => {
            return Err(Failed {
                message_id: None,
                error: e.into(),
            });
        }
    };
    let message_id = flow.scope.clone();
    let fail = |error| Failed {
        message_id: Some(message_id.clone()),
        error,
    };
    // The flow is bound to the browser that began it: a link to the callback made in one browser
    // and opened in another (login CSRF) signs nobody in.
    let same_browser =
        browser_secret.is_some_and(|s| bool::from(hash_secret(s).ct_eq(&flow.bound_to)));
    if !same_browser {
        return Err(fail(expired()));
    }
    let l = LinkedRecipient {
        tenant_id: String::new(),
        message_id: flow.scope.clone(),
        address: flow.address.clone(),
    };
    let message = state
        .store
        .message_by_id(&l.message_id)
        .await
        .map_err(|e| fail(e.into()))?;
    let l = LinkedRecipient {
        tenant_id: message.tenant_id.clone(),
        ..l
    };
    let tenant = state
        .store
        .tenant(&l.tenant_id)
        .await
        .map_err(|e| fail(e.into()))?;
    let provider_id = flow.provider.clone().unwrap_or_default();
    let refuse = |error: ServiceError, why: &'static str| {
        let state = state.clone();
        let tenant = tenant.clone();
        let l = l.clone();
        let client = client.clone();
        let provider_id = provider_id.clone();
        async move {
            let recorded = Happened {
                tenant: &tenant,
                message_id: &l.message_id,
                recipient: &l.address,
                client: &client,
            }
            .track(
                &state,
                PortalEvent::ProviderSignInRefused,
                &format!("{provider_id} {why}"),
            )
            .await;
            if let Err(e) = recorded {
                tracing::error!(error = %e, "a refused sign-in could not be recorded");
            }
            error
        }
    };
    // The template may have changed since the flow began: it must still offer the provider.
    let branding = crate::services::sending::branding_or_default(
        state,
        &l.tenant_id,
        &message.branding_template,
    )
    .await
    .map_err(&fail)?;
    let p = match provider(
        state,
        branding.view().social_id_sign_in == Some(true),
        &provider_id,
    ) {
        Ok(p) => p,
        Err(e) => return Err(fail(refuse(e, "not_offered").await)),
    };
    let Some(code) = code else {
        // The recipient cancelled at the provider, or it refused them.
        return Err(fail(
            refuse(provider_failed("no code came back", &p.id), "no_code").await,
        ));
    };
    let verified = verify(state, p, &flow, code).await;
    let email = match verified {
        Ok(e) => e,
        Err((e, why)) => return Err(fail(refuse(e, why).await)),
    };
    let Some(email) = email else {
        let e = ServiceError::refused(
            RefusalKind::NotSignedIn,
            ErrorCode::EmailUnverified.as_str(),
            "The sign-in service does not confirm that this account's email address is verified, so it cannot show that the message was sent to you.",
        );
        return Err(fail(refuse(e, "email_unverified").await));
    };
    if !same_address(&email, &l.address) {
        let e = ServiceError::refused(
            RefusalKind::NotSignedIn,
            ErrorCode::IdentityMismatch.as_str(),
            "The account you signed in with has a different email address from the one this message was sent to. Sign in with that address's account.",
        );
        return Err(fail(refuse(e, "identity_mismatch").await));
    }
    let opened = recipient_sessions::open(
        state,
        &tenant,
        &l,
        flow.keep_signed_in,
        // Whatever session this browser held for the message ends, as with a passcode.
        session_held(&l.message_id).as_ref(),
        SignInMethod::Provider(&p.id),
        client,
    )
    .await
    .map_err(fail)?;
    Ok(Finished { message_id, opened })
}

/// Exchange the code and verify the ID token; the verified address, or `None` when the provider
/// does not vouch for one.
async fn verify(
    state: &AppState,
    p: &IdentityProviderConfig,
    flow: &ChallengeRecord,
    code: &str,
) -> Result<Option<String>, (ServiceError, &'static str)> {
    let failed = |e: &dyn std::fmt::Display, why| (provider_failed(e, &p.id), why);
    let ceremony: Ceremony =
        serde_json::from_str(&flow.ceremony).map_err(|e| failed(&e, "bad_state"))?;
    let http = http_client(&p.id).map_err(|e| (e, "client"))?;
    let client = CoreClient::from_provider_metadata(
        metadata(state, p, &http)
            .await
            .map_err(|e| (e, "discovery"))?,
        ClientId::new(p.client_id.clone()),
        Some(ClientSecret::new(p.client_secret.0.clone())),
    )
    .set_redirect_uri(redirect_url(state).map_err(|e| (e, "redirect"))?);
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .map_err(|e| failed(&e, "no_token_endpoint"))?
        .set_pkce_verifier(PkceCodeVerifier::new(ceremony.pkce_verifier))
        .request_async(&http)
        .await
        .map_err(|e| failed(&e, "token_refused"))?;
    let id_token = tokens
        .id_token()
        .ok_or_else(|| failed(&"no ID token", "no_id_token"))?;
    let claims = match id_token.claims(&client.id_token_verifier(), &Nonce::new(ceremony.nonce)) {
        Ok(c) => c,
        Err(e) => {
            // Perhaps the provider rolled its keys: read them again next time.
            state.providers.forget(&p.id).await;
            return Err(failed(&e, "id_token_invalid"));
        }
    };
    if claims.email().is_some() {
        if claims.email_verified() != Some(true) {
            return Ok(None);
        }
        return Ok(claims.email().map(|e| e.as_str().to_owned()));
    }
    // A provider may give the scope's claims at its UserInfo endpoint rather than in the ID token
    // (OpenID Connect Core 5.4): ask there, for the same subject the ID token names.
    let info: CoreUserInfoClaims = client
        .user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .map_err(|e| failed(&e, "no_userinfo_endpoint"))?
        .request_async(&http)
        .await
        .map_err(|e| failed(&e, "userinfo_refused"))?;
    if info.email_verified() != Some(true) {
        return Ok(None);
    }
    Ok(info.email().map(|e| e.as_str().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::same_address;

    #[test]
    fn addresses_match_as_they_are_stored() {
        assert!(same_address("Bob@Example.NET", "bob@example.net"));
        assert!(same_address(" bob@example.net ", "bob@example.net"));
        assert!(same_address("Øystein@Example.no", "øystein@example.no"));
        assert!(!same_address("bobby@example.net", "bob@example.net"));
        assert!(!same_address("bob@example.net.evil", "bob@example.net"));
        // The same domain written fully qualified is the same mailbox, as Sealpost stores it.
        assert!(same_address("bob@example.net.", "bob@example.net"));
        assert!(!same_address("bob@evil@example.net", "bob@example.net"));
        assert!(!same_address("not an address", "bob@example.net"));
    }
}
