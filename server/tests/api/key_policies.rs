//! Customer Key over HTTP, with root keys in key files (the PKCS#11 run of the same journey is in
//! `hsm`): policies over two root keys, assignment, either key alone, a roll under load and across
//! a crash, `-Replace`, and a purge that leaves nothing on disk that could open a message.

use std::path::{Path, PathBuf};

use axum::http::{Method, StatusCode};
use sealpost::config::{RootKeyConfig, RootKeyKind};
use sealpost::keys::LocalKeyFile;
use sealpost::services::key_policies::roll;
use sealpost_api::ErrorBody;
use sealpost_api::admin::AuditEventView;
use sealpost_api::admin::SendMessageRequest;
use sealpost_api::key_policies::{
    DataEncryptionPoliciesView, DataEncryptionPolicyView, PolicyAssignment, PurgeResult,
    SenderPolicyView, SetDataEncryptionPolicy,
};
use serde_json::json;

use crate::helpers::{TestApp, TestTenant, message};

pub const POLICIES: &str = "/api/admin/data-encryption-policies";
pub const ASSIGNMENT: &str = "/api/admin/data-encryption-policy-assignment";

/// A `[[root_keys]]` entry for a key file.
pub fn file_key(name: &str, path: &Path) -> RootKeyConfig {
    RootKeyConfig {
        name: name.into(),
        provider: RootKeyKind::File,
        path: Some(path.to_owned()),
        module: None,
        token: None,
        key_label: None,
        pin_file: None,
        pin_env: None,
        tenant: Some("contoso.example".into()),
    }
}

/// Key files `vault-a`, `vault-b`, `vault-c` in `dir`, made the way `sealpost root-key create` does.
pub fn key_files(dir: &Path) -> Vec<RootKeyConfig> {
    ["vault-a", "vault-b", "vault-c"]
        .iter()
        .map(|name| {
            let path = dir.join(format!("{name}.key"));
            LocalKeyFile::create(&path).unwrap();
            file_key(name, &path)
        })
        .collect()
}

async fn app_with_files() -> (TestApp, tempfile::TempDir, TestTenant) {
    let keys = tempfile::tempdir().unwrap();
    let roots = key_files(keys.path());
    let app = TestApp::with_config(|c| c.root_keys = roots).await;
    let tenant = app.tenant("Contoso", &["contoso.example"]).await;
    (app, keys, tenant)
}

#[tokio::test]
async fn a_tenant_names_only_the_root_keys_assigned_to_it() {
    let keys = tempfile::tempdir().unwrap();
    let mut roots = key_files(keys.path());
    // vault-c belongs to Fabrikam (by id, below); vault-a and vault-b to contoso.example.
    roots[2].tenant = None;
    let app = TestApp::with_config(|c| c.root_keys = roots).await;
    let contoso = app.tenant("Contoso", &["contoso.example"]).await;
    let fabrikam = app.tenant("Fabrikam", &["fabrikam.example"]).await;
    let app = app
        .reopen(|c| c.root_keys[2].tenant = Some(fabrikam.id.clone()))
        .await;
    create_policy(
        &app,
        &contoso.token,
        "Contoso_Global",
        ["vault-a", "vault-b"],
    )
    .await;

    // Fabrikam sees only its own key, and cannot name Contoso's: not to make a policy, and not to
    // replace a root key of its own policy with one of them.
    let (_, list): (_, DataEncryptionPoliciesView) = app
        .json(Method::GET, POLICIES, &fabrikam.token, None::<&()>)
        .await;
    let names: Vec<_> = list.root_keys.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, ["local", "vault-c"]);
    for roots in [["vault-a", "vault-c"], ["vault-c", "vault-b"]] {
        let (status, e): (_, ErrorBody) = app
            .refusal(
                Method::POST,
                POLICIES,
                &fabrikam.token,
                Some(&json!({ "name": "Stolen", "root_keys": roots })),
            )
            .await;
        assert_eq!(
            (status, e.code.as_str()),
            (StatusCode::CONFLICT, "unknown_root_key")
        );
        assert!(!e.message.contains("Contoso"), "{}", e.message);
    }
    let (_, list): (_, DataEncryptionPoliciesView) = app
        .json(Method::GET, POLICIES, &contoso.token, None::<&()>)
        .await;
    let names: Vec<_> = list.root_keys.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, ["local", "vault-a", "vault-b"]);
    let (status, e) = set_policy(
        &app,
        &contoso.token,
        "Contoso_Global",
        &SetDataEncryptionPolicy {
            replace: Some(sealpost_api::key_policies::ReplaceRootKey {
                old: "vault-a".into(),
                new: "vault-c".into(),
            }),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        (status, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("unknown_root_key"))
    );
}

