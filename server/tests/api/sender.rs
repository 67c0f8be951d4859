//! The sender's portal API: sign-in with a passcode to one's own address (uniform answers), only
//! one's own messages, "Remove external access" for everyone or one recipient, and where a
//! sender's session does not reach.

use axum::http::{Method, StatusCode};
use sealpost_api::sender::SentMessagesView;

use crate::helpers::{TestApp, body_text, mail_text, message};

const ANNA: &str = "anna@contoso.example";

impl TestApp {
    /// A sender request: optional cookie, the CSRF header when `csrf`, optional JSON body.
    async fn sender(
        &self,
        method: Method,
        path: &str,
        cookie: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> (StatusCode, serde_json::Value, Option<String>) {
        let res = self
            .portal(method, &format!("/api/sender{path}"), cookie, true, body)
            .await;
        let status = res.status();
        let set_cookie = res
            .headers()
            .get("set-cookie")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = body_text(res).await;
        let json = if text.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        (status, json, set_cookie)
    }

    /// Ask for a sender passcode and read it from the email; also the cookie that binds the code
    /// to this "browser".
    async fn sender_code(&self, address: &str) -> (String, String) {
        let before = self.mails_to(address).await.len();
        let (status, answer, set_cookie) = self
            .sender(
                Method::POST,
                "/passcode",
                None,
                Some(serde_json::json!({ "address": address })),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
        let pending = set_cookie.expect("the pending sign-in cookie");
        assert!(
            pending.starts_with("__Host-sp-sender-pending="),
            "{pending}"
        );
        let mails = self.wait_for_mails(address, before + 1).await;
        let text = mail_text(&mails[before].raw);
        assert!(
            text.contains("see the protected messages you sent"),
            "{text}"
        );
        let code = text
            .lines()
            .map(str::trim)
            .find(|l| l.len() == 8 && l.bytes().all(|b| b.is_ascii_digit()))
            .expect("a passcode line")
            .to_owned();
        (code, pending.split(';').next().unwrap().to_owned())
    }

    /// Sign in as a sender; returns the cookie.
    async fn sender_sign_in(&self, address: &str) -> String {
        let (code, pending) = self.sender_code(address).await;
        let (status, view, set_cookie) = self
            .sender(
                Method::POST,
                "/session",
                Some(&pending),
                Some(serde_json::json!({ "address": address, "passcode": code })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{view}");
        assert_eq!(view["address"], address);
        let set_cookie = set_cookie.unwrap();
        assert!(set_cookie.starts_with("__Host-sp-sender="));
        assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"));
        set_cookie.split(';').next().unwrap().to_owned()
    }
}

fn from(sender: &str, to: &str) -> sealpost_api::admin::SendMessageRequest {
    sealpost_api::admin::SendMessageRequest {
        from: sender.to_owned(),
        ..message(to)
    }
}

#[tokio::test]
async fn a_passcode_request_answers_the_same_for_any_address_and_mails_only_a_tenants() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    app.send(&t.token, &from(ANNA, "bob@example.net")).await;
    let mut answers = Vec::new();
    for address in [ANNA, "mallory@example.net", "erik@contoso.example"] {
        let (status, answer, _) = app
            .sender(
                Method::POST,
                "/passcode",
                None,
                Some(serde_json::json!({ "address": address })),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        let word = answer["reference"].as_str().unwrap().to_owned();
        answers.push(
            answer["message"]
                .as_str()
                .unwrap()
                .replace(&word, "WORD")
                .replace(address, "ADDRESS"),
        );
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0], answers[2]);
    // The requests' work after the answer has finished: one code went to Anna, none to an
    // outside address, and none to Erik, who is in the tenant's domain but has never sent
    // protected mail (so has nothing to see).
    app.state.settle().await;
    let codes = |mails: Vec<sealpost::store::DevMail>| {
        mails
            .iter()
            .filter(|m| mail_text(&m.raw).contains("see the protected messages you sent"))
            .count()
    };
    assert_eq!(codes(app.mails_to(ANNA).await), 1);
    assert!(app.mails_to("mallory@example.net").await.is_empty());
    assert!(app.mails_to("erik@contoso.example").await.is_empty());

    // No code was sent to an outside address, so none signs in there; a wrong code is refused
    // with the same answer as a right code for a made-up address.
    for (address, code) in [("mallory@example.net", "12345678"), (ANNA, "00000000")] {
        let (status, body, cookie) = app
            .sender(
                Method::POST,
                "/session",
                None,
                Some(serde_json::json!({ "address": address, "passcode": code })),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["code"], "passcode_invalid");
        assert!(cookie.is_none());
    }
}

#[tokio::test]
async fn a_sender_sees_only_their_own_messages_and_removes_external_access() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let mut two = from(ANNA, "bob@example.net");
    two.cc = vec!["carol@example.org".into()];
    let mine = app.send(&t.token, &two).await;
    let theirs = app
        .send(&t.token, &from("erik@contoso.example", "bob@example.net"))
        .await;
    // Bob opens Anna's message: the sender sees when.
    let bob = app.sign_in(&mine.message_id, "bob@example.net").await;
    let (status, _, _) = app.request_key(&bob).await;
    assert_eq!(status, StatusCode::OK);

    let cookie = app.sender_sign_in(ANNA).await;
    let (status, list, _) = app
        .sender(Method::GET, "/messages", Some(&cookie), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let list: SentMessagesView = serde_json::from_value(list).unwrap();
    assert_eq!(list.address, ANNA);
    let ids: Vec<_> = list
        .messages
        .iter()
        .map(|m| m.message_id.as_str())
        .collect();
    assert_eq!(ids, [mine.message_id.as_str()], "only Anna's own message");
    let m = &list.messages[0];
    assert_eq!(m.subject, "Quarterly numbers");
    let opened: Vec<_> = m
        .recipients
        .iter()
        .map(|r| (r.address.as_str(), r.opened_at.is_some()))
        .collect();
    assert_eq!(
        opened,
        [("bob@example.net", true), ("carol@example.org", false)]
    );

    // Someone else's message answers as if it did not exist, and stays unrevoked.
    let (status, body, _) = app
        .sender(
            Method::POST,
            &format!("/messages/{}/revoke", theirs.message_id),
            Some(&cookie),
            None,
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    assert!(!app.status(&t.token, &theirs.message_id).await.revoked);

    // One recipient: Bob loses access at once, Carol keeps it.
    let (status, list, _) = app
        .sender(
            Method::POST,
            &format!(
                "/messages/{}/recipients/bob@example.net/revoke",
                mine.message_id
            ),
            Some(&cookie),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let list: SentMessagesView = serde_json::from_value(list).unwrap();
    let bob_row = &list.messages[0].recipients[0];
    assert_eq!(bob_row.revoked.as_ref().unwrap().by, ANNA);
    assert!(list.messages[0].recipients[1].revoked.is_none());
    let (status, body, _) = app.request_key(&bob).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("access_revoked"))
    );

    // Everyone: the status says who and when, and the audit log has the sender as the actor.
    let (status, list, _) = app
        .sender(
            Method::POST,
            &format!("/messages/{}/revoke", mine.message_id),
            Some(&cookie),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let list: SentMessagesView = serde_json::from_value(list).unwrap();
    assert!(list.messages[0].revoked && !list.messages[0].is_revocable);
    assert_eq!(list.messages[0].revocation.as_ref().unwrap().by, ANNA);
    let (_, audit): (_, serde_json::Value) = app
        .json(Method::GET, "/api/admin/audit", &t.token, None::<&()>)
        .await;
    let actions: Vec<_> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] == ANNA)
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions, ["message.revoked", "recipient.revoked"]);
}

#[tokio::test]
async fn sender_and_recipient_sessions_do_not_reach_each_other() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let sent = app.send(&t.token, &from(ANNA, "bob@example.net")).await;
    let bob = app.sign_in(&sent.message_id, "bob@example.net").await;
    let bob_secret = bob.cookie.split_once('=').unwrap().1;

