//! What the OpenAPI document promises, one refusal or acceptance at a time: the cases the fuzzer
//! (`scripts/api-fuzz/run`) found where the server and the document disagreed, each sent the way
//! the fuzzer sent it. (The patterns themselves are checked against the validators in the
//! server's `rules_agreement` tests.)

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, body_text};
use crate::key_policies::{POLICIES, create_policy, key_files, policy};

/// The status and body of a request with a raw body.
async fn send(
    app: &TestApp,
    method: Method,
    uri: &str,
    token: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> (StatusCode, Value) {
    let res = app
        .call(method, uri, Some(token), content_type, body.to_vec())
        .await;
    let status = res.status();
    let text = body_text(res).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text:?}")),
    )
}

#[tokio::test]
async fn a_whole_number_written_as_a_decimal_is_the_integer_it_is() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    // JSON Schema calls 3.0 an integer; the server reads it as 3, and refuses 3.5.
    let template = |depth: f64| {
        json!({
            "name": format!("Limits {depth}"),
            "rights": ["view", "forward"],
            "forward_limits": { "depth": depth, "recipients_per_day": 50.0 }
        })
    };
    let body = serde_json::to_vec(&template(3.0)).unwrap();
    assert!(String::from_utf8_lossy(&body).contains("3.0"));
    let (status, view) = send(
        &app,
        Method::POST,
        "/api/admin/rights-templates",
        &t.token,
        Some("application/json"),
        &body,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{view}");
    assert_eq!(view["forward_limits"]["depth"], 3);
    let (status, refused) = app
        .refusal(
            Method::POST,
            "/api/admin/rights-templates",
            &t.token,
            Some(&template(3.5)),
        )
        .await;
    assert_eq!(
        (status, refused.code.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_json")
    );
}

#[tokio::test]
async fn a_key_given_twice_is_refused_wherever_it_is() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    // Two parsers could read two different senders, or labels, from one body.
    for (method, uri, body) in [
        (
            Method::POST,
            "/api/admin/tokens",
            r#"{"label": "ci", "label": "other"}"#,
        ),
        (
            Method::POST,
            "/api/admin/messages",
            r#"{"from": "anna@contoso.example", "from": "eve@contoso.example", "to": ["bob@fabrikam.example"], "text": "x"}"#,
        ),
        (
            Method::PATCH,
            "/api/admin/branding-templates/default",
            r#"{"email_text": {"text": "a", "translations": {"sv": "a", "sv": "b"}}}"#,
        ),
    ] {
        let (status, refused) = send(
            &app,
            method,
            uri,
            &t.token,
            Some("application/json"),
            body.as_bytes(),
        )
        .await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_json")),
            "{uri}: {refused}"
        );
    }
    let (_, tokens): (_, Value) = app
        .json(Method::GET, "/api/admin/tokens", &t.token, None::<&()>)
        .await;
    assert_eq!(tokens.as_array().unwrap().len(), 1, "no token was made");
}

#[tokio::test]
async fn a_rule_kind_is_a_name_never_a_number() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    // Serde would read 0 as the first variant (`recipient_in_organisation`, `seal`).
    for body in [
        json!({"name": "n", "conditions": [{"kind": 0, "bytes": 0}], "action": {"kind": "seal"}}),
        json!({"name": "n", "conditions": [], "action": {"kind": 0}}),
    ] {
        let (status, refused) = app
            .refusal(
                Method::POST,
                "/api/admin/mail-flow/rules",
                &t.token,
                Some(&body),
            )
            .await;
        assert_eq!(
            (status, refused.code.as_str()),
            (StatusCode::BAD_REQUEST, "invalid_json"),
            "{body}"
        );
    }
    let (_, rules): (_, Value) = app
        .json(
            Method::GET,
            "/api/admin/mail-flow/rules",
            &t.token,
            None::<&()>,
        )
        .await;
    assert_eq!(rules["rules"], json!([]), "nothing was made");
}

#[tokio::test]
async fn a_simulation_needs_a_message_and_a_query_names_each_parameter_once() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let (status, body) = send(
        &app,
        Method::POST,
        "/api/admin/mail-flow/simulate?rcpt=bob@fabrikam.example",
        &t.token,
        Some("message/rfc822"),
        b"",
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("empty_body"))
    );
    // A repeated parameter is refused in the API's own words (JSON), on every query.
    for uri in [
        "/api/admin/tenant/passkeys?address=a@fabrikam.example&address=b@fabrikam.example",
        "/api/admin/tenant/dkim?domain=a.example&domain=b.example",
        "/api/admin/portal-log?limit=1&limit=2",
    ] {
        let (status, body) = send(&app, Method::GET, uri, &t.token, None, b"").await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_query")),
            "{uri}"
        );
    }
}