#[tokio::test]
async fn a_purge_destroys_only_root_keys_the_tenant_owns() {
    // A policy made on vault-c while it was Contoso's; the operator has since given it to Fabrikam.
    let (app, keys, t) = app_with_files().await;
    create_policy(&app, &t.token, "Old", ["vault-b", "vault-c"]).await;
    let fabrikam = app.tenant("Fabrikam", &["fabrikam.example"]).await;
    let app = app
        .reopen(|c| c.root_keys[2].tenant = Some(fabrikam.id.clone()))
        .await;
    let (status, _) = set_policy(
        &app,
        &t.token,
        "Old",
        &purge_request(Some("Leaving"), Some("it@contoso.example")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, result): (_, PurgeResult) = app
        .json(
            Method::POST,
            &format!("{POLICIES}/Old/purge"),
            &t.token,
            Some(&json!({"confirm": "Old"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(result.root_keys_destroyed, ["vault-b"]);
    assert!(!keys.path().join("vault-b.key").exists());
    assert!(
        keys.path().join("vault-c.key").exists(),
        "Fabrikam's key is left alone"
    );
}

const ANNA: &str = "/api/admin/data-encryption-policy-assignment/senders/Anna@Contoso.example";

pub async fn policy_of(app: &TestApp, tenant_id: &str, message_id: &str) -> Option<String> {
    app.state
        .store
        .message(tenant_id, message_id)
        .await
        .unwrap()
        .policy_id
}

#[tokio::test]
async fn a_senders_policy_wins_over_the_tenants_and_shows_whether_its_messages_are_under_it() {
    let (app, _keys, t) = app_with_files().await;
    let wide = create_policy(&app, &t.token, "Tenant_Wide", ["vault-a", "vault-b"]).await;
    let finance = create_policy(&app, &t.token, "Finance", ["vault-b", "vault-c"]).await;
    assert_eq!(
        assign(&app, &t.token, Some("Tenant_Wide")).await.0,
        StatusCode::OK
    );
    let before = app.send(&t.token, &message("bob@example.net")).await;

    let (status, view): (_, SenderPolicyView) = app
        .json(
            Method::PUT,
            ANNA,
            &t.token,
            Some(&json!({ "data_encryption_policy": "Finance" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view.address, "anna@contoso.example");
    assert_eq!(view.data_encryption_policy.as_deref(), Some("Finance"));
    assert_eq!(view.effective_policy.as_deref(), Some("Finance"));
    assert_eq!(
        (view.messages, view.messages_under_policy, view.is_encrypted),
        (1, 0, false)
    );

    // Anna's new messages go under Finance; Zoe's under the tenant's; Anna's first stays.
    let after = app.send(&t.token, &message("bob@example.net")).await;
    let zoes = app
        .send(
            &t.token,
            &SendMessageRequest {
                from: "zoe@contoso.example".into(),
                ..message("bob@example.net")
            },
        )
        .await;
    assert_eq!(
        policy_of(&app, &t.id, &after.message_id).await,
        Some(finance.id.clone())
    );
    assert_eq!(
        policy_of(&app, &t.id, &zoes.message_id).await,
        Some(wide.id.clone())
    );
    assert_eq!(
        policy_of(&app, &t.id, &before.message_id).await,
        Some(wide.id.clone())
    );
    let (_, view): (_, SenderPolicyView) = app.json(Method::GET, ANNA, &t.token, None::<&()>).await;
    assert_eq!(
        (view.messages, view.messages_under_policy, view.is_encrypted),
        (2, 1, false)
    );
    // Both of them open.
    app.open(&t.id, &after.message_id).await;
    app.open(&t.id, &zoes.message_id).await;

    // Refused: an address outside the tenant, a policy it does not have, another tenant's.
    let other = app.tenant("Fabrikam", &["fabrikam.example"]).await;
    for (path, token, body, want) in [
        (
            "/api/admin/data-encryption-policy-assignment/senders/eve@elsewhere.example",
            &t.token,
            json!({ "data_encryption_policy": "Finance" }),
            (StatusCode::CONFLICT, "sender_not_in_tenant"),
        ),
        (
            ANNA,
            &t.token,
            json!({ "data_encryption_policy": "Nope" }),
            (StatusCode::NOT_FOUND, "policy_not_found"),
        ),
        (
            "/api/admin/data-encryption-policy-assignment/senders/anna@fabrikam.example",
            &other.token,
            json!({ "data_encryption_policy": "Finance" }),
            (StatusCode::NOT_FOUND, "policy_not_found"),
        ),
    ] {
        let (status, e): (_, ErrorBody) = app.refusal(Method::PUT, path, token, Some(&body)).await;
        assert_eq!((status, e.code.as_str()), want, "{path} {body}");
    }

    // Back to the tenant's choice for new messages.
    let (_, view): (_, SenderPolicyView) = app
        .json(
            Method::PUT,
            ANNA,
            &t.token,
            Some(&json!({ "data_encryption_policy": null })),
        )
        .await;
    assert_eq!(view.data_encryption_policy, None);
    assert_eq!(view.effective_policy.as_deref(), Some("Tenant_Wide"));
    let later = app.send(&t.token, &message("bob@example.net")).await;
    assert_eq!(
        policy_of(&app, &t.id, &later.message_id).await,
        Some(wide.id.clone())
    );

    // A policy being purged cannot be given to a sender; a purge takes it from its senders.
    app.json::<serde_json::Value>(
        Method::PUT,
        ANNA,
        &t.token,
        Some(&json!({ "data_encryption_policy": "Finance" })),
    )
    .await;
    let (status, _) = set_policy(
        &app,
        &t.token,
        "Finance",
        &SetDataEncryptionPolicy {
            permanent_data_purge_requested: Some(true),
            permanent_data_purge_reason: Some("Leaving".into()),
            permanent_data_purge_contact: Some("it@contoso.example".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, e): (_, ErrorBody) = app
        .refusal(
            Method::PUT,
            "/api/admin/data-encryption-policy-assignment/senders/zoe@contoso.example",
            &t.token,
            Some(&json!({ "data_encryption_policy": "Finance" })),
        )
        .await;
    assert_eq!(
        (status, e.code.as_str()),
        (StatusCode::CONFLICT, "purge_requested")
    );
    let (status, _): (_, serde_json::Value) = app
        .json(
            Method::POST,
            &format!("{POLICIES}/Finance/purge"),
            &t.token,
            Some(&json!({ "confirm": "Finance" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, view): (_, SenderPolicyView) = app.json(Method::GET, ANNA, &t.token, None::<&()>).await;
    assert_eq!(
        view.data_encryption_policy, None,
        "the purge took the policy from Anna"
    );
}

pub async fn create_policy(
    app: &TestApp,
    token: &str,
    name: &str,
    roots: [&str; 2],
) -> DataEncryptionPolicyView {
    let (status, view): (_, serde_json::Value) = app
        .json(
            Method::POST,
            POLICIES,
            token,
            Some(&json!({ "name": name, "description": "Root policy", "root_keys": roots })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{view}");
    serde_json::from_value(view).unwrap()
}

pub async fn policy(app: &TestApp, token: &str, name: &str) -> DataEncryptionPolicyView {
    let (status, view) = app
        .json(
            Method::GET,
            &format!("{POLICIES}/{name}"),
            token,
            None::<&()>,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    view
}

pub async fn set_policy(
    app: &TestApp,
    token: &str,
    name: &str,
    change: &SetDataEncryptionPolicy,
) -> (StatusCode, serde_json::Value) {
    app.json(
        Method::PATCH,
        &format!("{POLICIES}/{name}"),
        token,
        Some(change),
    )
    .await
}

pub async fn assign(
    app: &TestApp,
    token: &str,
    name: Option<&str>,
) -> (StatusCode, serde_json::Value) {
    app.json(
        Method::PUT,
        ASSIGNMENT,
        token,
        Some(&PolicyAssignment {
            data_encryption_policy: name.map(str::to_owned),
        }),
    )
    .await
}

pub fn roll() -> SetDataEncryptionPolicy {
    SetDataEncryptionPolicy {
        roll: true,
        ..Default::default()
    }
}

pub fn purge_request(reason: Option<&str>, contact: Option<&str>) -> SetDataEncryptionPolicy {
    SetDataEncryptionPolicy {
        permanent_data_purge_requested: Some(true),
        permanent_data_purge_reason: reason.map(str::to_owned),
        permanent_data_purge_contact: contact.map(str::to_owned),
        ..Default::default()
    }
}

/// Send a message to `to` and return its id.
pub async fn send(app: &TestApp, token: &str, to: &str) -> String {
    app.send(token, &message(to)).await.message_id
}

#[tokio::test]
async fn policies_are_checked_then_created_assigned_and_seal_new_messages() {
    let (app, _keys, t) = app_with_files().await;
    let (status, list): (_, DataEncryptionPoliciesView) =
        app.json(Method::GET, POLICIES, &t.token, None::<&()>).await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.policies.is_empty());
    let names: Vec<_> = list.root_keys.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, ["local", "vault-a", "vault-b", "vault-c"]);
    assert!(list.root_keys.iter().all(|k| k.available));

    for (body, code) in [
        // What the request alone decides is 400; a key the server has not: 409.
        (
            json!({"name": "A", "root_keys": ["vault-a"]}),
            "two_root_keys_required",
        ),
        (
            json!({"name": "A", "root_keys": ["vault-a", "vault-a"]}),
            "two_root_keys_required",
        ),
        (
            json!({"name": "A", "root_keys": ["vault-a", "vault-b", "vault-c"]}),
            "two_root_keys_required",
        ),
        (
            json!({"name": "A", "root_keys": ["vault-a", "nowhere"]}),
            "unknown_root_key",
        ),
        (
            json!({"name": "A", "root_keys": ["local", "vault-a"]}),
            "local_root_key_not_allowed",
        ),
        (
            json!({"name": "has space", "root_keys": ["vault-a", "vault-b"]}),
            "invalid_name",
        ),
    ] {
        let (status, e): (_, ErrorBody) = app
            .refusal(Method::POST, POLICIES, &t.token, Some(&body))
            .await;
        let want = if code == "unknown_root_key" {
            StatusCode::CONFLICT
        } else {
            StatusCode::BAD_REQUEST
        };
        assert_eq!((status, e.code.as_str()), (want, code), "{body}");
    }

    let before = send(&app, &t.token, "bob@gmail.example").await;
    let dep = create_policy(&app, &t.token, "Contoso_Global", ["vault-a", "vault-b"]).await;
    assert_eq!(dep.status, "Registered");
    assert_eq!(dep.key_version, 1);
    assert!(!dep.assigned);
    let (status, e): (_, ErrorBody) = app
        .refusal(
            Method::POST,
            POLICIES,
            &t.token,
            Some(&json!({"name": "contoso_global", "root_keys": ["vault-a", "vault-b"]})),
        )
        .await;
    assert_eq!(
        (status, e.code.as_str()),
        (StatusCode::CONFLICT, "already_exists")
    );

    let (status, _) = assign(&app, &t.token, Some("Contoso_Global")).await;
    assert_eq!(status, StatusCode::OK);
    let (_, got): (_, PolicyAssignment) = app
        .json(Method::GET, ASSIGNMENT, &t.token, None::<&()>)
        .await;
    assert_eq!(
        got.data_encryption_policy.as_deref(),
        Some("Contoso_Global")
    );
    let (status, e): (_, ErrorBody) = app
        .refusal(
            Method::PUT,
            ASSIGNMENT,
            &t.token,
            Some(&json!({"data_encryption_policy": "Nope"})),
        )
        .await;
    assert_eq!(
        (status, e.code.as_str()),
        (StatusCode::NOT_FOUND, "policy_not_found")
    );

    // New messages are under the policy; the one before keeps the tenant's own key.
    let after = send(&app, &t.token, "bob@gmail.example").await;
    let status = app.status(&t.token, &after).await;
    assert_eq!(
        status.data_encryption_policy.as_deref(),
        Some("Contoso_Global")
    );
    assert_eq!(status.subject, "Quarterly numbers");
    assert_eq!(
        app.status(&t.token, &before).await.data_encryption_policy,
        None
    );
    let stored = app.state.store.message(&t.id, &after).await.unwrap();
    assert_eq!(stored.policy_id.as_deref(), Some(dep.id.as_str()));
    for id in [&before, &after] {
        let s = app.sign_in(id, "bob@gmail.example").await;
        let (status, body, _) = app.request_key(&s).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let p = policy(&app, &t.token, "contoso_global").await;
    assert!(p.assigned);
    assert_eq!(p.messages, 1);

    // Back to the tenant's own key for new messages.
    let (status, _) = assign(&app, &t.token, None).await;
    assert_eq!(status, StatusCode::OK);
    let last = send(&app, &t.token, "bob@gmail.example").await;
    assert_eq!(
        app.status(&t.token, &last).await.data_encryption_policy,
        None
    );

    let (_, audit): (_, Vec<AuditEventView>) = app
        .json(Method::GET, "/api/admin/audit", &t.token, None::<&()>)
        .await;
    let actions: Vec<_> = audit.iter().map(|e| e.action.as_str()).collect();
    assert!(
        actions.contains(&"data_encryption_policy.created"),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"data_encryption_policy.assigned"),
        "{actions:?}"
    );
}

#[tokio::test]
async fn either_root_key_alone_opens_and_without_both_release_is_refused_without_leaking() {
    let (app, keys, t) = app_with_files().await;
    create_policy(&app, &t.token, "Dep", ["vault-a", "vault-b"]).await;
    assign(&app, &t.token, Some("Dep")).await;
    let id = send(&app, &t.token, "bob@gmail.example").await;
    let s = app.sign_in(&id, "bob@gmail.example").await;

    let path = |n: &str| keys.path().join(format!("{n}.key"));
    let aside = |n: &str| keys.path().join(format!("{n}.away"));
    // The first root key is gone: the second alone opens, and sealing goes on.
    std::fs::rename(path("vault-a"), aside("vault-a")).unwrap();
    let app = app.reopen(|_| {}).await;
    let (status, body, _) = app.request_key(&s).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let p = policy(&app, &t.token, "Dep").await;
    assert!(!p.root_keys[0].available && p.root_keys[1].available);
    // Both root keys must answer to wrap a new data key.
    let (status, body) = set_policy(&app, &t.token, "Dep", &roll()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Some("root_key_unavailable")
        )
    );

    // Now only the first.
    std::fs::rename(aside("vault-a"), path("vault-a")).unwrap();
    std::fs::rename(path("vault-b"), aside("vault-b")).unwrap();
    let app = app.reopen(|_| {}).await;
    let (status, body, _) = app.request_key(&s).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Neither: one missing, and the other replaced by a different key (a wrong token).
    std::fs::remove_file(path("vault-a")).unwrap();
    LocalKeyFile::create(&path("vault-a")).unwrap();
    let app = app.reopen(|_| {}).await;
    let (status, body, _) = app.request_key(&s).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["code"], "key_unavailable");
    let text = body.to_string();
    for secret_or_detail in ["vault", ".key", keys.path().to_str().unwrap(), "Corrupt"] {
        assert!(!text.contains(secret_or_detail), "{text}");
    }
    let res = app
        .json::<serde_json::Value>(
            Method::POST,
            "/api/admin/messages",
            &t.token,
            Some(&message("carol@yahoo.example")),
        )
        .await;
    assert_eq!(res.0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.1["code"], "key_unavailable");
    // The tenant's own key (the built-in root key) is untouched by all this.
    assign(&app, &t.token, None).await;
    let own = send(&app, &t.token, "carol@yahoo.example").await;
    app.open(&t.id, &own).await;
}

/// The bytes of every sealed part of a message, as stored.
pub async fn sealed_parts(app: &TestApp, tenant: &str, id: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for part in ["manifest", "body-0"] {
        out.push(app.state.store.read_part(tenant, id, part).await.unwrap());
    }
    out
}

#[tokio::test]
async fn a_roll_rewraps_message_keys_not_content_and_resumes_after_a_crash() {
    let (app, _keys, t) = app_with_files().await;
    let dep = create_policy(&app, &t.token, "Dep", ["vault-a", "vault-b"]).await;
    assign(&app, &t.token, Some("Dep")).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(send(&app, &t.token, "bob@gmail.example").await);
    }
    let mut before = Vec::new();
    for id in &ids {
        before.push(sealed_parts(&app, &t.id, id).await);
    }

    let (status, view) = set_policy(&app, &t.token, "Dep", &roll()).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    let view: DataEncryptionPolicyView = serde_json::from_value(view).unwrap();
    assert_eq!(
        (view.status.as_str(), view.roll_percent, view.key_version),
        ("Rolling", Some(0), 2)
    );
    // New messages get the new version at once.
    let fresh = send(&app, &t.token, "bob@gmail.example").await;
    assert_eq!(
        app.state
            .store
            .message(&t.id, &fresh)
            .await
            .unwrap()
            .key_version,
        2
    );

    assert_eq!(roll::step(&app.state, 2).await.unwrap(), 2);
    let view = policy(&app, &t.token, "Dep").await;
    // 3 of 6 at version 2.
    assert_eq!(
        (view.status.as_str(), view.roll_percent),
        ("Rolling", Some(50))
    );
    for id in ids.iter().chain([&fresh]) {
        app.open(&t.id, id).await;
    }

    // The process dies here; a new one carries on from the database alone.
    let app = app.reopen(|_| {}).await;
    let versions = app.state.store.policy_data_keys(&dep.id).await.unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(roll::run_to_end(&app.state).await.unwrap(), 3);
    let view = policy(&app, &t.token, "Dep").await;
    assert_eq!(
        (view.status.as_str(), view.roll_percent),
        ("Registered", None)
    );
    // The old data key is gone once no message uses it.
    let versions = app.state.store.policy_data_keys(&dep.id).await.unwrap();
    assert_eq!(versions.iter().map(|v| v.version).collect::<Vec<_>>(), [2]);
    for (id, parts) in ids.iter().zip(&before) {
        assert_eq!(
            app.state
                .store
                .message(&t.id, id)
                .await
                .unwrap()
                .key_version,
            2
        );
        // Content is never re-encrypted: the sealed bytes are the same.
        assert_eq!(&sealed_parts(&app, &t.id, id).await, parts);
        app.open(&t.id, id).await;
    }
    // A second roll while one is in progress is refused; after it, another can start.
    assert_eq!(
        set_policy(&app, &t.token, "Dep", &roll()).await.0,
        StatusCode::OK
    );
    assert_eq!(roll::run_to_end(&app.state).await.unwrap(), 6);
    assert_eq!(policy(&app, &t.token, "Dep").await.key_version, 3);
}

#[tokio::test]
async fn messages_open_throughout_a_roll_under_load() {
    let (app, _keys, t) = app_with_files().await;
    create_policy(&app, &t.token, "Dep", ["vault-a", "vault-b"]).await;
    assign(&app, &t.token, Some("Dep")).await;
    let mut signed = Vec::new();
    for _ in 0..4 {
        let id = send(&app, &t.token, "bob@gmail.example").await;
        signed.push(app.sign_in(&id, "bob@gmail.example").await);
    }
    for _ in 0..36 {
        send(&app, &t.token, "bob@gmail.example").await;
    }
    assert_eq!(
        set_policy(&app, &t.token, "Dep", &roll()).await.0,
        StatusCode::OK
    );
    let app = std::sync::Arc::new(app);
    // The worker rolls three keys per transaction while recipients keep asking for keys, and
    // senders keep sealing under the policy.
    let roller = {
        let app = app.clone();
        tokio::spawn(async move {
            let mut moved = 0;
            loop {
                let n = roll::step(&app.state, 3).await.unwrap();
                if n == 0 {
                    return moved;
                }
                moved += n;
                tokio::task::yield_now().await;
            }
        })
    };
    let mut readers = Vec::new();
    for s in signed {
        let app = app.clone();
        readers.push(tokio::spawn(async move {
            for _ in 0..15 {
                let (status, body, _) = app.request_key(&s).await;
                assert_eq!(status, StatusCode::OK, "{body}");
                tokio::task::yield_now().await;
            }
        }));
    }
    let sender = {
        let app = app.clone();
        let token = t.token.clone();
        tokio::spawn(async move {
            for _ in 0..5 {
                send(&app, &token, "carol@yahoo.example").await;
            }
        })
    };
    for r in readers {
        r.await.unwrap();
    }
    sender.await.unwrap();
    assert_eq!(roller.await.unwrap(), 40);
    roll::run_to_end(&app.state).await.unwrap();
    let view = policy(&app, &t.token, "Dep").await;
    assert_eq!((view.status.as_str(), view.messages), ("Registered", 45));
}

#[tokio::test]
async fn replacing_a_root_key_rewraps_the_data_key_under_the_new_one() {
    let (app, keys, t) = app_with_files().await;
    create_policy(&app, &t.token, "Dep", ["vault-a", "vault-b"]).await;
    assign(&app, &t.token, Some("Dep")).await;
    let id = send(&app, &t.token, "bob@gmail.example").await;
    let replace = |old: &str, new: &str| SetDataEncryptionPolicy {
        replace: Some(sealpost_api::key_policies::ReplaceRootKey {
            old: old.into(),
            new: new.into(),
        }),
        ..Default::default()
    };
    for (old, new, code) in [
        ("vault-c", "vault-a", "unknown_root_key"),
        ("vault-a", "vault-b", "two_root_keys_required"),
        ("vault-a", "nowhere", "unknown_root_key"),
    ] {
        let (status, body) = set_policy(&app, &t.token, "Dep", &replace(old, new)).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::CONFLICT, Some(code))
        );
    }
    let both = SetDataEncryptionPolicy {
        roll: true,
        ..replace("vault-a", "vault-c")
    };
    let (status, body) = set_policy(&app, &t.token, "Dep", &both).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("one_change_at_a_time"))
    );

    let (status, body) = set_policy(&app, &t.token, "Dep", &replace("vault-a", "vault-c")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let names: Vec<_> = body["root_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["vault-c", "vault-b"]);

    // The old key is no longer needed: without it and without vault-b, vault-c alone opens.
    std::fs::remove_file(keys.path().join("vault-a.key")).unwrap();
    std::fs::remove_file(keys.path().join("vault-b.key")).unwrap();
    let app = app.reopen(|_| {}).await;
    app.open(&t.id, &id).await;
}

/// Every form of the keys that open these messages under this policy, as stored now: each version
/// of the data key wrapped under each root key, then each message's wrapped key and its key.
pub async fn key_forms(app: &TestApp, tenant: &str, policy: &str, ids: &[String]) -> Vec<Vec<u8>> {
    let mut forms: Vec<Vec<u8>> = Vec::new();
    for v in app.state.store.policy_data_keys(policy).await.unwrap() {
        forms.extend(v.wrapped);
    }
    for id in ids {
        let m = app.state.store.message(tenant, id).await.unwrap();
        forms.push(m.wrapped_key);
        forms.push(app.message_key(tenant, id).await.expose_secret().to_vec());
    }
    forms
}

/// Every file under `dir`, read whole.
pub fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    out
}

/// Where `needle` occurs on disk, if anywhere.
pub fn found_in(files: &[(PathBuf, Vec<u8>)], needle: &[u8]) -> Option<PathBuf> {
    files
        .iter()
        .find(|(_, bytes)| bytes.windows(needle.len()).any(|w| w == needle))
        .map(|(p, _)| p.clone())
}

#[tokio::test]
async fn a_purge_is_requested_with_reason_and_contact_then_confirmed_and_crypto_shreds() {
    let (app, keys, t) = app_with_files().await;
    let own = send(&app, &t.token, "bob@gmail.example").await;
    let dep = create_policy(&app, &t.token, "Dep", ["vault-a", "vault-b"]).await;
    // vault-c is shared with another policy, so it must survive the purge of this one.
    create_policy(&app, &t.token, "Other", ["vault-b", "vault-c"]).await;
    assign(&app, &t.token, Some("Dep")).await;
    let ids = [
        send(&app, &t.token, "bob@gmail.example").await,
        send(&app, &t.token, "carol@yahoo.example").await,
    ];
    let s = app.sign_in(&ids[0], "bob@gmail.example").await;

    // Requests need a reason and a contact; one can be withdrawn.
    for (change, code) in [
        (
            purge_request(None, Some("dpo@contoso.example")),
            "purge_reason_required",
        ),
        (
            purge_request(Some("Leaving the service"), None),
            "purge_contact_required",
        ),
    ] {
        let (status, body) = set_policy(&app, &t.token, "Dep", &change).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code))
        );
    }
    let (status, body) = app
        .json::<serde_json::Value>(
            Method::POST,
            &format!("{POLICIES}/Dep/purge"),
            &t.token,
            Some(&json!({"confirm": "Dep"})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("purge_not_requested"))
    );
    let request = purge_request(Some("Leaving the service"), Some("dpo@contoso.example"));
    let (status, body) = set_policy(&app, &t.token, "Dep", &request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "PurgeRequested");
    assert_eq!(body["purge"]["reason"], "Leaving the service");
    assert_eq!(body["purge"]["contact"], "dpo@contoso.example");
    assert_eq!(body["purge"]["requested_by"], "bootstrap");
    // While requested: messages still open, but nothing new is sealed under it or rolled.
    let (status, _, _) = app.request_key(&s).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app
        .json::<serde_json::Value>(
            Method::POST,
            "/api/admin/messages",
            &t.token,
            Some(&message("bob@gmail.example")),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("purge_requested"))
    );
    assert_eq!(
        set_policy(&app, &t.token, "Dep", &roll()).await.0,
        StatusCode::CONFLICT
    );
    let withdraw = SetDataEncryptionPolicy {
        permanent_data_purge_requested: Some(false),
        ..Default::default()
    };
    let (status, body) = set_policy(&app, &t.token, "Dep", &withdraw).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("Registered"))
    );
    set_policy(&app, &t.token, "Dep", &request).await;

    // What exists before: the wrapped data key, the wrapped message keys, the message keys, the
    // root key files; and the scanner does find wrapped keys in the database (the control).
    let data_keys = app.state.store.policy_data_keys(&dep.id).await.unwrap();
    let mut secrets = key_forms(&app, &t.id, &dep.id, &ids).await;
    let tenant = app.state.store.tenant(&t.id).await.unwrap();
    let policy_row = app.state.store.policy(&t.id, "Dep").await.unwrap();
    let data_key = sealpost::services::key_policies::unwrap_data_key(
        &app.state.root_keys,
        &policy_row,
        &data_keys[0],
    )
    .unwrap();
    secrets.push(data_key.expose_secret().to_vec());
    drop(tenant);
    for name in ["vault-a", "vault-b"] {
        secrets.push(std::fs::read(keys.path().join(format!("{name}.key"))).unwrap());
    }
    let everything = |app: &TestApp| {
        let mut f = files_under(&app.data_dir());
        f.extend(files_under(keys.path()));
        f
    };
    // On PostgreSQL the database is not in the data directory, so the scan sees key files and
    // blobs only; what a purge leaves in PostgreSQL's own files is said in docs/SECURITY.md.
    assert!(
        app.on_postgres() || found_in(&everything(&app), &secrets[2]).is_some(),
        "the scan must see the database"
    );

    let (status, body) = app
        .json::<serde_json::Value>(
            Method::POST,
            &format!("{POLICIES}/Dep/purge"),
            &t.token,
            Some(&json!({"confirm": "dep"})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("confirmation_mismatch"))
    );
    // A notice of one of the policy's messages still waits in the outbox (the relay was down):
    // it carries the subject and a link to what the purge makes unreadable.
    let waiting = sealpost::store::outbox::OutboxMail {
        id: "waiting-notice".into(),
        tenant_id: t.id.clone(),
        purpose: sealpost::store::outbox::Purpose::Notice,
        message_id: Some(ids[1].clone()),
        recipient: "carol@yahoo.example".into(),
        mail_from: "anna@contoso.example".into(),
        sealed: vec![1; 64],
        created_at: app.clock.now(),
        expires_at: None,
        attempts: 1,
    };
    let outbox = |app: &TestApp| {
        let store = app.state.store.clone();
        async move { store.outbox_depth().await.unwrap().waiting }
    };
    app.state
        .store
        .enqueue_outbox(&waiting, app.clock.now() + 60)
        .await
        .unwrap();
    assert_eq!(outbox(&app).await, 1);
    assert!(
        !app.state.data_keys.is_empty(),
        "sealing kept Dep's data key"
    );
    let (status, result): (_, PurgeResult) = app
        .json(
            Method::POST,
            &format!("{POLICIES}/Dep/purge"),
            &t.token,
            Some(&json!({"confirm": "Dep"})),
        )
        .await;
    assert!(
        app.state.data_keys.is_empty(),
        "the purge forgot it at once"
    );
    assert_eq!(outbox(&app).await, 0, "the purge took the waiting notice");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(result.policy.status, "Purged");
    assert_eq!(
        (result.data_keys_destroyed, result.message_keys_destroyed),
        (1, 2)
    );
    // vault-a belonged to this policy alone; vault-b is still in "Other".
    assert_eq!(result.root_keys_destroyed, ["vault-a"]);
    assert!(!keys.path().join("vault-a.key").exists());
    assert!(result.policy.purge.as_ref().unwrap().purged_by.as_deref() == Some("bootstrap"));

    // Key release answers "purged", the status says so, the assignment is gone.
    let (status, body, _) = app.request_key(&s).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::GONE, Some("message_purged"))
    );
    let st = app.status(&t.token, &ids[1]).await;
    assert!(st.purged);
    assert_eq!(st.subject, "");
    let (_, got): (_, PolicyAssignment) = app
        .json(Method::GET, ASSIGNMENT, &t.token, None::<&()>)
        .await;
    assert_eq!(got.data_encryption_policy, None);
    let (status, body) = set_policy(&app, &t.token, "Dep", &roll()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("policy_purged"))
    );
    let (_, audit): (_, Vec<AuditEventView>) = app
        .json(Method::GET, "/api/admin/audit", &t.token, None::<&()>)
        .await;
    for action in [
        "data_encryption_policy.purge_requested",
        "data_encryption_policy.purge_withdrawn",
        "data_encryption_policy.purged",
    ] {
        assert!(
            audit
                .iter()
                .any(|e| e.action == action && e.actor == "bootstrap" && e.target == "Dep"),
            "{action}"
        );
    }

    // Proof: nothing left on disk — database, journal, blobs, key files — holds any form of the
    // keys that opened these messages, and what keys remain open nothing of theirs.
    let app = app.reopen(|_| {}).await;
    let left = everything(&app);
    for (n, secret) in secrets.iter().enumerate() {
        if n == secrets.len() - 1 {
            // vault-b's key file is still there (another policy uses it) — but it wrapped only
            // data keys that no longer exist anywhere.
            continue;
        }
        assert_eq!(found_in(&left, secret), None, "secret {n} is still on disk");
    }
    for id in &ids {
        let refused = app.try_message_key(&t.id, id).await.unwrap_err();
        assert!(refused.to_string().contains("message_purged"), "{refused}");
        let m = app.state.store.message(&t.id, id).await.unwrap();
        assert!(m.wrapped_key.is_empty());
    }
    assert!(
        app.state
            .store
            .policy_data_keys(&dep.id)
            .await
            .unwrap()
            .is_empty()
    );
    // Every 32-byte window of every file left, tried as the message key, opens neither message.
    let manifests = [
        app.state
            .store
            .read_part(&t.id, &ids[0], "manifest")
            .await
            .unwrap(),
        app.state
            .store
            .read_part(&t.id, &ids[1], "manifest")
            .await
            .unwrap(),
    ];
    assert_nothing_opens(&left, &ids, &manifests);
    // The tenant's own messages are not touched.
    app.open(&t.id, &own).await;
}

