//! A tenant proves a domain with a DNS TXT record before Sealpost sends as it: tried against a DNS
//! server the test runs on loopback. A domain asked for is pending and unused (a message from it
//! is refused) until its record is published and verified; a wrong record, another tenant's
//! record or another tenant's proven domain prove nothing.

use axum::http::{Method, StatusCode};
use sealpost_api::admin::TenantView;

use crate::dns::Dns;

use crate::helpers::{TestApp, message};

async fn tenant_view(app: &TestApp, token: &str) -> TenantView {
    app.json(Method::GET, "/api/admin/tenant", token, None::<&()>)
        .await
        .1
}

async fn set_domains(
    app: &TestApp,
    token: &str,
    domains: &[&str],
) -> (StatusCode, serde_json::Value) {
    app.json(
        Method::PATCH,
        "/api/admin/tenant",
        token,
        Some(&serde_json::json!({ "domains": domains })),
    )
    .await
}

async fn verify(app: &TestApp, token: &str, domain: &str) -> (StatusCode, serde_json::Value) {
    app.json(
        Method::POST,
        &format!("/api/admin/tenant/domains/{domain}/verify"),
        token,
        None::<&()>,
    )
    .await
}

#[tokio::test]
async fn a_domain_is_used_only_once_its_txt_record_proves_it() {
    let dns = Dns::start().await;
    let app = TestApp::with_config(|c| c.dns_server = Some(dns.addr)).await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;

    // Asking for a domain makes it pending, with the record to publish.
    let (status, body) =
        set_domains(&app, &t.token, &["contoso.example", "fabrikam.example"]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let view = tenant_view(&app, &t.token).await;
    assert_eq!(view.domains, ["contoso.example"]);
    assert_eq!(view.pending_domains.len(), 1);
    let pending = &view.pending_domains[0];
    assert_eq!(pending.domain, "fabrikam.example");
    assert_eq!(pending.txt_name, "_sealpost.fabrikam.example");
    assert!(pending.txt_value.starts_with("sealpost-verification="));

    // Unproven, it is not the tenant's: a message from it is refused.
    let mut m = message("bob@example.net");
    m.from = "alex@fabrikam.example".into();
    let (status, body) = app
        .json(Method::POST, "/api/admin/messages", &t.token, Some(&m))
        .await;
    let body: serde_json::Value = body;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("sender_not_in_tenant"))
    );

    // No record, then a wrong one: not proven.
    let (status, body) = verify(&app, &t.token, "fabrikam.example").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("domain_not_proven"))
    );
    dns.publish(
        "_sealpost.fabrikam.example",
        "sealpost-verification=someone-elses",
    );
    let (status, _) = verify(&app, &t.token, "fabrikam.example").await;
    assert_eq!(status, StatusCode::CONFLICT);

    // The right record proves it, and it can be sent from.
    dns.publish("_sealpost.fabrikam.example", &pending.txt_value);
    let (status, body) = verify(&app, &t.token, "fabrikam.example").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let view = tenant_view(&app, &t.token).await;
    assert_eq!(view.domains, ["contoso.example", "fabrikam.example"]);
    assert!(view.pending_domains.is_empty());
    let (status, body): (_, serde_json::Value) = app
        .json(Method::POST, "/api/admin/messages", &t.token, Some(&m))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn another_tenant_can_neither_prove_nor_take_a_proven_domain() {
    let dns = Dns::start().await;
    let app = TestApp::with_config(|c| c.dns_server = Some(dns.addr)).await;
    let a = app.tenant("Contoso", &["contoso.example"]).await;
    let b = app.tenant("Mallory", &["mallory.example"]).await;

    // Both ask for fabrikam.example; only Contoso's record is published.
    set_domains(&app, &a.token, &["contoso.example", "fabrikam.example"]).await;
    set_domains(&app, &b.token, &["mallory.example", "fabrikam.example"]).await;
    let a_view = tenant_view(&app, &a.token).await;
    let b_view = tenant_view(&app, &b.token).await;
    assert_ne!(
        a_view.pending_domains[0].txt_value,
        b_view.pending_domains[0].txt_value
    );
    dns.publish(
        "_sealpost.fabrikam.example",
        &a_view.pending_domains[0].txt_value,
    );
    let (status, _) = verify(&app, &b.token, "fabrikam.example").await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "Contoso's record proves nothing for Mallory"
    );
    let (status, _) = verify(&app, &a.token, "fabrikam.example").await;
    assert_eq!(status, StatusCode::OK);

    // Even with its own record published, Mallory cannot take a domain Contoso has proven.
    dns.publish(
        "_sealpost.fabrikam.example",
        &b_view.pending_domains[0].txt_value,
    );
    let (status, body) = verify(&app, &b.token, "fabrikam.example").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("domain_taken"))
    );
    assert_eq!(
        tenant_view(&app, &b.token).await.domains,
        ["mallory.example"]
    );
}

#[tokio::test]
async fn a_tenant_keeps_a_proven_domain_and_cannot_verify_what_it_never_asked_for() {
    let dns = Dns::start().await;
    let app = TestApp::with_config(|c| c.dns_server = Some(dns.addr)).await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let (status, body) = set_domains(&app, &t.token, &["fabrikam.example"]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "proven_domain_required");
    assert_eq!(
        tenant_view(&app, &t.token).await.domains,
        ["contoso.example"]
    );
    let (status, _) = verify(&app, &t.token, "never-asked.example").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
