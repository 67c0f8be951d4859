//! Roll back to service-managed keys: a sender (`Set-Mailbox -DataEncryptionPolicy $null`) or the
//! whole tenant. Message keys move from their policies to the tenant's own data key in the
//! background, a batch at a time, across a crash, without touching sealed content; messages stay
//! readable throughout; a policy being purged keeps its messages until the request is withdrawn;
//! nothing of another tenant's moves.

use axum::http::{Method, StatusCode};
use sealpost::config::RootKeyConfig;
use sealpost::keys::LocalKeyFile;
use sealpost::services::key_policies::{roll, roll_back};
use sealpost_api::ErrorBody;
use sealpost_api::admin::{AuditEventView, SendMessageRequest};
use sealpost_api::key_policies::{PolicyAssignment, RollBackView, SenderPolicyView};
use serde_json::json;

use crate::helpers::{TestApp, TestTenant, message};
use crate::key_policies::{
    ASSIGNMENT, assign, create_policy, file_key, key_files, policy, policy_of, purge_request,
    sealed_parts, set_policy,
};

const ANNA: &str = "/api/admin/data-encryption-policy-assignment/senders/anna@contoso.example";

async fn app() -> (TestApp, tempfile::TempDir, TestTenant) {
    let keys = tempfile::tempdir().unwrap();
    let mut roots = key_files(keys.path());
    for name in ["vault-f1", "vault-f2"] {
        let path = keys.path().join(format!("{name}.key"));
        LocalKeyFile::create(&path).unwrap();
        roots.push(RootKeyConfig {
            tenant: Some("fabrikam.example".into()),
            ..file_key(name, &path)
        });
    }
    let app = TestApp::with_config(|c| c.root_keys = roots).await;
    let tenant = app.tenant("Contoso", &["contoso.example"]).await;
    (app, keys, tenant)
}

async fn send_from(app: &TestApp, token: &str, from: &str) -> String {
    app.send(
        token,
        &SendMessageRequest {
            from: from.into(),
            ..message("bob@gmail.example")
        },
    )
    .await
    .message_id
}

async fn sender(app: &TestApp, token: &str, path: &str) -> SenderPolicyView {
    let (status, view) = app.json(Method::GET, path, token, None::<&()>).await;
    assert_eq!(status, StatusCode::OK);
    view
}

