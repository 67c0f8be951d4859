//! Recipient sign-in: passcodes (uniform answers, single use, tries, expiry, hourly limit), sessions
//! (cookie, idle and absolute limits, sign-out, fixation), CSRF, and where sessions do not reach.

use axum::http::{Method, StatusCode};
use sha2::{Digest, Sha256};

use crate::helpers::{START, TestApp, body_text, message, signed};

async fn app_with_message() -> (TestApp, String, String) {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let sent = app.send(&t.token, &message("bob@example.net")).await;
    (app, t.token, sent.message_id)
}

#[tokio::test]
async fn a_passcode_request_answers_the_same_whether_or_not_the_link_is_real() {
    let (app, token, id) = app_with_message().await;
    let link = app.link_token(&id, "bob@example.net").await;
    let mails_before = app.state.store.dev_mailbox_list(100).await.unwrap().len();

    let (s_real, real) = app.request_passcode(&id, &link).await;
    let (s_fake_token, fake_token) = app
        .request_passcode(&id, "spl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .await;
    let (s_fake_message, fake_message) = app
        .request_passcode("0123456789abcdef0123456789abcdef", &link)
        .await;
    let (s_nonsense, nonsense) = app.request_passcode("x", "").await;
    for (status, answer) in [
        (s_real, &real),
        (s_fake_token, &fake_token),
        (s_fake_message, &fake_message),
        (s_nonsense, &nonsense),
    ] {
        assert_eq!(status, StatusCode::ACCEPTED);
        let keys: Vec<_> = answer.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["expires_in_seconds", "message", "reference"]);
        assert_eq!(answer["expires_in_seconds"], 900);
        let reference = answer["reference"].as_str().unwrap();
        assert_eq!(
            answer["message"]
                .as_str()
                .unwrap()
                .replace(reference, "WORD"),
            real["message"]
                .as_str()
                .unwrap()
                .replace(real["reference"].as_str().unwrap(), "WORD")
        );
    }
    // Only the real link produced an email, and only to the address the message was sent to.
    let mails = app.wait_for_mails("bob@example.net", 2).await;
    let all = app.state.store.dev_mailbox_list(100).await.unwrap();
    assert_eq!(all.len(), mails_before + 1);
    let text = crate::helpers::mail_text(&mails[1].raw);
    assert!(text.contains(&format!(
        "Reference: {}",
        real["reference"].as_str().unwrap()
    )));
    let code = text
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 8 && l.bytes().all(|b| b.is_ascii_digit()))
        .unwrap();
    assert!(!mails[1].subject.contains(code));
    let _ = token;
}

#[tokio::test]
async fn the_database_keeps_only_a_keyed_hash_of_a_passcode() {
    let (app, _, id) = app_with_message().await;
    let link = app.link_token(&id, "bob@example.net").await;
    let (code, _) = app.passcode(&id, &link, "bob@example.net").await;
    let (hash,): (Vec<u8>,) = app
        .database()
        .await
        .fetch_one("select code_hash from passcodes")
        .await;
    assert_eq!(hash.len(), 32);
    assert_ne!(hash, Sha256::digest(code.as_bytes()).to_vec());
    assert_eq!(
        hash,
        app.state
            .passcode_key
            .hash(&id, "bob@example.net", &code)
            .to_vec()
    );
}

