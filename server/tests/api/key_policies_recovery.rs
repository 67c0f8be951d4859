//! The availability key with key files (the PKCS#11 run is in `hsm`): made with each policy
//! outside the data directory, never used by key release, used only by an explicit, audited
//! recovery when neither root key answers, given to older policies in the background, and
//! destroyed by a purge, which does not start if it cannot destroy it.

use std::path::{Path, PathBuf};

use axum::http::{Method, StatusCode};
use sealpost::config::{AvailabilityKeyConfig, RootKeyConfig, RootKeyKind};
use sealpost::keys::LocalKeyFile;
use sealpost::services::key_policies::{availability, roll};
use sealpost_api::admin::AuditEventView;
use sealpost_api::key_policies::{DataEncryptionPolicyView, PurgeResult};
use serde_json::json;

use crate::helpers::TestApp;
use crate::key_policies::{
    POLICIES, assign, create_policy, file_key, files_under, key_files, policy, purge_request, roll,
    send, set_policy,
};

/// An `[availability_key]` table for key files in `dir`.
pub fn availability_dir(dir: &Path) -> AvailabilityKeyConfig {
    AvailabilityKeyConfig {
        provider: RootKeyKind::File,
        directory: Some(dir.to_owned()),
        module: None,
        token: None,
        pin_file: None,
        pin_env: None,
    }
}

/// Root keys `vault-a` … `vault-d` for Contoso and `vault-f` for Fabrikam, in `dir`.
fn roots(dir: &Path) -> Vec<RootKeyConfig> {
    let mut roots = key_files(dir);
    for (name, owner) in [
        ("vault-d", "contoso.example"),
        ("vault-f", "fabrikam.example"),
    ] {
        let path = dir.join(format!("{name}.key"));
        LocalKeyFile::create(&path).unwrap();
        roots.push(RootKeyConfig {
            tenant: Some(owner.into()),
            ..file_key(name, &path)
        });
    }
    roots
}

/// The policy's one availability key file in `dir` (its name has a random part).
fn key_path(dir: &Path, policy: &DataEncryptionPolicyView) -> PathBuf {
    let prefix = format!("sealpost-availability-{}-", policy.id);
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".key"))
        })
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found[0].clone()
}

async fn recover(
    app: &TestApp,
    token: &str,
    name: &str,
    roots: &[&str],
    reason: &str,
) -> (StatusCode, serde_json::Value) {
    app.json(
        Method::POST,
        &format!("{POLICIES}/{name}/recover"),
        token,
        Some(&json!({ "root_keys": roots, "reason": reason })),
    )
    .await
}

