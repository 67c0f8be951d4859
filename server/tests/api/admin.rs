//! The admin API through `oneshot`: tokens, tenants, branding and rights templates, the audit log.

use axum::http::{Method, StatusCode};
use base64::Engine as _;
use sealpost_api::ErrorBody;
use sealpost_api::admin::{
    AuditEventView, BrandingTemplateView, CreatedTokenResponse, RightsTemplateView, TenantView,
    TokenView,
};
use serde_json::json;

use crate::helpers::TestApp;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

#[tokio::test]
async fn admin_routes_need_a_valid_unrevoked_token() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    for token in [None, Some("spa_nonsense"), Some("")] {
        let res = app
            .call(Method::GET, "/api/admin/tenant", token, None, vec![])
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(res.headers()["www-authenticate"], "Bearer");
    }
    let (status, created): (_, CreatedTokenResponse) = app
        .json(
            Method::POST,
            "/api/admin/tokens",
            &t.token,
            Some(&json!({"label": "ci"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(created.secret.starts_with("spa_"));
    let (status, tenant): (_, TenantView) = app
        .json(
            Method::GET,
            "/api/admin/tenant",
            &created.secret,
            None::<&()>,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tenant.domains, ["contoso.example"]);

    let (_, tokens): (_, Vec<TokenView>) = app
        .json(Method::GET, "/api/admin/tokens", &t.token, None::<&()>)
        .await;
    assert_eq!(tokens.len(), 2);
    let listed = serde_json::to_string(&tokens).unwrap();
    assert!(
        !listed.contains(&created.secret),
        "secrets are never listed"
    );

    let res = app
        .call(
            Method::DELETE,
            &format!("/api/admin/tokens/{}", created.token.id),
            Some(&t.token),
            None,
            vec![],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .call(
            Method::GET,
            "/api/admin/tenant",
            Some(&created.secret),
            None,
            vec![],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // A token cannot revoke itself (a client, or a fuzzer following the token list, would lock
    // itself out mid-task): 409, and it still works.
    let own = tokens
        .iter()
        .find(|t| t.id != created.token.id)
        .unwrap()
        .id
        .clone();
    let (status, refused) = app
        .refusal(
            Method::DELETE,
            &format!("/api/admin/tokens/{own}"),
            &t.token,
            None::<&()>,
        )
        .await;
    assert_eq!(
        (status, refused.code.as_str()),
        (StatusCode::CONFLICT, "own_token")
    );
    let res = app
        .call(
            Method::GET,
            "/api/admin/tenant",
            Some(&t.token),
            None,
            vec![],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let (_, log): (_, Vec<AuditEventView>) = app
        .json(Method::GET, "/api/admin/audit", &t.token, None::<&()>)
        .await;
    let actions: Vec<_> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["token.revoked", "token.created"]);
    assert!(log.iter().all(|e| e.actor == "bootstrap"));
}

#[tokio::test]
async fn tenant_settings_change_and_a_domain_belongs_to_one_tenant() {
    let app = TestApp::new().await;
    let a = app.tenant("Contoso", &["contoso.example"]).await;
    let _b = app.tenant("Fabrikam", &["fabrikam.example"]).await;
    let (status, view): (_, TenantView) = app
        .json(
            Method::PATCH,
            "/api/admin/tenant",
            &a.token,
            Some(&json!({"domains": ["contoso.example", "Contoso.SE"], "show_subject_in_notice": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // A new domain waits for its DNS proof (tests/api/domains.rs); the proven one stays.
    assert_eq!(view.domains, ["contoso.example"]);
    let pending: Vec<_> = view
        .pending_domains
        .iter()
        .map(|p| p.domain.as_str())
        .collect();
    assert_eq!(pending, ["contoso.se"]);
    assert!(!view.show_subject_in_notice);
    // Another tenant's domain can be asked for, but stays pending: a domain belongs to the one
    // tenant that proves it first, and to no other.
    let (status, view): (_, TenantView) = app
        .json(
            Method::PATCH,
            "/api/admin/tenant",
            &a.token,
            Some(&json!({"domains": ["contoso.example", "fabrikam.example"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view.domains, ["contoso.example"]);
    let (status, err) = app
        .refusal(
            Method::PATCH,
            "/api/admin/tenant",
            &a.token,
            Some(&json!({"domains": ["fabrikam.example"]})),
        )
        .await;
    assert_eq!(
        (status, err.code.as_str()),
        (StatusCode::CONFLICT, "proven_domain_required")
    );
    let (status, err) = app
        .refusal(
            Method::PATCH,
            "/api/admin/tenant",
            &a.token,
            Some(&json!({"domains": ["not a domain"]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        (err.code.as_str(), err.field.as_deref()),
        ("invalid_domain", Some("domains[0]"))
    );
    let (status, err) = app
        .refusal(
            Method::PATCH,
            "/api/admin/tenant",
            &a.token,
            Some(&json!({"colour": "red"})),
        )
        .await;
    assert_eq!(
        (status, err.code.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_json")
    );
    assert!(err.message.contains("colour"), "{}", err.message);
}

/// A PATCH is a merge patch: an object. An array would otherwise be read as the fields in order
/// (`[null, null]` changed nothing and answered 200); every PATCH route refuses anything else.
#[tokio::test]
async fn a_change_that_is_not_an_object_is_refused() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    for path in [
        "/api/admin/tenant",
        "/api/admin/branding-templates/default",
        "/api/admin/data-encryption-policies/Missing",
    ] {
        for body in [
            json!([null, null]),
            json!(["Renamed"]),
            json!("x"),
            json!(null),
            json!(7),
        ] {
            let (status, err) = app
                .refusal(Method::PATCH, path, &t.token, Some(&body))
                .await;
            assert_eq!(
                (status, err.code.as_str()),
                (StatusCode::BAD_REQUEST, "invalid_patch"),
                "{path} {body}"
            );
        }
    }
    let (status, view): (_, serde_json::Value) = app
        .json(Method::GET, "/api/admin/tenant", &t.token, None::<&()>)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["name"], "Contoso", "nothing was changed");
}

#[tokio::test]
async fn branding_templates_can_be_created_listed_shown_changed_and_removed() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let (_, list): (_, Vec<BrandingTemplateView>) = app
        .json(
            Method::GET,
            "/api/admin/branding-templates",
            &t.token,
            None::<&()>,
        )
        .await;
    assert_eq!(list.len(), 1, "the default template always exists");
    assert_eq!(list[0].identity, "default");

    let body = json!({
        "identity": "Finance",
        "introduction_text": "Contoso Finance sent you a protected message",
        "read_button_text": {"text": "Read the message", "translations": {"sv": "Läs meddelandet"}},
        "portal_text": "Finance",
        "background_color": "#003366",
        "image_base64": base64::engine::general_purpose::STANDARD.encode(PNG),
        "privacy_statement_url": "https://contoso.example/privacy",
        "otp_enabled": true,
        "external_mail_expiry_in_days": 30
    });
    let (status, created): (_, BrandingTemplateView) = app
        .json(
            Method::POST,
            "/api/admin/branding-templates",
            &t.token,
            Some(&body),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created.external_mail_expiry_in_days, Some(30));
    let (status, err) = app
        .refusal(
            Method::POST,
            "/api/admin/branding-templates",
            &t.token,
            Some(&body),
        )
        .await;
    assert_eq!(
        (status, err.code.as_str()),
        (StatusCode::CONFLICT, "already_exists")
    );

    let (status, changed): (_, BrandingTemplateView) = app
        .json(
            Method::PATCH,
            "/api/admin/branding-templates/finance",
            &t.token,
            Some(&json!({"background_color": "navy", "image_base64": null})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(changed.background_color.as_deref(), Some("navy"));
    assert_eq!(changed.image_base64, None);
    assert_eq!(
        changed.portal_text, created.portal_text,
        "fields not in the patch stay"
    );
    let (_, shown): (_, BrandingTemplateView) = app
        .json(
            Method::GET,
            "/api/admin/branding-templates/Finance",
            &t.token,
            None::<&()>,
        )
        .await;
    assert_eq!(shown, changed);

    let (status, err) = app
        .refusal(
            Method::PATCH,
            "/api/admin/branding-templates/Finance",
            &t.token,
            Some(&json!({"background_color": "#12"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        (err.code.as_str(), err.field.as_deref()),
        ("invalid_color", Some("background_color"))
    );
    let (_, unchanged): (_, BrandingTemplateView) = app
        .json(
            Method::GET,
            "/api/admin/branding-templates/Finance",
            &t.token,
            None::<&()>,
        )
        .await;
    assert_eq!(unchanged, changed, "a refused change changes nothing");

    let (status, err) = app
        .refusal(
            Method::PATCH,
            "/api/admin/branding-templates/default",
            &t.token,
            Some(&json!({"external_mail_expiry_in_days": 7})),
        )
        .await;
    assert_eq!(
        (status, err.code.as_str()),
        (StatusCode::CONFLICT, "expiry_on_default_template")
    );
    let (status, err) = app
        .refusal(
            Method::DELETE,
            "/api/admin/branding-templates/default",
            &t.token,
            None::<&()>,
        )
        .await;
    assert_eq!(
        (status, err.code.as_str()),
        (StatusCode::CONFLICT, "default_template")
    );
    let res = app
        .call(
            Method::DELETE,
            "/api/admin/branding-templates/Finance",
            Some(&t.token),
            None,
            vec![],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .call(
            Method::GET,
            "/api/admin/branding-templates/Finance",
            Some(&t.token),
            None,
            vec![],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn each_branding_violation_is_refused_over_http_with_its_code() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let cases = [
        (json!({"identity": "x".repeat(65)}), "too_long", "identity"),
        (
            json!({"identity": "a", "email_text": "e".repeat(1025)}),
            "too_long",
            "email_text",
        ),
        (
            json!({"identity": "a", "disclaimer_text": "d".repeat(1025)}),
            "too_long",
            "disclaimer_text",
        ),
        (
            json!({"identity": "a", "introduction_text": "i".repeat(1025)}),
            "too_long",
            "introduction_text",
        ),
        (
            json!({"identity": "a", "read_button_text": "r".repeat(1025)}),
            "too_long",
            "read_button_text",
        ),
        (
            json!({"identity": "a", "portal_text": "p".repeat(129)}),
            "too_long",
            "portal_text",
        ),
        (
            json!({"identity": "a", "background_color": "blurple"}),
            "invalid_color",
            "background_color",
        ),
        (
            json!({"identity": "a", "image_base64": "R0lGODlhAQABAAAAACw="}),
            "invalid_image",
            "image_base64",
        ),
        (
            json!({"identity": "a", "image_base64": base64::engine::general_purpose::STANDARD.encode([PNG, &[0u8; 41 * 1024][..]].concat())}),
            "image_too_large",
            "image_base64",
        ),
        (
            json!({"identity": "a", "privacy_statement_url": "javascript:x"}),
            "invalid_url",
            "privacy_statement_url",
        ),
        (
            json!({"identity": "a", "external_mail_expiry_in_days": 731}),
            "expiry_out_of_range",
            "external_mail_expiry_in_days",
        ),
    ];
    for (body, code, field) in cases {
        let (status, err): (_, ErrorBody) = app
            .refusal(
                Method::POST,
                "/api/admin/branding-templates",
                &t.token,
                Some(&body),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert_eq!(
            (err.code.as_str(), err.field.as_deref()),
            (code, Some(field))
        );
        assert!(!err.message.is_empty());
    }
}

#[tokio::test]
async fn rights_templates_include_the_built_ins_and_the_tenants_own() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let (_, list): (_, Vec<RightsTemplateView>) = app
        .json(
            Method::GET,
            "/api/admin/rights-templates",
            &t.token,
            None::<&()>,
        )
        .await;
    let names: Vec<_> = list.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["Encrypt", "Do Not Forward"]);
    assert_eq!(list[1].rights, ["view", "reply", "reply_all"]);

    let body = json!({"name": "Read only", "description": "Look, don't touch", "rights": ["view"]});
    let (status, _): (_, RightsTemplateView) = app
        .json(
            Method::POST,
            "/api/admin/rights-templates",
            &t.token,
            Some(&body),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, replaced): (_, RightsTemplateView) = app
        .json(
            Method::PUT,
            "/api/admin/rights-templates/Read%20only",
            &t.token,
            Some(&json!({"name": "Read only", "rights": ["view", "print"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(replaced.rights, ["view", "print"]);
    let (status, err) = app
        .refusal(
            Method::PUT,
            "/api/admin/rights-templates/Encrypt",
            &t.token,
            Some(&json!({"name": "Encrypt", "rights": ["view"]})),
        )
        .await;
    assert_eq!(
        (status, err.code.as_str()),
        (StatusCode::CONFLICT, "built_in_template")
    );
    let (status, err) = app
        .refusal(
            Method::DELETE,
            "/api/admin/rights-templates/Do%20Not%20Forward",
            &t.token,
            None::<&()>,
        )
        .await;
    assert_eq!(
        (status, err.code.as_str()),
        (StatusCode::CONFLICT, "built_in_template")
    );
    let (status, err) = app
        .refusal(
            Method::POST,
            "/api/admin/rights-templates",
            &t.token,
            Some(&json!({"name": "Bad", "rights": ["forward"]})),
        )
        .await;
    assert_eq!(
        (status, err.code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "view_required")
    );
    let res = app
        .call(
            Method::DELETE,
            "/api/admin/rights-templates/Read%20only",
            Some(&t.token),
            None,
            vec![],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_background_colour_white_text_does_not_read_on_is_saved_with_a_warning() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let create = |name: &str, colour: &str| {
        serde_json::to_vec(&json!({"identity": name, "background_color": colour})).unwrap()
    };
    let res = app
        .call(
            Method::POST,
            "/api/admin/branding-templates",
            Some(&t.token),
            Some("application/json"),
            create("low", "yellow"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let warning = res.headers()["sealpost-warning"].to_str().unwrap();
    assert!(
        warning.contains("yellow") && warning.contains("4.5:1"),
        "{warning}"
    );

    let res = app
        .call(
            Method::POST,
            "/api/admin/branding-templates",
            Some(&t.token),
            Some("application/json"),
            create("good", "#0a4a8c"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(res.headers().get("sealpost-warning").is_none());

    let res = app
        .call(
            Method::PATCH,
            "/api/admin/branding-templates/good",
            Some(&t.token),
            Some("application/json"),
            serde_json::to_vec(&json!({"background_color": "#cccccc"})).unwrap(),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().contains_key("sealpost-warning"));
}
