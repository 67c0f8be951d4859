//! Root keys in a PKCS#11 token, against SoftHSM2 with a token directory private to this run.
//!
//! SoftHSM2 reads its configuration (where the tokens are) from `SOFTHSM2_CONF` once, when the
//! module is initialised; this process's environment cannot be changed safely, so the outer test
//! makes the tokens with `softhsm2-util` and runs the inner one in a child process of this same
//! test binary with that variable set. The directory goes when the test ends.

use std::path::{Path, PathBuf};
use std::process::Command;

use axum::http::{Method, StatusCode};
use sealpost::config::{AvailabilityKeyConfig, RootKeyConfig, RootKeyKind};
use sealpost::keys::{KeyError, PinSource, Pkcs11Location, Pkcs11RootKey, RootKeyProvider};
use sealpost_api::key_policies::{PurgeResult, SetDataEncryptionPolicy};
use sealpost_envelope::TenantDataKey;

use crate::helpers::TestApp;
use crate::key_policies::{
    POLICIES, assert_nothing_opens, assign, create_policy, files_under, found_in, key_forms,
    policy, roll, send, set_policy,
};

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const PIN: &str = "31415926";
const DIR_VAR: &str = "SEALPOST_TEST_SOFTHSM_DIR";

fn softhsm(conf: &Path, args: &[&str]) {
    let out = Command::new("softhsm2-util")
        .args(args)
        .env("SOFTHSM2_CONF", conf)
        .output()
        .expect("softhsm2-util (apt-get install softhsm2) runs");
    assert!(
        out.status.success(),
        "softhsm2-util {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn root_keys_in_softhsm_wrap_inside_the_token_and_refuse_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::create_dir(&tokens).unwrap();
    let conf = dir.path().join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    for label in ["vault-a", "vault-b", "vault-c", "availability"] {
        softhsm(
            &conf,
            &[
                "--init-token",
                "--free",
                "--label",
                label,
                "--so-pin",
                "27182818",
                "--pin",
                PIN,
            ],
        );
    }
    std::fs::write(dir.path().join("pin"), format!("{PIN}\n")).unwrap();
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "hsm::inside_softhsm",
            "--exact",
            "--include-ignored",
            "--test-threads=1",
        ])
        .env("SOFTHSM2_CONF", &conf)
        .env(DIR_VAR, dir.path())
        .env("SEALPOST_TEST_TOKEN_PIN", PIN)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "the checks inside SoftHSM2 failed (output above)"
    );
}

fn location(token: &str, key: &str, pin: PinSource) -> Pkcs11Location {
    Pkcs11Location {
        module: PathBuf::from(MODULE),
        token: token.into(),
        key: key.into(),
        pin,
    }
}

fn unavailable(result: Result<Pkcs11RootKey, KeyError>) -> String {
    match result {
        Err(KeyError::Unavailable(why)) => why,
        other => panic!("expected the key to be unavailable, got {other:?}"),
    }
}

