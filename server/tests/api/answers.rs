//! Reply, reply-all and forward from a signed-in recipient: allowed only by the rights, delivered as
//! new protected messages, and forwards revoked with their original.

use axum::http::{Method, StatusCode};
use base64::Engine as _;

use crate::helpers::{Signed, TestApp, body_text, message};

pub async fn post(
    app: &TestApp,
    s: &Signed,
    what: &str,
    body: serde_json::Value,
) -> (StatusCode, serde_json::Value) {
    let res = app
        .portal(
            Method::POST,
            &format!("/api/m/{}/{what}", s.message_id),
            Some(&s.cookie),
            true,
            Some(body),
        )
        .await;
    let status = res.status();
    (status, serde_json::from_str(&body_text(res).await).unwrap())
}

/// A rights template "Read only" that allows viewing and nothing else.
pub async fn read_only_template(app: &TestApp, token: &str) {
    let (status, _): (_, serde_json::Value) = app
        .json(
            Method::POST,
            "/api/admin/rights-templates",
            token,
            Some(&serde_json::json!({ "name": "Read only", "rights": ["view"] })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_reply_reaches_the_sender_as_a_new_protected_message_they_open_the_same_way() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let mut req = message("bob@example.net");
    req.cc = vec!["carol@example.org".into(), "dave@contoso.example".into()];
    let id = app.send(&t.token, &req).await.message_id;
    let bob = app.sign_in(&id, "bob@example.net").await;

    let (status, sent) = post(
        &app,
        &bob,
        "reply",
        serde_json::json!({ "text": "Thanks, Anna." }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    assert_eq!(
        sent["recipients"],
        serde_json::json!(["anna@contoso.example"])
    );
    let reply_id = sent["message_id"].as_str().unwrap().to_owned();
    let (manifest, bodies, _) = app.open(&t.id, &reply_id).await;
    assert_eq!(manifest.subject, "Re: Quarterly numbers");
    assert_eq!(manifest.from, "bob@example.net");
    assert_eq!(bodies[0], b"Thanks, Anna.");
    let status_view = app.status(&t.token, &reply_id).await;
    assert_eq!(status_view.rights_template, "Encrypt");
    // The sender reads it in the portal like any recipient.
    let anna = app.sign_in(&reply_id, "anna@contoso.example").await;
    assert_eq!(app.request_key(&anna).await.0, StatusCode::OK);

    // Reply-all: the sender, then every other recipient of the original, not me.
    let (status, sent) = post(
        &app,
        &bob,
        "reply-all",
        serde_json::json!({ "text": "All: fine." }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    assert_eq!(
        sent["recipients"],
        serde_json::json!([
            "anna@contoso.example",
            "carol@example.org",
            "dave@contoso.example"
        ])
    );
    let all_id = sent["message_id"].as_str().unwrap();
    assert_eq!(app.mails_to("carol@example.org").await.len(), 2);
    let (manifest, _, _) = app.open(&t.id, all_id).await;
    assert_eq!(manifest.to, ["anna@contoso.example"]);
    assert_eq!(manifest.cc, ["carol@example.org", "dave@contoso.example"]);

    // Revoking the original does not take back Bob's replies.
    app.json::<serde_json::Value>(
        Method::POST,
        &format!("/api/admin/messages/{id}/revoke"),
        &t.token,
        None::<&()>,
    )
    .await;
    assert_eq!(app.request_key(&anna).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_forward_carries_the_original_to_a_new_recipient_and_is_revoked_with_it() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let mut req = message("bob@example.net");
    req.expires_in_days = Some(7);
    req.html = Some("<p>See <b>attached</b>.</p>".into());
    req.attachments
        .push(sealpost_api::admin::AttachmentRequest {
            name: "q3.csv".into(),
            content_type: Some("text/csv".into()),
            content_id: None,
            content_base64: base64::engine::general_purpose::STANDARD.encode("a,b\n1,2\n"),
        });
    let original = app.send(&t.token, &req).await;
    let id = original.message_id.clone();
    let bob = app.sign_in(&id, "bob@example.net").await;
    let (status, sent) = post(
        &app,
        &bob,
        "forward",
        serde_json::json!({ "to": ["Erin@Example.org"], "text": "FYI <3" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    assert_eq!(sent["recipients"], serde_json::json!(["erin@example.org"]));
    let fwd = sent["message_id"].as_str().unwrap().to_owned();

    let (manifest, bodies, attachments) = app.open(&t.id, &fwd).await;
    assert_eq!(manifest.subject, "Fwd: Quarterly numbers");
    assert_eq!(manifest.from, "bob@example.net");
    let text = String::from_utf8(bodies[0].clone()).unwrap();
    assert!(text.starts_with(
        "FYI <3\n\n---------- Forwarded message ----------\nFrom: anna@contoso.example"
    ));
    assert!(text.ends_with("See attached."));
    let html = String::from_utf8(bodies[1].clone()).unwrap();
    assert!(html.contains("FYI &lt;3") && html.ends_with("<p>See <b>attached</b>.</p>"));
    assert_eq!(attachments, [b"a,b\n1,2\n".to_vec()]);
    let fwd_status = app.status(&t.token, &fwd).await;
    assert_eq!(
        fwd_status.expires_at, original.expires_at,
        "a forward never outlives its original"
    );

    // Erin got her own notice and signs in with her own passcode.
    let erin = app.sign_in(&fwd, "erin@example.org").await;
    assert_eq!(app.request_key(&erin).await.0, StatusCode::OK);
    // Erin forwards it on; revoking the original takes back both forwards.
    let (status, sent) = post(
        &app,
        &erin,
        "forward",
        serde_json::json!({ "to": ["frank@example.com"] }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    let fwd2 = sent["message_id"].as_str().unwrap().to_owned();
    let frank = app.sign_in(&fwd2, "frank@example.com").await;
    app.json::<serde_json::Value>(
        Method::POST,
        &format!("/api/admin/messages/{id}/revoke"),
        &t.token,
        None::<&()>,
    )
    .await;
    for s in [&erin, &frank] {
        let (status, body, _) = app.request_key(s).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body["code"], "message_revoked");
    }
    assert!(app.status(&t.token, &fwd2).await.revoked);
}

#[tokio::test]
async fn each_answer_needs_its_right() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    read_only_template(&app, &t.token).await;

    let mut dnf = message("bob@example.net");
    dnf.rights_template = Some("Do Not Forward".into());
    let dnf = app.send(&t.token, &dnf).await.message_id;
    let bob = app.sign_in(&dnf, "bob@example.net").await;
    let (status, body) = post(
        &app,
        &bob,
        "forward",
        serde_json::json!({ "to": ["eve@example.org"] }),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("not_allowed"))
    );
    assert!(body["message"].as_str().unwrap().contains("forward"));
    assert_eq!(app.mails_to("eve@example.org").await.len(), 0);
    assert_eq!(
        post(&app, &bob, "reply", serde_json::json!({ "text": "ok" }))
            .await
            .0,
        StatusCode::CREATED
    );
    assert_eq!(
        post(&app, &bob, "reply-all", serde_json::json!({ "text": "ok" }))
            .await
            .0,
        StatusCode::CREATED
    );

    let mut ro = message("bob@example.net");
    ro.rights_template = Some("Read only".into());
    let ro = app.send(&t.token, &ro).await.message_id;
    let bob = app.sign_in(&ro, "bob@example.net").await;
    for what in ["reply", "reply-all"] {
        let (status, body) = post(&app, &bob, what, serde_json::json!({ "text": "no" })).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("not_allowed")),
            "{what}"
        );
    }
    assert_eq!(app.request_key(&bob).await.0, StatusCode::OK);

    // Without a session nothing is sent.
    let res = app
        .portal(
            Method::POST,
            &format!("/api/m/{ro}/reply"),
            None,
            true,
            Some(serde_json::json!({ "text": "x" })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // A revoked message cannot be answered.
    let enc = app
        .send(&t.token, &message("bob@example.net"))
        .await
        .message_id;
    let bob = app.sign_in(&enc, "bob@example.net").await;
    app.json::<serde_json::Value>(
        Method::POST,
        &format!("/api/admin/messages/{enc}/revoke"),
        &t.token,
        None::<&()>,
    )
    .await;
    let (status, body) = post(&app, &bob, "reply", serde_json::json!({ "text": "x" })).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("message_revoked"))
    );
}

#[tokio::test]
async fn a_forward_written_after_its_original_was_revoked_is_born_revoked() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let id = app
        .send(&t.token, &message("bob@example.net"))
        .await
        .message_id;
    // The route checked the rights while the message was open (this is what it read)...
    let original = app.state.store.message(&t.id, &id).await.unwrap();
    let tenant = app.state.store.tenant(&t.id).await.unwrap();
    // ...then the revocation committed before the forward was written.
    app.json::<serde_json::Value>(
        Method::POST,
        &format!("/api/admin/messages/{id}/revoke"),
        &t.token,
        None::<&()>,
    )
    .await;
    let (fwd, _) = sealpost::services::replies::forward(
        &app.state,
        &tenant,
        &original,
        "bob@example.net",
        sealpost_api::recipient::ForwardRequest {
            to: vec!["erin@example.org".into()],
            text: String::new(),
        },
    )
    .await
    .unwrap();
    let status = app.status(&t.token, &fwd).await;
    assert!(
        status.revoked,
        "a forward of a revoked message must not be readable"
    );
}

#[tokio::test]
async fn removing_one_recipient_takes_back_what_they_forwarded_and_nothing_else() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let mut req = message("bob@example.net");
    req.to.push("carol@example.org".into());
    let id = app.send(&t.token, &req).await.message_id;
    let bob = app.sign_in(&id, "bob@example.net").await;
    let carol = app.sign_in(&id, "carol@example.org").await;
    let (_, from_bob) = post(
        &app,
        &bob,
        "forward",
        serde_json::json!({ "to": ["erin@example.org"] }),
    )
    .await;
    let (_, from_carol) = post(
        &app,
        &carol,
        "forward",
        serde_json::json!({ "to": ["frank@example.com"] }),
    )
    .await;
    let erin = app
        .sign_in(from_bob["message_id"].as_str().unwrap(), "erin@example.org")
        .await;
    let frank = app
        .sign_in(
            from_carol["message_id"].as_str().unwrap(),
            "frank@example.com",
        )
        .await;

    let (status, _): (_, serde_json::Value) = app
        .json(
            Method::POST,
            &format!("/api/admin/messages/{id}/recipients/bob@example.net/revoke"),
            &t.token,
            None::<&()>,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.request_key(&erin).await.1["code"], "message_revoked");
    assert_eq!(app.request_key(&frank).await.0, StatusCode::OK);
    assert_eq!(app.request_key(&carol).await.0, StatusCode::OK);
}

#[tokio::test]
async fn an_answer_is_sent_from_the_tenant_with_the_recipient_to_reply_to_and_answers_are_limited()
{
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let id = app
        .send(&t.token, &message("bob@example.net"))
        .await
        .message_id;
    let bob = app.sign_in(&id, "bob@example.net").await;
    for _ in 0..20 {
        assert_eq!(
            post(&app, &bob, "reply", serde_json::json!({ "text": "ok" }))
                .await
                .0,
            StatusCode::CREATED
        );
    }
    let notice = &app.mails_to("anna@contoso.example").await[0];
    let parsed = mail_parser::MessageParser::default()
        .parse(&notice.raw)
        .unwrap();
    assert_eq!(
        parsed.from().unwrap().first().unwrap().address(),
        Some("no-reply@contoso.example")
    );
    assert_eq!(
        parsed.reply_to().unwrap().first().unwrap().address(),
        Some("bob@example.net")
    );

    let (status, body) = post(
        &app,
        &bob,
        "forward",
        serde_json::json!({ "to": ["x@example.org"] }),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("too_many_answers"))
    );
    // A new session does not reset the count; an hour does.
    let bob = app.sign_in(&id, "bob@example.net").await;
    assert_eq!(
        post(&app, &bob, "reply", serde_json::json!({ "text": "ok" }))
            .await
            .0,
        StatusCode::TOO_MANY_REQUESTS
    );
    app.clock.advance(3600);
    let bob = app.sign_in(&id, "bob@example.net").await;
    assert_eq!(
        post(&app, &bob, "reply", serde_json::json!({ "text": "ok" }))
            .await
            .0,
        StatusCode::CREATED
    );
}
