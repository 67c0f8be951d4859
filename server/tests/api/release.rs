//! Key release over HTTP: the released key opens the message for this page only; revocation,
//! recipient revocation, expiry and an unavailable tenant key refuse it; every decision is audited;
//! sealed parts are served with Range to a live session only.

use axum::http::{Method, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use sealpost_api::admin::AuditEventView;
use sealpost_envelope::{MessageId, ReleaseBinding, open_manifest};

use crate::helpers::{TestApp, body_text, message};

#[tokio::test]
async fn the_released_key_opens_the_message_for_this_page_only() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let sent = app.send(&t.token, &message("bob@example.net")).await;
    let id = sent.message_id;
    let s = app.sign_in(&id, "bob@example.net").await;
    let (status, body, pair) = app.request_key(&s).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["lease_seconds"], 600);
    assert_eq!(body["recipient"], "bob@example.net");
    assert_eq!(body["binding"], s.view.binding.as_str());
    assert_eq!(
        body["rights"],
        serde_json::json!([
            "view",
            "reply",
            "reply_all",
            "forward",
            "print",
            "copy",
            "download"
        ])
    );
    let release = BASE64URL.decode(body["release"].as_str().unwrap()).unwrap();
    let mid = MessageId::parse(&id).unwrap();
    let binding = ReleaseBinding {
        message_id: &mid,
        recipient: "bob@example.net",
        session: s.view.binding.as_bytes(),
    };
    let key = pair.open_release(&release, &binding).unwrap();
    let expected = app.message_key(&t.id, &id).await;
    assert_eq!(key.expose_secret(), expected.expose_secret());

    // Another page's key pair, or another session's binding, cannot open it.
    let other = sealpost_envelope::RecipientKeyPair::generate();
    assert!(other.open_release(&release, &binding).is_err());
    let wrong_session = ReleaseBinding {
        session: b"another-session",
        ..binding
    };
    assert!(pair.open_release(&release, &wrong_session).is_err());

    // The manifest fetched as a part opens with the released key.
    let res = app
        .portal(
            Method::GET,
            &format!("/api/m/{id}/parts/manifest"),
            Some(&s.cookie),
            false,
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(res.headers()["accept-ranges"], "bytes");
    let bytes = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    let manifest = open_manifest(&key, &mid, &bytes).unwrap();
    assert_eq!(manifest.subject, "Quarterly numbers");

    // Opened is recorded; so is the release, in the audit log.
    let status_view = app.status(&t.token, &id).await;
    assert!(status_view.recipients[0].opened_at.is_some());
    let (_, audit): (_, Vec<AuditEventView>) = app
        .json(Method::GET, "/api/admin/audit", &t.token, None::<&()>)
        .await;
    assert!(
        audit
            .iter()
            .any(|e| e.action == "key.released" && e.actor == "bob@example.net" && e.target == id)
    );
}

#[tokio::test]
async fn a_refusal_after_the_session_ended_is_audited_with_who_was_refused() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let id = app
        .send(&t.token, &message("bob@example.net"))
        .await
        .message_id;
    let s = app.sign_in(&id, "bob@example.net").await;
    app.clock.advance(30 * 60);
    let (status, body, _) = app.request_key(&s).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("session_expired"))
    );
    let events = app.state.store.audit_events(&t.id, 10).await.unwrap();
    assert_eq!(
        (events[0].action.as_str(), events[0].actor.as_str()),
        ("key.refused.session_expired", "bob@example.net")
    );
}

#[tokio::test]
async fn a_bad_public_key_is_refused_with_its_field() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let id = app
        .send(&t.token, &message("bob@example.net"))
        .await
        .message_id;
    let s = app.sign_in(&id, "bob@example.net").await;
    for bad in ["", "not base64!", &BASE64URL.encode([1u8; 31])] {
        let res = app
            .portal(
                Method::POST,
                &format!("/api/m/{id}/key"),
                Some(&s.cookie),
                true,
                Some(serde_json::json!({ "public_key": bad })),
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = body_text(res).await;
        assert!(
            body.contains("invalid_public_key") && body.contains("public_key"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn revocation_between_two_key_requests_refuses_the_second_and_tells_open_pages() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let mut req = message("bob@example.net");
    req.to.push("carol@example.org".into());
    let id = app.send(&t.token, &req).await.message_id;
    let bob = app.sign_in(&id, "bob@example.net").await;
    let carol = app.sign_in(&id, "carol@example.org").await;
    assert_eq!(app.request_key(&bob).await.0, StatusCode::OK);
    assert_eq!(app.access(&bob).await.1["state"], "active");
    assert_eq!(app.access(&bob).await.1["check_again_seconds"], 15);

    // Carol alone loses access.
    let (status, _): (_, serde_json::Value) = app
        .json(
            Method::POST,
            &format!("/api/admin/messages/{id}/recipients/carol@example.org/revoke"),
            &t.token,
            None::<&()>,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body, _) = app.request_key(&carol).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("access_revoked"))
    );
    assert_eq!(app.access(&carol).await.1["state"], "access_removed");
    assert_eq!(app.request_key(&bob).await.0, StatusCode::OK);

    // Then everyone.
    let (status, _): (_, serde_json::Value) = app
        .json(
            Method::POST,
            &format!("/api/admin/messages/{id}/revoke"),
            &t.token,
            None::<&()>,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body, _) = app.request_key(&bob).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "message_revoked");
    assert!(body["message"].as_str().unwrap().contains("withdrawn"));
    assert_eq!(app.access(&bob).await.1["state"], "revoked");
    let res = app
        .portal(
            Method::GET,
            &format!("/api/m/{id}/parts/body-0"),
            Some(&bob.cookie),
            false,
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let (_, audit): (_, Vec<AuditEventView>) = app
        .json(Method::GET, "/api/admin/audit", &t.token, None::<&()>)
        .await;
    let actions: Vec<_> = audit.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"key.refused.message_revoked"));
    assert!(actions.contains(&"key.refused.access_revoked"));
}