#[test]
#[ignore = "run by root_keys_in_softhsm_wrap_inside_the_token_and_refuse_clearly, in SoftHSM2"]
fn inside_softhsm() {
    let dir = PathBuf::from(std::env::var(DIR_VAR).expect("run through the outer test"));
    let pin_file = PinSource::File(dir.join("pin"));
    let a = location("vault-a", "sealpost-root-1", pin_file.clone());

    // Made on first use, found again afterwards; the PIN from a file or the environment.
    let made = Pkcs11RootKey::open(&a, true).unwrap();
    let key = TenantDataKey::generate();
    let wrapped = made.wrap("tenant-1", 1, &key).unwrap();
    assert_eq!(wrapped.len(), sealpost::keys::pkcs11::WRAPPED_LEN);
    drop(made);
    let from_env = location(
        "vault-a",
        "sealpost-root-1",
        PinSource::Env("SEALPOST_TEST_TOKEN_PIN".into()),
    );
    let again = Pkcs11RootKey::open(&from_env, false).unwrap();
    assert_eq!(
        again
            .unwrap("tenant-1", 1, &wrapped)
            .unwrap()
            .expose_secret(),
        key.expose_secret()
    );

    // Bound to its tenant and version; any change is refused as corrupt, not as a token failure.
    let other = again.unwrap("tenant-2", 1, &wrapped);
    assert!(matches!(other, Err(KeyError::Corrupt)), "{other:?}");
    assert!(matches!(
        again.unwrap("tenant-1", 2, &wrapped),
        Err(KeyError::Corrupt)
    ));
    let mut flipped = wrapped.clone();
    flipped[20] ^= 1;
    assert!(matches!(
        again.unwrap("tenant-1", 1, &flipped),
        Err(KeyError::Corrupt)
    ));
    assert!(matches!(
        again.unwrap("tenant-1", 1, &wrapped[1..]),
        Err(KeyError::Corrupt)
    ));

    // A second token holds a different root key: what one wrapped the other cannot open.
    let b = Pkcs11RootKey::open(
        &location("vault-b", "sealpost-root-1", pin_file.clone()),
        true,
    )
    .unwrap();
    assert!(matches!(
        b.unwrap("tenant-1", 1, &wrapped),
        Err(KeyError::Corrupt)
    ));
    let by_b = b.wrap("tenant-1", 1, &key).unwrap();
    assert_eq!(
        b.unwrap("tenant-1", 1, &by_b).unwrap().expose_secret(),
        key.expose_secret()
    );

    // Clear refusals: an unknown token, a missing key, a wrong PIN, no PIN.
    let why = unavailable(Pkcs11RootKey::open(
        &location("vault-z", "k", pin_file.clone()),
        true,
    ));
    assert!(
        why.contains("no PKCS#11 token is labelled \"vault-z\""),
        "{why}"
    );
    let why = unavailable(Pkcs11RootKey::open(
        &location("vault-a", "other", pin_file.clone()),
        false,
    ));
    assert!(why.contains("has no key labelled \"other\""), "{why}");
    let why = unavailable(Pkcs11RootKey::open(
        &location(
            "vault-a",
            "k",
            PinSource::Env("SEALPOST_NO_SUCH_PIN".into()),
        ),
        false,
    ));
    assert!(why.contains("SEALPOST_NO_SUCH_PIN is not set"), "{why}");
    // The PIN must not appear in any refusal.
    assert!(!why.contains(PIN));

    // Destroyed (a purge): nothing it wrapped opens again, and it cannot be found.
    again.destroy().unwrap();
    let why = unavailable(Pkcs11RootKey::open(&from_env, false));
    assert!(why.contains("has no key labelled"), "{why}");
    made_after_destroy_cannot_unwrap(&from_env, &wrapped);

    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            policy_journey(&dir).await;
            availability_journey(&dir).await;
        });
}

/// After destruction a new key of the same label is a different key: the old wraps stay shut.
fn made_after_destroy_cannot_unwrap(at: &Pkcs11Location, wrapped: &[u8]) {
    let fresh = Pkcs11RootKey::open(at, true).unwrap();
    assert!(matches!(
        fresh.unwrap("tenant-1", 1, wrapped),
        Err(KeyError::Corrupt)
    ));
}

/// A `[[root_keys]]` entry for a key in a token.
fn token_key(name: &str, token: &str, pin: PinSource) -> RootKeyConfig {
    let (pin_file, pin_env) = match pin {
        PinSource::File(f) => (Some(f), None),
        PinSource::Env(v) => (None, Some(v)),
    };
    RootKeyConfig {
        name: name.into(),
        provider: RootKeyKind::Pkcs11,
        path: None,
        module: Some(PathBuf::from(MODULE)),
        token: Some(token.into()),
        key_label: Some(DEP_KEY.into()),
        pin_file,
        pin_env,
        tenant: Some("contoso.example".into()),
    }
}

const DEP_KEY: &str = "sealpost-dep";

