//! Sealed parts in an S3-compatible store: a real one (`s3s-fs`, an S3 server over a directory,
//! started and stopped here) behind the whole sealing, reading and range path, readiness, deletion
//! and the sweep of what an interrupted write left.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use sealpost::config::BlobStoreKind;
use sealpost_api::admin::{AttachmentRequest, SendMessageRequest};
use tower::ServiceExt;

use crate::helpers::{TestApp, message};

pub const BUCKET: &str = "sealed";
pub const ACCESS: &str = "sealpost-test";
pub const SECRET: &str = "sealpost-test-secret";

/// `s3s-fs` on a free port, serving `root/` (a bucket is a directory in it). Killed on drop.
pub struct S3Server {
    child: Child,
    pub url: String,
    pub root: PathBuf,
}

impl S3Server {
    pub fn start(root: &Path) -> S3Server {
        std::fs::create_dir_all(root.join(BUCKET)).unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("s3s-fs")
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--access-key",
                ACCESS,
                "--secret-key",
                SECRET,
            ])
            .arg(root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("s3s-fs runs (scripts/setup installs it)");
        let server = S3Server {
            child,
            url: format!("http://127.0.0.1:{port}"),
            root: root.to_owned(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "s3s-fs did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// Every object key in the bucket.
    pub fn keys(&self) -> Vec<String> {
        let base = self.root.join(BUCKET);
        let mut out = Vec::new();
        let mut todo = vec![base.clone()];
        while let Some(d) = todo.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    todo.push(p);
                } else if !p.file_name().unwrap().to_string_lossy().starts_with('.') {
                    out.push(
                        p.strip_prefix(&base)
                            .unwrap()
                            .to_string_lossy()
                            .into_owned(),
                    );
                }
            }
        }
        out.sort();
        out
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn app_on(s3: &S3Server) -> TestApp {
    app_on_with(s3, |_| {}).await
}

/// An app with its sealed parts in `s3`, and `change` made to its configuration.
async fn app_on_with(s3: &S3Server, change: impl FnOnce(&mut sealpost::config::Config)) -> TestApp {
    let url = s3.url.clone();
    TestApp::with_config(|c| {
        c.blob_store = BlobStoreKind::S3;
        c.s3_endpoint = Some(url);
        c.s3_bucket = Some(BUCKET.into());
        c.s3_prefix = "mail".into();
        c.s3_access_key_id = Some(ACCESS.into());
        c.s3_secret_access_key = Some(sealpost::config::Secret(SECRET.into()));
        change(c);
    })
    .await
}

fn with_attachment(to: &str, bytes: &[u8]) -> SendMessageRequest {
    use base64::Engine as _;
    SendMessageRequest {
        attachments: vec![AttachmentRequest {
            name: "figures.bin".into(),
            content_type: Some("application/octet-stream".into()),
            content_base64: base64::engine::general_purpose::STANDARD.encode(bytes),
            content_id: None,
        }],
        ..message(to)
    }
}

#[tokio::test]
async fn messages_are_sealed_into_the_bucket_and_read_back_whole_and_by_range() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = S3Server::start(&dir.path().join("s3"));
    let app = app_on(&s3).await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let id = app
        .send(&t.token, &with_attachment("bob@gmail.example", &bytes))
        .await
        .message_id;

    // The parts are objects under the prefix; nothing went to the local blob directory.
    let keys = s3.keys();
    for part in ["manifest", "body-0", "attachment-0"] {
        assert!(
            keys.contains(&format!("mail/{}/{id}/{part}", t.id)),
            "{keys:?}"
        );
    }
    let local = app.data_dir().join("blobs").join(&t.id);
    assert!(!local.exists());
    let (_, _, attachments) = app.open(&t.id, &id).await;
    assert_eq!(attachments[0], bytes);

    // A recipient's page fetches a window of a part with a Range request.
    let s = app.sign_in(&id, "bob@gmail.example").await;
    let whole = app
        .state
        .store
        .read_part(&t.id, &id, "attachment-0")
        .await
        .unwrap();
    let res = app
        .router
        .clone()
        .oneshot(
            Request::get(format!("/api/m/{id}/parts/attachment-0"))
                .header("cookie", &s.cookie)
                .header("range", "bytes=100000-165535")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    let got = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&got[..], &whole[100_000..165_536]);

    // Ready while the store answers, not ready when it stops.
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
    drop(s3);
    assert_eq!(
        app.get("/readyz").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn deleting_a_message_removes_its_objects_and_the_sweep_removes_only_old_orphans() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = S3Server::start(&dir.path().join("s3"));
    let app = app_on(&s3).await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let kept = app
        .send(&t.token, &message("bob@gmail.example"))
        .await
        .message_id;
    let gone = app
        .send(&t.token, &message("bob@gmail.example"))
        .await
        .message_id;
    app.state.store.delete_message(&t.id, &gone).await.unwrap();
    assert!(
        s3.keys().iter().all(|k| !k.contains(&gone)),
        "{:?}",
        s3.keys()
    );

    // What an interrupted write left: one object an hour and more old, one just written (another
    // node may be about to commit it).
    let bucket = s3.root.join(BUCKET).join("mail").join(&t.id);
    for (message, age) in [("0ld0rphan", "2 hours ago"), ("newrphan", "1 minute ago")] {
        let d = bucket.join(message);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("manifest"), b"left over").unwrap();
        let touched = Command::new("touch")
            .args(["-d", age])
            .arg(d.join("manifest"))
            .status()
            .unwrap();
        assert!(touched.success());
    }
    let app = app.reopen(|_| {}).await;
    let keys = s3.keys();
    assert!(!keys.iter().any(|k| k.contains("0ld0rphan")), "{keys:?}");
    assert!(keys.iter().any(|k| k.contains("newrphan")), "{keys:?}");
    app.open(&t.id, &kept).await;
}