#[tokio::test]
async fn a_passcode_signs_in_once_within_fifteen_minutes() {
    let (app, _, id) = app_with_message().await;
    let link = app.link_token(&id, "bob@example.net").await;
    let (code, _) = app.passcode(&id, &link, "bob@example.net").await;
    // Typed with a space: fine.
    let spaced = format!("{} {}", &code[..4], &code[4..]);
    let res = app.sign_in_with(&id, &link, &spaced, false, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let s = signed(&id, res).await;
    assert_eq!(s.view.recipient, "bob@example.net");
    assert_eq!(s.view.idle_timeout_seconds, 30 * 60);
    // Used once: refused the second time.
    let again = app.sign_in_with(&id, &link, &code, false, None).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    assert!(body_text(again).await.contains("passcode_invalid"));

    // A new code is refused from its fifteenth minute.
    let (code, _) = app.passcode(&id, &link, "bob@example.net").await;
    app.clock.advance(15 * 60);
    let late = app.sign_in_with(&id, &link, &code, false, None).await;
    assert_eq!(late.status(), StatusCode::UNAUTHORIZED);
    // The right code with another message's id, or another link: refused the same way.
    let (code, _) = app.passcode(&id, &link, "bob@example.net").await;
    let other = app
        .sign_in_with(
            "0123456789abcdef0123456789abcdef",
            &link,
            &code,
            false,
            None,
        )
        .await;
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
    let fake = app
        .sign_in_with(&id, "spl_not-a-real-token", &code, false, None)
        .await;
    assert_eq!(fake.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body_text(fake).await, body_text(other).await);
    assert_eq!(
        app.sign_in_with(&id, &link, &code, false, None)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn five_wrong_tries_burn_a_code_and_a_new_code_replaces_the_old() {
    let (app, _, id) = app_with_message().await;
    let link = app.link_token(&id, "bob@example.net").await;
    let (code, _) = app.passcode(&id, &link, "bob@example.net").await;
    let wrong = if code == "00000000" {
        "00000001"
    } else {
        "00000000"
    };
    for _ in 0..5 {
        let res = app.sign_in_with(&id, &link, wrong, false, None).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // The sixth try is refused even with the right code, and stays refused.
    for _ in 0..2 {
        let res = app.sign_in_with(&id, &link, &code, false, None).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    app.clock.advance(60);
    assert_eq!(
        app.sign_in_with(&id, &link, &code, false, None)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    // A new code works; asking for another makes the previous one stop working.
    let (first, _) = app.passcode(&id, &link, "bob@example.net").await;
    let (second, _) = app.passcode(&id, &link, "bob@example.net").await;
    if first != second {
        assert_eq!(
            app.sign_in_with(&id, &link, &first, false, None)
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        app.sign_in_with(&id, &link, &second, false, None)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn at_most_five_passcodes_an_hour_real_link_or_not() {
    let (app, _, id) = app_with_message().await;
    let link = app.link_token(&id, "bob@example.net").await;
    let fake = "spl_fake";
    for _ in 0..5 {
        assert_eq!(
            app.request_passcode(&id, &link).await.0,
            StatusCode::ACCEPTED
        );
        // Each code's mail goes out before the next request, as when a person asks again a
        // minute later (a newer code deletes the mail of one that has not gone yet).
        app.state.settle().await;
        assert_eq!(
            app.request_passcode(&id, fake).await.0,
            StatusCode::ACCEPTED
        );
        app.clock.advance(60);
    }
    let res = app
        .portal(
            Method::POST,
            &format!("/api/m/{id}/passcode"),
            None,
            true,
            Some(serde_json::json!({ "token": link })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // The first request was at START; it leaves the window at START + 3600.
    let retry: i64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(retry, START + 3600 - app.clock.now());
    assert!(body_text(res).await.contains("too_many_passcodes"));
    assert_eq!(
        app.request_passcode(&id, fake).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Five emails went out, not six: the notice and five codes, counted once every request's
    // work after its answer has finished.
    app.state.settle().await;
    assert_eq!(app.mails_to("bob@example.net").await.len(), 6);
    // Once the oldest request is an hour old, one more is allowed.
    app.clock.advance(retry);
    assert_eq!(
        app.request_passcode(&id, &link).await.0,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        app.request_passcode(&id, &link).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn the_session_cookie_is_host_only_http_only_strict_and_random() {
    let (app, _, id) = app_with_message().await;
    let s = app.sign_in(&id, "bob@example.net").await;
    let name = format!("__Host-sp-{id}=");
    assert!(s.cookie.starts_with(&name));
    let secret = &s.cookie[name.len()..];
    assert!(secret.len() >= 22, "at least 128 bits: {secret}");
    assert!(
        s.set_cookie
            .contains("; Path=/; Secure; HttpOnly; SameSite=Strict")
    );
    assert!(!s.set_cookie.contains("Domain="));
    assert!(
        !s.set_cookie.contains("Max-Age"),
        "a browser-session cookie"
    );
    // The database holds the hash of the id, never the id.
    let (hash, binding): (Vec<u8>, String) = app
        .database()
        .await
        .fetch_one("select id_hash, binding from sessions")
        .await;
    assert_eq!(hash, Sha256::digest(secret.as_bytes()).to_vec());
    assert_eq!(binding, s.view.binding);
    assert_ne!(binding, secret);
}

#[tokio::test]
async fn sessions_end_after_thirty_idle_minutes_or_twelve_hours() {
    let (app, _, id) = app_with_message().await;
    let s = app.sign_in(&id, "bob@example.net").await;
    app.clock.advance(29 * 60);
    assert_eq!(app.request_key(&s).await.0, StatusCode::OK);
    // Use moved the idle limit; polling the access state does not count as use.
    app.clock.advance(29 * 60);
    assert_eq!(app.access(&s).await.0, StatusCode::OK);
    app.clock.advance(60);
    let (status, body) = app.access(&s).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "session_expired");
    // Gone on the server, not just judged late: a later request is plainly signed out.
    assert_eq!(app.access(&s).await.1["code"], "session_required");

    // "Keep me signed in": 12 hours idle, but never past 12 hours from sign-in.
    let link = app.link_token(&id, "bob@example.net").await;
    let (code, _) = app.passcode(&id, &link, "bob@example.net").await;
    let res = app.sign_in_with(&id, &link, &code, true, None).await;
    let kept = signed(&id, res).await;
    assert!(kept.set_cookie.ends_with("; Max-Age=43200"));
    assert_eq!(kept.view.idle_timeout_seconds, 12 * 3600);
    app.clock.advance(6 * 3600);
    assert_eq!(app.request_key(&kept).await.0, StatusCode::OK);
    app.clock.advance(6 * 3600 - 1);
    assert_eq!(app.request_key(&kept).await.0, StatusCode::OK);
    app.clock.advance(1);
    assert_eq!(app.request_key(&kept).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn signing_out_ends_the_session_on_the_server() {
    let (app, _, id) = app_with_message().await;
    let s = app.sign_in(&id, "bob@example.net").await;
    let res = app
        .portal(
            Method::DELETE,
            &format!("/api/m/{id}/session"),
            Some(&s.cookie),
            true,
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let clear = res.headers()["set-cookie"].to_str().unwrap();
    assert!(clear.contains("Max-Age=0"));
    // Replaying the old cookie does not work.
    let (status, body, _) = app.request_key(&s).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "session_required");
}

#[tokio::test]
async fn every_sign_in_issues_a_new_session_and_ends_the_one_presented() {
    let (app, _, id) = app_with_message().await;
    let first = app.sign_in(&id, "bob@example.net").await;
    let link = app.link_token(&id, "bob@example.net").await;
    let (code, _) = app.passcode(&id, &link, "bob@example.net").await;
    let res = app
        .sign_in_with(&id, &link, &code, false, Some(&first.cookie))
        .await;
    let second = signed(&id, res).await;
    assert_ne!(first.cookie, second.cookie);
    assert_ne!(first.view.binding, second.view.binding);
    assert_eq!(app.request_key(&first).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.request_key(&second).await.0, StatusCode::OK);

    // A value planted by someone else is never adopted as a session.
    let planted = crate::helpers::Signed {
        cookie: format!("__Host-sp-{id}=attacker-chosen-value"),
        ..second
    };
    let (code, _) = app.passcode(&id, &link, "bob@example.net").await;
    let res = app
        .sign_in_with(&id, &link, &code, false, Some(&planted.cookie))
        .await;
    let third = signed(&id, res).await;
    assert_ne!(third.cookie, planted.cookie);
    assert_eq!(app.request_key(&planted).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.request_key(&third).await.0, StatusCode::OK);
}

#[tokio::test]
async fn state_changing_requests_without_the_csrf_header_are_refused() {
    let (app, _, id) = app_with_message().await;
    let s = app.sign_in(&id, "bob@example.net").await;
    let link = app.link_token(&id, "bob@example.net").await;
    for (method, path, body) in [
        (
            Method::POST,
            "passcode",
            Some(serde_json::json!({ "token": link })),
        ),
        (
            Method::POST,
            "session",
            Some(serde_json::json!({ "token": link, "passcode": "12345678" })),
        ),
        (Method::DELETE, "session", None),
        (
            Method::POST,
            "key",
            Some(serde_json::json!({ "public_key": "AAAA" })),
        ),
        (
            Method::POST,
            "reply",
            Some(serde_json::json!({ "text": "hi" })),
        ),
        (
            Method::POST,
            "forward",
            Some(serde_json::json!({ "to": ["eve@example.org"] })),
        ),
    ] {
        let res = app
            .portal(
                method.clone(),
                &format!("/api/m/{id}/{path}"),
                Some(&s.cookie),
                false,
                body,
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{method} {path}");
        assert!(body_text(res).await.contains("csrf_header_missing"));
    }
    // Nothing happened: the session still works and no passcode email went out.
    assert_eq!(app.request_key(&s).await.0, StatusCode::OK);
    assert_eq!(app.mails_to("bob@example.net").await.len(), 2);
}

#[tokio::test]
async fn a_session_opens_only_its_own_message() {
    let app = TestApp::new().await;
    let contoso = app.tenant("Contoso", &["contoso.example"]).await;
    let fabrikam = app.tenant("Fabrikam", &["fabrikam.example"]).await;
    let mine = app.send(&contoso.token, &message("bob@example.net")).await;
    let same_tenant = app.send(&contoso.token, &message("bob@example.net")).await;
    let mut other = message("bob@example.net");
    other.from = "frank@fabrikam.example".into();
    let other_tenant = app.send(&fabrikam.token, &other).await;

    let s = app.sign_in(&mine.message_id, "bob@example.net").await;
    let secret = s.cookie.split_once('=').unwrap().1.to_owned();
    for target in [&same_tenant.message_id, &other_tenant.message_id] {
        // My session's secret under the other message's cookie name, and my cookie as it is.
        for cookie in [format!("__Host-sp-{target}={secret}"), s.cookie.clone()] {
            let forged = crate::helpers::Signed {
                message_id: target.clone(),
                cookie,
                view: s.view.clone(),
                set_cookie: String::new(),
            };
            let (status, body, _) = app.request_key(&forged).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
            assert_eq!(body["code"], "session_required");
            let res = app
                .portal(
                    Method::GET,
                    &format!("/api/m/{target}/parts/manifest"),
                    Some(&forged.cookie),
                    false,
                    None,
                )
                .await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        }
    }
    // A link token for one message does not sign in to another.
    let link = app.link_token(&mine.message_id, "bob@example.net").await;
    let (code, _) = app
        .passcode(&mine.message_id, &link, "bob@example.net")
        .await;
    let res = app
        .sign_in_with(&same_tenant.message_id, &link, &code, false, None)
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_link_shows_branding_sender_and_a_masked_address_before_sign_in() {
    let (app, token, id) = app_with_message().await;
    let link = app.link_token(&id, "bob@example.net").await;
    let (status, _): (_, serde_json::Value) = app
        .json(
            Method::PATCH,
            "/api/admin/branding-templates/default",
            &token,
            Some(&serde_json::json!({
                "portal_text": {"text": "Contoso protects mail", "translations": {"sv": "Contoso skyddar e-post"}},
                "background_color": "yellow"
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let uri = format!("/api/m/{id}/link");
    let body = serde_json::json!({ "token": link });
    // State-changing or not, a POST needs the CSRF header.
    let res = app
        .portal(Method::POST, &uri, None, false, Some(body.clone()))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let res = app.portal(Method::POST, &uri, None, true, Some(body)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let view: sealpost_api::recipient::LinkView =
        serde_json::from_str(&body_text(res).await).unwrap();
    assert_eq!(view.message_id, id);
    assert_eq!(view.recipient_hint, "b•••@example.net");
    assert_eq!(view.state, sealpost_api::recipient::AccessState::Active);
    assert_eq!(view.branding.tenant_name, "Contoso");
    assert_eq!(view.branding.background_color, "yellow");
    assert_eq!(view.branding.text_color, "#111827", "dark text on yellow");
    assert_eq!(
        view.branding
            .portal_text
            .as_ref()
            .map(|t| t.for_language("sv-SE")),
        Some("Contoso skyddar e-post")
    );
    assert!(view.sender.ends_with("@contoso.example"));

    // The signed-in page gets the same view without the token.
    let bob = app.sign_in(&id, "bob@example.net").await;
    let res = app
        .portal(Method::GET, &uri, Some(&bob.cookie), false, None)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let again: sealpost_api::recipient::LinkView =
        serde_json::from_str(&body_text(res).await).unwrap();
    assert_eq!(again, view);

    // A revoked message says so before anyone signs in.
    let (status, _): (_, serde_json::Value) = app
        .json(
            Method::POST,
            &format!("/api/admin/messages/{id}/revoke"),
            &token,
            None::<&()>,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let res = app
        .portal(
            Method::POST,
            &uri,
            None,
            true,
            Some(serde_json::json!({ "token": link })),
        )
        .await;
    let view: sealpost_api::recipient::LinkView =
        serde_json::from_str(&body_text(res).await).unwrap();
    assert_eq!(view.state, sealpost_api::recipient::AccessState::Revoked);
}

#[tokio::test]
async fn an_unknown_link_or_another_messages_link_is_not_found() {
    let (app, token, id) = app_with_message().await;
    let other = app.send(&token, &message("carol@example.org")).await;
    let carol_link = app.link_token(&other.message_id, "carol@example.org").await;
    for (message, link) in [
        (
            id.as_str(),
            "spl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ),
        (id.as_str(), carol_link.as_str()),
        ("0123456789abcdef0123456789abcdef", carol_link.as_str()),
    ] {
        let res = app
            .portal(
                Method::POST,
                &format!("/api/m/{message}/link"),
                None,
                true,
                Some(serde_json::json!({ "token": link })),
            )
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let err: serde_json::Value = serde_json::from_str(&body_text(res).await).unwrap();
        assert_eq!(err["code"], "link_not_found");
    }
    // Without a session the GET form is a sign-in refusal.
    let res = app
        .portal(Method::GET, &format!("/api/m/{id}/link"), None, false, None)
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
