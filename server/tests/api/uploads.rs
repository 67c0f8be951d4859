//! Large attachments through drafts: declared, sent window by window, sealed as each window
//! arrives, resumed after an interruption, and refused when out of order, changed, oversized,
//! another tenant's, or over a tenant's limits. Windows are 64 KiB here, so an attachment of a
//! few hundred kilobytes spans several.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use sealpost::services::uploads;
use sealpost_api::ErrorBody;
use sealpost_api::admin::{
    AttachmentRequest, CreateDraftAttachmentRequest, CreateDraftRequest, DraftAttachmentView,
    DraftView, MessageStatusView, SendMessageRequest,
};
use sealpost_envelope::part::sealed_len;
use sha2::{Digest, Sha256};
use tower::ServiceExt;

use crate::helpers::{TestApp, body_text, message};

pub const WINDOW: u64 = 64 * 1024;

pub async fn app_with(change: impl FnOnce(&mut sealpost::config::Config)) -> TestApp {
    TestApp::with_config(|c| {
        c.uploads.window_size = WINDOW;
        change(c);
    })
    .await
}

/// A request body sent piece by piece: a piece sent is taken only once the one before it was
/// read, so after two sends the request is certainly reading its body.
pub fn slow_body() -> (
    tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    Body,
) {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
    let body = Body::from_stream(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)));
    (tx, body)
}

pub fn bytes(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 13) as u8)
        .collect()
}