#[tokio::test]
async fn the_key_is_refused_from_the_exact_second_of_expiry() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let mut req = message("bob@example.net");
    req.expires_in_days = Some(1);
    let id = app.send(&t.token, &req).await.message_id;
    let expires = app.clock.now() + 86_400;
    app.clock.advance(86_400 - 120);
    let s = app.sign_in(&id, "bob@example.net").await;
    let now = app.clock.now();
    app.clock.advance(expires - 1 - now);
    let (status, body, _) = app.request_key(&s).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["lease_seconds"], 1,
        "the lease never outlasts the message"
    );
    app.clock.advance(1);
    let (status, body, _) = app.request_key(&s).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "message_expired");
    assert_eq!(app.access(&s).await.1["state"], "expired");
}

#[tokio::test]
async fn an_unavailable_tenant_key_refuses_release_and_is_audited() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let id = app
        .send(&t.token, &message("bob@example.net"))
        .await
        .message_id;
    let s = app.sign_in(&id, "bob@example.net").await;
    app.database()
        .await
        .execute(
            &format!(
                "update tenants set wrapped_data_key = zeroblob(61) where id = '{}'",
                t.id
            ),
            &format!(
                "update tenants set wrapped_data_key = decode(repeat('00', 61), 'hex') \
                 where id = '{}'",
                t.id
            ),
        )
        .await
        .unwrap();
    let (status, body, _) = app.request_key(&s).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["code"], "key_unavailable");
    let events = app.state.store.audit_events(&t.id, 10).await.unwrap();
    assert_eq!(events[0].action, "key.refused.key_unavailable");
}

#[tokio::test]
async fn parts_are_served_whole_or_by_range_to_a_live_session_only() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let mut req = message("bob@example.net");
    req.attachments
        .push(sealpost_api::admin::AttachmentRequest {
            name: "data.bin".into(),
            content_type: None,
            content_id: None,
            content_base64: base64::engine::general_purpose::STANDARD.encode(vec![7u8; 40_000]),
        });
    let id = app.send(&t.token, &req).await.message_id;
    let stored = app
        .state
        .store
        .read_part(&t.id, &id, "attachment-0")
        .await
        .unwrap();
    let uri = format!("/api/m/{id}/parts/attachment-0");

    let res = app.portal(Method::GET, &uri, None, false, None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let s = app.sign_in(&id, "bob@example.net").await;
    let get = |range: Option<&'static str>| {
        let app = &app;
        let uri = uri.clone();
        let cookie = s.cookie.clone();
        async move {
            let mut r = axum::http::Request::get(&uri).header("cookie", cookie);
            if let Some(range) = range {
                r = r.header("range", range);
            }
            tower::ServiceExt::oneshot(
                app.router.clone(),
                r.body(axum::body::Body::empty()).unwrap(),
            )
            .await
            .unwrap()
        }
    };
    let whole = get(None).await;
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(
        whole.headers()["content-length"],
        stored.len().to_string().as_str()
    );
    let bytes = http_body_util::BodyExt::collect(whole.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(bytes.as_ref(), stored.as_slice());

    let part = get(Some("bytes=100-16483")).await;
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 100-16483/{}", stored.len()).as_str()
    );
    assert_eq!(part.headers()["cache-control"], "no-store");
    let bytes = http_body_util::BodyExt::collect(part.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(bytes.as_ref(), &stored[100..16484]);

    let tail = get(Some("bytes=-10")).await;
    assert_eq!(tail.status(), StatusCode::PARTIAL_CONTENT);
    let bytes = http_body_util::BodyExt::collect(tail.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(bytes.as_ref(), &stored[stored.len() - 10..]);

    let beyond = get(Some("bytes=999999-")).await;
    assert_eq!(beyond.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        beyond.headers()["content-range"],
        format!("bytes */{}", stored.len()).as_str()
    );

    for missing in ["attachment-1", "..%2Fmanifest", "body-99"] {
        let res = app
            .portal(
                Method::GET,
                &format!("/api/m/{id}/parts/{missing}"),
                Some(&s.cookie),
                false,
                None,
            )
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{missing}");
    }
}
