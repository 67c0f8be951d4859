//! DKIM: every mail Sealpost sends from a tenant's domain carries a signature for each key the
//! domain has, checked here by an independent verifier (dkimpy, in the virtual environment
//! `scripts/setup` makes) and by mail-auth's, both reading the records from a DNS server on
//! loopback; the self-test says whether each record is published and matches; keys are only made
//! for the tenant's own proven domains.

use std::path::PathBuf;
use std::process::Command;

use axum::http::{Method, StatusCode};
use base64::Engine as _;
use mail_auth::DkimResult;
use mail_auth::common::verify::VerifySignature;
use mail_auth::hickory_resolver::config::{NameServerConfigGroup, ResolverConfig, ResolverOpts};
use mail_auth::{AuthenticatedMessage, MessageAuthenticator};
use sealpost_api::admin::{DkimKeyView, SelfTestResponse};
use serde_json::json;

use crate::dns::Dns;
use crate::helpers::{TestApp, manifest_dir, message};

/// The Python with dkimpy: `SEALPOST_PYTHON` (set by `scripts/setup`), else where setup puts it.
fn python() -> PathBuf {
    let path = std::env::var_os("SEALPOST_PYTHON").map_or_else(
        || {
            PathBuf::from(std::env::var_os("HOME").unwrap())
                .join(".cache/sealpost/venv/bin/python3")
        },
        PathBuf::from,
    );
    assert!(
        path.exists(),
        "dkimpy's Python is missing at {}: run scripts/setup",
        path.display()
    );
    path
}

