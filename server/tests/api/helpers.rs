//! Shared helpers: an app with a throwaway data and dist directory and a manual clock, driven
//! without a socket; one method per admin endpoint; and a way to open what was stored.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use sealpost::clock::Clock;
use sealpost::config::{Config, Secret};
use sealpost::http::router;
use sealpost::services::tenants::create_tenant;
use sealpost::state::AppState;
use sealpost_api::ErrorBody;
use sealpost_api::admin::{MessageStatusView, SendMessageRequest};
use sealpost_envelope::{Manifest, MessageId, MessageKey, Part, open_manifest, open_part};
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

/// A direct connection to a test app's database (see [`TestApp::database`]).
pub enum Database {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Database {
    /// Run one statement, written for each engine where their dialects differ.
    pub async fn execute(&self, sqlite: &str, postgres: &str) -> Result<u64, sqlx::Error> {
        Ok(match self {
            Database::Sqlite(p) => sqlx::raw_sql(sqlite).execute(p).await?.rows_affected(),
            Database::Postgres(p) => sqlx::raw_sql(postgres).execute(p).await?.rows_affected(),
        })
    }

    /// One row of a query both engines understand.
    pub async fn fetch_one<T>(&self, sql: &str) -> T
    where
        T: Send
            + Unpin
            + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        match self {
            Database::Sqlite(p) => sqlx::query_as(sql).fetch_one(p).await.unwrap(),
            Database::Postgres(p) => sqlx::query_as(sql).fetch_one(p).await.unwrap(),
        }
    }

    pub async fn close(self) {
        match self {
            Database::Sqlite(p) => p.close().await,
            Database::Postgres(p) => p.close().await,
        }
    }
}