    // A recipient's session id presented as a sender's signs nobody in.
    let as_sender = format!("__Host-sp-sender={bob_secret}");
    let (status, body, _) = app
        .sender(Method::GET, "/messages", Some(&as_sender), None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("session_required"))
    );

    // A sender's session presented as a recipient's opens nothing.
    let cookie = app.sender_sign_in(ANNA).await;
    let secret = cookie.split_once('=').unwrap().1;
    let as_recipient = format!("__Host-sp-{}={secret}", sent.message_id);
    let res = app
        .portal(
            Method::GET,
            &format!("/api/m/{}/session", sent.message_id),
            Some(&as_recipient),
            false,
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // Without the CSRF header a revocation is refused; without a session, too.
    let res = app
        .portal(
            Method::POST,
            &format!("/api/sender/messages/{}/revoke", sent.message_id),
            Some(&cookie),
            false,
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let (status, body, _) = app
        .sender(
            Method::POST,
            &format!("/messages/{}/revoke", sent.message_id),
            None,
            None,
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("session_required"))
    );
    assert!(!app.status(&t.token, &sent.message_id).await.revoked);

    // Signing out ends the session on the server.
    let (status, _, clear) = app
        .sender(Method::DELETE, "/session", Some(&cookie), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(clear.unwrap().contains("Max-Age=0"));
    let (status, _, _) = app
        .sender(Method::GET, "/session", Some(&cookie), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