/// dkimpy's verdict on `raw`, with the records of `keys` as its DNS: (all passed, what it printed).
fn dkimpy(raw: &[u8], keys: &[DkimKeyView]) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("message.eml");
    std::fs::write(&file, raw).unwrap();
    let mut cmd = Command::new(python());
    cmd.arg(manifest_dir().join("tests/api/dkim_verify.py"))
        .arg(&file);
    for k in keys {
        cmd.arg(&k.record_name).arg(&k.record_value);
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// mail-auth's verdict on each signature of `raw`, looking the keys up in `dns`.
async fn mail_auth(raw: &[u8], dns: &Dns) -> Vec<(String, DkimResult)> {
    let servers = NameServerConfigGroup::from_ips_clear(&[dns.addr.ip()], dns.addr.port(), true);
    let authenticator = MessageAuthenticator::new(
        ResolverConfig::from_parts(None, vec![], servers),
        ResolverOpts::default(),
    )
    .unwrap();
    let message = AuthenticatedMessage::parse(raw).unwrap();
    authenticator
        .verify_dkim(&message)
        .await
        .iter()
        .map(|o| {
            (
                o.signature()
                    .map(|s| s.selector().to_owned())
                    .unwrap_or_default(),
                o.result().clone(),
            )
        })
        .collect()
}

async fn new_key(
    app: &TestApp,
    token: &str,
    body: serde_json::Value,
) -> (StatusCode, serde_json::Value) {
    app.json(Method::POST, "/api/admin/tenant/dkim", token, Some(&body))
        .await
}

async fn keys(app: &TestApp, token: &str) -> Vec<DkimKeyView> {
    let (status, keys) = app
        .json(Method::GET, "/api/admin/tenant/dkim", token, None::<&()>)
        .await;
    assert_eq!(status, StatusCode::OK);
    keys
}

#[tokio::test]
async fn each_key_type_signs_and_an_independent_verifier_and_our_own_accept_both() {
    let dns = Dns::start().await;
    let app = TestApp::with_config(|c| c.dns_server = Some(dns.addr)).await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    for (algorithm, selector) in [("ed25519", "ed1"), ("rsa", "rsa1")] {
        let (status, made) = new_key(
            &app,
            &t.token,
            json!({"domain": "contoso.example", "algorithm": algorithm, "selector": selector}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        assert_eq!(
            made["record_name"],
            format!("{selector}._domainkey.contoso.example")
        );
        assert!(
            made["record_value"]
                .as_str()
                .unwrap()
                .starts_with(&format!("v=DKIM1; k={algorithm}; p="))
        );
    }
    let keys = keys(&app, &t.token).await;
    assert_eq!(keys.len(), 2);
    for k in &keys {
        dns.publish(&k.record_name, &k.record_value);
    }

    app.send(&t.token, &message("bob@gmail.example")).await;
    let notice = app.mails_to("bob@gmail.example").await.remove(0).raw;
    let text = String::from_utf8_lossy(&notice).into_owned();
    assert!(text.contains("a=ed25519-sha256"), "{text}");
    assert!(text.contains("a=rsa-sha256"), "{text}");
    assert!(text.contains("d=contoso.example"));

    let (passed, said) = dkimpy(&notice, &keys);
    assert!(passed, "dkimpy: {said}");
    assert_eq!(said.matches(" pass").count(), 2, "{said}");
    let ours = mail_auth(&notice, &dns).await;
    assert_eq!(ours.len(), 2, "{ours:?}");
    assert!(ours.iter().all(|(_, r)| *r == DkimResult::Pass), "{ours:?}");

    // Either verifier fails a message changed on the way, so their passes above mean something.
    let changed = text.replacen("Subject: ", "Subject: Re: ", 1).into_bytes();
    assert!(!dkimpy(&changed, &keys).0);
    assert!(
        mail_auth(&changed, &dns)
            .await
            .iter()
            .all(|(_, r)| *r != DkimResult::Pass)
    );
    // ... or a key that is not the published one.
    let (_, other) = new_key(
        &app,
        &t.token,
        json!({"domain": "contoso.example", "algorithm": "ed25519", "selector": "ed2"}),
    )
    .await;
    let wrong = DkimKeyView {
        record_name: "ed1._domainkey.contoso.example".into(),
        record_value: other["record_value"].as_str().unwrap().to_owned(),
        ..keys[0].clone()
    };
    assert!(!dkimpy(&notice, &[wrong, keys[1].clone()]).0);
}

#[tokio::test]
async fn passcode_mail_is_signed_too_and_a_domain_without_a_key_sends_unsigned() {
    let dns = Dns::start().await;
    let app = TestApp::with_config(|c| c.dns_server = Some(dns.addr)).await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    app.send(&t.token, &message("carol@gmail.example")).await;
    let unsigned = app.mails_to("carol@gmail.example").await.remove(0).raw;
    assert!(!String::from_utf8_lossy(&unsigned).contains("DKIM-Signature"));

    let (status, _) = new_key(
        &app,
        &t.token,
        json!({"domain": "contoso.example", "algorithm": "ed25519"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let keys = keys(&app, &t.token).await;
    let sent = app.send(&t.token, &message("bob@gmail.example")).await;
    let token = app.link_token(&sent.message_id, "bob@gmail.example").await;
    let (status, _) = app.request_passcode(&sent.message_id, &token).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    app.state.settle().await;
    let passcode = app.mails_to("bob@gmail.example").await.remove(1).raw;
    let (passed, said) = dkimpy(&passcode, &keys);
    assert!(passed, "{said}");
}

#[tokio::test]
async fn keys_are_made_only_for_the_tenants_own_proven_domains_and_removed_only_by_it() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let other = app.tenant("Fabrikam", &["fabrikam.example"]).await;
    for (body, status, code) in [
        (
            json!({"domain": "fabrikam.example", "algorithm": "ed25519"}),
            StatusCode::CONFLICT,
            "domain_not_proven",
        ),
        (
            json!({"domain": "contoso.example", "algorithm": "dsa"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_algorithm",
        ),
        (
            json!({"domain": "contoso.example", "algorithm": "ed25519", "selector": "a.b"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_selector",
        ),
    ] {
        let (got, refusal) = app
            .refusal(
                Method::POST,
                "/api/admin/tenant/dkim",
                &t.token,
                Some(&body),
            )
            .await;
        assert_eq!((got, refusal.code.as_str()), (status, code), "{body}");
    }
    let made = json!({"domain": "contoso.example", "algorithm": "ed25519", "selector": "s1"});
    assert_eq!(
        new_key(&app, &t.token, made.clone()).await.0,
        StatusCode::CREATED
    );
    let (got, refusal) = app
        .refusal(
            Method::POST,
            "/api/admin/tenant/dkim",
            &t.token,
            Some(&made),
        )
        .await;
    assert_eq!(
        (got, refusal.code.as_str()),
        (StatusCode::CONFLICT, "dkim_selector_taken")
    );

    // Another tenant neither sees nor removes it.
    assert!(keys(&app, &other.token).await.is_empty());
    let gone = app
        .call(
            Method::DELETE,
            "/api/admin/tenant/dkim/contoso.example/s1",
            Some(&other.token),
            None,
            Vec::new(),
        )
        .await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    assert_eq!(keys(&app, &t.token).await.len(), 1);
    let gone = app
        .call(
            Method::DELETE,
            "/api/admin/tenant/dkim/contoso.example/s1",
            Some(&t.token),
            None,
            Vec::new(),
        )
        .await;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    assert!(keys(&app, &t.token).await.is_empty());
}

async fn dkim_step(app: &TestApp, token: &str) -> (bool, String) {
    let public_key = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([9u8; 32]);
    let (status, answer): (_, SelfTestResponse) = app
        .json(
            Method::POST,
            "/api/admin/self-test",
            token,
            Some(&json!({
                "sender": "anna@contoso.example",
                "recipient": "bob@gmail.example",
                "public_key": public_key,
                "nonce": "n1",
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let step = answer
        .steps
        .iter()
        .find(|s| s.name == "DKIM records")
        .expect("a DKIM step");
    (step.ok, step.detail.clone())
}

#[tokio::test]
async fn the_self_test_says_whether_each_record_is_published_and_matches() {
    let dns = Dns::start().await;
    let app = TestApp::with_config(|c| c.dns_server = Some(dns.addr)).await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let (ok, said) = dkim_step(&app, &t.token).await;
    assert!(ok && said.contains("no DKIM key"), "{said}");

    let (_, made) = new_key(
        &app,
        &t.token,
        json!({"domain": "contoso.example", "algorithm": "rsa", "selector": "s1"}),
    )
    .await;
    let name = made["record_name"].as_str().unwrap();
    let value = made["record_value"].as_str().unwrap();
    let (ok, said) = dkim_step(&app, &t.token).await;
    assert!(
        !ok && said.contains("no TXT record at s1._domainkey.contoso.example"),
        "{said}"
    );

    dns.publish(name, &value.replace("p=MII", "p=MIJ"));
    let (ok, said) = dkim_step(&app, &t.token).await;
    assert!(!ok && said.contains("does not match"), "{said}");

    dns.unpublish(name);
    dns.publish(name, value);
    let (ok, said) = dkim_step(&app, &t.token).await;
    assert!(ok && said.contains("published and matching"), "{said}");
}

#[tokio::test]
async fn a_domain_given_up_takes_its_keys_and_its_next_holder_makes_its_own() {
    let app = TestApp::new().await;
    let t = app
        .tenant("Contoso", &["contoso.example", "contoso.org"])
        .await;
    let key = json!({"domain": "contoso.org", "algorithm": "ed25519", "selector": "s1"});
    assert_eq!(
        new_key(&app, &t.token, key.clone()).await.0,
        StatusCode::CREATED
    );
    let (status, _): (_, serde_json::Value) = app
        .json(
            Method::PATCH,
            "/api/admin/tenant",
            &t.token,
            Some(&json!({"domains": ["contoso.example"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        keys(&app, &t.token).await.is_empty(),
        "the key went with the domain"
    );
    let next = app.tenant("Northwind", &["contoso.org"]).await;
    assert_eq!(new_key(&app, &next.token, key).await.0, StatusCode::CREATED);
}

#[tokio::test]
async fn a_tenant_cannot_make_keys_without_end() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    for i in 0..20 {
        let body = json!({"domain": "contoso.example", "algorithm": "ed25519", "selector": format!("k{i}")});
        assert_eq!(new_key(&app, &t.token, body).await.0, StatusCode::CREATED);
    }
    let body = json!({"domain": "contoso.example", "algorithm": "ed25519", "selector": "k20"});
    let (status, refusal) = app
        .refusal(
            Method::POST,
            "/api/admin/tenant/dkim",
            &t.token,
            Some(&body),
        )
        .await;
    assert_eq!(
        (status, refusal.code.as_str()),
        (StatusCode::CONFLICT, "too_many_dkim_keys")
    );
    assert_eq!(keys(&app, &t.token).await.len(), 20);
}