#[tokio::test]
async fn a_draft_attachment_is_a_multipart_upload_resumed_window_by_window() {
    use crate::uploads::{bytes, declare, new_draft, send_draft};
    use sha2::{Digest, Sha256};
    const WINDOW: u64 = 5 * 1024 * 1024;
    let dir = tempfile::tempdir().unwrap();
    let s3 = S3Server::start(&dir.path().join("s3"));
    let app = app_on_with(&s3, |c| c.uploads.window_size = WINDOW).await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let draft = new_draft(&app, &t.token).await;
    let data = bytes(WINDOW as usize + 100_000, 9);
    declare(&app, &t.token, &draft.id, "survey.bin", data.len() as u64).await;
    let put = |start: u64| {
        let end = (start + WINDOW).min(data.len() as u64);
        Request::put(format!("/api/admin/drafts/{}/attachments/0", draft.id))
            .header("authorization", format!("Bearer {}", t.token))
            .header(
                "content-range",
                format!("bytes {start}-{}/{}", end - 1, data.len()),
            )
            .body(Body::from(data[start as usize..end as usize].to_vec()))
            .unwrap()
    };
    let res = app.router.clone().oneshot(put(0)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // One window stored as a part of the upload: no object yet, and none in the local directory.
    let object = format!("mail/{}/{}/attachment-0", t.id, draft.id);
    assert!(!s3.keys().contains(&object), "{:?}", s3.keys());
    assert!(!app.data_dir().join("blobs").join(&t.id).exists());

    // The last window completes the object; sending the draft adds the manifest and body.
    let res = app.router.clone().oneshot(put(WINDOW)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(s3.keys().contains(&object), "{:?}", s3.keys());
    // Completed but not recorded (the database failed just after): the last window sent again
    // finds the object whole, though its upload is gone.
    let rollback = format!(
        "update draft_attachments set received = {WINDOW} where draft_id = '{}'",
        draft.id
    );
    app.database()
        .await
        .execute(&rollback, &rollback)
        .await
        .unwrap();
    let res = app.router.clone().oneshot(put(WINDOW)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (status, sent) = send_draft(&app, &t.token, &draft.id, &message("bob@gmail.example")).await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    let (_, _, attachments) = app.open(&t.id, &draft.id).await;
    assert_eq!(Sha256::digest(&attachments[0]), Sha256::digest(&data));

    // A draft deleted halfway leaves no object and no upload behind.
    let gone = new_draft(&app, &t.token).await;
    declare(&app, &t.token, &gone.id, "survey.bin", data.len() as u64).await;
    let first = Request::put(format!("/api/admin/drafts/{}/attachments/0", gone.id))
        .header("authorization", format!("Bearer {}", t.token))
        .header(
            "content-range",
            format!("bytes 0-{}/{}", WINDOW - 1, data.len()),
        )
        .body(Body::from(data[..WINDOW as usize].to_vec()))
        .unwrap();
    assert_eq!(
        app.router.clone().oneshot(first).await.unwrap().status(),
        StatusCode::OK
    );
    let res = app
        .call(
            axum::http::Method::DELETE,
            &format!("/api/admin/drafts/{}", gone.id),
            Some(&t.token),
            None,
            vec![],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(
        s3.keys().iter().all(|k| !k.contains(&gone.id)),
        "{:?}",
        s3.keys()
    );
}
