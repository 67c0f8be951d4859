//! A recipient's reply with files too large for one request: a reply draft begun in the portal,
//! its files sent window by window (as the admin API's drafts take them), then the reply naming
//! the draft. Tested as an outsider would abuse it: other people's drafts, drafts without the
//! right to reply, one recipient's share, all recipients' share of the tenant, and parallel windows.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use sealpost_api::admin::DraftView;
use sha2::{Digest, Sha256};
use tower::ServiceExt;

use crate::answers::{post, read_only_template};
use crate::helpers::{Signed, TestApp, TestTenant, body_text, message};
use crate::uploads::{WINDOW, app_with, bytes, declaration, new_draft, slow_body};

/// A portal request with the session cookie and the CSRF header.
async fn portal(
    app: &TestApp,
    s: &Signed,
    method: Method,
    rest: &str,
    body: Option<serde_json::Value>,
) -> (StatusCode, serde_json::Value) {
    let res = app
        .portal(
            method,
            &format!("/api/m/{}/{rest}", s.message_id),
            Some(&s.cookie),
            true,
            body,
        )
        .await;
    let status = res.status();
    let text = body_text(res).await;
    (status, serde_json::from_str(&text).unwrap_or_default())
}

async fn begin(app: &TestApp, s: &Signed) -> (StatusCode, serde_json::Value) {
    portal(app, s, Method::POST, "drafts", None).await
}

async fn declare(
    app: &TestApp,
    s: &Signed,
    draft: &str,
    size: u64,
) -> (StatusCode, serde_json::Value) {
    let d = serde_json::to_value(declaration("plans.bin", size)).unwrap();
    portal(
        app,
        s,
        Method::POST,
        &format!("drafts/{draft}/attachments"),
        Some(d),
    )
    .await
}

fn window_request(s: &Signed, draft: &str, data: &[u8], start: u64, body: Body) -> Request<Body> {
    let end = (start + WINDOW).min(data.len() as u64);
    let digest = Sha256::digest(&data[start as usize..end as usize]);
    Request::put(format!(
        "/api/m/{}/drafts/{draft}/attachments/0",
        s.message_id
    ))
    .header("cookie", &s.cookie)
    .header(sealpost_api::recipient::CSRF_HEADER, "1")
    .header("content-type", "application/octet-stream")
    .header(
        "content-range",
        format!("bytes {start}-{}/{}", end - 1, data.len()),
    )
    .header(
        "content-digest",
        format!("sha-256=:{}:", BASE64.encode(digest)),
    )
    .body(body)
    .unwrap()
}

async fn put_window(
    app: &TestApp,
    s: &Signed,
    draft: &str,
    data: &[u8],
    start: u64,
) -> (StatusCode, serde_json::Value) {
    let end = (start + WINDOW).min(data.len() as u64);
    let body = Body::from(data[start as usize..end as usize].to_vec());
    let res = app
        .router
        .clone()
        .oneshot(window_request(s, draft, data, start, body))
        .await
        .unwrap();
    let status = res.status();
    let text = body_text(res).await;
    (status, serde_json::from_str(&text).unwrap_or_default())
}

/// Send `data`'s windows from `start` on.
async fn upload(app: &TestApp, s: &Signed, draft: &str, data: &[u8], mut start: u64) {
    while start < data.len() as u64 {
        let (status, view) = put_window(app, s, draft, data, start).await;
        assert_eq!(status, StatusCode::OK, "{view}");
        start = view["received"].as_u64().unwrap();
    }
}

/// A message to Bob, copied to Carol, and both signed in.
async fn to_bob_and_carol(app: &TestApp, t: &TestTenant) -> (String, Signed, Signed) {
    let mut req = message("bob@example.net");
    req.cc = vec!["carol@example.org".into()];
    let m = app.send(&t.token, &req).await.message_id;
    let bob = app.sign_in(&m, "bob@example.net").await;
    let carol = app.sign_in(&m, "carol@example.org").await;
    (m, bob, carol)
}

fn id(v: &serde_json::Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("{v}")).to_owned()
}