#[tokio::test]
async fn an_address_or_domain_in_the_path_that_is_none_is_not_found() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    for (method, uri) in [
        (
            Method::GET,
            "/api/admin/data-encryption-policy-assignment/senders/not%20an%20address",
        ),
        (
            Method::POST,
            "/api/admin/data-encryption-policy-assignment/senders/a%0C@contoso.example/roll-back",
        ),
        (Method::POST, "/api/admin/tenant/domains/-bad-/verify"),
    ] {
        let res = app.call(method, uri, Some(&t.token), None, vec![]).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{uri}");
    }
    for body in [json!({ "data_encryption_policy": null }), json!({})] {
        let (status, refused) = app
            .refusal(
                Method::PUT,
                "/api/admin/data-encryption-policy-assignment/senders/not%20an%20address",
                &t.token,
                Some(&body),
            )
            .await;
        assert_eq!(
            (status, refused.code.as_str()),
            (StatusCode::NOT_FOUND, "not_found"),
            "{body}"
        );
    }
    // A well-formed address outside the tenant's domains conflicts with them instead.
    let res = app
        .call(
            Method::GET,
            "/api/admin/data-encryption-policy-assignment/senders/eve@elsewhere.example",
            Some(&t.token),
            None,
            vec![],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_refused_change_changes_nothing() {
    // The tenant: new domains would wait for a proof, but the retention is out of range.
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let (status, refused) = app
        .refusal(
            Method::PATCH,
            "/api/admin/tenant",
            &t.token,
            Some(&json!({
                "domains": ["contoso.example", "fabrikam.example"],
                "portal_log_retention_days": 3651
            })),
        )
        .await;
    assert_eq!(
        (status, refused.code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "out_of_range")
    );
    let (_, tenant): (_, Value) = app
        .json(Method::GET, "/api/admin/tenant", &t.token, None::<&()>)
        .await;
    assert_eq!(tenant["pending_domains"], json!([]), "{tenant}");

    // A policy: a new description with a purge request that lacks its contact.
    let keys = tempfile::tempdir().unwrap();
    let roots = key_files(keys.path());
    let app = TestApp::with_config(|c| c.root_keys = roots).await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    create_policy(&app, &t.token, "Dep", ["vault-a", "vault-b"]).await;
    let (status, refused) = app
        .refusal(
            Method::PATCH,
            &format!("{POLICIES}/Dep"),
            &t.token,
            Some(&json!({
                "description": "Changed",
                "permanent_data_purge_requested": true,
                "permanent_data_purge_reason": "Leaving"
            })),
        )
        .await;
    assert_eq!(
        (status, refused.code.as_str()),
        (StatusCode::BAD_REQUEST, "purge_contact_required")
    );
    let view = policy(&app, &t.token, "Dep").await;
    assert_eq!(view.description, "Root policy");
    assert!(view.purge.is_none());
}

#[tokio::test]
async fn a_subject_of_998_characters_in_any_script_is_sealed_and_read() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    // 998 characters of two bytes each: over the 998 bytes the sealed manifest once held.
    let subject = "å".repeat(998);
    let mut m = crate::helpers::message("bob@example.net");
    m.subject = subject.clone();
    let sent = app.send(&t.token, &m).await;
    let (manifest, _, _) = app.open(&t.id, &sent.message_id).await;
    assert_eq!(manifest.subject, subject);
    // One more character is refused as the document says (maxLength 998).
    m.subject.push('å');
    let (status, refused) = app
        .refusal(Method::POST, "/api/admin/messages", &t.token, Some(&m))
        .await;
    assert_eq!(
        (status, refused.code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "too_long")
    );
}

#[tokio::test]
async fn a_built_in_name_with_spaces_around_is_still_the_built_in() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let body = json!({ "name": "Encrypt", "rights": ["view"] });
    for uri in [
        "/api/admin/rights-templates/Encrypt%20",
        "/api/admin/rights-templates/%20encrypt",
    ] {
        let (status, refused) = app.refusal(Method::PUT, uri, &t.token, Some(&body)).await;
        assert_eq!(
            (status, refused.code.as_str()),
            (StatusCode::CONFLICT, "built_in_template"),
            "{uri}"
        );
    }
    let (status, refused) = app
        .refusal(
            Method::POST,
            "/api/admin/rights-templates",
            &t.token,
            Some(&json!({ "name": " Encrypt ", "rights": ["view"] })),
        )
        .await;
    assert_eq!(
        (status, refused.code.as_str()),
        (StatusCode::CONFLICT, "built_in_template")
    );
}
