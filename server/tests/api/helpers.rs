//! Shared helpers: an app with a throwaway data and dist directory, driven without a socket.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response};
use http_body_util::BodyExt;
use sealpost::app::{AppState, router};
use sealpost::config::Config;
use tower::ServiceExt;

pub struct TestApp {
    pub router: Router,
    _dirs: tempfile::TempDir,
}

impl TestApp {
    /// An app whose `dist/` holds a minimal `index.html` and one asset.
    pub fn new() -> TestApp {
        let dirs = tempfile::tempdir().unwrap();
        let dist = dirs.path().join("dist");
        std::fs::create_dir_all(&dist).unwrap();
        std::fs::write(
            dist.join("index.html"),
            "<!doctype html><title>Sealpost</title>",
        )
        .unwrap();
        std::fs::write(dist.join("app.js"), "export {};").unwrap();
        let config = Config {
            data_dir: dirs.path().join("data"),
            dist_dir: dist,
            ..Config::default()
        };
        TestApp {
            router: router(AppState::new(config)),
            _dirs: dirs,
        }
    }

    pub async fn get(&self, uri: &str) -> Response<Body> {
        self.router
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap()
    }
}

pub async fn body_text(response: Response<Body>) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}