#[tokio::test]
async fn a_reply_carries_a_file_sent_in_windows_and_the_sender_opens_it_whole() {
    let app = app_with(|_| {}).await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let original = app.send(&t.token, &message("bob@example.net")).await;
    let bob = app.sign_in(&original.message_id, "bob@example.net").await;

    let (status, draft) = begin(&app, &bob).await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    let draft: DraftView = serde_json::from_value(draft).unwrap();
    assert_eq!(
        (draft.from.as_str(), draft.window_size),
        ("bob@example.net", WINDOW)
    );
    let big = bytes(3 * WINDOW as usize + 12_345, 7);
    let (status, a) = declare(&app, &bob, &draft.id, big.len() as u64).await;
    assert_eq!(
        (status, a["index"].as_u64()),
        (StatusCode::CREATED, Some(0)),
        "{a}"
    );
    // Sending before every byte arrived is refused, and leaves the draft to go on with.
    put_window(&app, &bob, &draft.id, &big, 0).await;
    let reply = serde_json::json!({ "text": "The plans.", "draft": draft.id });
    let (status, body) = post(&app, &bob, "reply", reply.clone()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("upload_incomplete"))
    );
    upload(&app, &bob, &draft.id, &big, WINDOW).await;

    let mut reply = reply;
    reply["attachments"] = serde_json::json!([
        { "name": "note.txt", "content_type": "text/plain", "content_base64": BASE64.encode("small") }
    ]);
    let (status, sent) = post(&app, &bob, "reply", reply).await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    let reply_id = sent["message_id"].as_str().unwrap();
    assert_eq!(reply_id, draft.id, "the draft's id is the reply's");
    let (manifest, bodies, attachments) = app.open(&t.id, reply_id).await;
    assert_eq!(manifest.from, "bob@example.net");
    assert_eq!(manifest.to, ["anna@contoso.example"]);
    assert_eq!(bodies[0], b"The plans.");
    let names: Vec<_> = manifest
        .attachments
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(names, ["plans.bin", "note.txt"]);
    assert_eq!(attachments[0], big, "the uploaded file opens whole");
    assert_eq!(attachments[1], b"small");
    // The sender reads it in the portal like any reply.
    let anna = app.sign_in(reply_id, "anna@contoso.example").await;
    assert_eq!(app.request_key(&anna).await.0, StatusCode::OK);

    // Sent: the draft is gone, and cannot be sent twice.
    let (status, _) = portal(
        &app,
        &bob,
        Method::GET,
        &format!("drafts/{}", draft.id),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let again = serde_json::json!({ "text": "again", "draft": draft.id });
    assert_eq!(
        post(&app, &bob, "reply", again).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_reply_draft_is_reached_only_by_its_recipient_through_its_message() {
    let app = app_with(|_| {}).await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let mut req = message("bob@example.net");
    req.cc = vec!["carol@example.org".into()];
    let first = app.send(&t.token, &req).await.message_id;
    let second = app
        .send(&t.token, &message("bob@example.net"))
        .await
        .message_id;
    let bob = app.sign_in(&first, "bob@example.net").await;
    let carol = app.sign_in(&first, "carol@example.org").await;
    let bob_elsewhere = app.sign_in(&second, "bob@example.net").await;
    let other = app.tenant("Fabrikam", &["fabrikam.example"]).await;

    let (_, draft) = begin(&app, &bob).await;
    let draft = id(&draft);
    let data = bytes(2 * WINDOW as usize, 3);
    declare(&app, &bob, &draft, data.len() as u64).await;
    let admin_draft = new_draft(&app, &t.token).await.id;

    // Another recipient of the same message, the same recipient through another message, the
    // tenant's admin API and another tenant's: none of them finds it.
    for s in [&carol, &bob_elsewhere] {
        let (status, _) = portal(&app, s, Method::GET, &format!("drafts/{draft}"), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = declare(&app, s, &draft, 10).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(
            put_window(&app, s, &draft, &data, 0).await.0,
            StatusCode::NOT_FOUND
        );
        let (status, _) = portal(&app, s, Method::DELETE, &format!("drafts/{draft}"), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let reply = serde_json::json!({ "text": "mine now", "draft": draft });
        assert_eq!(post(&app, s, "reply", reply).await.0, StatusCode::NOT_FOUND);
    }
    for token in [&t.token, &other.token] {
        let (status, _): (_, serde_json::Value) = app
            .json(
                Method::GET,
                &format!("/api/admin/drafts/{draft}"),
                token,
                None::<&()>,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    // And a recipient cannot reach the admin API's drafts.
    let (status, _) = portal(
        &app,
        &bob,
        Method::GET,
        &format!("drafts/{admin_draft}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let reply = serde_json::json!({ "text": "x", "draft": admin_draft });
    assert_eq!(
        post(&app, &bob, "reply", reply).await.0,
        StatusCode::NOT_FOUND
    );

    // Its own recipient removes it.
    let (status, _) = portal(&app, &bob, Method::DELETE, &format!("drafts/{draft}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn only_a_recipient_who_may_reply_begins_a_draft_or_sends_its_windows() {
    let app = app_with(|_| {}).await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    read_only_template(&app, &t.token).await;
    let mut ro = message("bob@example.net");
    ro.rights_template = Some("Read only".into());
    let ro = app.send(&t.token, &ro).await.message_id;
    let bob = app.sign_in(&ro, "bob@example.net").await;
    let (status, body) = begin(&app, &bob).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("not_allowed")),
        "{body}"
    );

    // Revoked mid-upload: nothing more is taken.
    let id_ = app
        .send(&t.token, &message("bob@example.net"))
        .await
        .message_id;
    let bob = app.sign_in(&id_, "bob@example.net").await;
    let (_, draft) = begin(&app, &bob).await;
    let draft = id(&draft);
    let data = bytes(2 * WINDOW as usize, 4);
    declare(&app, &bob, &draft, data.len() as u64).await;
    assert_eq!(
        put_window(&app, &bob, &draft, &data, 0).await.0,
        StatusCode::OK
    );
    app.json::<serde_json::Value>(
        Method::POST,
        &format!("/api/admin/messages/{id_}/revoke"),
        &t.token,
        None::<&()>,
    )
    .await;
    let (status, body) = put_window(&app, &bob, &draft, &data, WINDOW).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("message_revoked")),
        "{body}"
    );
    assert_eq!(begin(&app, &bob).await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn one_recipient_has_a_few_drafts_and_bytes_however_many_messages_they_reply_to() {
    let app = app_with(|c| c.uploads.max_bytes_per_recipient = 300_000).await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let mut bobs = Vec::new();
    for _ in 0..3 {
        let m = app
            .send(&t.token, &message("bob@example.net"))
            .await
            .message_id;
        bobs.push(app.sign_in(&m, "bob@example.net").await);
    }
    let (_, one) = begin(&app, &bobs[0]).await;
    let (status, two) = begin(&app, &bobs[1]).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = begin(&app, &bobs[2]).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("too_many_drafts")),
        "the third draft at once, from another message"
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("You are already")
    );

    assert_eq!(
        declare(&app, &bobs[0], &id(&one), 200_000).await.0,
        StatusCode::CREATED
    );
    let (status, body) = declare(&app, &bobs[1], &id(&two), 200_000).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("upload_quota")),
        "{body}"
    );
    // Discarding one frees its share.
    let (status, _) = portal(
        &app,
        &bobs[0],
        Method::DELETE,
        &format!("drafts/{}", id(&one)),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        declare(&app, &bobs[1], &id(&two), 200_000).await.0,
        StatusCode::CREATED
    );
    assert_eq!(begin(&app, &bobs[2]).await.0, StatusCode::CREATED);
}

#[tokio::test]
async fn recipients_together_never_take_more_than_half_of_what_the_tenant_may_hold() {
    let app = app_with(|c| {
        c.uploads.max_drafts_per_tenant = 6;
        c.uploads.max_bytes_per_tenant = 1_000_000;
    })
    .await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let mut req = message("bob@example.net");
    req.cc = (0..4).map(|n| format!("r{n}@example.org")).collect();
    let m = app.send(&t.token, &req).await.message_id;
    let mut outsiders = Vec::new();
    for n in 0..4 {
        outsiders.push(app.sign_in(&m, &format!("r{n}@example.org")).await);
    }
    // Three outsiders (each within their own share) take the recipients' half of the drafts.
    let mut drafts = Vec::new();
    for s in &outsiders[..3] {
        let (status, d) = begin(&app, s).await;
        assert_eq!(status, StatusCode::CREATED, "{d}");
        drafts.push(id(&d));
    }
    let (status, body) = begin(&app, &outsiders[3]).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("too_many_drafts")),
        "{body}"
    );
    // ...and of the bytes.
    assert_eq!(
        declare(&app, &outsiders[0], &drafts[0], 300_000).await.0,
        StatusCode::CREATED
    );
    let (status, body) = declare(&app, &outsiders[1], &drafts[1], 300_000).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("upload_quota")),
        "{body}"
    );
    // The tenant's own senders still have their half, up to the tenant's limit.
    for _ in 0..3 {
        new_draft(&app, &t.token).await;
    }
    let (status, _): (_, serde_json::Value) = app
        .json(
            Method::POST,
            "/api/admin/drafts",
            &t.token,
            Some(&serde_json::json!({ "from": "anna@contoso.example" })),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn one_recipient_sends_one_window_at_a_time() {
    let app = app_with(|_| {}).await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let mut bobs = Vec::new();
    let mut drafts = Vec::new();
    for _ in 0..2 {
        let m = app
            .send(&t.token, &message("bob@example.net"))
            .await
            .message_id;
        let bob = app.sign_in(&m, "bob@example.net").await;
        let (_, d) = begin(&app, &bob).await;
        drafts.push(id(&d));
        bobs.push(bob);
    }
    let data = bytes(2 * WINDOW as usize, 5);
    for (bob, d) in bobs.iter().zip(&drafts) {
        declare(&app, bob, d, data.len() as u64).await;
    }
    // A window that is still arriving: its second piece is taken only once the first was read,
    // so the request holds the recipient's slot by then.
    let (tx, slow) = slow_body();
    let first = tokio::spawn(
        app.router
            .clone()
            .oneshot(window_request(&bobs[0], &drafts[0], &data, 0, slow)),
    );
    tx.send(Ok(Bytes::copy_from_slice(&data[..1000])))
        .await
        .unwrap();
    tx.send(Ok(Bytes::copy_from_slice(&data[1000..2000])))
        .await
        .unwrap();
    // A second window (of another draft, through another message) is refused at once.
    let (status, body) = put_window(&app, &bobs[1], &drafts[1], &data, 0).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("upload_in_progress")),
        "{body}"
    );
    tx.send(Ok(Bytes::copy_from_slice(&data[2000..WINDOW as usize])))
        .await
        .unwrap();
    drop(tx);
    let res = first.await.unwrap().unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Then it goes through.
    assert_eq!(
        put_window(&app, &bobs[1], &drafts[1], &data, 0).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn recipients_sending_slowly_never_hold_the_sealing_slots_the_tenant_needs() {
    let app = app_with(|c| c.uploads.windows_at_once = 2).await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let (_, bob, carol) = to_bob_and_carol(&app, &t).await;
    let data = bytes(2 * WINDOW as usize, 6);
    let mut drafts = Vec::new();
    for s in [&bob, &carol] {
        let (_, d) = begin(&app, s).await;
        declare(&app, s, &id(&d), data.len() as u64).await;
        drafts.push(id(&d));
    }
    // Bob trickles a window: it holds the recipients' one slot of this node's two.
    let (tx, slow) = slow_body();
    let first = tokio::spawn(
        app.router
            .clone()
            .oneshot(window_request(&bob, &drafts[0], &data, 0, slow)),
    );
    tx.send(Ok(Bytes::copy_from_slice(&data[..1000])))
        .await
        .unwrap();
    tx.send(Ok(Bytes::copy_from_slice(&data[1000..2000])))
        .await
        .unwrap();

    // Carol's window waits for the recipients' share, and so does a recipient of another tenant's;
    // the tenant's own upload goes through.
    let (status, body) = put_window(&app, &carol, &drafts[1], &data, 0).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("uploads_busy")),
        "{body}"
    );
    let other = app.tenant("Fabrikam", &["fabrikam.example"]).await;
    let mut theirs = message("dave@example.com");
    theirs.from = "kim@fabrikam.example".into();
    let theirs = app.send(&other.token, &theirs).await.message_id;
    let dave = app.sign_in(&theirs, "dave@example.com").await;
    let (_, d) = begin(&app, &dave).await;
    declare(&app, &dave, &id(&d), data.len() as u64).await;
    let (status, body) = put_window(&app, &dave, &id(&d), &data, 0).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("uploads_busy")),
        "{body}"
    );
    let own = new_draft(&app, &t.token).await.id;
    crate::uploads::declare(&app, &t.token, &own, "own.bin", data.len() as u64).await;
    let (status, view) = crate::uploads::put_window(&app, &t.token, &own, 0, &data, 0).await;
    assert_eq!(status, StatusCode::OK, "{view}");

    tx.send(Ok(Bytes::copy_from_slice(&data[2000..WINDOW as usize])))
        .await
        .unwrap();
    drop(tx);
    assert_eq!(first.await.unwrap().unwrap().status(), StatusCode::OK);
    assert_eq!(
        put_window(&app, &carol, &drafts[1], &data, 0).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn revoking_a_message_removes_the_replies_being_uploaded_to_it() {
    let app = app_with(|_| {}).await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let (m, bob, carol) = to_bob_and_carol(&app, &t).await;
    let data = bytes(2 * WINDOW as usize, 8);
    let mut drafts = Vec::new();
    for s in [&bob, &carol] {
        let (_, d) = begin(&app, s).await;
        declare(&app, s, &id(&d), data.len() as u64).await;
        assert_eq!(
            put_window(&app, s, &id(&d), &data, 0).await.0,
            StatusCode::OK
        );
        drafts.push(id(&d));
    }
    let there = |draft: &str| {
        let (store, tenant, draft, now) = (
            app.state.store.clone(),
            t.id.clone(),
            draft.to_owned(),
            app.clock.now(),
        );
        async move { store.draft(&tenant, &draft, now).await.is_ok() }
    };
    let part = |draft: &str| {
        app.data_dir()
            .join("blobs")
            .join(&t.id)
            .join(draft)
            .join("attachment-0")
    };
    assert!(part(&drafts[1]).exists());

    // Revoked for Carol: her draft goes, with what she uploaded; Bob's stays.
    let (status, _): (_, serde_json::Value) = app
        .json(
            Method::POST,
            &format!("/api/admin/messages/{m}/recipients/carol@example.org/revoke"),
            &t.token,
            None::<&()>,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!there(&drafts[1]).await);
    assert!(!part(&drafts[1]).exists());
    assert!(there(&drafts[0]).await);
    // Revoked for everyone: Bob's goes too.
    app.json::<serde_json::Value>(
        Method::POST,
        &format!("/api/admin/messages/{m}/revoke"),
        &t.token,
        None::<&()>,
    )
    .await;
    assert!(!there(&drafts[0]).await);
}

#[tokio::test]
async fn a_reply_draft_left_idle_for_an_hour_goes_and_one_in_use_stays() {
    let app = app_with(|_| {}).await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let (m, bob, carol) = to_bob_and_carol(&app, &t).await;
    let data = bytes(3 * WINDOW as usize, 9);
    // Bob declares 4 GiB worth of nothing and leaves; Carol uploads slowly but steadily.
    let (_, idle) = begin(&app, &bob).await;
    declare(&app, &bob, &id(&idle), 100_000).await;
    let (_, busy) = begin(&app, &carol).await;
    declare(&app, &carol, &id(&busy), data.len() as u64).await;
    let mut start = 0;
    for _ in 0..3 {
        app.clock.advance(25 * 60);
        let (status, view) = put_window(&app, &carol, &id(&busy), &data, start).await;
        assert_eq!(status, StatusCode::OK, "{view}");
        start = view["received"].as_u64().unwrap();
    }
    // 75 minutes in: Bob's went at 60, Carol's is kept an hour after her last window.
    sealpost::services::uploads::sweep(&app.state)
        .await
        .unwrap();
    let now = app.clock.now();
    assert!(app.state.store.draft(&t.id, &id(&idle), now).await.is_err());
    let (status, view) = portal(
        &app,
        &carol,
        Method::GET,
        &format!("drafts/{}", id(&busy)),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    let reply = serde_json::json!({ "text": "All of it.", "draft": id(&busy) });
    assert_eq!(
        post(&app, &carol, "reply", reply).await.0,
        StatusCode::CREATED
    );
    // Bob's share is free again: signed in anew, he may begin another.
    let bob = app.sign_in(&m, "bob@example.net").await;
    assert_eq!(begin(&app, &bob).await.0, StatusCode::CREATED);
}
