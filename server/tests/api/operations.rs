//! What an operator's load balancer and Prometheus see: `/readyz` says whether this node's
//! database and blob store answer, and `/metrics` counts key decisions, passcodes and notices,
//! times requests by route pattern (never by path), and reports the SMTP listener's queue.

use axum::http::StatusCode;

use crate::helpers::{TestApp, body_text, message};

#[tokio::test]
async fn readyz_answers_ready_and_not_ready_while_the_blob_store_is_gone() {
    let app = TestApp::new().await;
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: serde_json::Value = serde_json::from_str(&body_text(res).await).unwrap();
    assert_eq!(body["status"], "ready");

    // The blob directory disappears (a lost mount).
    let blobs = app.data_dir().join("blobs");
    std::fs::rename(&blobs, app.data_dir().join("blobs.away")).unwrap();
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let text = body_text(res).await;
    assert!(text.contains("\"not_ready\""), "{text}");
    // Nothing about paths or the database's own words reaches the caller.
    assert!(
        !text.contains("blobs") && !text.contains(app.data_dir().to_str().unwrap()),
        "{text}"
    );
    std::fs::rename(app.data_dir().join("blobs.away"), &blobs).unwrap();
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
    // Liveness does not depend on either.
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}

fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn metrics_count_key_decisions_passcodes_and_notices_and_time_routes_by_pattern() {
    let app = TestApp::with_config(|c| {
        c.metrics_token = Some(sealpost::config::Secret("scrape-token".into()));
    })
    .await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let id = app
        .send(&t.token, &message("bob@gmail.example"))
        .await
        .message_id;
    let s = app.sign_in(&id, "bob@gmail.example").await;
    assert_eq!(app.request_key(&s).await.0, StatusCode::OK);
    assert_eq!(app.request_key(&s).await.0, StatusCode::OK);
    app.call(
        axum::http::Method::POST,
        &format!("/api/admin/messages/{id}/revoke"),
        Some(&t.token),
        None,
        Vec::new(),
    )
    .await;
    assert_eq!(app.request_key(&s).await.0, StatusCode::FORBIDDEN);

    let res = app
        .call(
            axum::http::Method::GET,
            "/metrics",
            Some("scrape-token"),
            None,
            Vec::new(),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = body_text(res).await;
    assert_eq!(
        value(&text, "sealpost_key_decisions_total{outcome=\"released\"}"),
        Some(2.0)
    );
    assert_eq!(
        value(
            &text,
            "sealpost_key_decisions_total{outcome=\"message_revoked\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        value(&text, "sealpost_passcodes_total{outcome=\"sent\"}"),
        Some(1.0)
    );
    assert_eq!(
        value(&text, "sealpost_notices_total{outcome=\"sent\"}"),
        Some(1.0)
    );
    assert_eq!(
        value(
            &text,
            "sealpost_http_request_duration_seconds_count{method=\"POST\",route=\"/api/m/{message}/key\",status=\"2xx\"}"
        ),
        Some(2.0)
    );
    assert_eq!(
        value(&text, "sealpost_mail_queue_messages{state=\"queued\"}"),
        Some(0.0)
    );
    // Labels carry patterns and codes, never a message id, an address or a token.
    for private in [
        id.as_str(),
        "bob@gmail.example",
        t.token.as_str(),
        t.id.as_str(),
    ] {
        assert!(!text.contains(private), "{private} is in /metrics");
    }
}

#[tokio::test]
async fn metrics_are_for_the_monitoring_only() {
    // With a token: nothing without it or with another.
    let app = TestApp::with_config(|c| {
        c.metrics_token = Some(sealpost::config::Secret("scrape-token".into()));
    })
    .await;
    for token in [None, Some("wrong"), Some("scrape-token-and-more"), Some("")] {
        let res = app
            .call(axum::http::Method::GET, "/metrics", token, None, Vec::new())
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{token:?}");
        assert!(body_text(res).await.contains("metrics_token_required"));
    }
    // Without one: only from the same machine.
    let app = TestApp::new().await;
    assert_eq!(app.get("/metrics").await.status(), StatusCode::NOT_FOUND);
    let server = sealpost::http::listener::spawn(
        sealpost::http::router(app.state.clone()),
        sealpost::http::listener::Limits::from_config(&app.state.config),
    )
    .await
    .unwrap();
    let addr = server.addr.to_string();
    let (status, _) = tokio::task::spawn_blocking(move || {
        crate::processes::http(&addr, "GET", "/metrics", None, None)
    })
    .await
    .unwrap();
    assert_eq!(status, 200);
    server.stop().await;
}