pub async fn new_draft(app: &TestApp, token: &str) -> DraftView {
    let (status, view): (_, serde_json::Value) = app
        .json(
            Method::POST,
            "/api/admin/drafts",
            token,
            Some(&CreateDraftRequest {
                from: "anna@contoso.example".into(),
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{view}");
    serde_json::from_value(view).unwrap()
}

pub fn declaration(name: &str, size: u64) -> CreateDraftAttachmentRequest {
    CreateDraftAttachmentRequest {
        name: name.into(),
        content_type: Some("application/octet-stream".into()),
        content_id: None,
        size,
    }
}

pub async fn declare(
    app: &TestApp,
    token: &str,
    draft: &str,
    name: &str,
    size: u64,
) -> DraftAttachmentView {
    let (status, view): (_, serde_json::Value) = app
        .json(
            Method::POST,
            &format!("/api/admin/drafts/{draft}/attachments"),
            token,
            Some(&declaration(name, size)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{view}");
    serde_json::from_value(view).unwrap()
}

/// PUT one window with a body given as a stream (to cut it short).
pub async fn put_body(
    app: &TestApp,
    token: &str,
    uri: &str,
    range: &str,
    digest: Option<&[u8]>,
    body: Body,
) -> (StatusCode, serde_json::Value) {
    let mut req = Request::put(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/octet-stream")
        .header("content-range", range);
    if let Some(d) = digest {
        req = req.header("content-digest", format!("sha-256=:{}:", BASE64.encode(d)));
    }
    let res = app
        .router
        .clone()
        .oneshot(req.body(body).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let text = body_text(res).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: {text}")),
    )
}

/// PUT the window of `data` that starts at `start`.
pub async fn put_window(
    app: &TestApp,
    token: &str,
    draft: &str,
    index: u32,
    data: &[u8],
    start: u64,
) -> (StatusCode, serde_json::Value) {
    let end = (start + WINDOW).min(data.len() as u64);
    let window = data[start as usize..end as usize].to_vec();
    let digest = Sha256::digest(&window);
    put_body(
        app,
        token,
        &format!("/api/admin/drafts/{draft}/attachments/{index}"),
        &format!("bytes {start}-{}/{}", end - 1, data.len()),
        Some(&digest),
        Body::from(window),
    )
    .await
}

pub async fn upload(app: &TestApp, token: &str, draft: &str, index: u32, data: &[u8]) {
    let mut start = 0;
    while start < data.len() as u64 {
        let (status, view) = put_window(app, token, draft, index, data, start).await;
        assert_eq!(status, StatusCode::OK, "{view}");
        start = view["received"].as_u64().unwrap();
    }
}

pub async fn send_draft(
    app: &TestApp,
    token: &str,
    draft: &str,
    req: &SendMessageRequest,
) -> (StatusCode, serde_json::Value) {
    app.json(
        Method::POST,
        &format!("/api/admin/drafts/{draft}/send"),
        token,
        Some(req),
    )
    .await
}

async fn show(app: &TestApp, token: &str, draft: &str) -> (StatusCode, serde_json::Value) {
    app.json(
        Method::GET,
        &format!("/api/admin/drafts/{draft}"),
        token,
        None::<&()>,
    )
    .await
}

fn code(v: &serde_json::Value) -> String {
    serde_json::from_value::<ErrorBody>(v.clone())
        .map(|e| e.code)
        .unwrap_or_else(|_| panic!("not a refusal: {v}"))
}

fn part_path(app: &TestApp, tenant: &str, draft: &str, index: u32) -> std::path::PathBuf {
    app.data_dir()
        .join("blobs")
        .join(tenant)
        .join(draft)
        .join(format!("attachment-{index}"))
}

#[tokio::test]
async fn attachments_sent_in_windows_are_sealed_as_they_arrive_and_open_whole() {
    let app = app_with(|_| {}).await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let draft = new_draft(&app, &t.token).await;
    assert_eq!(draft.window_size, WINDOW);
    // Three and a half windows, and exactly two (whose final chunk is empty).
    let big = bytes(3 * WINDOW as usize + 30_000, 1);
    let even = bytes(2 * WINDOW as usize, 2);
    let a = declare(&app, &t.token, &draft.id, "survey.bin", big.len() as u64).await;
    let b = declare(&app, &t.token, &draft.id, "scan.tif", even.len() as u64).await;
    assert_eq!((a.index, b.index), (0, 1));
    upload(&app, &t.token, &draft.id, 0, &big).await;
    upload(&app, &t.token, &draft.id, 1, &even).await;

    // Sealed on disk where the message's parts will be, never as plaintext.
    let sealed = std::fs::read(part_path(&app, &t.id, &draft.id, 0)).unwrap();
    assert_eq!(sealed.len() as u64, sealed_len(big.len() as u64));
    assert!(!sealed.windows(64).any(|w| big[..64] == *w));
    let (_, shown) = show(&app, &t.token, &draft.id).await;
    let shown: DraftView = serde_json::from_value(shown).unwrap();
    assert!(shown.attachments.iter().all(|a| a.complete));

    // Sent with a small attachment of its own, which follows the uploaded ones.
    let req = SendMessageRequest {
        attachments: vec![AttachmentRequest {
            name: "note.txt".into(),
            content_type: Some("text/plain".into()),
            content_base64: BASE64.encode(b"small"),
            content_id: None,
        }],
        ..message("bob@gmail.example")
    };
    let (status, view) = send_draft(&app, &t.token, &draft.id, &req).await;
    assert_eq!(status, StatusCode::CREATED, "{view}");
    let view: MessageStatusView = serde_json::from_value(view).unwrap();
    assert_eq!(view.message_id, draft.id, "the message has the draft's id");
    let (manifest, _, attachments) = app.open(&t.id, &view.message_id).await;
    let names: Vec<&str> = manifest
        .attachments
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(names, ["survey.bin", "scan.tif", "note.txt"]);
    assert_eq!(manifest.attachments[0].size, big.len() as u64);
    assert_eq!(Sha256::digest(&attachments[0]), Sha256::digest(&big));
    assert_eq!(Sha256::digest(&attachments[1]), Sha256::digest(&even));
    assert_eq!(attachments[2], b"small");

    // The draft went with the send: a second send, or a look, finds nothing.
    let (status, again) = send_draft(&app, &t.token, &draft.id, &req).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{again}");
    assert_eq!(
        show(&app, &t.token, &draft.id).await.0,
        StatusCode::NOT_FOUND
    );

    // A recipient reads the uploaded attachment by range, as the portal does.
    let s = app.sign_in(&view.message_id, "bob@gmail.example").await;
    let res = app
        .router
        .clone()
        .oneshot(
            Request::get(format!("/api/m/{}/parts/attachment-0", view.message_id))
                .header("cookie", &s.cookie)
                .header("range", "bytes=0-99")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
}

#[tokio::test]
async fn an_interrupted_window_stores_nothing_and_the_upload_goes_on_where_it_stopped() {
    let app = app_with(|_| {}).await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let draft = new_draft(&app, &t.token).await;
    let data = bytes(2 * WINDOW as usize + 500, 3);
    declare(&app, &t.token, &draft.id, "data.bin", data.len() as u64).await;
    let (status, _) = put_window(&app, &t.token, &draft.id, 0, &data, 0).await;
    assert_eq!(status, StatusCode::OK);
    let path = part_path(&app, &t.id, &draft.id, 0);
    let after_first = std::fs::metadata(&path).unwrap().len();

    // The second window's connection drops halfway.
    let half = Bytes::copy_from_slice(&data[WINDOW as usize..(WINDOW + WINDOW / 2) as usize]);
    let cut = futures_util::stream::iter(vec![
        Ok(half),
        Err(std::io::Error::other("connection reset")),
    ]);
    let (status, refusal) = put_body(
        &app,
        &t.token,
        &format!("/api/admin/drafts/{}/attachments/0", draft.id),
        &format!("bytes {WINDOW}-{}/{}", 2 * WINDOW - 1, data.len()),
        None,
        Body::from_stream(cut),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&refusal), "upload_interrupted");
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        after_first,
        "nothing of it was written"
    );
    let (_, shown) = show(&app, &t.token, &draft.id).await;
    assert_eq!(shown["attachments"][0]["received"], WINDOW);

    // A crash after writing a window but before recording it leaves bytes past the recorded end:
    // the next write cuts them off.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    std::io::Write::write_all(&mut f, &[0xAA; 100_000]).unwrap();
    drop(f);

    // The client asks where to go on, and does.
    let received = shown["attachments"][0]["received"].as_u64().unwrap();
    let (status, view) = put_window(&app, &t.token, &draft.id, 0, &data, received).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    let (status, view) = put_window(&app, &t.token, &draft.id, 0, &data, 2 * WINDOW).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["complete"], true);
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        sealed_len(data.len() as u64),
        "what the crash left past the end is cut off"
    );
    // The uploaded attachment may be all the message has: no text, HTML or inline attachment.
    let bare = SendMessageRequest {
        text: None,
        ..message("bob@gmail.example")
    };
    let (status, sent) = send_draft(&app, &t.token, &draft.id, &bare).await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    let (_, _, attachments) = app.open(&t.id, &draft.id).await;
    assert!(attachments[0] == data);
}

#[tokio::test]
async fn windows_out_of_order_misplaced_cut_or_mislabelled_are_refused_and_store_nothing() {
    let app = app_with(|_| {}).await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let draft = new_draft(&app, &t.token).await;
    let data = bytes(2 * WINDOW as usize + 10, 4);
    let len = data.len() as u64;
    declare(&app, &t.token, &draft.id, "data.bin", len).await;
    let uri = format!("/api/admin/drafts/{}/attachments/0", draft.id);
    let window = |a: u64, b: u64| Body::from(data[a as usize..b as usize].to_vec());

    // The second window before the first.
    let (status, r) = put_window(&app, &t.token, &draft.id, 0, &data, WINDOW).await;
    assert_eq!(
        (status, code(&r).as_str()),
        (StatusCode::CONFLICT, "upload_out_of_order")
    );
    // A window that does not fit the declared attachment conflicts with it (409); a body other
    // than its range says, or a range that is no range, is a bad request (400).
    for (range, body, status, expected) in [
        // Not on a window boundary, or not a whole window.
        (
            format!("bytes 10-{}/{len}", WINDOW + 9),
            window(10, WINDOW + 10),
            StatusCode::CONFLICT,
            "upload_window_length",
        ),
        (
            format!("bytes 0-99/{len}"),
            window(0, 100),
            StatusCode::CONFLICT,
            "upload_window_length",
        ),
        // The right range, but the body is shorter or longer than it says.
        (
            format!("bytes 0-{}/{len}", WINDOW - 1),
            window(0, WINDOW - 1),
            StatusCode::BAD_REQUEST,
            "upload_window_length",
        ),
        (
            format!("bytes 0-{}/{len}", WINDOW - 1),
            window(0, WINDOW + 1),
            StatusCode::BAD_REQUEST,
            "upload_window_length",
        ),
        // Another size than declared.
        (
            format!("bytes 0-{}/{}", WINDOW - 1, len + 1),
            window(0, WINDOW),
            StatusCode::CONFLICT,
            "upload_size_mismatch",
        ),
        (
            "bytes 0-10/*".to_owned(),
            window(0, 11),
            StatusCode::BAD_REQUEST,
            "invalid_content_range",
        ),
    ] {
        let (got, r) = put_body(&app, &t.token, &uri, &range, None, body).await;
        assert_eq!(got, status, "{range}: {r}");
        assert_eq!(code(&r), expected, "{range}");
    }
    // A digest that does not match the bytes.
    let (status, r) = put_body(
        &app,
        &t.token,
        &uri,
        &format!("bytes 0-{}/{len}", WINDOW - 1),
        Some(&[0u8; 32]),
        window(0, WINDOW),
    )
    .await;
    assert_eq!(
        (status, code(&r).as_str()),
        (StatusCode::BAD_REQUEST, "digest_mismatch")
    );
    // A Content-Digest that is not one.
    for bad in ["sha-256=notbase64", "sha-256=:AAAA:", "md5=:AAAA:"] {
        let res = app
            .router
            .clone()
            .oneshot(
                Request::put(&uri)
                    .header("authorization", format!("Bearer {}", t.token))
                    .header("content-range", format!("bytes 0-{}/{len}", WINDOW - 1))
                    .header("content-digest", bad)
                    .body(window(0, WINDOW))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
        let body: serde_json::Value = serde_json::from_str(&body_text(res).await).unwrap();
        assert_eq!(code(&body), "invalid_digest", "{bad}");
    }
    assert!(
        !part_path(&app, &t.id, &draft.id, 0).exists(),
        "nothing was stored"
    );

    // Not complete yet: the draft cannot be sent.
    let (status, r) = send_draft(&app, &t.token, &draft.id, &message("bob@gmail.example")).await;
    assert_eq!(
        (status, code(&r).as_str()),
        (StatusCode::CONFLICT, "upload_incomplete")
    );
    upload(&app, &t.token, &draft.id, 0, &data).await;
    let (status, r) = put_window(&app, &t.token, &draft.id, 0, &data, 0).await;
    assert_eq!(
        (status, code(&r).as_str()),
        (StatusCode::CONFLICT, "upload_complete")
    );
    // Another sender than the draft's.
    let other = SendMessageRequest {
        from: "carl@contoso.example".into(),
        ..message("bob@gmail.example")
    };
    let (status, r) = send_draft(&app, &t.token, &draft.id, &other).await;
    assert_eq!(status, StatusCode::CONFLICT, "{r}");
    assert_eq!(code(&r), "draft_sender_changed");
}

#[tokio::test]
async fn a_window_is_never_sealed_again_with_other_bytes_and_one_writer_holds_it_at_a_time() {
    let app = app_with(|_| {}).await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let draft = new_draft(&app, &t.token).await;
    let data = bytes(WINDOW as usize + 100, 5);
    declare(&app, &t.token, &draft.id, "data.bin", data.len() as u64).await;
    let other = bytes(WINDOW as usize, 6);

    // A first attempt with other bytes got as far as storing them, then failed before it was
    // recorded (its request holds the window until its lease ends).
    let now = app.clock.now();
    let begun = app
        .state
        .store
        .begin_window(
            sealpost::store::drafts::AttachmentRef {
                tenant_id: &t.id,
                draft_id: &draft.id,
                index: 0,
            },
            0,
            &Sha256::digest(&other),
            now + 60,
            now,
        )
        .await
        .unwrap();
    assert!(begun.is_ok());
    let (status, r) = put_window(&app, &t.token, &draft.id, 0, &data, 0).await;
    assert_eq!(
        (status, code(&r).as_str()),
        (StatusCode::CONFLICT, "upload_busy")
    );

    // Its lease ends (the node died): the window is taken again, but only with the same bytes,
    // since the same chunk nonces would seal them.
    app.clock.advance(61);
    let (status, r) = put_window(&app, &t.token, &draft.id, 0, &data, 0).await;
    assert_eq!(
        (status, code(&r).as_str()),
        (StatusCode::CONFLICT, "upload_window_changed")
    );
    let mut same = data.clone();
    same[..WINDOW as usize].copy_from_slice(&other);
    let (status, r) = put_window(&app, &t.token, &draft.id, 0, &same, 0).await;
    assert_eq!(status, StatusCode::OK, "{r}");
}

#[tokio::test]
async fn uploads_are_bounded_per_attachment_per_draft_and_per_tenant() {
    let app = app_with(|c| {
        c.uploads.max_attachment_size = 300_000;
        c.uploads.max_bytes_per_tenant = 500_000;
        c.uploads.max_drafts_per_tenant = 2;
    })
    .await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let first = new_draft(&app, &t.token).await;
    let uri = format!("/api/admin/drafts/{}/attachments", first.id);
    let (status, r) = app
        .json::<serde_json::Value>(
            Method::POST,
            &uri,
            &t.token,
            Some(&declaration("big", 300_001)),
        )
        .await;
    // A declared size over the limit is a field out of range.
    assert_eq!(
        (status, code(&r).as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "attachment_too_large")
    );
    let (status, r) = app
        .json::<serde_json::Value>(Method::POST, &uri, &t.token, Some(&declaration("empty", 0)))
        .await;
    assert_eq!(
        (status, code(&r).as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "empty_attachment")
    );
    declare(&app, &t.token, &first.id, "a", 300_000).await;

    // The tenant's drafts together: 300 000 + 250 000 is over 500 000, in another draft too.
    let second = new_draft(&app, &t.token).await;
    let (status, r) = app
        .json::<serde_json::Value>(
            Method::POST,
            &format!("/api/admin/drafts/{}/attachments", second.id),
            &t.token,
            Some(&declaration("b", 250_000)),
        )
        .await;
    assert_eq!(
        (status, code(&r).as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "upload_quota")
    );

    // Two drafts at once; deleting one makes room, and frees its bytes.
    let (status, r) = app
        .json::<serde_json::Value>(
            Method::POST,
            "/api/admin/drafts",
            &t.token,
            Some(&CreateDraftRequest {
                from: "anna@contoso.example".into(),
            }),
        )
        .await;
    assert_eq!(
        (status, code(&r).as_str()),
        (StatusCode::CONFLICT, "too_many_drafts")
    );
    let res = app
        .call(
            Method::DELETE,
            &format!("/api/admin/drafts/{}", first.id),
            Some(&t.token),
            None,
            vec![],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    new_draft(&app, &t.token).await;
    declare(&app, &t.token, &second.id, "b", 250_000).await;
}

#[tokio::test]
async fn another_tenants_drafts_cannot_be_seen_filled_sent_or_deleted() {
    let app = app_with(|_| {}).await;
    let contoso = app.tenant("Contoso", &["contoso.example"]).await;
    let fabrikam = app.tenant("Fabrikam", &["fabrikam.example"]).await;
    let draft = new_draft(&app, &contoso.token).await;
    let data = bytes(1000, 7);
    declare(&app, &contoso.token, &draft.id, "data.bin", 1000).await;
    let id = &draft.id;
    assert_eq!(
        show(&app, &fabrikam.token, id).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, _) = app
        .json::<serde_json::Value>(
            Method::POST,
            &format!("/api/admin/drafts/{id}/attachments"),
            &fabrikam.token,
            Some(&declaration("x", 10)),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        put_window(&app, &fabrikam.token, id, 0, &data, 0).await.0,
        StatusCode::NOT_FOUND
    );
    let theirs = SendMessageRequest {
        from: "anna@fabrikam.example".into(),
        ..message("bob@gmail.example")
    };
    assert_eq!(
        send_draft(&app, &fabrikam.token, id, &theirs).await.0,
        StatusCode::NOT_FOUND
    );
    let res = app
        .call(
            Method::DELETE,
            &format!("/api/admin/drafts/{id}"),
            Some(&fabrikam.token),
            None,
            vec![],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // A draft from outside the tenant's domains is refused.
    let (status, r) = app
        .json::<serde_json::Value>(
            Method::POST,
            "/api/admin/drafts",
            &fabrikam.token,
            Some(&CreateDraftRequest {
                from: "anna@contoso.example".into(),
            }),
        )
        .await;
    assert_eq!(
        (status, code(&r).as_str()),
        (StatusCode::CONFLICT, "sender_not_in_tenant")
    );
    // The owner still has it, untouched.
    upload(&app, &contoso.token, id, 0, &data).await;
}

#[tokio::test]
async fn drafts_nobody_sends_expire_with_their_uploads_and_a_restart_keeps_live_ones() {
    let app = app_with(|_| {}).await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let draft = new_draft(&app, &t.token).await;
    let data = bytes(2 * WINDOW as usize, 8);
    declare(&app, &t.token, &draft.id, "data.bin", data.len() as u64).await;
    put_window(&app, &t.token, &draft.id, 0, &data, 0).await;

    // A restart (its sweep of parts no message refers to) keeps a live draft's uploads.
    let app = app.reopen(|_| {}).await;
    let (status, r) = put_window(&app, &t.token, &draft.id, 0, &data, WINDOW).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert!(part_path(&app, &t.id, &draft.id, 0).exists());

    app.clock.advance(uploads::DRAFT_LIFETIME_SECONDS);
    assert_eq!(
        show(&app, &t.token, &draft.id).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(uploads::sweep(&app.state).await.unwrap(), 1);
    assert!(!part_path(&app, &t.id, &draft.id, 0).exists());
    assert_eq!(uploads::sweep(&app.state).await.unwrap(), 0);
}

#[tokio::test]
async fn a_draft_being_sent_takes_nothing_more_and_is_sent_once() {
    let app = app_with(|_| {}).await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let draft = new_draft(&app, &t.token).await;
    let data = bytes(WINDOW as usize + 10, 10);
    declare(&app, &t.token, &draft.id, "data.bin", data.len() as u64).await;
    put_window(&app, &t.token, &draft.id, 0, &data, 0).await;

    // A window being written: the draft cannot be sent until it is stored or its hold ends.
    let now = app.clock.now();
    let at = sealpost::store::drafts::AttachmentRef {
        tenant_id: &t.id,
        draft_id: &draft.id,
        index: 0,
    };
    let begun = app
        .state
        .store
        .begin_window(
            at,
            WINDOW,
            &Sha256::digest(&data[WINDOW as usize..]),
            now + 60,
            now,
        )
        .await
        .unwrap();
    assert!(begun.is_ok());
    let (status, r) = send_draft(&app, &t.token, &draft.id, &message("bob@gmail.example")).await;
    assert_eq!(
        (status, code(&r).as_str()),
        (StatusCode::CONFLICT, "upload_busy")
    );
    app.state.store.end_window(at).await.unwrap();
    let (status, r) = put_window(&app, &t.token, &draft.id, 0, &data, WINDOW).await;
    assert_eq!(status, StatusCode::OK, "{r}");

    // Another request is sending it (a client that retried its send): everything else waits.
    app.state
        .store
        .claim_draft(
            &t.id,
            &draft.id,
            now + uploads::DRAFT_LIFETIME_SECONDS + 600,
            now,
        )
        .await
        .unwrap();
    let (status, r) = send_draft(&app, &t.token, &draft.id, &message("bob@gmail.example")).await;
    assert_eq!(
        (status, code(&r).as_str()),
        (StatusCode::CONFLICT, "draft_sending")
    );
    let (status, r) = app
        .json::<serde_json::Value>(
            Method::POST,
            &format!("/api/admin/drafts/{}/attachments", draft.id),
            &t.token,
            Some(&declaration("late.bin", 100)),
        )
        .await;
    assert_eq!(
        (status, code(&r).as_str()),
        (StatusCode::CONFLICT, "draft_sending")
    );
    let res = app
        .call(
            Method::DELETE,
            &format!("/api/admin/drafts/{}", draft.id),
            Some(&t.token),
            None,
            vec![],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    // The sweep leaves it too, even expired, while it is held; once the hold ends, it goes.
    app.clock.advance(uploads::DRAFT_LIFETIME_SECONDS);
    assert_eq!(uploads::sweep(&app.state).await.unwrap(), 0);
    assert!(part_path(&app, &t.id, &draft.id, 0).exists());
    app.clock.advance(601);
    assert_eq!(uploads::sweep(&app.state).await.unwrap(), 1);
    assert!(!part_path(&app, &t.id, &draft.id, 0).exists());
}

#[tokio::test]
async fn a_draft_begun_before_a_key_roll_goes_on_and_is_sent_after_it() {
    use crate::key_policies::{assign, create_policy, key_files, roll, set_policy};
    let keys = tempfile::tempdir().unwrap();
    let roots = key_files(keys.path());
    let app = app_with(|c| c.root_keys = roots).await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    create_policy(&app, &t.token, "Dep", ["vault-a", "vault-b"]).await;
    assign(&app, &t.token, Some("Dep")).await;
    // A message under the first version, for the roll to move.
    app.send(&t.token, &message("bob@gmail.example")).await;
    let draft = new_draft(&app, &t.token).await;
    let data = bytes(2 * WINDOW as usize + 5, 9);
    declare(&app, &t.token, &draft.id, "plans.bin", data.len() as u64).await;
    assert_eq!(
        put_window(&app, &t.token, &draft.id, 0, &data, 0).await.0,
        StatusCode::OK
    );

    // The roll moves every message to the new version and retires the old one, but not while a
    // draft's key is wrapped under it.
    let (status, view) = set_policy(&app, &t.token, "Dep", &roll()).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    sealpost::services::key_policies::roll::run_to_end(&app.state)
        .await
        .unwrap();
    let mut start = WINDOW;
    while start < data.len() as u64 {
        let (status, view) = put_window(&app, &t.token, &draft.id, 0, &data, start).await;
        assert_eq!(status, StatusCode::OK, "{view}");
        start = view["received"].as_u64().unwrap();
    }
    let (status, view) = send_draft(&app, &t.token, &draft.id, &message("bob@gmail.example")).await;
    assert_eq!(status, StatusCode::CREATED, "{view}");
    let (_, _, attachments) = app.open(&t.id, &draft.id).await;
    assert_eq!(attachments[0], data);
    // Sent under the new version.
    let stored = app.state.store.message(&t.id, &draft.id).await.unwrap();
    assert_eq!(stored.key_version, 2);
}

#[tokio::test]
async fn one_tenant_holds_at_most_half_of_a_nodes_sealing_slots() {
    let app = app_with(|c| c.uploads.windows_at_once = 2).await;
    let a = app.tenant("Contoso", &["contoso.example"]).await;
    let b = app.tenant("Fabrikam", &["fabrikam.example"]).await;
    let data = bytes(2 * WINDOW as usize, 11);
    let mut drafts = Vec::new();
    for t in [&a, &a, &b] {
        let draft = if t.id == b.id {
            let (status, view): (_, serde_json::Value) = app
                .json(
                    Method::POST,
                    "/api/admin/drafts",
                    &t.token,
                    Some(&CreateDraftRequest {
                        from: "kim@fabrikam.example".into(),
                    }),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{view}");
            serde_json::from_value::<DraftView>(view).unwrap()
        } else {
            new_draft(&app, &t.token).await
        };
        declare(&app, &t.token, &draft.id, "plans.bin", data.len() as u64).await;
        drafts.push(draft.id);
    }
    // Contoso's first window is still arriving: its second piece is taken only once the first
    // was read, so the request holds its sealing slot by then.
    let (tx, slow) = slow_body();
    let first = tokio::spawn({
        let (app_router, token, draft) = (app.router.clone(), a.token.clone(), drafts[0].clone());
        let range = format!("bytes 0-{}/{}", WINDOW - 1, data.len());
        async move {
            app_router
                .oneshot(
                    Request::put(format!("/api/admin/drafts/{draft}/attachments/0"))
                        .header("authorization", format!("Bearer {token}"))
                        .header("content-range", range)
                        .body(slow)
                        .unwrap(),
                )
                .await
                .unwrap()
        }
    });
    tx.send(Ok(Bytes::copy_from_slice(&data[..1000])))
        .await
        .unwrap();
    tx.send(Ok(Bytes::copy_from_slice(&data[1000..2000])))
        .await
        .unwrap();

    // Contoso's share (one of two) is taken: its next window is refused at once, to be sent again.
    let (status, refusal) = put_window(&app, &a.token, &drafts[1], 0, &data, 0).await;
    assert_eq!(
        (status, code(&refusal).as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "uploads_busy"),
        "{refusal}"
    );
    // Fabrikam still has its own.
    let (status, view) = put_window(&app, &b.token, &drafts[2], 0, &data, 0).await;
    assert_eq!(status, StatusCode::OK, "{view}");

    tx.send(Ok(Bytes::copy_from_slice(&data[2000..WINDOW as usize])))
        .await
        .unwrap();
    drop(tx);
    assert_eq!(first.await.unwrap().status(), StatusCode::OK);
    // Then Contoso's next window goes through.
    let (status, view) = put_window(&app, &a.token, &drafts[1], 0, &data, 0).await;
    assert_eq!(status, StatusCode::OK, "{view}");
}

#[tokio::test]
async fn a_window_trickled_past_its_time_is_refused_and_frees_its_slot() {
    let app = app_with(|c| {
        c.uploads.window_seconds = 1;
        c.uploads.windows_at_once = 1;
    })
    .await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let draft = new_draft(&app, &t.token).await;
    let data = bytes(2 * WINDOW as usize, 12);
    declare(&app, &t.token, &draft.id, "plans.bin", data.len() as u64).await;
    // A steady trickle (never long enough without bytes for the body timeout) that would take
    // far longer than a second.
    let trickle = futures_util::stream::unfold(0usize, |at| async move {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        Some((
            Ok::<_, std::io::Error>(Bytes::from(vec![0u8; 100])),
            at + 100,
        ))
    });
    let (status, refusal) = put_body(
        &app,
        &t.token,
        &format!("/api/admin/drafts/{}/attachments/0", draft.id),
        &format!("bytes 0-{}/{}", WINDOW - 1, data.len()),
        None,
        Body::from_stream(trickle),
    )
    .await;
    assert_eq!(
        (status, code(&refusal).as_str()),
        (StatusCode::BAD_REQUEST, "upload_too_slow"),
        "{refusal}"
    );
    // Nothing was stored, and the node's one slot is free: the window goes through now.
    let (status, view) = put_window(&app, &t.token, &draft.id, 0, &data, 0).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["received"], WINDOW);
}
