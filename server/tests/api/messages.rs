//! Sending, status, revocation and expiry through `oneshot`, with notices landing in the
//! development mailbox; the all-or-nothing store; and tenant isolation.

use axum::http::{Method, StatusCode};
use base64::Engine as _;
use sealpost_api::admin::{AttachmentRequest, MessageListView, MessageStatusView, NoticeView};
use sealpost_envelope::Part;
use serde_json::json;

use crate::helpers::{START, TestApp, body_text, message};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Every file under the blob directory except the staging directory itself.
fn blob_files(app: &TestApp) -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&app.data_dir().join("blobs"), &mut out);
    out
}

async fn message_count(app: &TestApp, tenant_id: &str) -> usize {
    app.state
        .store
        .messages(tenant_id, 1000)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_message_is_sealed_stored_and_each_external_recipient_gets_a_branded_notice() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let mut req = message("bob@gmail.example");
    req.cc = vec!["carl@contoso.example".into(), "Dana@Yahoo.example".into()];
    req.subject = "Lönespecifikation för november".into();
    req.html = Some("<p>Se bifogad fil.</p><img src=\"cid:chart@x\">".into());
    req.attachments = vec![
        AttachmentRequest {
            name: "lön.pdf".into(),
            content_type: Some("application/pdf".into()),
            content_base64: b64(&[0x25; 70_000]),
            content_id: None,
        },
        AttachmentRequest {
            name: "chart.png".into(),
            content_type: Some("image/png".into()),
            content_base64: b64(b"\x89PNG\r\n\x1a\nchart"),
            content_id: Some("<chart@x>".into()),
        },
    ];
    let view = app.send(&t.token, &req).await;
    assert_eq!(view.subject, "Lönespecifikation för november");
    assert!(view.is_revocable && !view.revoked && !view.expired);
    assert_eq!(view.expires_at, None);
    assert_eq!(view.rights_template, "Encrypt");
    let recipients: Vec<_> = view
        .recipients
        .iter()
        .map(|r| (r.address.as_str(), r.kind.as_str()))
        .collect();
    assert_eq!(
        recipients,
        [("bob@gmail.example", "to"), ("dana@yahoo.example", "cc")],
        "the internal cc gets no notice"
    );
    assert!(
        view.recipients
            .iter()
            .all(|r| matches!(r.notice, NoticeView::Sent { .. }))
    );

    let (manifest, bodies, attachments) = app.open(&t.id, &view.message_id).await;
    assert_eq!(manifest.cc, ["carl@contoso.example", "dana@yahoo.example"]);
    assert_eq!(bodies[0], b"See attached.");
    assert_eq!(
        bodies[1],
        "<p>Se bifogad fil.</p><img src=\"cid:chart@x\">".as_bytes()
    );
    assert_eq!(attachments[0], vec![0x25; 70_000]);
    assert_eq!(manifest.attachments[0].name, "lön.pdf");
    assert_eq!(
        manifest.attachments[1].content_id.as_deref(),
        Some("chart@x")
    );

    // Nothing in the database or blob files is plaintext.
    if !app.on_postgres() {
        let db = std::fs::read(app.data_dir().join("sealpost.db")).unwrap();
        let wal = std::fs::read(app.data_dir().join("sealpost.db-wal")).unwrap_or_default();
        for haystack in [&db, &wal] {
            assert!(!haystack.windows(8).any(|w| w == "Lönespec".as_bytes()));
        }
    }
    for f in blob_files(&app) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(!bytes.windows(13).any(|w| w == b"See attached."), "{f:?}");
    }

    // The notices, as the development mailbox kept them.
    let mails = app.state.store.dev_mailbox_list(10).await.unwrap();
    assert_eq!(mails.len(), 2);
    let mut links = Vec::new();
    for mail in &mails {
        let parsed = mail_parser::MessageParser::default()
            .parse(&mail.raw)
            .unwrap();
        assert_eq!(parsed.subject(), Some("Lönespecifikation för november"));
        let text = parsed.body_text(0).unwrap();
        let html = parsed.body_html(0).unwrap();
        assert!(text.contains("anna@contoso.example has sent you a protected message."));
        assert!(html.contains("Read the message"));
        let link = text
            .lines()
            .find(|l| l.starts_with("https://sealpost.test/m/"))
            .unwrap()
            .to_owned();
        assert!(link.starts_with(&format!(
            "https://sealpost.test/m/{}#t=spl_",
            view.message_id
        )));
        assert!(
            !text.contains("See attached."),
            "the notice carries no content"
        );
        links.push(link);
    }
    assert_ne!(
        links[0], links[1],
        "each recipient has their own link token"
    );
}

