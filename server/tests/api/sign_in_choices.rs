//! The sign-in choices at the HTTP layer: the branding template's `SocialIdSignIn` and
//! `OTPEnabled` decide what is offered; a social sign-in runs against a real OpenID provider (the
//! npm package oidc-provider, `end2end/support/oidc-provider.mjs`, on loopback), signing in only
//! the browser that began, once, with the recipient's verified address; passkey ceremonies are
//! single use, bound and bounded. (A passkey's whole journey, which needs an authenticator, is in
//! the browser tests.)

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use axum::http::{Method, StatusCode};
use sealpost::config::{IdentityProviderConfig, Secret};

use crate::helpers::{TestApp, body_text, message};
use crate::processes::{Running, free_port, wait_for_port};

const CLIENT_ID: &str = "sealpost-test";
const CLIENT_SECRET: &str = "test-client-secret";
const CALLBACK: &str = "https://sealpost.test/api/sign-in/callback";

/// A real OpenID provider on loopback; stopped when dropped.
struct Provider {
    _process: Running,
    port: u16,
}

impl Provider {
    fn start() -> Provider {
        let script = crate::helpers::manifest_dir().join("../end2end/support/oidc-provider.mjs");
        let modules = crate::helpers::manifest_dir().join("../end2end/node_modules/oidc-provider");
        assert!(
            modules.exists(),
            "oidc-provider is not installed: run ./scripts/test, which installs it (npm ci in end2end/)"
        );
        let port = free_port();
        let process = Running(
            Command::new("node")
                .arg(script)
                .args([&port.to_string(), CLIENT_ID, CLIENT_SECRET, CALLBACK])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("node starts"),
        );
        wait_for_port(port);
        Provider {
            _process: process,
            port,
        }
    }

    fn issuer(&self) -> String {
        format!("http://localhost:{}", self.port)
    }