/// The Customer Key journey with both root keys in tokens: a policy, either token alone, a wrong
/// token and a removed one, a roll while recipients read, and a purge that destroys the keys in
/// the tokens and leaves nothing on disk that opens the messages.
async fn policy_journey(dir: &Path) {
    let pin_file = PinSource::File(dir.join("pin"));
    let pin_env = PinSource::Env("SEALPOST_TEST_TOKEN_PIN".into());
    let roots = |a: &str, b: &str| {
        vec![
            token_key("vault-a", a, pin_file.clone()),
            token_key("vault-b", b, pin_env.clone()),
        ]
    };
    let app = TestApp::with_config(|c| c.root_keys = roots("vault-a", "vault-b")).await;
    // The operator makes the keys (`sealpost root-key create`); vault-c gets a key of the same
    // label, a different key: the "wrong token".
    app.state.root_keys.create("vault-a").unwrap();
    app.state.root_keys.create("vault-b").unwrap();
    Pkcs11RootKey::open(&location("vault-c", DEP_KEY, pin_file.clone()), true).unwrap();

    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let dep = create_policy(&app, &t.token, "Contoso_Global", ["vault-a", "vault-b"]).await;
    assert!(
        dep.root_keys
            .iter()
            .all(|k| k.provider == "pkcs11" && k.available)
    );
    assign(&app, &t.token, Some("Contoso_Global")).await;
    let mut ids = Vec::new();
    for _ in 0..6 {
        ids.push(send(&app, &t.token, "bob@gmail.example").await);
    }
    let s = app.sign_in(&ids[0], "bob@gmail.example").await;
    let (status, body, _) = app.request_key(&s).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Token A removed: B alone opens. A wrong token in B's place: A alone opens.
    let app = app
        .reopen(|c| c.root_keys = roots("vault-gone", "vault-b"))
        .await;
    let (status, body, _) = app.request_key(&s).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let view = policy(&app, &t.token, "Contoso_Global").await;
    assert!(!view.root_keys[0].available && view.root_keys[1].available);
    let app = app
        .reopen(|c| c.root_keys = roots("vault-a", "vault-c"))
        .await;
    let (status, body, _) = app.request_key(&s).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Neither: refused with the stable code, and nothing about tokens, labels or the PIN.
    let app = app
        .reopen(|c| c.root_keys = roots("vault-gone", "vault-c"))
        .await;
    let (status, body, _) = app.request_key(&s).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("key_unavailable"))
    );
    let text = body.to_string();
    for detail in ["vault", DEP_KEY, PIN, "PKCS", "token"] {
        assert!(!text.contains(detail), "{text}");
    }

    // A roll with both tokens back, while the recipient keeps reading.
    let app = std::sync::Arc::new(
        app.reopen(|c| c.root_keys = roots("vault-a", "vault-b"))
            .await,
    );
    assert_eq!(
        set_policy(&app, &t.token, "Contoso_Global", &roll())
            .await
            .0,
        StatusCode::OK
    );
    let roller = {
        let app = app.clone();
        tokio::spawn(async move {
            let mut moved = 0;
            loop {
                match sealpost::services::key_policies::roll::step(&app.state, 1)
                    .await
                    .unwrap()
                {
                    0 => return moved,
                    n => moved += n,
                }
            }
        })
    };
    for _ in 0..10 {
        let (status, body, _) = app.request_key(&s).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert_eq!(roller.await.unwrap(), 6);
    let view = policy(&app, &t.token, "Contoso_Global").await;
    assert_eq!((view.status.as_str(), view.key_version), ("Registered", 2));
    let app = std::sync::Arc::into_inner(app).unwrap();

    // Purge: the wrapped keys go from the database, and both root keys from their tokens.
    let secrets = key_forms(&app, &t.id, &dep.id, &ids).await;
    let request = SetDataEncryptionPolicy {
        permanent_data_purge_requested: Some(true),
        permanent_data_purge_reason: Some("Leaving the service".into()),
        permanent_data_purge_contact: Some("dpo@contoso.example".into()),
        ..Default::default()
    };
    assert_eq!(
        set_policy(&app, &t.token, "Contoso_Global", &request)
            .await
            .0,
        StatusCode::OK
    );
    let (status, result): (_, PurgeResult) = app
        .json(
            Method::POST,
            &format!("{POLICIES}/Contoso_Global/purge"),
            &t.token,
            Some(&serde_json::json!({"confirm": "Contoso_Global"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(result.root_keys_destroyed, ["vault-a", "vault-b"]);
    assert_eq!(result.message_keys_destroyed, 6);
    for (token, pin) in [("vault-a", &pin_file), ("vault-b", &pin_env)] {
        let why = unavailable(Pkcs11RootKey::open(
            &location(token, DEP_KEY, pin.clone()),
            false,
        ));
        assert!(why.contains("has no key labelled"), "{why}");
    }
    let (status, body, _) = app.request_key(&s).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::GONE, Some("message_purged"))
    );
    assert!(app.status(&t.token, &ids[1]).await.purged);

    let app = app.reopen(|_| {}).await;
    let mut left = files_under(&app.data_dir());
    left.extend(files_under(&dir.join("tokens")));
    for (n, secret) in secrets.iter().enumerate() {
        assert_eq!(found_in(&left, secret), None, "secret {n} is still on disk");
    }
    let mut manifests = Vec::new();
    for id in &ids {
        manifests.push(
            app.state
                .store
                .read_part(&t.id, id, "manifest")
                .await
                .unwrap(),
        );
    }
    let db: Vec<_> = left
        .into_iter()
        .filter(|(p, _)| p.starts_with(app.data_dir()))
        .collect();
    assert_nothing_opens(&db, &ids, &manifests);
}

/// The availability key in a token of the operator's: made with the policy, never used by key
/// release, recovering the policy once both of the tenant's keys are destroyed in their tokens, and
/// destroyed in its token by the purge.
async fn availability_journey(dir: &Path) {
    let pin = PinSource::File(dir.join("pin"));
    let key = |name: &str, token: &str, label: &str| RootKeyConfig {
        key_label: Some(label.into()),
        ..token_key(name, token, pin.clone())
    };
    let roots = vec![
        key("hsm-1", "vault-a", "recovery-1"),
        key("hsm-2", "vault-b", "recovery-2"),
        key("hsm-3", "vault-c", "recovery-3"),
        key("hsm-4", "vault-c", "recovery-4"),
    ];
    let store = AvailabilityKeyConfig {
        provider: RootKeyKind::Pkcs11,
        directory: None,
        module: Some(PathBuf::from(MODULE)),
        token: Some("availability".into()),
        pin_file: Some(dir.join("pin")),
        pin_env: None,
    };
    let app = TestApp::with_config(|c| {
        c.root_keys = roots;
        c.availability_key = Some(store);
    })
    .await;
    for name in ["hsm-1", "hsm-2", "hsm-3", "hsm-4"] {
        app.state.root_keys.create(name).unwrap();
    }
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let dep = create_policy(&app, &t.token, "Recoverable", ["hsm-1", "hsm-2"]).await;
    assert!(dep.availability_key);
    let (label,): (String,) = app
        .database()
        .await
        .fetch_one(&format!(
            "select availability_key from data_encryption_policies where id = '{}'",
            dep.id
        ))
        .await;
    assert!(label.starts_with(&format!("sealpost-availability-{}-", dep.id)));
    let availability = location("availability", &label, pin.clone());
    assert!(Pkcs11RootKey::find(&availability, false).unwrap().is_some());
    assign(&app, &t.token, Some("Recoverable")).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(send(&app, &t.token, "bob@gmail.example").await);
    }
    let s = app.sign_in(&ids[0], "bob@gmail.example").await;
    let (status, body, _) = app.request_key(&s).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Both of the tenant's keys destroyed in their tokens.
    for (token, label) in [("vault-a", "recovery-1"), ("vault-b", "recovery-2")] {
        Pkcs11RootKey::open(&location(token, label, pin.clone()), false)
            .unwrap()
            .destroy()
            .unwrap();
    }
    // A running node keeps the data key it unwrapped for `keys::cache::TTL_SECONDS`, no longer.
    let (status, body, _) = app.request_key(&s).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.clock.advance(sealpost::keys::cache::TTL_SECONDS);
    let (status, body, _) = app.request_key(&s).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("key_unavailable")),
        "a destroyed root key stops releases once the node's copy has expired"
    );
    let app = app.reopen(|_| {}).await;
    let (status, body, _) = app.request_key(&s).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("key_unavailable")),
        "the availability key is never used by key release"
    );
    let (status, body): (_, serde_json::Value) = app
        .json(
            Method::POST,
            &format!("{POLICIES}/Recoverable/recover"),
            &t.token,
            Some(&serde_json::json!({
                "root_keys": ["hsm-3", "hsm-4"],
                "reason": "Both HSMs were lost",
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body, _) = app.request_key(&s).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for id in &ids {
        app.open(&t.id, id).await;
    }

    // The purge destroys the availability key in its token, with the new root keys.
    set_policy(
        &app,
        &t.token,
        "Recoverable",
        &SetDataEncryptionPolicy {
            permanent_data_purge_requested: Some(true),
            permanent_data_purge_reason: Some("Leaving the service".into()),
            permanent_data_purge_contact: Some("dpo@contoso.example".into()),
            ..Default::default()
        },
    )
    .await;
    let (status, result): (_, PurgeResult) = app
        .json(
            Method::POST,
            &format!("{POLICIES}/Recoverable/purge"),
            &t.token,
            Some(&serde_json::json!({"confirm": "Recoverable"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(result.availability_key_destroyed);
    assert_eq!(result.root_keys_destroyed, ["hsm-3", "hsm-4"]);
    assert!(Pkcs11RootKey::find(&availability, false).unwrap().is_none());
    let (status, body, _) = app.request_key(&s).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::GONE, Some("message_purged"))
    );
}
