//! Two `sealpost serve` processes on different ports, sharing one PostgreSQL database and one
//! S3-compatible blob store, as several nodes behind a reverse proxy do: a recipient signs in on
//! one and is given the key by the other; wrong passcodes and the per-client limit on tries are
//! counted across both; a revocation
//! through one is refused by the other at once. It needs PostgreSQL, so it is ignored in plain runs
//! and the test command's PostgreSQL run (inside `pg_virtualenv`) asks for it by name; run without
//! PostgreSQL, it fails.

use std::process::Command;

use serde_json::json;

use crate::blobs_s3::{ACCESS, BUCKET, S3Server, SECRET};
use crate::helpers::test_database;
use crate::processes::{
    Maildev, Running, cookie_of, http, http_with, notice_link, passcode_mail, portal, sealpost,
    send_to_bob, serve_with,
};

/// One node: its process and host:port.
struct Node {
    _process: Running,
    addr: String,
}

#[test]
#[ignore = "needs PostgreSQL: the test command's PostgreSQL run names it"]
fn two_nodes_share_sign_in_passcode_counts_revocation_and_blobs() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let database_url = runtime.block_on(test_database()).expect(
        "two nodes need PostgreSQL: run inside pg_virtualenv with SEALPOST_TEST_POSTGRES=1",
    );
    let dir = tempfile::tempdir().unwrap();
    let s3 = S3Server::start(&dir.path().join("s3"));
    let maildev = Maildev::start(dir.path());
    let shared = [
        ("SEALPOST_DATABASE_URL", database_url),
        ("SEALPOST_BLOB_STORE", "s3".to_owned()),
        ("SEALPOST_S3_ENDPOINT", s3.url.clone()),
        ("SEALPOST_S3_BUCKET", BUCKET.to_owned()),
        ("SEALPOST_S3_ACCESS_KEY_ID", ACCESS.to_owned()),
        ("SEALPOST_S3_SECRET_ACCESS_KEY", SECRET.to_owned()),
    ];
    let (dir_a, dir_b) = (dir.path().join("a"), dir.path().join("b"));

    // The first node's tenant; the second node gets the same root key, as the deployment guide
    // says every node must.
    let out = sealpost(
        &dir_a,
        maildev.smtp,
        &[
            "tenant",
            "create",
            "--name",
            "Contoso",
            "--domain",
            "contoso.example",
        ],
    )
    .envs(shared.iter().cloned())
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .find(|w| w.starts_with("spa_"))
        .unwrap()
        .to_owned();
    std::fs::create_dir_all(dir_b.join("data")).unwrap();
    std::fs::copy(dir_a.join("data/root.key"), dir_b.join("data/root.key")).unwrap();

    let start = |dir: &std::path::Path| {
        let (process, url) = serve_with(dir, maildev.smtp, &shared);
        Node {
            _process: process,
            addr: url.trim_start_matches("http://").to_owned(),
        }
    };
    let (a, b) = (start(&dir_a), start(&dir_b));
    for node in [&a, &b] {
        assert_eq!(http(&node.addr, "GET", "/readyz", None, None).0, 200);
    }
    let node_ids: Vec<String> = [&dir_a, &dir_b]
        .iter()
        .map(|d| std::fs::read_to_string(d.join("data/node.id")).unwrap())
        .collect();
    assert_ne!(node_ids[0], node_ids[1], "each node has its own id");

    // Sent through A: sealed into the shared bucket, the notice mailed.
    let id = send_to_bob(&a.addr, &token, "Två noder", "Hej Bob.");
    assert!(s3.keys().iter().any(|k| k.contains(&id)), "{:?}", s3.keys());
    let link = notice_link(&maildev);

    // A passcode asked for on B; wrong tries on both nodes count toward the same five.
    let (status, _, body) = portal(
        &b.addr,
        &format!("/api/m/{id}/passcode"),
        None,
        &json!({"token": link}),
    );
    assert_eq!(status, 202, "{body}");
    let first = passcode_mail(&maildev, body["reference"].as_str().unwrap(), &[]);
    let code = first.clone();
    let wrong = if code == "00000000" {
        "00000001"
    } else {
        "00000000"
    };
    for node in [&a, &b, &a, &b, &a] {
        let (status, _, _) = portal(
            &node.addr,
            &format!("/api/m/{id}/session"),
            None,
            &json!({"token": link, "passcode": wrong}),
        );
        assert_eq!(status, 401);
    }
    let (status, _, _) = portal(
        &b.addr,
        &format!("/api/m/{id}/session"),
        None,
        &json!({"token": link, "passcode": code}),
    );
    assert_eq!(
        status, 401,
        "the sixth try, on the other node, is refused even when right"
    );

    // A fresh code signs in on A; B honours the session and releases the key.
    let (status, _, body) = portal(
        &a.addr,
        &format!("/api/m/{id}/passcode"),
        None,
        &json!({"token": link}),
    );
    assert_eq!(status, 202, "{body}");
    let code = passcode_mail(&maildev, body["reference"].as_str().unwrap(), &[first]);
    let (status, head, body) = portal(
        &a.addr,
        &format!("/api/m/{id}/session"),
        None,
        &json!({"token": link, "passcode": code}),
    );
    assert_eq!(status, 200, "{body}");
    let cookie = cookie_of(&head);
    let pair = sealpost_envelope::RecipientKeyPair::generate();
    use base64::Engine as _;
    let key_body = json!({
        "public_key": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(pair.public_key())
    });
    let key_path = format!("/api/m/{id}/key");
    let (status, _, body) = portal(&b.addr, &key_path, Some(&cookie), &key_body);
    assert_eq!(status, 200, "{body}");
    // The sealed manifest, written through A, is read through B from the shared bucket.
    let (status, _, manifest) = http_with(
        &b.addr,
        "GET",
        &format!("/api/m/{id}/parts/manifest"),
        &[("Cookie", cookie.clone())],
        None,
    );
    assert_eq!(status, 200);
    assert!(!manifest.is_empty());

    // Revoked through B: A refuses the very next request.
    let (status, _) = http(
        &b.addr,
        "POST",
        &format!("/api/admin/messages/{id}/revoke"),
        Some(&token),
        None,
    );
    assert_eq!(status, 200);
    let (status, _, body) = portal(&a.addr, &key_path, Some(&cookie), &key_body);
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("message_revoked"))
    );

    // The limits are the database's, not a node's: this client has made 7 sign-in tries so far
    // (on both nodes); guessing with made-up links on alternate nodes, it is refused on its 31st.
    let mut refused_at = None;
    for n in 8..=40 {
        let node = if n % 2 == 0 { &a } else { &b };
        let (status, head, body) = portal(
            &node.addr,
            &format!("/api/m/{id}/session"),
            None,
            &json!({"token": format!("made-up-{n}"), "passcode": "12345678"}),
        );
        if status == 429 {
            assert_eq!(body["code"], "too_many_attempts", "{body}");
            assert!(head.to_ascii_lowercase().contains("retry-after:"), "{head}");
            refused_at = Some(n);
            break;
        }
        assert_eq!(status, 401, "{body}");
    }
    assert_eq!(
        refused_at,
        Some(31),
        "30 tries per client in 10 minutes, across nodes"
    );

    // Both stop cleanly on SIGTERM.
    for node in [a, b] {
        let mut node = node;
        let pid = node._process.0.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        assert!(node._process.0.wait().unwrap().success());
    }
}
