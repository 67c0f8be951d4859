//! HTTP behaviour through `oneshot`: health, headers, the portal fallback, API errors.

use axum::http::{StatusCode, header};
use sealpost::http::security_headers;
use sealpost_api::{ErrorBody, HealthResponse};

use crate::helpers::{TestApp, body_text};

#[tokio::test]
async fn healthz_reports_ok_and_the_version() {
    let app = TestApp::new().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: HealthResponse = serde_json::from_str(&body_text(res).await).unwrap();
    assert_eq!(body.status, "ok");
    assert_eq!(body.version, env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::new().await;
    for uri in ["/", "/healthz", "/app.js", "/api/nothing", "/m/abc"] {
        let res = app.get(uri).await;
        for (name, value) in security_headers::headers() {
            assert_eq!(res.headers().get(&name), Some(&value), "{name} on {uri}");
        }
    }
}

#[tokio::test]
async fn csp_allows_wasm_but_no_inline_script_framing_or_plugins() {
    let csp = security_headers::CONTENT_SECURITY_POLICY;
    assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval';"));
    assert!(!csp.contains("unsafe-inline"));
    assert!(!csp.contains("'unsafe-eval'"));
    for directive in [
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive}");
    }
}

#[tokio::test]
async fn portal_paths_fall_back_to_index_html_without_caching_it() {
    let app = TestApp::new().await;
    for uri in ["/", "/m/some-message"] {
        let res = app.get(uri).await;
        assert_eq!(res.status(), StatusCode::OK, "{uri}");
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-cache", "{uri}");
        assert!(body_text(res).await.contains("<title>Sealpost</title>"));
    }
    let asset = app.get("/app.js").await;
    assert_eq!(asset.status(), StatusCode::OK);
    assert_eq!(body_text(asset).await, "export {};");
}

#[tokio::test]
async fn unknown_api_paths_get_a_json_not_found_not_the_portal() {
    let app = TestApp::new().await;
    let res = app.get("/api/v1/does-not-exist").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body: ErrorBody = serde_json::from_str(&body_text(res).await).unwrap();
    assert_eq!(body.code, "not_found");
    assert!(!body.message.is_empty());
}