/// With `SEALPOST_TEST_POSTGRES=1` (the test command's second run, inside `pg_virtualenv`, which
/// sets `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD` and `PGDATABASE`): the URL of a fresh schema in
/// that cluster, one per app, so tests running at once never see each other's rows. Otherwise
/// `None`: SQLite in the data directory.
pub async fn test_database() -> Option<String> {
    if std::env::var("SEALPOST_TEST_POSTGRES").ok().as_deref() != Some("1") {
        return None;
    }
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"));
    let base = format!(
        "postgres://{}:{}@{}:{}/{}",
        var("PGUSER"),
        var("PGPASSWORD"),
        var("PGHOST"),
        var("PGPORT"),
        var("PGDATABASE")
    );
    let schema = format!("t{}", sealpost::secrets::new_id());
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&base)
        .await
        .expect("SEALPOST_TEST_POSTGRES=1 but PostgreSQL does not answer");
    sqlx::query(&format!("create schema {schema}"))
        .execute(&mut admin)
        .await
        .unwrap();
    Some(format!("{base}?options=-c%20search_path%3D{schema}"))
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
            dist_dir: Some(dist),
            dev_mailbox: true,
            public_url: Some("https://sealpost.test".into()),
            ..Config::default()
        };
        if let Some(url) = test_database().await {
            config.database_url = Some(Secret(url));
        }
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
        self.state.config.data_dir.clone()
    }

    /// Whether this app's database is PostgreSQL (the suite's second run).
    pub fn on_postgres(&self) -> bool {
        self.state.config.database_url.is_some()
    }

    /// A connection of its own to this app's database, to look at or break what is stored.
    pub async fn database(&self) -> Database {
        match &self.state.config.database_url {
            Some(url) => Database::Postgres(sqlx::PgPool::connect(&url.0).await.unwrap()),
            None => Database::Sqlite(
                sqlx::SqlitePool::connect(&format!(
                    "sqlite://{}",
                    self.data_dir().join("sealpost.db").display()
                ))
                .await
                .unwrap(),
            ),
        }
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

    /// Unwrap a stored message's key the way key release does.
    pub async fn message_key(&self, tenant_id: &str, id: &str) -> MessageKey {
        self.try_message_key(tenant_id, id).await.unwrap()
    }

    /// As [`TestApp::message_key`], or the refusal.
    pub async fn try_message_key(
        &self,
        tenant_id: &str,
        id: &str,
    ) -> Result<MessageKey, sealpost::http::error::ApiError> {
        let tenant = self.state.store.tenant(tenant_id).await.unwrap();
        let m = self.state.store.message(tenant_id, id).await.unwrap();
        sealpost::services::sending::message_key(&self.state, &tenant, &m)
            .await
            .map(|(_, key)| key)
            .map_err(Into::into)
    }

    /// The same data directory and configuration opened afresh (after a crash, or with the root
    /// keys changed by `change`); the old state is dropped first.
    pub async fn reopen(self, change: impl FnOnce(&mut Config)) -> TestApp {
        let TestApp {
            router: old_router,
            state,
            clock,
            dirs,
        } = self;
        let mut config = (*state.config).clone();
        drop(old_router);
        drop(state);
        change(&mut config);
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

    /// Open a stored message: its manifest and every part's plaintext.
    pub async fn open(&self, tenant_id: &str, id: &str) -> (Manifest, Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let key = self.message_key(tenant_id, id).await;
        let mid = MessageId::parse(id).unwrap();
        let read = |part: Part| {
            let store = self.state.store.clone();
            let (t, i) = (tenant_id.to_owned(), id.to_owned());
            async move { store.read_part(&t, &i, &part.name()).await.unwrap() }
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

/// A signed-in recipient: the cookie to send back and what sign-in answered.
pub struct Signed {
    pub message_id: String,
    pub cookie: String,
    pub view: sealpost_api::recipient::SessionView,
    pub set_cookie: String,
}

impl TestApp {
    /// The development mailbox's mails to `to`, oldest first.
    pub async fn mails_to(&self, to: &str) -> Vec<sealpost::store::DevMail> {
        let mut all = self.state.store.dev_mailbox_list(1000).await.unwrap();
        all.reverse();
        all.into_iter().filter(|m| m.to == to).collect()
    }

    /// Wait (the passcode email is sent after the answer) until `to` has `count` mails.
    pub async fn wait_for_mails(&self, to: &str, count: usize) -> Vec<sealpost::store::DevMail> {
        for _ in 0..500 {
            let mails = self.mails_to(to).await;
            if mails.len() >= count {
                return mails;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("{to} never got {count} mails");
    }

    /// The link token in the newest notice to `to` for message `id`.
    pub async fn link_token(&self, id: &str, to: &str) -> String {
        let marker = format!("/m/{id}#t=");
        self.mails_to(to)
            .await
            .iter()
            .rev()
            .find_map(|m| {
                let text = mail_text(&m.raw);
                let start = text.find(&marker)? + marker.len();
                Some(
                    text[start..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                        .collect(),
                )
            })
            .unwrap_or_else(|| panic!("no notice to {to} for {id}"))
    }

    /// A recipient request: optional cookie, the CSRF header when `csrf`, optional JSON body.
    pub async fn portal(
        &self,
        method: Method,
        uri: &str,
        cookie: Option<&str>,
        csrf: bool,
        body: Option<serde_json::Value>,
    ) -> Response<Body> {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        if csrf {
            req = req.header(sealpost_api::recipient::CSRF_HEADER, "1");
        }
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let body = body
            .map(|b| serde_json::to_vec(&b).unwrap())
            .unwrap_or_default();
        self.router
            .clone()
            .oneshot(req.body(Body::from(body)).unwrap())
            .await
            .unwrap()
    }

    /// Ask for a passcode; returns the status and the answer's JSON.
    pub async fn request_passcode(&self, id: &str, token: &str) -> (StatusCode, serde_json::Value) {
        let res = self
            .portal(
                Method::POST,
                &format!("/api/m/{id}/passcode"),
                None,
                true,
                Some(serde_json::json!({ "token": token })),
            )
            .await;
        let status = res.status();
        (status, serde_json::from_str(&body_text(res).await).unwrap())
    }

    /// Ask for a passcode and read it (and the reference word) from the email that arrives.
    pub async fn passcode(&self, id: &str, token: &str, to: &str) -> (String, String) {
        let before = self.mails_to(to).await.len();
        let (status, answer) = self.request_passcode(id, token).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
        let mails = self.wait_for_mails(to, before + 1).await;
        let text = mail_text(&mails[before].raw);
        let code = text
            .lines()
            .map(str::trim)
            .find(|l| l.len() == 8 && l.bytes().all(|b| b.is_ascii_digit()))
            .expect("a passcode line")
            .to_owned();
        let reference = answer["reference"].as_str().unwrap().to_owned();
        assert!(
            text.contains(&format!("Reference: {reference}.")),
            "the email repeats the word the page shows"
        );
        (code, reference)
    }

    /// Sign in with a passcode; returns the raw response.
    pub async fn sign_in_with(
        &self,
        id: &str,
        token: &str,
        code: &str,
        keep: bool,
        cookie: Option<&str>,
    ) -> Response<Body> {
        self.portal(
            Method::POST,
            &format!("/api/m/{id}/session"),
            cookie,
            true,
            Some(serde_json::json!({ "token": token, "passcode": code, "keep_signed_in": keep })),
        )
        .await
    }

    /// The whole sign-in: link token from the notice, passcode from its email, session.
    pub async fn sign_in(&self, id: &str, to: &str) -> Signed {
        let token = self.link_token(id, to).await;
        let (code, _) = self.passcode(id, &token, to).await;
        let res = self.sign_in_with(id, &token, &code, false, None).await;
        assert_eq!(res.status(), StatusCode::OK);
        signed(id, res).await
    }

    /// Ask for the key with a fresh key pair; returns the status, the JSON and the key pair.
    pub async fn request_key(
        &self,
        s: &Signed,
    ) -> (
        StatusCode,
        serde_json::Value,
        sealpost_envelope::RecipientKeyPair,
    ) {
        use base64::Engine as _;
        let pair = sealpost_envelope::RecipientKeyPair::generate();
        let public = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(pair.public_key());
        let res = self
            .portal(
                Method::POST,
                &format!("/api/m/{}/key", s.message_id),
                Some(&s.cookie),
                true,
                Some(serde_json::json!({ "public_key": public })),
            )
            .await;
        let status = res.status();
        (
            status,
            serde_json::from_str(&body_text(res).await).unwrap(),
            pair,
        )
    }

    /// The access state an open page polls.
    pub async fn access(&self, s: &Signed) -> (StatusCode, serde_json::Value) {
        let res = self
            .portal(
                Method::GET,
                &format!("/api/m/{}/access", s.message_id),
                Some(&s.cookie),
                false,
                None,
            )
            .await;
        let status = res.status();
        (status, serde_json::from_str(&body_text(res).await).unwrap())
    }
}

/// The signed-in state from a successful sign-in response.
pub async fn signed(id: &str, res: Response<Body>) -> Signed {
    let set_cookie = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let view = serde_json::from_str(&body_text(res).await).unwrap();
    Signed {
        message_id: id.to_owned(),
        cookie,
        view,
        set_cookie,
    }
}

/// The plain-text body of a raw mail.
pub fn mail_text(raw: &[u8]) -> String {
    let m = mail_parser::MessageParser::default().parse(raw).unwrap();
    m.body_text(0).unwrap().into_owned()
}

/// This package's directory, read when the test runs (cargo sets it), so a test binary built from
/// another checkout of the same source finds this checkout's files.
pub fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(
        || env!("CARGO_MANIFEST_DIR").into(),
        std::path::PathBuf::from,
    )
}