#[tokio::test]
async fn a_raw_message_is_accepted_with_templates_in_the_query() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let raw = "From: Anna <anna@contoso.example>\r\nTo: bob@gmail.example\r\nSubject: Hej\r\n\
               MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHej Bob\r\n";
    let res = app
        .call(
            Method::POST,
            "/api/admin/messages?rights_template=Do%20Not%20Forward&expires_in_days=3",
            Some(&t.token),
            Some("message/rfc822"),
            raw.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let view: MessageStatusView = serde_json::from_str(&body_text(res).await).unwrap();
    assert_eq!(view.rights, ["view", "reply", "reply_all"]);
    assert_eq!(view.expires_at.as_deref(), Some("2026-11-24T10:00:00Z"));
    let res = app
        .call(
            Method::POST,
            "/api/admin/messages",
            Some(&t.token),
            Some("text/plain"),
            b"hi".to_vec(),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn refused_sends_store_nothing_and_say_why() {
    let app = TestApp::with_config(|c| c.max_message_size = 1000).await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let mut big = message("bob@gmail.example");
    big.attachments = vec![AttachmentRequest {
        name: "big.bin".into(),
        content_type: None,
        content_base64: b64(&[1; 1001]),
        content_id: None,
    }];
    let mut outsider = message("bob@gmail.example");
    outsider.from = "mallory@evil.example".into();
    let internal = message("carl@contoso.example");
    let mut bad_branding = message("bob@gmail.example");
    bad_branding.branding_template = Some("Nope".into());
    let mut bad_rights = message("bob@gmail.example");
    bad_rights.rights_template = Some("Nope".into());
    let mut bad_expiry = message("bob@gmail.example");
    bad_expiry.expires_in_days = Some(731);
    let mut bad_base64 = message("bob@gmail.example");
    bad_base64.attachments = vec![AttachmentRequest {
        name: "x".into(),
        content_type: None,
        content_base64: "***".into(),
        content_id: None,
    }];
    let cases = [
        (
            big,
            StatusCode::PAYLOAD_TOO_LARGE,
            "message_too_large",
            None,
        ),
        (outsider, StatusCode::CONFLICT, "sender_not_in_tenant", None),
        (
            internal,
            StatusCode::CONFLICT,
            "no_external_recipients",
            None,
        ),
        (
            bad_branding,
            StatusCode::CONFLICT,
            "unknown_branding_template",
            None,
        ),
        (
            bad_rights,
            StatusCode::CONFLICT,
            "unknown_rights_template",
            None,
        ),
        (
            bad_expiry,
            StatusCode::UNPROCESSABLE_ENTITY,
            "expiry_out_of_range",
            Some("expires_in_days"),
        ),
        (
            bad_base64,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_base64",
            Some("attachments[0].content_base64"),
        ),
    ];
    for (req, status, code, field) in cases {
        let (got, err) = app
            .refusal(Method::POST, "/api/admin/messages", &t.token, Some(&req))
            .await;
        assert_eq!((got, err.code.as_str()), (status, code));
        assert_eq!(err.field.as_deref(), field, "{code}");
    }
    // A body far over the limit is refused before it is even parsed.
    let res = app
        .call(
            Method::POST,
            "/api/admin/messages",
            Some(&t.token),
            Some("message/rfc822"),
            vec![b'a'; 2 * 1024 * 1024],
        )
        .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(message_count(&app, &t.id).await, 0);
    assert!(blob_files(&app).is_empty());
    assert!(
        app.state
            .store
            .dev_mailbox_list(10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_database_failure_half_way_leaves_no_message_and_no_blobs() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    // Break the database on purpose: the message row goes in, the recipient row fails.
    let db = app.database().await;
    db.execute(
        "create trigger fail_recipients before insert on recipients \
         begin select raise(abort, 'injected failure'); end",
        "create function fail() returns trigger language plpgsql as \
         $$ begin raise exception 'injected failure'; end $$; \
         create trigger fail_recipients before insert on recipients \
         for each row execute function fail()",
    )
    .await
    .unwrap();
    let mut req = message("bob@gmail.example");
    req.attachments = vec![AttachmentRequest {
        name: "a.bin".into(),
        content_type: None,
        content_base64: b64(&[9; 50_000]),
        content_id: None,
    }];
    let (status, err) = app
        .refusal(Method::POST, "/api/admin/messages", &t.token, Some(&req))
        .await;
    assert_eq!(
        (status, err.code.as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, "internal")
    );
    assert!(
        !err.message.contains("injected"),
        "internal detail is not sent"
    );
    assert_eq!(message_count(&app, &t.id).await, 0);
    assert!(blob_files(&app).is_empty(), "{:?}", blob_files(&app));
    assert!(
        app.state
            .store
            .dev_mailbox_list(10)
            .await
            .unwrap()
            .is_empty(),
        "no notice for a message that does not exist"
    );

    db.execute(
        "drop trigger fail_recipients",
        "drop trigger fail_recipients on recipients",
    )
    .await
    .unwrap();
    db.close().await;
    app.send(&t.token, &req).await;
    assert_eq!(message_count(&app, &t.id).await, 1);
}

#[tokio::test]
async fn leftovers_of_a_crash_are_swept_when_the_store_opens() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let kept = app.send(&t.token, &message("bob@gmail.example")).await;
    let blobs = app.data_dir().join("blobs");
    // A crash after the blobs were renamed into place but before the commit, and one mid-staging.
    let orphan = blobs.join(&t.id).join("0123456789abcdef0123456789abcdef");
    std::fs::create_dir_all(&orphan).unwrap();
    std::fs::write(orphan.join("manifest"), b"x").unwrap();
    let staging = blobs.join(".staging").join("deadbeef");
    std::fs::create_dir_all(&staging).unwrap();
    std::fs::write(staging.join("body-0"), b"x").unwrap();

    let app = app.reopen(|_| {}).await;
    assert!(!orphan.exists());
    assert!(!staging.exists());
    let part = app
        .state
        .store
        .read_part(&t.id, &kept.message_id, &Part::Manifest.name())
        .await;
    assert!(part.is_ok(), "a stored message is untouched");
}

#[tokio::test]
async fn revocation_is_recorded_with_who_and_when_for_a_message_or_one_recipient() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let mut req = message("bob@gmail.example");
    req.to.push("dana@yahoo.example".into());
    let sent = app.send(&t.token, &req).await;
    let id = &sent.message_id;

    app.clock.advance(60);
    let (status, view): (_, MessageStatusView) = app
        .json(
            Method::POST,
            &format!("/api/admin/messages/{id}/recipients/Dana@yahoo.example/revoke"),
            &t.token,
            None::<&()>,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !view.revoked,
        "one recipient revoked leaves the message open to the others"
    );
    let dana = view
        .recipients
        .iter()
        .find(|r| r.address == "dana@yahoo.example")
        .unwrap();
    let revoked = dana.revoked.as_ref().unwrap();
    assert_eq!(
        (revoked.by.as_str(), revoked.at.as_str()),
        ("bootstrap", "2026-11-21T10:01:00Z")
    );
    let res = app
        .call(
            Method::POST,
            &format!("/api/admin/messages/{id}/recipients/nobody@x.example/revoke"),
            Some(&t.token),
            None,
            vec![],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    app.clock.advance(60);
    let (_, view): (_, MessageStatusView) = app
        .json(
            Method::POST,
            &format!("/api/admin/messages/{id}/revoke"),
            &t.token,
            None::<&()>,
        )
        .await;
    assert!(view.revoked && !view.is_revocable);
    let r = view.revocation.unwrap();
    assert_eq!(
        (r.by.as_str(), r.at.as_str()),
        ("bootstrap", "2026-11-21T10:02:00Z")
    );
    // Revoking again keeps the first record.
    app.clock.advance(60);
    let (_, again): (_, MessageStatusView) = app
        .json(
            Method::POST,
            &format!("/api/admin/messages/{id}/revoke"),
            &t.token,
            None::<&()>,
        )
        .await;
    assert_eq!(again.revocation.unwrap().at, "2026-11-21T10:02:00Z");

    let (_, list): (_, MessageListView) = app
        .json(Method::GET, "/api/admin/messages", &t.token, None::<&()>)
        .await;
    assert_eq!(list.messages.len(), 1);
    let log = app.state.store.audit_events(&t.id, 10).await.unwrap();
    let actions: Vec<_> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["message.revoked", "recipient.revoked", "message.sent"]
    );
}

#[tokio::test]
async fn expiry_comes_from_the_template_or_the_message_and_shows_in_the_notice() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let (status, _): (_, serde_json::Value) = app
        .json(
            Method::POST,
            "/api/admin/branding-templates",
            &t.token,
            Some(&json!({"identity": "Week", "external_mail_expiry_in_days": 7})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let mut req = message("bob@gmail.example");
    req.branding_template = Some("Week".into());
    let weekly = app.send(&t.token, &req).await;
    assert_eq!(weekly.expires_at.as_deref(), Some("2026-11-28T10:00:00Z"));
    let mail = &app.state.store.dev_mailbox_list(1).await.unwrap()[0];
    let text = String::from_utf8_lossy(&mail.raw);
    assert!(
        text.contains("This message expires on 28 November 2026 10:00 UTC."),
        "{text}"
    );

    req.expires_in_days = Some(0);
    let never = app.send(&t.token, &req).await;
    assert_eq!(never.expires_at, None);

    app.clock.advance(7 * 86_400 - 1);
    assert!(!app.status(&t.token, &weekly.message_id).await.expired);
    app.clock.advance(1);
    assert!(app.status(&t.token, &weekly.message_id).await.expired);
    assert!(!app.status(&t.token, &never.message_id).await.expired);
    assert_eq!(START + 7 * 86_400, app.clock.now());
}

#[tokio::test]
async fn a_tenant_can_never_read_change_or_revoke_another_tenants_data() {
    let app = TestApp::new().await;
    let a = app.tenant("Contoso", &["contoso.example"]).await;
    let b = app.tenant("Fabrikam", &["fabrikam.example"]).await;
    let sent = app.send(&a.token, &message("bob@gmail.example")).await;
    let (status, _): (_, serde_json::Value) = app
        .json(
            Method::POST,
            "/api/admin/branding-templates",
            &a.token,
            Some(&json!({"identity": "Secret"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let tokens = app.state.store.tokens(&a.id).await.unwrap();
    let id = &sent.message_id;
    let forbidden = [
        (Method::GET, format!("/api/admin/messages/{id}")),
        (Method::POST, format!("/api/admin/messages/{id}/revoke")),
        (
            Method::POST,
            format!("/api/admin/messages/{id}/recipients/bob@gmail.example/revoke"),
        ),
        (
            Method::GET,
            "/api/admin/branding-templates/Secret".to_owned(),
        ),
        (
            Method::PATCH,
            "/api/admin/branding-templates/Secret".to_owned(),
        ),
        (
            Method::DELETE,
            "/api/admin/branding-templates/Secret".to_owned(),
        ),
        (
            Method::DELETE,
            format!("/api/admin/tokens/{}", tokens[0].id),
        ),
    ];
    for (method, uri) in forbidden {
        let body = if method == Method::PATCH {
            b"{}".to_vec()
        } else {
            vec![]
        };
        let res = app
            .call(
                method.clone(),
                &uri,
                Some(&b.token),
                Some("application/json"),
                body,
            )
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{method} {uri}");
    }
    let (_, list): (_, MessageListView) = app
        .json(Method::GET, "/api/admin/messages", &b.token, None::<&()>)
        .await;
    assert!(list.messages.is_empty());
    // B cannot send as A either.
    let (_, err) = app
        .refusal(
            Method::POST,
            "/api/admin/messages",
            &b.token,
            Some(&message("x@gmail.example")),
        )
        .await;
    assert_eq!(err.code, "sender_not_in_tenant");
    // And A's message and token are untouched.
    let after = app.status(&a.token, id).await;
    assert!(!after.revoked && after.recipients[0].revoked.is_none());
    assert!(
        app.state.store.tokens(&a.id).await.unwrap()[0]
            .revoked_at
            .is_none()
    );
}

#[tokio::test]
async fn the_development_mailbox_page_exists_only_when_enabled() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    app.send(&t.token, &message("bob@gmail.example")).await;
    let res = app.get("/dev/mailbox").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let page = body_text(res).await;
    assert!(page.contains("bob@gmail.example") && page.contains("Quarterly numbers"));
    let mail = &app.state.store.dev_mailbox_list(1).await.unwrap()[0];
    let page = body_text(app.get(&format!("/dev/mailbox/{}", mail.id)).await).await;
    assert!(page.contains("data-testid=\"read-link\" href=\"https://sealpost.test/m/"));

    let off = TestApp::with_config(|c| {
        c.dev_mailbox = false;
        c.smtp_host = Some("127.0.0.1".into());
    })
    .await;
    let res = off.get("/dev/mailbox").await;
    // Falls through to the portal like any unknown page: no mailbox content.
    assert!(!body_text(res).await.contains("Development mailbox"));
}
