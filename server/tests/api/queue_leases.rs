//! Queue leases belong to a node: a worker whose lease expired and went to another node can no
//! longer change the message, and a node that starts again takes its own leases back at once.

use sealpost::store::StoreError;
use sealpost::store::mail_flow::QueuedMail;

use crate::helpers::{START, TestApp};

fn queued(id: &str, tenant: &str) -> QueuedMail {
    QueuedMail {
        id: id.into(),
        tenant_id: tenant.into(),
        received_at: START,
        client: "192.0.2.10".into(),
        mail_from: "anna@contoso.example".into(),
        recipients: vec!["bob@gmail.example".into()],
        raw: b"Subject: hi\r\n\r\nhello\r\n".to_vec(),
        plan: "{}".into(),
        attempts: 0,
    }
}

fn lease_lost(r: Result<(), StoreError>) -> bool {
    matches!(r, Err(StoreError::Conflict("lease_lost")))
}

#[tokio::test]
async fn a_late_worker_cannot_touch_a_message_another_node_now_holds() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let store = &app.state.store;
    store
        .enqueue_mail(&queued("m1", &t.id), START)
        .await
        .unwrap();

    let a = store
        .claim_mail(START, START + 300, "node-a")
        .await
        .unwrap()
        .unwrap();
    assert!(
        store
            .claim_mail(START + 10, START + 310, "node-b")
            .await
            .unwrap()
            .is_none()
    );
    // Node A stalls past its lease; node B takes the message.
    let b = store
        .claim_mail(START + 301, START + 601, "node-b")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.id, b.id);
    assert!(lease_lost(
        store
            .save_mail_plan(&a.id, "node-a", "{\"late\":true}")
            .await
    ));
    assert!(lease_lost(
        store
            .retry_mail(&a.id, "node-a", "{}", START + 900, "late")
            .await
    ));
    assert!(lease_lost(store.fail_mail(&a.id, "node-a", "late").await));
    assert!(lease_lost(store.finish_mail(&a.id, "node-a", None).await));
    let listed = store.queued_mail(&t.id).await.unwrap();
    assert_eq!(listed.len(), 1, "A's late finish removed B's message");
    assert_eq!(listed[0].attempts, 0);
    // B's writes count.
    store.save_mail_plan(&b.id, "node-b", "{}").await.unwrap();
    store.finish_mail(&b.id, "node-b", None).await.unwrap();
    assert!(store.queued_mail(&t.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_restarted_node_takes_back_its_own_leases_at_once_and_keeps_its_id() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let node = app.state.node_id.clone();
    assert_eq!(node.len(), 32);
    app.state
        .store
        .enqueue_mail(&queued("m1", &t.id), START)
        .await
        .unwrap();
    app.state
        .store
        .claim_mail(START, START + 300, &node)
        .await
        .unwrap()
        .unwrap();

    // The process dies mid-delivery and starts again from the same data directory.
    let app = app.reopen(|_| {}).await;
    assert_eq!(
        app.state.node_id, node,
        "the node id is kept in the data directory"
    );
    let store = &app.state.store;
    assert!(
        store
            .claim_mail(START + 5, START + 305, &node)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.release_leases(&node).await.unwrap(), 1);
    // Claimable again long before the old lease would have expired.
    let again = store
        .claim_mail(START + 5, START + 305, &node)
        .await
        .unwrap();
    assert_eq!(again.map(|m| m.id).as_deref(), Some("m1"));

    // Another data directory is another node.
    let other = TestApp::new().await;
    assert_ne!(other.state.node_id, node);
}
