//! Two nodes on one database: everything they must agree on is counted or chained in the database
//! with no lost update. Each test opens a second store on the app's database (the same SQLite
//! file, or the same PostgreSQL schema in the suite's second run) and races the two with many
//! tasks on several threads.

use std::sync::Arc;

use sealpost::domain::portal_log::LogEntry;
use sealpost::services::tracking::verify_chain;
use sealpost::store::Store;
use sealpost::store::blob_store::BlobStore;
use sealpost::store::portal::NewPasscode;

use crate::helpers::{START, TestApp};

/// The app and a second node's store on its database.
async fn two_nodes() -> (TestApp, [Arc<dyn Store>; 2]) {
    let app = TestApp::new().await;
    let config = app.state.config.as_ref();
    let second = sealpost::store::open(config, BlobStore::open(config).unwrap())
        .await
        .unwrap();
    let first = app.state.store.clone();
    (app, [first, second])
}

/// Run `per_node` calls of `call` on each node at once; what they returned, in no order.
async fn race<T, F, Fut>(nodes: &[Arc<dyn Store>; 2], per_node: usize, call: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(Arc<dyn Store>) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let mut tasks = Vec::new();
    for _ in 0..per_node {
        for node in nodes {
            tasks.push(tokio::spawn(call(node.clone())));
        }
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_passcodes_counted_on_two_nodes_at_once_still_stop_at_five() {
    let (_app, nodes) = two_nodes().await;
    nodes[0]
        .store_passcode(&NewPasscode {
            id: "code-1".into(),
            scope: "message-1".into(),
            address: "bob@gmail.example".into(),
            code_hash: [7; 32],
            created_at: START,
            expires_at: START + 900,
            mail: None,
        })
        .await
        .unwrap();
    let tries = race(&nodes, 20, |node| async move {
        node.claim_passcode_attempt("code-1", 5).await.unwrap()
    })
    .await;
    let mut counted: Vec<u32> = tries.into_iter().flatten().collect();
    counted.sort_unstable();
    assert_eq!(
        counted,
        [1, 2, 3, 4, 5],
        "each try counted once, five at most"
    );
    // Either node sees the same spent code.
    assert_eq!(
        nodes[1].claim_passcode_attempt("code-1", 5).await.unwrap(),
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_hourly_limit_counted_on_two_nodes_at_once_lets_exactly_the_limit_through() {
    let (_app, nodes) = two_nodes().await;
    let results = race(&nodes, 15, |node| async move {
        node.count_rate_event(&[9; 32], START, START - 3600, 5)
            .await
            .unwrap()
    })
    .await;
    let allowed = results.iter().filter(|r| r.is_none()).count();
    assert_eq!(allowed, 5, "{results:?}");
    // The refused were told when the oldest counted event leaves the window.
    assert!(results.iter().flatten().all(|oldest| *oldest == START));
    // Another key has its own count.
    assert_eq!(
        nodes[1]
            .count_rate_event(&[8; 32], START, START - 3600, 5)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_portal_log_stays_one_chain_under_writers_on_two_nodes() {
    let (app, nodes) = two_nodes().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let tenant = t.id.clone();
    let appended = race(&nodes, 25, move |node| {
        let tenant = tenant.clone();
        async move {
            node.append_portal_log(&LogEntry {
                tenant_id: tenant,
                at: START,
                message_id: "message-1".into(),
                recipient: "bob@gmail.example".into(),
                event: "key_released".into(),
                detail: String::new(),
                client_addr: "192.0.2.1".into(),
                user_agent: "race/1".into(),
            })
            .await
            .unwrap()
            .seq
        }
    })
    .await;
    let mut seqs = appended;
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=50).collect::<Vec<u64>>(), "no place taken twice");
    let head = verify_chain(nodes[1].as_ref(), &t.id, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(head.entries, 50);
}