/// Try every 32-byte window of every file as the key of each message's manifest.
pub fn assert_nothing_opens(files: &[(PathBuf, Vec<u8>)], ids: &[String], manifests: &[Vec<u8>]) {
    use sealpost_envelope::{MessageId, MessageKey, open_manifest};
    for (path, bytes) in files {
        for w in bytes.windows(32) {
            let key = MessageKey::from_bytes(w.try_into().unwrap());
            for (id, sealed) in ids.iter().zip(manifests) {
                let mid = MessageId::parse(id).unwrap();
                assert!(
                    open_manifest(&key, &mid, sealed).is_err(),
                    "{} holds the key of {id}",
                    path.display()
                );
            }
        }
    }
}

#[tokio::test]
async fn without_any_hsm_the_local_key_works_and_an_unreachable_token_is_reported() {
    let keys = tempfile::tempdir().unwrap();
    let pin = keys.path().join("pin");
    std::fs::write(&pin, "1234").unwrap();
    let token = RootKeyConfig {
        name: "hsm".into(),
        provider: RootKeyKind::Pkcs11,
        path: None,
        module: Some(keys.path().join("no-such-module.so")),
        token: Some("T".into()),
        key_label: Some("root".into()),
        pin_file: Some(pin),
        pin_env: None,
        tenant: Some("contoso.example".into()),
    };
    let file = keys.path().join("a.key");
    LocalKeyFile::create(&file).unwrap();
    let roots = vec![token, file_key("vault-a", &file)];
    let app = TestApp::with_config(|c| c.root_keys = roots).await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    // The server started; the tenant's own key seals and opens.
    let id = send(&app, &t.token, "bob@gmail.example").await;
    app.open(&t.id, &id).await;
    let (_, list): (_, DataEncryptionPoliciesView) =
        app.json(Method::GET, POLICIES, &t.token, None::<&()>).await;
    let hsm = list.root_keys.iter().find(|k| k.name == "hsm").unwrap();
    assert_eq!((hsm.provider.as_str(), hsm.available), ("pkcs11", false));
    let (status, body): (_, serde_json::Value) = app
        .json(
            Method::POST,
            POLICIES,
            &t.token,
            Some(&json!({"name": "Dep", "root_keys": ["hsm", "vault-a"]})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Some("root_key_unavailable")
        )
    );
    assert!(!body.to_string().contains("no-such-module"));
}
