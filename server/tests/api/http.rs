//! HTTP behaviour through `oneshot`: health, headers, the portal fallback, API errors.

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use sealpost::http::security_headers;
use sealpost_api::{ErrorBody, HealthResponse};
use tower::ServiceExt as _;

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
async fn portal_paths_fall_back_to_index_html_which_is_never_stored() {
    let app = TestApp::new().await;
    for uri in ["/", "/m/some-message", "/sent/abc"] {
        let res = app.get(uri).await;
        assert_eq!(res.status(), StatusCode::OK, "{uri}");
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store", "{uri}");
        assert_eq!(res.headers()[header::CONTENT_TYPE], "text/html", "{uri}");
        assert!(body_text(res).await.contains("<title>Sealpost</title>"));
    }
    let asset = app.get("/app.js").await;
    assert_eq!(asset.status(), StatusCode::OK);
    assert_eq!(asset.headers()[header::CACHE_CONTROL], "no-cache");
    assert_eq!(asset.headers()[header::CONTENT_TYPE], "text/javascript");
    assert_eq!(body_text(asset).await, "export {};");
}

#[tokio::test]
async fn a_file_the_portal_does_not_have_is_not_found_not_the_page() {
    let app = TestApp::new().await;
    for uri in [
        "/missing.js",
        "/sealpost-app-0123456789abcdef_bg.wasm",
        "/m/x/style.css",
    ] {
        let res = app.get(uri).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store", "{uri}");
        assert!(!body_text(res).await.contains("<title>"), "{uri}");
    }
}

#[tokio::test]
async fn a_server_without_a_portal_says_how_to_build_one() {
    let app = TestApp::with_config(|c| {
        c.dist_dir = Some(std::path::PathBuf::from("/nonexistent/sealpost-dist"));
    })
    .await;
    let res = app.get("/m/some-message").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(body_text(res).await.contains("trunk build --release"));
}

#[tokio::test]
async fn hashed_assets_are_cached_for_a_year_with_their_content_type() {
    let app = TestApp::new().await;
    let dist = app.dirs.path().join("dist");
    std::fs::write(dist.join("sealpost-app-0123456789abcdef_bg.wasm"), b"\0asm").unwrap();
    std::fs::write(dist.join("main-0123456789abcdef.css"), "body{}").unwrap();
    for (uri, content_type) in [
        ("/sealpost-app-0123456789abcdef_bg.wasm", "application/wasm"),
        ("/main-0123456789abcdef.css", "text/css"),
    ] {
        let res = app.get(uri).await;
        assert_eq!(res.status(), StatusCode::OK, "{uri}");
        assert_eq!(res.headers()[header::CONTENT_TYPE], content_type, "{uri}");
        assert_eq!(
            res.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable",
            "{uri}"
        );
    }
}

#[tokio::test]
async fn a_browser_holding_the_current_file_gets_not_modified() {
    let app = TestApp::new().await;
    let first = app.get("/app.js").await;
    let etag = first.headers()[header::ETAG].clone();
    let again = |tag: HeaderValue| {
        app.router.clone().oneshot(
            Request::get("/app.js")
                .header(header::IF_NONE_MATCH, tag)
                .body(Body::empty())
                .unwrap(),
        )
    };
    let res = again(etag.clone()).await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(res.headers()[header::ETAG], etag);
    assert_eq!(body_text(res).await, "");
    // an old copy gets the new file
    let res = again(HeaderValue::from_static("\"0000\"")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body_text(res).await, "export {};");
    // and a changed file a new validator
    std::fs::write(app.dirs.path().join("dist/app.js"), "export const x = 1;").unwrap();
    let changed = app.get("/app.js").await;
    assert_ne!(changed.headers()[header::ETAG], etag);
}

#[tokio::test]
async fn head_has_no_body_and_other_methods_are_refused() {
    let app = TestApp::new().await;
    let head = app
        .router
        .clone()
        .oneshot(Request::head("/app.js").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()[header::CONTENT_LENGTH], "10");
    assert_eq!(body_text(head).await, "");
    for method in [Method::POST, Method::PUT, Method::DELETE] {
        let res = app
            .router
            .clone()
            .oneshot(
                Request::builder()
                    .method(method.clone())
                    .uri("/app.js")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(res.headers()[header::ALLOW], "GET, HEAD");
    }
}

#[tokio::test]
async fn no_path_reaches_a_file_outside_the_portal() {
    let app = TestApp::new().await;
    std::fs::write(app.dirs.path().join("secret.txt"), "outside").unwrap();
    for uri in [
        "/../secret.txt",
        "/dist/../secret.txt",
        "//../secret.txt",
        "/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
    ] {
        let res = app
            .router
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let body = body_text(res).await;
        assert!(!body.contains("outside"), "{uri}");
    }
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