async fn put_sender(app: &TestApp, token: &str, path: &str, policy: Option<&str>) {
    let (status, body): (_, serde_json::Value) = app
        .json(
            Method::PUT,
            path,
            token,
            Some(&json!({ "data_encryption_policy": policy })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_sender_rolled_back_has_its_messages_moved_to_service_keys_across_a_crash() {
    let (app, _keys, t) = app().await;
    let wide = create_policy(&app, &t.token, "Wide", ["vault-a", "vault-b"]).await;
    create_policy(&app, &t.token, "Finance", ["vault-b", "vault-c"]).await;
    assign(&app, &t.token, Some("Wide")).await;
    // Anna's messages under two policies (the tenant's, then her own); Zoe's under the tenant's.
    let mut annas = vec![send_from(&app, &t.token, "anna@contoso.example").await];
    put_sender(&app, &t.token, ANNA, Some("Finance")).await;
    for _ in 0..3 {
        annas.push(send_from(&app, &t.token, "anna@contoso.example").await);
    }
    let zoes = send_from(&app, &t.token, "zoe@contoso.example").await;
    let mut sealed = Vec::new();
    for id in &annas {
        sealed.push(sealed_parts(&app, &t.id, id).await);
    }

    // Changing her mind before the worker ran: nothing moves.
    let roll_back_anna = || async {
        app.json::<SenderPolicyView>(
            Method::POST,
            &format!("{ANNA}/roll-back"),
            &t.token,
            None::<&()>,
        )
        .await
    };
    assert_eq!(roll_back_anna().await.0, StatusCode::ACCEPTED);
    put_sender(&app, &t.token, ANNA, Some("Finance")).await;
    assert_eq!(roll::run_to_end(&app.state).await.unwrap(), 0);
    assert!(policy_of(&app, &t.id, &annas[1]).await.is_some());

    let (status, view) = roll_back_anna().await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert!(view.service_managed);
    assert_eq!(
        (view.data_encryption_policy, view.effective_policy),
        (None, None)
    );
    assert_eq!((view.messages, view.roll_back_left), (4, 4));
    assert!(!view.is_encrypted);
    // Her new messages are sealed under the tenant's own data key, whatever the tenant's policy.
    let new = send_from(&app, &t.token, "anna@contoso.example").await;
    assert_eq!(policy_of(&app, &t.id, &new).await, None);
    annas.push(new);

    // Two at a time from each policy (Wide's one, Finance's two of three); everything opens in
    // between; then a crash, and the rest.
    assert_eq!(roll::step(&app.state, 2).await.unwrap(), 3);
    for id in &annas {
        app.open(&t.id, id).await;
    }
    assert_eq!(sender(&app, &t.token, ANNA).await.roll_back_left, 1);
    let app = app.reopen(|_| {}).await;
    assert_eq!(roll::run_to_end(&app.state).await.unwrap(), 1);
    let view = sender(&app, &t.token, ANNA).await;
    assert_eq!(
        (
            view.messages,
            view.messages_under_policy,
            view.roll_back_left
        ),
        (5, 5, 0)
    );
    for (n, id) in annas.iter().enumerate() {
        assert_eq!(policy_of(&app, &t.id, id).await, None);
        app.open(&t.id, id).await;
        if let Some(before) = sealed.get(n) {
            assert_eq!(
                &sealed_parts(&app, &t.id, id).await,
                before,
                "content untouched"
            );
        }
    }
    // Zoe's stays under the tenant's policy, which still has it.
    assert_eq!(policy_of(&app, &t.id, &zoes).await, Some(wide.id.clone()));
    assert_eq!(policy(&app, &t.token, "Wide").await.messages, 1);
    assert_eq!(policy(&app, &t.token, "Finance").await.messages, 0);

    // Refused: an address outside the tenant; another tenant naming Contoso's sender.
    let fabrikam = app.tenant("Fabrikam", &["fabrikam.example"]).await;
    for (token, path) in [
        (
            &t.token,
            "/api/admin/data-encryption-policy-assignment/senders/eve@elsewhere.example/roll-back",
        ),
        (
            &fabrikam.token,
            "/api/admin/data-encryption-policy-assignment/senders/anna@contoso.example/roll-back",
        ),
    ] {
        let (status, e): (_, ErrorBody) = app.refusal(Method::POST, path, token, None::<&()>).await;
        assert_eq!(
            (status, e.code.as_str()),
            (StatusCode::CONFLICT, "sender_not_in_tenant")
        );
    }
    assert!(
        !sender(
            &app,
            &fabrikam.token,
            "/api/admin/data-encryption-policy-assignment/senders/zed@fabrikam.example"
        )
        .await
        .service_managed
    );

    // A policy given again ends it; "follow the tenant" is a setting of its own.
    put_sender(&app, &t.token, ANNA, Some("Finance")).await;
    let view = sender(&app, &t.token, ANNA).await;
    assert!(!view.service_managed);
    assert_eq!(view.effective_policy.as_deref(), Some("Finance"));
    put_sender(&app, &t.token, ANNA, None).await;
    assert_eq!(
        sender(&app, &t.token, ANNA)
            .await
            .effective_policy
            .as_deref(),
        Some("Wide")
    );

    let (_, audit): (_, Vec<AuditEventView>) = app
        .json(Method::GET, "/api/admin/audit", &t.token, None::<&()>)
        .await;
    assert!(
        audit
            .iter()
            .any(|e| e.action == "data_encryption_policy.sender_rolled_back"
                && e.target.contains("anna@contoso.example")),
        "{audit:?}"
    );
}

async fn roll_back_view(app: &TestApp, token: &str) -> RollBackView {
    let (status, view) = app
        .json(
            Method::GET,
            &format!("{ASSIGNMENT}/roll-back"),
            token,
            None::<&()>,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    view
}

#[tokio::test]
async fn a_tenant_rolled_back_leaves_customer_key_and_a_policy_being_purged_keeps_its_messages() {
    let (app, _keys, t) = app().await;
    create_policy(&app, &t.token, "Wide", ["vault-a", "vault-b"]).await;
    create_policy(&app, &t.token, "Finance", ["vault-b", "vault-c"]).await;
    let legal = create_policy(&app, &t.token, "Legal", ["vault-a", "vault-c"]).await;
    assign(&app, &t.token, Some("Wide")).await;
    put_sender(&app, &t.token, ANNA, Some("Finance")).await;
    let lea = "/api/admin/data-encryption-policy-assignment/senders/lea@contoso.example";
    put_sender(&app, &t.token, lea, Some("Legal")).await;
    let mut moving = Vec::new();
    for from in [
        "zoe@contoso.example",
        "zoe@contoso.example",
        "anna@contoso.example",
        "anna@contoso.example",
    ] {
        moving.push(send_from(&app, &t.token, from).await);
    }
    let leas = send_from(&app, &t.token, "lea@contoso.example").await;
    set_policy(
        &app,
        &t.token,
        "Legal",
        &purge_request(Some("Case closed"), Some("dpo@contoso.example")),
    )
    .await;
    // Fabrikam, on Customer Key too, is not touched.
    let fabrikam = app.tenant("Fabrikam", &["fabrikam.example"]).await;
    let theirs_policy =
        create_policy(&app, &fabrikam.token, "Theirs", ["vault-f1", "vault-f2"]).await;
    assign(&app, &fabrikam.token, Some("Theirs")).await;
    let theirs = send_from(&app, &fabrikam.token, "zed@fabrikam.example").await;

    assert_eq!(
        roll_back_view(&app, &t.token).await,
        RollBackView {
            requested_at: None,
            messages_left: 0
        }
    );
    let (status, view): (_, RollBackView) = app
        .json(
            Method::POST,
            &format!("{ASSIGNMENT}/roll-back"),
            &t.token,
            None::<&()>,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert!(view.requested_at.is_some());
    // Lea's waits for the purge request to be withdrawn, and counts until then.
    assert_eq!(view.messages_left, 5);
    // No policy for new messages, nor for any sender.
    let (_, assignment): (_, PolicyAssignment) = app
        .json(Method::GET, ASSIGNMENT, &t.token, None::<&()>)
        .await;
    assert_eq!(assignment.data_encryption_policy, None);
    let anna = sender(&app, &t.token, ANNA).await;
    assert_eq!(
        (anna.data_encryption_policy, anna.effective_policy),
        (None, None)
    );
    assert_eq!(
        sender(&app, &t.token, lea).await.data_encryption_policy,
        None
    );
    let new = send_from(&app, &t.token, "anna@contoso.example").await;
    assert_eq!(policy_of(&app, &t.id, &new).await, None);

    assert_eq!(roll::run_to_end(&app.state).await.unwrap(), 4);
    for id in &moving {
        assert_eq!(policy_of(&app, &t.id, id).await, None);
        app.open(&t.id, id).await;
    }
    assert_eq!(policy_of(&app, &t.id, &leas).await, Some(legal.id.clone()));
    let view = roll_back_view(&app, &t.token).await;
    assert!(view.requested_at.is_some());
    assert_eq!(view.messages_left, 1);
    assert_eq!(
        policy_of(&app, &fabrikam.id, &theirs).await,
        Some(theirs_policy.id.clone())
    );
    app.open(&fabrikam.id, &theirs).await;

    // Withdrawn: Lea's moves too, and the roll back is done.
    let (status, _) = set_policy(
        &app,
        &t.token,
        "Legal",
        &sealpost_api::key_policies::SetDataEncryptionPolicy {
            permanent_data_purge_requested: Some(false),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(roll::run_to_end(&app.state).await.unwrap(), 1);
    assert_eq!(policy_of(&app, &t.id, &leas).await, None);
    app.open(&t.id, &leas).await;
    // Done; it ends once a message being sealed when it was asked for would have been stored.
    let view = roll_back_view(&app, &t.token).await;
    assert!(view.requested_at.is_some());
    assert_eq!(view.messages_left, 0);
    app.clock.advance(roll_back::GRACE_SECONDS + 1);
    roll::step(&app.state, 10).await.unwrap();
    assert_eq!(
        roll_back_view(&app, &t.token).await,
        RollBackView {
            requested_at: None,
            messages_left: 0
        }
    );
    assert_eq!(
        policy_of(&app, &fabrikam.id, &theirs).await,
        Some(theirs_policy.id)
    );

    // Customer Key again afterwards: new messages go under the policy and stay there.
    assign(&app, &t.token, Some("Wide")).await;
    let later = send_from(&app, &t.token, "zoe@contoso.example").await;
    assert_eq!(roll::run_to_end(&app.state).await.unwrap(), 0);
    assert!(policy_of(&app, &t.id, &later).await.is_some());

    let (_, audit): (_, Vec<AuditEventView>) = app
        .json(Method::GET, "/api/admin/audit", &t.token, None::<&()>)
        .await;
    assert!(
        audit
            .iter()
            .any(|e| e.action == "data_encryption_policy.rolled_back")
    );
}

#[tokio::test]
async fn a_roll_back_waits_for_a_policys_root_keys_without_holding_up_the_others() {
    let (app, keys, t) = app().await;
    create_policy(&app, &t.token, "Wide", ["vault-a", "vault-b"]).await;
    create_policy(&app, &t.token, "Other", ["vault-c", "vault-a"]).await;
    assign(&app, &t.token, Some("Wide")).await;
    put_sender(&app, &t.token, ANNA, Some("Other")).await;
    let zoes = send_from(&app, &t.token, "zoe@contoso.example").await;
    let annas = send_from(&app, &t.token, "anna@contoso.example").await;
    for name in ["vault-a", "vault-b"] {
        let from = keys.path().join(format!("{name}.key"));
        std::fs::rename(&from, from.with_extension("away")).unwrap();
    }
    let app = app.reopen(|_| {}).await;
    let (status, _): (_, RollBackView) = app
        .json(
            Method::POST,
            &format!("{ASSIGNMENT}/roll-back"),
            &t.token,
            None::<&()>,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    // Other's message moves (vault-c answers); Wide's waits, and the worker is told why.
    assert_eq!(roll::step(&app.state, 10).await.unwrap(), 1);
    assert_eq!(policy_of(&app, &t.id, &annas).await, None);
    assert!(roll::step(&app.state, 10).await.is_err());
    assert_eq!(roll_back_view(&app, &t.token).await.messages_left, 1);
    for name in ["vault-a", "vault-b"] {
        let to = keys.path().join(format!("{name}.key"));
        std::fs::rename(to.with_extension("away"), &to).unwrap();
    }
    let app = app.reopen(|_| {}).await;
    assert_eq!(roll::run_to_end(&app.state).await.unwrap(), 1);
    assert_eq!(policy_of(&app, &t.id, &zoes).await, None);
    app.open(&t.id, &zoes).await;
    app.open(&t.id, &annas).await;
}
