//! Key releases share one durable commit (the group commit in `store::decisions`), and a release
//! is answered only once its commit is on disk. A real `sealpost serve` is killed (SIGKILL, no
//! chance to flush anything) while many releases are in flight; afterwards every release that was
//! answered 200 has its audit event and its portal log entry, and the chain verifies.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::json;

use crate::processes::{
    Maildev, bootstrap, cookie_of, enable_portal_log, http, json_of, notice_link, passcode_mail,
    portal, send_to_bob, serve,
};

/// POST a key request; the status, or `None` if the server went away before answering in full.
fn release(addr: &str, path: &str, cookie: &str, body: &[u8]) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n\
         Content-Type: application/json\r\nX-Sealpost-Request: 1\r\nCookie: {cookie}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body).ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let split = response.windows(4).position(|w| w == b"\r\n\r\n")?;
    let status: u16 = std::str::from_utf8(response.get(9..12)?)
        .ok()?
        .parse()
        .ok()?;
    // A 200 counts only with its whole answer (the release itself).
    let answer: serde_json::Value = serde_json::from_slice(&response[split + 4..]).ok()?;
    (status != 200 || answer["release"].is_string()).then_some(status)
}

#[test]
fn a_crash_during_group_commits_loses_no_acknowledged_release() {
    let dir = tempfile::tempdir().unwrap();
    let maildev = Maildev::start(dir.path());
    let token = bootstrap(dir.path(), maildev.smtp);
    let (server, url) = serve(dir.path(), maildev.smtp);
    let addr = url.trim_start_matches("http://").to_owned();
    enable_portal_log(&addr, &token);
    let id = send_to_bob(&addr, &token, "Durable", "Hello Bob.");
    let link = notice_link(&maildev);
    let (status, _, body) = portal(
        &addr,
        &format!("/api/m/{id}/passcode"),
        None,
        &json!({ "token": link }),
    );
    assert_eq!(status, 202, "{body}");
    let code = passcode_mail(&maildev, body["reference"].as_str().unwrap(), &[]);
    let (status, head, body) = portal(
        &addr,
        &format!("/api/m/{id}/session"),
        None,
        &json!({ "token": link, "passcode": code }),
    );
    assert_eq!(status, 200, "{body}");
    let cookie = cookie_of(&head);
    let pair = sealpost_envelope::RecipientKeyPair::generate();
    let key_body = serde_json::to_vec(&json!({
        "public_key": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(pair.public_key())
    }))
    .unwrap();
    let key_path = format!("/api/m/{id}/key");

    // Sixteen clients ask as fast as they can (within the per-client limit on requests at once).
    let answered = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..16)
        .map(|_| {
            let (addr, key_path, cookie, key_body) = (
                addr.clone(),
                key_path.clone(),
                cookie.clone(),
                key_body.clone(),
            );
            let (answered, stop) = (answered.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match release(&addr, &key_path, &cookie, &key_body) {
                        Some(200) => {
                            answered.fetch_add(1, Ordering::SeqCst);
                        }
                        Some(other) => panic!("a release was answered {other}"),
                        None => return,
                    }
                }
            })
        })
        .collect();
    let start = Instant::now();
    while answered.load(Ordering::SeqCst) < 500 {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "only {} releases in two minutes",
            answered.load(Ordering::SeqCst)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // Releases shared commits: fewer commits than decisions.
    let (_, metrics) = http(&addr, "GET", "/metrics", None, None);
    let metrics = String::from_utf8(metrics).unwrap();
    let released = counter(
        &metrics,
        "sealpost_key_decisions_total{outcome=\"released\"}",
    );
    let commits = counter(&metrics, "sealpost_key_decision_commits_total");
    assert!(
        commits < released,
        "{commits} commits for {released} releases"
    );
    // Killed while the clients keep asking, so commits are under way.
    let mut server = server;
    server.0.kill().unwrap();
    server.0.wait().unwrap();
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.join().unwrap();
    }
    let acknowledged = answered.load(Ordering::SeqCst);
    drop(server);

    // The database as the crash left it (SQLite replays its journal on opening).
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (audited, logged) = runtime.block_on(async {
        let db = sqlx::SqlitePool::connect(&format!(
            "sqlite://{}",
            dir.path().join("data/sealpost.db").display()
        ))
        .await
        .unwrap();
        let (audited,): (i64,) = sqlx::query_as(
            "select count(*) from audit_events where action = 'key.released' and target = $1",
        )
        .bind(&id)
        .fetch_one(&db)
        .await
        .unwrap();
        let (logged,): (i64,) = sqlx::query_as(
            "select count(*) from portal_log where event = 'key_released' and message_id = $1",
        )
        .bind(&id)
        .fetch_one(&db)
        .await
        .unwrap();
        db.close().await;
        (
            u64::try_from(audited).unwrap(),
            u64::try_from(logged).unwrap(),
        )
    });
    assert!(
        audited >= acknowledged,
        "{acknowledged} releases were answered, {audited} audited"
    );
    assert!(
        logged >= acknowledged,
        "{acknowledged} releases were answered, {logged} in the portal log"
    );
    // Only releases whose commit was under way may be recorded without an answer.
    assert!(
        audited - acknowledged <= 16 * 4,
        "{audited} vs {acknowledged}"
    );

    // Started again on what the crash left, the chain verifies and holds every entry.
    let (_server, url) = serve(dir.path(), maildev.smtp);
    let addr = url.trim_start_matches("http://");
    let (status, body) = http(
        addr,
        "GET",
        "/api/admin/portal-log/verify",
        Some(&token),
        None,
    );
    assert_eq!(status, 200);
    let verified = json_of(&body);
    assert_eq!(verified["intact"], true, "{verified}");
    assert!(
        verified["entries"].as_u64().unwrap() >= logged,
        "{verified}"
    );
}