    /// Sign in at the provider as `login` (see the script) from the authorization URL, as a
    /// browser would; returns the callback's query (`code`, `state`, `iss`).
    fn sign_in(&self, authorize_url: &str, login: &str) -> String {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .max_redirects(0)
            .max_redirects_will_error(false)
            .http_status_as_error(false)
            .build()
            .into();
        let mut jar: BTreeMap<String, String> = BTreeMap::new();
        let keep = |jar: &mut BTreeMap<String, String>, r: &ureq::http::Response<ureq::Body>| {
            for v in r.headers().get_all("set-cookie") {
                let pair = v.to_str().unwrap().split(';').next().unwrap();
                let (n, v) = pair.split_once('=').unwrap();
                jar.insert(n.to_owned(), v.to_owned());
            }
        };
        let cookies = |jar: &BTreeMap<String, String>| {
            jar.iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let location = |r: &ureq::http::Response<ureq::Body>| {
            let l = r.headers()["location"].to_str().unwrap().to_owned();
            if l.starts_with('/') {
                format!("{}{l}", self.issuer())
            } else {
                l
            }
        };
        let r = agent.get(authorize_url).call().unwrap();
        keep(&mut jar, &r);
        let interaction = location(&r);
        assert!(interaction.contains("/interaction/"), "{interaction}");
        let r = agent
            .post(&interaction)
            .header("cookie", cookies(&jar))
            .send_form([("prompt", "login"), ("login", login), ("password", "x")])
            .unwrap();
        keep(&mut jar, &r);
        let mut next = location(&r);
        for _ in 0..5 {
            if let Some(query) = next.strip_prefix(CALLBACK) {
                return query.trim_start_matches('?').to_owned();
            }
            let r = agent
                .get(&next)
                .header("cookie", cookies(&jar))
                .call()
                .unwrap();
            keep(&mut jar, &r);
            next = location(&r);
        }
        panic!("the provider did not send the browser back: {next}");
    }
}

fn provider_config(issuer: &str) -> IdentityProviderConfig {
    IdentityProviderConfig {
        id: "loopback".into(),
        name: "Loopback ID".into(),
        issuer: issuer.into(),
        client_id: CLIENT_ID.into(),
        client_secret: Secret(CLIENT_SECRET.into()),
    }
}

/// An app with the provider at `issuer`; a tenant whose default template has `SocialIdSignIn`
/// `social` and `OTPEnabled` `otp`; and a message to `to`. Returns the app, the message id, the
/// link token and the admin token.
async fn setup(
    issuer: &str,
    social: bool,
    otp: bool,
    to: &str,
) -> (TestApp, String, String, String) {
    let issuer = issuer.to_owned();
    let app = TestApp::with_config(|c| c.identity_providers = vec![provider_config(&issuer)]).await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let (status, _): (_, serde_json::Value) = app
        .json(
            Method::PATCH,
            "/api/admin/branding-templates/default",
            &t.token,
            Some(&serde_json::json!({ "social_id_sign_in": social, "otp_enabled": otp })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let sent = app.send(&t.token, &message(to)).await;
    app.state.settle().await;
    let token = app.link_token(&sent.message_id, to).await;
    (app, sent.message_id, token, t.token)
}

async fn json_of(res: axum::response::Response) -> serde_json::Value {
    serde_json::from_str(&body_text(res).await).unwrap()
}

/// What the page is shown for the link token.
async fn link_view(app: &TestApp, id: &str, token: &str) -> serde_json::Value {
    let res = app
        .portal(
            Method::POST,
            &format!("/api/m/{id}/link"),
            None,
            true,
            Some(serde_json::json!({ "token": token })),
        )
        .await;
    json_of(res).await
}

/// Begin a social sign-in; returns the status, the answer and the flow cookie (`name=value`).
async fn start(
    app: &TestApp,
    id: &str,
    token: &str,
) -> (StatusCode, serde_json::Value, Option<String>) {
    let res = app
        .portal(
            Method::POST,
            &format!("/api/m/{id}/social/loopback"),
            None,
            true,
            Some(serde_json::json!({ "token": token })),
        )
        .await;
    let status = res.status();
    let cookie = res
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned());
    (status, json_of(res).await, cookie)
}

/// Start a flow and sign in at the provider as `login`; returns the callback's query and the
/// flow's cookie.
async fn through_provider(
    app: &TestApp,
    provider: &Provider,
    id: &str,
    token: &str,
    login: &str,
) -> (String, Option<String>) {
    let (status, body, cookie) = start(app, id, token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let url = body["authorize_url"].as_str().unwrap().to_owned();
    let query = tokio::task::block_in_place(|| provider.sign_in(&url, login));
    (query, cookie)
}

fn query_param(url_or_query: &str, name: &str) -> String {
    let query = url_or_query
        .split_once('?')
        .map_or(url_or_query, |(_, q)| q);
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no {name} in {url_or_query}"))
}

/// The callback with `query`, bringing `cookie`; returns where it sends the browser and the
/// session cookie it sets, if any.
async fn callback(app: &TestApp, query: &str, cookie: Option<&str>) -> (String, Option<String>) {
    let res = app
        .portal(
            Method::GET,
            &format!("/api/sign-in/callback?{query}"),
            cookie,
            false,
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        res.headers()
            .get_all("set-cookie")
            .iter()
            .any(|v| v.to_str().unwrap().starts_with("__Host-sp-sign-in=;")),
        "the flow's cookie is cleared whatever happened"
    );
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let session = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .find(|c| {
            c.starts_with("__Host-sp-") && !c.starts_with("__Host-sp-sign-in") && !c.ends_with('=')
        });
    (location, session)
}

#[tokio::test]
async fn the_template_decides_whether_providers_are_offered_and_started() {
    // No provider process is needed: nothing is started when the template does not offer it.
    let (app, id, token, _) = setup("http://localhost:9", false, true, "bob@example.net").await;
    let link = link_view(&app, &id, &token).await;
    assert!(link.get("social_providers").is_none(), "{link}");
    assert_eq!(link["passcode_sign_in"], true);
    let (status, body, cookie) = start(&app, &id, &token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "social_sign_in_unavailable");
    assert!(cookie.is_none());
    // A provider the server does not have is refused the same way.
    let res = app
        .portal(
            Method::POST,
            &format!("/api/m/{id}/social/elsewhere"),
            None,
            true,
            Some(serde_json::json!({ "token": token })),
        )
        .await;
    assert_eq!(json_of(res).await["code"], "social_sign_in_unavailable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_social_on_and_passcodes_off_the_provider_signs_in_and_no_passcode_is_sent() {
    let provider = Provider::start();
    let bob = "bob@example.net";
    let (app, id, token, _) = setup(&provider.issuer(), true, false, bob).await;
    let link = link_view(&app, &id, &token).await;
    assert_eq!(link["passcode_sign_in"], false);
    assert_eq!(
        link["social_providers"],
        serde_json::json!([{ "id": "loopback", "name": "Loopback ID" }])
    );
    let mails_before = app.mails_to(bob).await.len();
    let (status, _) = app.request_passcode(&id, &token).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, body, cookie) = start(&app, &id, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let url = body["authorize_url"].as_str().unwrap();
    assert_eq!(query_param(url, "code_challenge_method"), "S256");
    assert!(!query_param(url, "nonce").is_empty());
    assert!(
        !url.contains("example.net"),
        "the URL goes to whoever holds the link: no address in it"
    );
    let query = tokio::task::block_in_place(|| provider.sign_in(url, "Bob@Example.NET"));
    let (location, session) = callback(&app, &query, cookie.as_deref()).await;
    assert_eq!(location, format!("/m/{id}"));
    let session = session.expect("a session cookie");
    // The same session a passcode gives: the key is released to it.
    let res = app
        .portal(
            Method::GET,
            &format!("/api/m/{id}/session"),
            Some(&session),
            false,
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json_of(res).await["recipient"], bob);
    app.state.settle().await;
    // The passcode refused above sent nothing: only the notice is in the mailbox.
    assert_eq!(app.mails_to(bob).await.len(), mails_before);

    // The state is single use: the same redirect again signs nobody in.
    let (location, session) = callback(&app, &query, cookie.as_deref()).await;
    assert_eq!(location, "/?sign_in_error=sign_in_expired");
    assert!(session.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_sign_in_ends_the_session_the_browser_held_and_needs_the_template_still_to_offer_it()
 {
    let provider = Provider::start();
    let bob = "bob@example.net";
    let (app, id, token, admin_token) = setup(&provider.issuer(), true, true, bob).await;
    let old = app.sign_in(&id, bob).await;
    let admin = admin_token;
    let (query, flow) = through_provider(&app, &provider, &id, &token, bob).await;
    let both = format!("{}; {}", flow.unwrap(), old.cookie);
    let (location, new) = callback(&app, &query, Some(&both)).await;
    assert_eq!(location, format!("/m/{id}"));
    assert_ne!(new.unwrap(), old.cookie);
    let res = app
        .portal(
            Method::GET,
            &format!("/api/m/{id}/session"),
            Some(&old.cookie),
            false,
            None,
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "the old session ended"
    );

    // Turned off between the start and the provider's answer: refused.
    let (query, flow) = through_provider(&app, &provider, &id, &token, bob).await;
    let (status, _): (_, serde_json::Value) = app
        .json(
            Method::PATCH,
            "/api/admin/branding-templates/default",
            &admin,
            Some(&serde_json::json!({ "social_id_sign_in": false })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (location, session) = callback(&app, &query, flow.as_deref()).await;
    assert_eq!(
        location,
        format!("/m/{id}?sign_in_error=social_sign_in_unavailable")
    );
    assert!(session.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_address_or_an_unverified_one_does_not_sign_in() {
    let provider = Provider::start();
    let bob = "bob@example.net";
    let (app, id, token, _) = setup(&provider.issuer(), true, true, bob).await;
    for (login, code) in [
        ("mallory@example.net", "identity_mismatch"),
        ("bob@example.net.evil", "identity_mismatch"),
        ("unverified:bob@example.net", "email_unverified"),
    ] {
        let (query, cookie) = through_provider(&app, &provider, &id, &token, login).await;
        let (location, session) = callback(&app, &query, cookie.as_deref()).await;
        assert_eq!(location, format!("/m/{id}?sign_in_error={code}"), "{login}");
        assert!(session.is_none(), "{login}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callback_signs_in_only_the_browser_that_began_it() {
    let provider = Provider::start();
    let bob = "bob@example.net";
    let (app, id, token, _) = setup(&provider.issuer(), true, true, bob).await;

    // Login CSRF: the victim's browser is sent to a callback begun in the attacker's.
    let (query, _attackers_cookie) = through_provider(&app, &provider, &id, &token, bob).await;
    let (location, session) = callback(&app, &query, None).await;
    assert_eq!(location, format!("/m/{id}?sign_in_error=sign_in_expired"));
    assert!(session.is_none());
    let (_, _, other_browser) = start(&app, &id, &token).await;
    let (query, cookie) = through_provider(&app, &provider, &id, &token, bob).await;
    let (location, _) = callback(&app, &query, other_browser.as_deref()).await;
    assert_eq!(location, format!("/m/{id}?sign_in_error=sign_in_expired"));
    // Refused once, the flow is gone even for the right browser.
    let (location, _) = callback(&app, &query, cookie.as_deref()).await;
    assert_eq!(location, "/?sign_in_error=sign_in_expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_from_another_flow_or_a_made_up_one_is_refused() {
    let provider = Provider::start();
    let bob = "bob@example.net";
    let (app, id, token, _) = setup(&provider.issuer(), true, true, bob).await;
    // Flow A's state with flow B's code: B's code was issued for B's PKCE challenge and nonce.
    let (_, a, cookie_a) = start(&app, &id, &token).await;
    let (_, b, _) = start(&app, &id, &token).await;
    let b_query =
        tokio::task::block_in_place(|| provider.sign_in(b["authorize_url"].as_str().unwrap(), bob));
    let swapped = format!(
        "code={}&state={}",
        query_param(&b_query, "code"),
        query_param(a["authorize_url"].as_str().unwrap(), "state")
    );
    let (location, session) = callback(&app, &swapped, cookie_a.as_deref()).await;
    assert_eq!(location, format!("/m/{id}?sign_in_error=provider_failed"));
    assert!(session.is_none());
    // A made-up code; no code at all (the recipient cancelled at the provider).
    for answer in ["code=made-up", "error=access_denied"] {
        let (_, flow, cookie) = start(&app, &id, &token).await;
        let state = query_param(flow["authorize_url"].as_str().unwrap(), "state");
        let (location, _) =
            callback(&app, &format!("{answer}&state={state}"), cookie.as_deref()).await;
        assert_eq!(
            location,
            format!("/m/{id}?sign_in_error=provider_failed"),
            "{answer}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_expires_after_ten_minutes_and_an_unknown_state_signs_nobody_in() {
    let provider = Provider::start();
    let bob = "bob@example.net";
    let (app, id, token, _) = setup(&provider.issuer(), true, true, bob).await;
    let (query, cookie) = through_provider(&app, &provider, &id, &token, bob).await;
    app.clock.advance(10 * 60 + 1);
    let (location, session) = callback(&app, &query, cookie.as_deref()).await;
    assert_eq!(location, "/?sign_in_error=sign_in_expired");
    assert!(session.is_none());
    let (location, _) = callback(&app, "code=x&state=never-issued", cookie.as_deref()).await;
    assert_eq!(location, "/?sign_in_error=sign_in_expired");
    let (location, _) = callback(&app, "", None).await;
    assert_eq!(location, "/?sign_in_error=sign_in_expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_are_counted_with_the_sign_in_tries_per_link() {
    let provider = Provider::start();
    let bob = "bob@example.net";
    let (app, id, token, _) = setup(&provider.issuer(), true, true, bob).await;
    let limit = app.state.config.limits.sign_in_tries_per_link;
    for _ in 0..limit {
        let (status, body, _) = start(&app, &id, &token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body, cookie) = start(&app, &id, &token).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["code"], "too_many_attempts");
    assert!(cookie.is_none());
    let (waiting,): (i64,) = app
        .database()
        .await
        .fetch_one("select count(*) from sign_in_challenges")
        .await;
    assert_eq!(waiting, i64::from(limit), "a refused start writes nothing");
}

// Passkeys: what can be refused without an authenticator.

async fn passkey_app() -> (TestApp, String, String, String) {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let sent = app.send(&t.token, &message("bob@example.net")).await;
    app.state.settle().await;
    let token = app.link_token(&sent.message_id, "bob@example.net").await;
    (app, t.token, sent.message_id, token)
}

async fn post(
    app: &TestApp,
    uri: &str,
    cookie: Option<&str>,
    body: serde_json::Value,
) -> (StatusCode, serde_json::Value) {
    let res = app
        .portal(Method::POST, uri, cookie, true, Some(body))
        .await;
    let status = res.status();
    (status, json_of(res).await)
}

#[tokio::test]
async fn a_passkey_sign_in_needs_a_passkey_and_its_challenge_is_single_use_and_bound() {
    let (app, admin, id, token) = passkey_app().await;
    let (status, body) = post(
        &app,
        &format!("/api/m/{id}/passkey-sign-in/challenge"),
        None,
        serde_json::json!({ "token": token }),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "passkey_invalid");

    // A registration challenge needs a session; with one, a forged answer is refused and the
    // challenge is used up.
    let (status, body) = post(
        &app,
        &format!("/api/m/{id}/passkeys/challenge"),
        None,
        serde_json::json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let bob = app.sign_in(&id, "bob@example.net").await;
    let (status, challenge) = post(
        &app,
        &format!("/api/m/{id}/passkeys/challenge"),
        Some(&bob.cookie),
        serde_json::json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{challenge}");
    let options = &challenge["options"]["publicKey"];
    assert_eq!(options["rp"]["id"], "sealpost.test");
    assert_eq!(options["user"]["name"], "bob@example.net");
    let forged = serde_json::json!({
        "challenge": challenge["challenge"],
        "credential": {
            "id": "AAAA", "rawId": "AAAA", "type": "public-key",
            "response": { "attestationObject": "AAAA", "clientDataJSON": "AAAA" },
            "extensions": {}
        }
    });
    let uri = format!("/api/m/{id}/passkeys");
    let (status, body) = post(&app, &uri, Some(&bob.cookie), forged.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "passkey_invalid");
    let (_, body) = post(&app, &uri, Some(&bob.cookie), forged).await;
    assert_eq!(body["code"], "sign_in_expired", "a challenge is taken once");

    // Bound to the session it was made for: another session of the same recipient cannot use it.
    let (_, challenge) = post(
        &app,
        &format!("/api/m/{id}/passkeys/challenge"),
        Some(&bob.cookie),
        serde_json::json!({}),
    )
    .await;
    let other = app.sign_in(&id, "bob@example.net").await;
    let (_, body) = post(
        &app,
        &uri,
        Some(&other.cookie),
        serde_json::json!({ "challenge": challenge["challenge"], "credential": {} }),
    )
    .await;
    assert_eq!(body["code"], "sign_in_expired");
    let (status, listed): (_, serde_json::Value) = app
        .json(
            Method::GET,
            "/api/admin/tenant/passkeys",
            &admin,
            None::<&()>,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed, serde_json::json!([]));
}

/// A passkey row as the store keeps it (its credential is never parsed by what is tested here).
fn record(tenant_id: &str, address: &str, n: u8) -> sealpost::store::sign_in::PasskeyRecord {
    sealpost::store::sign_in::PasskeyRecord {
        id: format!("{n:032x}"),
        tenant_id: tenant_id.to_owned(),
        address: address.to_owned(),
        user_handle: vec![7; 16],
        credential_id: vec![n; 16],
        credential: "{}".to_owned(),
        name: format!("Key {n}"),
        created_at: 0,
        last_used_at: None,
    }
}

fn added(tenant_id: &str) -> sealpost::store::AuditEvent {
    sealpost::store::AuditEvent {
        tenant_id: tenant_id.to_owned(),
        at: 0,
        actor: "test".to_owned(),
        action: "passkey.added".to_owned(),
        target: String::new(),
    }
}

#[tokio::test]
async fn a_passkey_is_made_only_soon_after_signing_in() {
    let (app, _, id, _) = passkey_app().await;
    let bob = app.sign_in(&id, "bob@example.net").await;
    // Still signed in (used every few minutes), but signed in more than 15 minutes ago.
    for _ in 0..4 {
        app.clock.advance(4 * 60);
        let res = app
            .portal(
                Method::GET,
                &format!("/api/m/{id}/session"),
                Some(&bob.cookie),
                false,
                None,
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let (status, body) = post(
        &app,
        &format!("/api/m/{id}/passkeys/challenge"),
        Some(&bob.cookie),
        serde_json::json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "recent_sign_in_required");
}

#[tokio::test]
async fn an_address_has_at_most_ten_passkeys_and_admins_remove_only_their_tenants() {
    let (app, admin, id, _) = passkey_app().await;
    let tenant_id = app.state.store.message_by_id(&id).await.unwrap().tenant_id;
    for n in 0..10 {
        app.state
            .store
            .put_passkey(
                &record(&tenant_id, "bob@example.net", n),
                10,
                &added(&tenant_id),
            )
            .await
            .unwrap();
    }
    assert!(
        app.state
            .store
            .put_passkey(
                &record(&tenant_id, "bob@example.net", 10),
                10,
                &added(&tenant_id)
            )
            .await
            .is_err(),
        "the store refuses an eleventh"
    );
    let bob = app.sign_in(&id, "bob@example.net").await;
    let (status, body) = post(
        &app,
        &format!("/api/m/{id}/passkeys/challenge"),
        Some(&bob.cookie),
        serde_json::json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "too_many_passkeys");

    // Another tenant's admin neither sees nor removes them.
    let other = app.tenant("Elsewhere", &["elsewhere.example"]).await;
    let (_, listed): (_, serde_json::Value) = app
        .json(
            Method::GET,
            "/api/admin/tenant/passkeys",
            &other.token,
            None::<&()>,
        )
        .await;
    assert_eq!(listed, serde_json::json!([]));
    let first = format!("{:032x}", 0);
    let res = app
        .call(
            Method::DELETE,
            &format!("/api/admin/tenant/passkeys/{first}"),
            Some(&other.token),
            None,
            Vec::new(),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Their own admin does, and it is audited.
    let res = app
        .call(
            Method::DELETE,
            &format!("/api/admin/tenant/passkeys/{first}"),
            Some(&admin),
            None,
            Vec::new(),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (_, listed): (_, Vec<serde_json::Value>) = app
        .json(
            Method::GET,
            "/api/admin/tenant/passkeys?address=bob@example.net",
            &admin,
            None::<&()>,
        )
        .await;
    assert_eq!(listed.len(), 9);
    // The recipient lists theirs, and cannot remove one of another address's.
    app.state
        .store
        .put_passkey(
            &record(&tenant_id, "carol@example.net", 42),
            10,
            &added(&tenant_id),
        )
        .await
        .unwrap();
    let res = app
        .portal(
            Method::GET,
            &format!("/api/m/{id}/passkeys"),
            Some(&bob.cookie),
            false,
            None,
        )
        .await;
    assert_eq!(json_of(res).await["passkeys"].as_array().unwrap().len(), 9);
    let res = app
        .portal(
            Method::DELETE,
            &format!("/api/m/{id}/passkeys/{:032x}", 42),
            Some(&bob.cookie),
            true,
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let (_, audit): (_, serde_json::Value) = app
        .json(Method::GET, "/api/admin/audit", &admin, None::<&()>)
        .await;
    assert!(audit.to_string().contains("passkey.removed"), "{audit}");
}
