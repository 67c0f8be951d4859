//! The portal tracking log: off until the tenant turns it on; then every recipient step is recorded
//! without secrets, searchable by admins, and chained so an edited or removed row is detected.

use axum::http::{Method, StatusCode};
use sealpost::services::tracking::verify_chain;
use sealpost_api::admin::{PortalLogVerifyView, PortalLogView};

use crate::helpers::{TestApp, mail_text, message};

pub async fn enable(app: &TestApp, token: &str) {
    let (status, view): (_, serde_json::Value) = app
        .json(
            Method::PATCH,
            "/api/admin/tenant",
            token,
            Some(&serde_json::json!({ "enable_portal_tracking_logs": true })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["enable_portal_tracking_logs"], true);
}

async fn log(app: &TestApp, token: &str, query: &str) -> PortalLogView {
    let (status, view) = app
        .json(
            Method::GET,
            &format!("/api/admin/portal-log{query}"),
            token,
            None::<&()>,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    view
}

#[tokio::test]
async fn every_step_is_logged_without_secrets_once_the_tenant_turns_it_on() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let before = app
        .send(&t.token, &message("bob@example.net"))
        .await
        .message_id;
    app.sign_in(&before, "bob@example.net").await;
    assert!(
        log(&app, &t.token, "").await.entries.is_empty(),
        "off by default"
    );

    enable(&app, &t.token).await;
    let id = app
        .send(&t.token, &message("bob@example.net"))
        .await
        .message_id;
    let link = app.link_token(&id, "bob@example.net").await;
    let (code, _) = app.passcode(&id, &link, "bob@example.net").await;
    let wrong = if code == "00000000" {
        "00000001"
    } else {
        "00000000"
    };
    app.sign_in_with(&id, &link, wrong, false, None).await;
    let res = app.sign_in_with(&id, &link, &code, false, None).await;
    let s = crate::helpers::signed(&id, res).await;
    app.request_key(&s).await;
    app.portal(
        Method::GET,
        &format!("/api/m/{id}/parts/body-0"),
        Some(&s.cookie),
        false,
        None,
    )
    .await;
    app.portal(
        Method::DELETE,
        &format!("/api/m/{id}/session"),
        Some(&s.cookie),
        true,
        None,
    )
    .await;

    let view = log(&app, &t.token, &format!("?message={id}")).await;
    let events: Vec<_> = view
        .entries
        .iter()
        .rev()
        .map(|e| e.event.as_str())
        .collect();
    assert_eq!(
        events,
        [
            "passcode_sent",
            "passcode_rejected",
            "signed_in",
            "key_released",
            "part_downloaded",
            "signed_out"
        ]
    );
    assert!(
        view.entries
            .iter()
            .all(|e| e.recipient == "bob@example.net")
    );
    assert_eq!(view.entries.last().unwrap().client_address, "unknown");
    // No secret anywhere in the log.
    let dump = serde_json::to_string(&view).unwrap();
    let session_secret = s.cookie.split_once('=').unwrap().1;
    for secret in [code.as_str(), link.as_str(), session_secret] {
        assert!(!dump.contains(secret));
    }
    // Search by recipient and time.
    assert_eq!(
        log(&app, &t.token, "?recipient=BOB@example.net")
            .await
            .entries
            .len(),
        6
    );
    assert!(
        log(&app, &t.token, "?recipient=carol@example.org")
            .await
            .entries
            .is_empty()
    );
    assert!(
        log(&app, &t.token, "?from=2099-01-01T00:00:00Z")
            .await
            .entries
            .is_empty()
    );
    assert_eq!(
        log(&app, &t.token, "?to=2099-01-01T00:00:00Z&limit=2")
            .await
            .entries
            .len(),
        2
    );
    let (status, body): (_, serde_json::Value) = app
        .json(
            Method::GET,
            "/api/admin/portal-log?from=yesterday",
            &t.token,
            None::<&()>,
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_time"))
    );
    let _ = mail_text;
}

#[tokio::test]
async fn an_edited_or_deleted_row_breaks_the_chain() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    enable(&app, &t.token).await;
    let id = app
        .send(&t.token, &message("bob@example.net"))
        .await
        .message_id;
    let s = app.sign_in(&id, "bob@example.net").await;
    app.request_key(&s).await;
    let (_, ok): (_, PortalLogVerifyView) = app
        .json(
            Method::GET,
            "/api/admin/portal-log/verify",
            &t.token,
            None::<&()>,
        )
        .await;
    assert!(ok.intact);
    assert_eq!(ok.entries, Some(3));

    let db = app.database().await;
    let change = "update portal_log set recipient = 'mallory@example.net' where seq = 2";
    // The database itself refuses edits...
    let refused = db.execute(change, change).await;
    assert!(refused.unwrap_err().to_string().contains("append-only"));
    let refused = db
        .execute("delete from portal_log", "truncate portal_log")
        .await;
    assert!(refused.unwrap_err().to_string().contains("append-only"));
    // ...and someone who removes that guard is still caught.
    db.execute(
        "drop trigger portal_log_no_update",
        "drop trigger portal_log_no_change on portal_log",
    )
    .await
    .unwrap();
    db.execute(change, change).await.unwrap();
    let (_, broken): (_, PortalLogVerifyView) = app
        .json(
            Method::GET,
            "/api/admin/portal-log/verify",
            &t.token,
            None::<&()>,
        )
        .await;
    assert!(!broken.intact);
    assert_eq!(
        broken.problem.as_deref(),
        Some("entry 2 was changed after it was written")
    );

    // Another tenant's log is its own chain and unaffected.
    let other = app.tenant("Fabrikam", &["fabrikam.example"]).await;
    let head = verify_chain(app.state.store.as_ref(), &other.id, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(head.entries, 0);

    db.execute(
        "drop trigger portal_log_no_delete",
        "drop trigger portal_log_no_truncate on portal_log",
    )
    .await
    .unwrap();
    let undo = "update portal_log set recipient = 'bob@example.net' where seq = 2";
    db.execute(undo, undo).await.unwrap();
    assert!(
        verify_chain(app.state.store.as_ref(), &t.id, None)
            .await
            .unwrap()
            .is_ok()
    );
    let remove = "delete from portal_log where seq = 1";
    db.execute(remove, remove).await.unwrap();
    let gap = verify_chain(app.state.store.as_ref(), &t.id, None)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(
        gap.to_string(),
        "entry 2 follows entry 0: an entry was removed or reordered"
    );
}

async fn verified(app: &TestApp, token: &str, query: &str) -> PortalLogVerifyView {
    let (status, view) = app
        .json(
            Method::GET,
            &format!("/api/admin/portal-log/verify{query}"),
            token,
            None::<&()>,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    view
}

/// Set the tenant's portal log retention to `days`, and check the tenant says so.
async fn keep_for(app: &TestApp, token: &str, days: u32) {
    let (status, view): (_, serde_json::Value) = app
        .json(
            Method::PATCH,
            "/api/admin/tenant",
            token,
            Some(&serde_json::json!({ "portal_log_retention_days": days })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["portal_log_retention_days"], days);
}

/// Retention prunes the oldest entries as a prefix of the chain and keeps the last one's hash as
/// a checkpoint: what is left still verifies, new entries chain on, and nothing else can be
/// removed or rewound, even by someone with the database.
#[tokio::test]
async fn retention_prunes_old_entries_and_the_rest_still_verifies() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    enable(&app, &t.token).await;
    keep_for(&app, &t.token, 30).await;

    // Three entries now, three twenty days later.
    let id = app
        .send(&t.token, &message("bob@example.net"))
        .await
        .message_id;
    let s = app.sign_in(&id, "bob@example.net").await;
    app.request_key(&s).await;
    let early = verified(&app, &t.token, "").await;
    assert_eq!(early.entries, Some(3));
    let early_head = format!("?head=2:{}", {
        let page = log(&app, &t.token, "").await;
        page.entries
            .iter()
            .find(|e| e.seq == 2)
            .unwrap()
            .hash
            .clone()
    });
    app.clock.advance(20 * 86_400);
    let s = app.sign_in(&id, "bob@example.net").await;
    app.request_key(&s).await;
    let head = verified(&app, &t.token, "").await;
    let recorded = format!("?head=6:{}", head.head_hash.clone().unwrap());

    // Fifteen days on, the first three are past thirty days: they go, the rest stays.
    app.clock.advance(15 * 86_400);
    let pruned = sealpost::services::tracking::prune(app.state.store.as_ref(), app.clock.now())
        .await
        .unwrap();
    assert_eq!(pruned, 3);
    let seqs: Vec<u64> = log(&app, &t.token, "")
        .await
        .entries
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, [6, 5, 4]);
    let after = verified(&app, &t.token, &recorded).await;
    assert!(after.intact, "{:?}", after.problem);
    assert_eq!(after.entries, Some(6));
    let old = verified(&app, &t.token, &early_head).await;
    assert!(!old.intact);
    assert!(
        old.problem
            .unwrap()
            .contains("pruned by the log's retention")
    );
    // Pruning again changes nothing; new entries chain on from what is left.
    assert_eq!(
        sealpost::services::tracking::prune(app.state.store.as_ref(), app.clock.now())
            .await
            .unwrap(),
        0
    );
    let s = app.sign_in(&id, "bob@example.net").await;
    app.request_key(&s).await;
    assert_eq!(verified(&app, &t.token, "").await.entries, Some(9));

    // The database still refuses to remove entries after the checkpoint, or to move or remove it.
    let db = app.database().await;
    for (sqlite, postgres, says) in [
        (
            "delete from portal_log where seq = 5",
            "delete from portal_log where seq = 5",
            "append-only",
        ),
        (
            "update portal_log_checkpoints set seq = 1",
            "update portal_log_checkpoints set seq = 1",
            "only moves forward",
        ),
        (
            "delete from portal_log_checkpoints",
            "delete from portal_log_checkpoints",
            "is kept",
        ),
    ] {
        let refused = db.execute(sqlite, postgres).await;
        assert!(refused.unwrap_err().to_string().contains(says), "{sqlite}");
    }
    assert!(verified(&app, &t.token, "").await.intact);

    // Everything past its retention goes, and the next entry still chains on.
    app.clock.advance(31 * 86_400);
    sealpost::services::tracking::prune(app.state.store.as_ref(), app.clock.now())
        .await
        .unwrap();
    assert!(log(&app, &t.token, "").await.entries.is_empty());
    let s = app.sign_in(&id, "bob@example.net").await;
    app.request_key(&s).await;
    let last = verified(&app, &t.token, "").await;
    assert!(last.intact, "{:?}", last.problem);
    assert_eq!(last.entries, Some(12));
}

/// Someone who gets past the database's guard and edits an old entry cannot then wait for
/// retention to erase the evidence: a broken prefix is not pruned, and the break stays visible.
#[tokio::test]
async fn retention_never_prunes_a_broken_chain() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    enable(&app, &t.token).await;
    keep_for(&app, &t.token, 30).await;
    let id = app
        .send(&t.token, &message("bob@example.net"))
        .await
        .message_id;
    let s = app.sign_in(&id, "bob@example.net").await;
    app.request_key(&s).await;
    assert_eq!(verified(&app, &t.token, "").await.entries, Some(3));

    let db = app.database().await;
    db.execute(
        "drop trigger portal_log_no_update",
        "drop trigger portal_log_no_change on portal_log",
    )
    .await
    .unwrap();
    let change = "update portal_log set recipient = 'mallory@example.net' where seq = 2";
    db.execute(change, change).await.unwrap();

    app.clock.advance(31 * 86_400);
    let pruned = sealpost::services::tracking::prune(app.state.store.as_ref(), app.clock.now())
        .await
        .unwrap();
    assert_eq!(pruned, 0, "a broken prefix was pruned");
    assert_eq!(log(&app, &t.token, "").await.entries.len(), 3);
    let broken = verified(&app, &t.token, "").await;
    assert!(!broken.intact);
    assert!(
        broken.problem.unwrap().contains("entry 2"),
        "the break moved"
    );
}