/// A counter's value in a Prometheus text exposition.
fn counter(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {metrics}"))
}

/// One record the database refuses (an audit event of a tenant that does not exist) in a shared
/// commit: the commit fails, each record is written alone, and only that one fails. Two refused in
/// a row: the database is taken to be failing, and the rest are refused at once.
#[tokio::test]
async fn a_record_the_database_refuses_fails_alone_in_a_shared_commit() {
    use futures_util::future::join_all;
    use sealpost::store::AuditEvent;
    use sealpost::store::decisions::DecisionRecord;

    let app = crate::helpers::TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let record = |tenant: &str, target: &str| DecisionRecord {
        audit: AuditEvent {
            tenant_id: tenant.to_owned(),
            at: app.clock.now(),
            actor: "bob@gmail.example".into(),
            action: "key.released".into(),
            target: target.to_owned(),
        },
        portal: None,
        opened: None,
        touched: None,
    };
    let writer = &app.state.decisions;
    // Queued together before the writer runs (this test's runtime has one thread), so one batch.
    let done = join_all(
        [
            record(&t.id, "m1"),
            record("no-such-tenant", "m2"),
            record(&t.id, "m3"),
        ]
        .map(|r| writer.record(r)),
    )
    .await;
    assert!(
        done[0].is_ok() && done[1].is_err() && done[2].is_ok(),
        "{done:?}"
    );
    let done = join_all(
        [
            record("no-such-tenant", "m4"),
            record("no-such-tenant", "m5"),
            record(&t.id, "m6"),
        ]
        .map(|r| writer.record(r)),
    )
    .await;
    assert!(done.iter().all(Result::is_err), "{done:?}");
    let written: Vec<String> = app
        .state
        .store
        .audit_events(&t.id, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.actor == "bob@gmail.example")
        .map(|e| e.target)
        .collect();
    assert_eq!(written, ["m3", "m1"], "newest first; nothing half-written");
}
