//! Shared helpers: an app with a throwaway data and dist directory and a manual clock, driven
//! without a socket; one method per admin endpoint; and a way to open what was stored.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use sealpost::app::{AppState, router};
use sealpost::clock::Clock;
use sealpost::config::Config;
use sealpost::store::part_name;
use sealpost::tenants::create_tenant;
use sealpost_api::ErrorBody;
use sealpost_api::admin::{MessageStatusView, SendMessageRequest};
use sealpost_envelope::{
    Manifest, MessageId, MessageKey, Part, WrapBinding, open_manifest, open_part,
    unwrap_message_key,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower::ServiceExt;

/// 2026-11-21T10:00:00Z.
pub const START: i64 = 1_795_255_200;

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub clock: Clock,
    pub dirs: tempfile::TempDir,
}

/// A tenant and its first admin token.
pub struct TestTenant {
    pub id: String,
    pub token: String,
}

impl TestApp {
    /// An app whose `dist/` holds a minimal `index.html` and one asset, with the dev mailbox on.
    pub async fn new() -> TestApp {
        TestApp::with_config(|_| {}).await
    }

    pub async fn with_config(change: impl FnOnce(&mut Config)) -> TestApp {
        let dirs = tempfile::tempdir().unwrap();
        let dist = dirs.path().join("dist");
        std::fs::create_dir_all(&dist).unwrap();
        std::fs::write(
            dist.join("index.html"),
            "<!doctype html><title>Sealpost</title>",
        )
        .unwrap();
        std::fs::write(dist.join("app.js"), "export {};").unwrap();
        let mut config = Config {
            data_dir: dirs.path().join("data"),
            dist_dir: dist,
            dev_mailbox: true,
            public_url: Some("https://sealpost.test".into()),
            ..Config::default()
        };
        change(&mut config);
        let clock = Clock::manual(START);
        let state = AppState::open_with_clock(config, clock.clone())
            .await
            .unwrap();
        TestApp {
            router: router(state.clone()),
            state,
            clock,
            dirs,
        }
    }

    pub fn data_dir(&self) -> std::path::PathBuf {
        self.dirs.path().join("data")
    }

    pub async fn get(&self, uri: &str) -> Response<Body> {
        self.router
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    /// A tenant created the way the bootstrap command does it.
    pub async fn tenant(&self, name: &str, domains: &[&str]) -> TestTenant {
        let domains: Vec<String> = domains.iter().map(|d| (*d).to_owned()).collect();
        let (tenant, secret) = create_tenant(
            self.state.store.as_ref(),
            self.state.keys.as_ref(),
            name,
            &domains,
            self.clock.now(),
        )
        .await
        .unwrap();
        TestTenant {
            id: tenant.id,
            token: secret.to_string(),
        }
    }

    /// Any request with an optional bearer token and body.
    pub async fn call(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Response<Body> {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        self.router
            .clone()
            .oneshot(req.body(Body::from(body)).unwrap())
            .await
            .unwrap()
    }

    /// A JSON request; returns the status and the parsed body.
    pub async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        uri: &str,
        token: &str,
        body: Option<&impl Serialize>,
    ) -> (StatusCode, T) {
        let bytes = body
            .map(|b| serde_json::to_vec(b).unwrap())
            .unwrap_or_default();
        let ct = body.is_some().then_some("application/json");
        let res = self.call(method, uri, Some(token), ct, bytes).await;
        let status = res.status();
        let text = body_text(res).await;
        let parsed =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status} {uri}: {e}: {text}"));
        (status, parsed)
    }

    /// A refusal: status, code and field.
    pub async fn refusal(
        &self,
        method: Method,
        uri: &str,
        token: &str,
        body: Option<&impl Serialize>,
    ) -> (StatusCode, ErrorBody) {
        self.json(method, uri, token, body).await
    }

    pub async fn send(&self, token: &str, req: &SendMessageRequest) -> MessageStatusView {
        let (status, view): (_, serde_json::Value) = self
            .json(Method::POST, "/api/admin/messages", token, Some(req))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{view}");
        serde_json::from_value(view).unwrap()
    }

    pub async fn status(&self, token: &str, id: &str) -> MessageStatusView {
        let (status, view) = self
            .json(
                Method::GET,
                &format!("/api/admin/messages/{id}"),
                token,
                None::<&()>,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        view
    }

    /// Unwrap a stored message's key the way key release will.
    pub async fn message_key(&self, tenant_id: &str, id: &str) -> MessageKey {
        let tenant = self.state.store.tenant(tenant_id).await.unwrap();
        let m = self.state.store.message(tenant_id, id).await.unwrap();
        let data_key = self
            .state
            .keys
            .unwrap(&tenant.id, tenant.key_version, &tenant.wrapped_data_key)
            .unwrap();
        let mid = MessageId::parse(id).unwrap();
        unwrap_message_key(
            &data_key,
            &m.wrapped_key,
            &WrapBinding {
                tenant_id,
                message_id: &mid,
                key_version: m.key_version,
            },
        )
        .unwrap()
    }

    /// Open a stored message: its manifest and every part's plaintext.
    pub async fn open(&self, tenant_id: &str, id: &str) -> (Manifest, Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let key = self.message_key(tenant_id, id).await;
        let mid = MessageId::parse(id).unwrap();
        let read = |part: Part| {
            let store = self.state.store.clone();
            let (t, i) = (tenant_id.to_owned(), id.to_owned());
            async move { store.read_part(&t, &i, &part_name(part)).await.unwrap() }
        };
        let manifest = open_manifest(&key, &mid, &read(Part::Manifest).await).unwrap();
        let mut bodies = Vec::new();
        for n in 0..manifest.bodies.len() as u32 {
            bodies.push(open_part(&key, &mid, Part::Body(n), &read(Part::Body(n)).await).unwrap());
        }
        let mut attachments = Vec::new();
        for n in 0..manifest.attachments.len() as u32 {
            attachments.push(
                open_part(
                    &key,
                    &mid,
                    Part::Attachment(n),
                    &read(Part::Attachment(n)).await,
                )
                .unwrap(),
            );
        }
        (manifest, bodies, attachments)
    }
}

/// A simple message from Contoso to one external recipient.
pub fn message(to: &str) -> SendMessageRequest {
    SendMessageRequest {
        from: "anna@contoso.example".into(),
        to: vec![to.into()],
        subject: "Quarterly numbers".into(),
        text: Some("See attached.".into()),
        ..SendMessageRequest::default()
    }
}

pub async fn body_text(response: Response<Body>) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}