#[tokio::test]
async fn the_availability_key_recovers_a_policy_only_when_both_root_keys_are_gone() {
    let keys = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let store = outside.path().join("availability");
    let configured = roots(keys.path());
    let app = TestApp::with_config(|c| {
        c.root_keys = configured;
        c.availability_key = Some(availability_dir(&store));
    })
    .await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let fabrikam = app.tenant("Fabrikam", &["fabrikam.example"]).await;
    let dep = create_policy(&app, &t.token, "Dep", ["vault-a", "vault-b"]).await;
    assert!(dep.availability_key);
    let availability_file = key_path(&store, &dep);
    assert!(availability_file.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&store), mode(&availability_file)), (0o700, 0o600));
    }
    assign(&app, &t.token, Some("Dep")).await;
    // Two data-key versions in use: messages at version 1, a roll begun, one message at 2.
    let first = send(&app, &t.token, "bob@gmail.example").await;
    assert_eq!(
        set_policy(&app, &t.token, "Dep", &roll()).await.0,
        StatusCode::OK
    );
    let second = send(&app, &t.token, "bob@gmail.example").await;
    let s1 = app.sign_in(&first, "bob@gmail.example").await;
    let s2 = app.sign_in(&second, "bob@gmail.example").await;

    // Not while a root key answers: that is what replacing one is for.
    let (status, body) = recover(&app, &t.token, "Dep", &["vault-c", "vault-d"], "Lost").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("root_key_available")),
        "{body}"
    );

    // Both root keys gone: one deleted, the other replaced by a different key.
    let path = |n: &str| keys.path().join(format!("{n}.key"));
    std::fs::remove_file(path("vault-a")).unwrap();
    std::fs::remove_file(path("vault-b")).unwrap();
    LocalKeyFile::create(&path("vault-b")).unwrap();
    let app = app.reopen(|_| {}).await;
    // Key release never falls back to the availability key on its own.
    for s in [&s1, &s2] {
        let (status, body, _) = app.request_key(s).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, Some("key_unavailable"))
        );
    }

    // Refused: no reason, one key, the built-in key, another tenant's key, another tenant asking.
    for (token, roots, reason, want) in [
        (
            &t.token,
            vec!["vault-c", "vault-d"],
            " ",
            (StatusCode::BAD_REQUEST, "recovery_reason_required"),
        ),
        (
            &t.token,
            vec!["vault-c"],
            "Lost",
            (StatusCode::BAD_REQUEST, "two_root_keys_required"),
        ),
        (
            &t.token,
            vec!["vault-c", "vault-c"],
            "Lost",
            (StatusCode::BAD_REQUEST, "two_root_keys_required"),
        ),
        (
            &t.token,
            vec!["vault-c", "local"],
            "Lost",
            (StatusCode::BAD_REQUEST, "local_root_key_not_allowed"),
        ),
        (
            &t.token,
            vec!["vault-c", "vault-f"],
            "Lost",
            (StatusCode::CONFLICT, "unknown_root_key"),
        ),
        (
            &fabrikam.token,
            vec!["vault-f", "vault-c"],
            "Mine now",
            (StatusCode::NOT_FOUND, "policy_not_found"),
        ),
    ] {
        let (status, body) = recover(&app, token, "Dep", &roots, reason).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (want.0, Some(want.1)),
            "{roots:?} {body}"
        );
    }
    let (status, body) = recover(
        &app,
        &fabrikam.token,
        &dep.id,
        &["vault-f", "vault-c"],
        "Mine",
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("policy_not_found"))
    );

    // Recovered: every version re-wrapped under the two new root keys, which now stand alone.
    let (status, body) = recover(
        &app,
        &t.token,
        "Dep",
        &["vault-c", "vault-d"],
        "Both vaults were lost in the data-centre fire",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let view: DataEncryptionPolicyView = serde_json::from_value(body).unwrap();
    let names: Vec<_> = view.root_keys.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, ["vault-c", "vault-d"]);
    assert!(view.root_keys.iter().all(|k| k.available));
    for s in [&s1, &s2] {
        let (status, body, _) = app.request_key(s).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // The roll goes on under the new keys, and either new key alone opens.
    assert_eq!(roll::run_to_end(&app.state).await.unwrap(), 1);
    std::fs::remove_file(path("vault-c")).unwrap();
    let app = app.reopen(|_| {}).await;
    app.open(&t.id, &first).await;
    app.open(&t.id, &second).await;
    let (status, body) = recover(&app, &t.token, "Dep", &["vault-a", "vault-b"], "Again").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("root_key_available"))
    );

    // Audited with who, which keys and why (in the recovery's own transaction).
    let (_, audit): (_, Vec<AuditEventView>) = app
        .json(Method::GET, "/api/admin/audit", &t.token, None::<&()>)
        .await;
    let recovered: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "data_encryption_policy.recovered")
        .collect();
    assert_eq!(recovered.len(), 1, "{audit:?}");
    assert!(
        recovered[0].target.contains("vault-a")
            && recovered[0].target.contains("vault-d")
            && recovered[0].target.contains("data-centre fire"),
        "{:?}",
        recovered[0]
    );
    let (_, theirs): (_, Vec<AuditEventView>) = app
        .json(
            Method::GET,
            "/api/admin/audit",
            &fabrikam.token,
            None::<&()>,
        )
        .await;
    assert!(theirs.iter().all(|e| !e.action.contains("recovered")));

    // A purge destroys the availability key: nothing is left in the operator's store.
    LocalKeyFile::create(&path("vault-c")).unwrap();
    let (status, _) = set_policy(
        &app,
        &t.token,
        "Dep",
        &purge_request(Some("Leaving"), Some("dpo@contoso.example")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Not while a purge is requested: it would undo the tenant's decision to destroy the keys.
    let (status, body) = recover(&app, &t.token, "Dep", &["vault-a", "vault-b"], "Undo").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("purge_requested"))
    );
    let (status, result): (_, PurgeResult) = app
        .json(
            Method::POST,
            &format!("{POLICIES}/Dep/purge"),
            &t.token,
            Some(&json!({ "confirm": "Dep" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(result.availability_key_destroyed);
    assert!(!availability_file.exists());
    assert!(files_under(&store).is_empty(), "{:?}", files_under(&store));
    let (status, body) = recover(&app, &t.token, "Dep", &["vault-a", "vault-b"], "Undo").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("policy_purged"))
    );
}

#[tokio::test]
async fn a_purge_that_cannot_destroy_the_availability_key_does_not_start() {
    let keys = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let store = outside.path().join("availability");
    let configured = roots(keys.path());
    let app = TestApp::with_config(|c| {
        c.root_keys = configured;
        c.availability_key = Some(availability_dir(&store));
    })
    .await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let dep = create_policy(&app, &t.token, "Dep", ["vault-a", "vault-b"]).await;
    assign(&app, &t.token, Some("Dep")).await;
    let id = send(&app, &t.token, "bob@gmail.example").await;
    set_policy(
        &app,
        &t.token,
        "Dep",
        &purge_request(Some("Leaving"), Some("dpo@contoso.example")),
    )
    .await;
    let file = key_path(&store, &dep);
    let aside = outside.path().join("aside");
    std::fs::rename(&file, &aside).unwrap();
    let confirm = || async {
        app.json::<serde_json::Value>(
            Method::POST,
            &format!("{POLICIES}/Dep/purge"),
            &t.token,
            Some(&json!({ "confirm": "Dep" })),
        )
        .await
    };
    // Not where the store keeps it (the operator moved it): the purge would not be final.
    let (status, body) = confirm().await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("availability_key_missing")),
        "{body}"
    );
    // There, but it cannot be read (a directory stands in its place).
    std::fs::create_dir(&file).unwrap();
    let (status, body) = confirm().await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Some("availability_key_unavailable")
        ),
        "{body}"
    );
    assert!(!body.to_string().contains("availability/"), "{body}");
    assert_eq!(policy(&app, &t.token, "Dep").await.status, "PurgeRequested");
    app.open(&t.id, &id).await;
    // Put right, the purge goes through.
    std::fs::remove_dir(&file).unwrap();
    std::fs::rename(&aside, &file).unwrap();
    let (status, body) = confirm().await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["availability_key_destroyed"], true);
    assert!(!file.exists());
}

#[tokio::test]
async fn a_policy_made_before_the_availability_store_gets_its_key_in_the_background() {
    let keys = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let store = outside.path().join("availability");
    let configured = roots(keys.path());
    let app = TestApp::with_config(|c| c.root_keys = configured).await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let dep = create_policy(&app, &t.token, "Dep", ["vault-a", "vault-b"]).await;
    assert!(!dep.availability_key);
    // A policy on its way out is given none: its purge must not leave a key behind.
    create_policy(&app, &t.token, "Leaving", ["vault-c", "vault-d"]).await;
    set_policy(
        &app,
        &t.token,
        "Leaving",
        &purge_request(Some("Leaving"), Some("dpo@contoso.example")),
    )
    .await;
    assign(&app, &t.token, Some("Dep")).await;
    let first = send(&app, &t.token, "bob@gmail.example").await;
    set_policy(&app, &t.token, "Dep", &roll()).await;
    let second = send(&app, &t.token, "bob@gmail.example").await;

    // Without one, there is nothing to recover with.
    std::fs::rename(keys.path().join("vault-a.key"), keys.path().join("a.away")).unwrap();
    let app = app.reopen(|_| {}).await;
    let (status, body) = recover(&app, &t.token, "Dep", &["vault-c", "vault-d"], "Lost").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("no_availability_key"))
    );

    // A store that cannot be written: new policies are refused, and nothing is made.
    let blocked = outside.path().join("a-file");
    std::fs::write(&blocked, b"not a directory").unwrap();
    let app = app
        .reopen(|c| c.availability_key = Some(availability_dir(&blocked.join("keys"))))
        .await;
    let (status, body): (_, serde_json::Value) = app
        .json(
            Method::POST,
            POLICIES,
            &t.token,
            Some(&json!({ "name": "Other", "root_keys": ["vault-c", "vault-d"] })),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Some("availability_key_unavailable")
        ),
        "{body}"
    );
    let (_, list): (_, serde_json::Value) =
        app.json(Method::GET, POLICIES, &t.token, None::<&()>).await;
    assert_eq!(list["policies"].as_array().unwrap().len(), 2);

    // Configured: the worker wraps every version under a new availability key, using the root
    // key that answers (vault-b).
    let app = app
        .reopen(|c| c.availability_key = Some(availability_dir(&store)))
        .await;
    assert_eq!(availability::backfill(&app.state).await, 1);
    assert_eq!(availability::backfill(&app.state).await, 0, "once");
    assert!(!policy(&app, &t.token, "Leaving").await.availability_key);
    let view = policy(&app, &t.token, "Dep").await;
    assert!(view.availability_key);
    assert!(key_path(&store, &dep).exists());
    // …with which both versions are recovered once vault-b is gone too.
    std::fs::remove_file(keys.path().join("vault-b.key")).unwrap();
    let app = app.reopen(|_| {}).await;
    let (status, body) = recover(&app, &t.token, "Dep", &["vault-c", "vault-d"], "Both lost").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.open(&t.id, &first).await;
    app.open(&t.id, &second).await;
}
