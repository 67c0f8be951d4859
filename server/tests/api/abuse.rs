//! The attacks on the portal's open doors, performed: floods of passcode guesses on one link and
//! from one client, sender passcode floods from one client and from many addresses, and wrong
//! tries meant to burn someone else's sender code. Each is refused with a stable code and
//! `Retry-After`, and each test fails on a server without the limit.

use axum::body::Body;
use axum::http::{Method, Request, Response, StatusCode};
use tower::ServiceExt;

use crate::helpers::{TestApp, body_text, message};

/// A portal request from client address `ip` (the app trusts `x-forwarded-for`).
async fn from(
    app: &TestApp,
    ip: &str,
    uri: &str,
    cookie: Option<&str>,
    body: serde_json::Value,
) -> Response<Body> {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header("x-forwarded-for", ip)
        .header(sealpost_api::recipient::CSRF_HEADER, "1")
        .header("content-type", "application/json");
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    app.router
        .clone()
        .oneshot(
            req.body(Body::from(serde_json::to_vec(&body).unwrap()))
                .unwrap(),
        )
        .await
        .unwrap()
}

async fn app() -> TestApp {
    TestApp::with_config(|c| c.client_address_header = Some("x-forwarded-for".into())).await
}

/// Status, code and `Retry-After` of an answer.
async fn outcome(res: Response<Body>) -> (StatusCode, String, Option<i64>) {
    let status = res.status();
    let retry = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let text = body_text(res).await;
    let code = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["code"].as_str().map(str::to_owned))
        .unwrap_or_default();
    (status, code, retry)
}

#[tokio::test]
async fn a_flood_of_guesses_on_one_link_is_refused_and_not_logged_one_by_one() {
    let app = app().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    crate::portal_log::enable(&app, &t.token).await;
    let sent = app.send(&t.token, &message("bob@example.net")).await;
    let id = sent.message_id;
    let token = app.link_token(&id, "bob@example.net").await;
    app.passcode(&id, &token, "bob@example.net").await;
    // The passcode request logs after its answer: wait for that before counting.
    app.state.settle().await;
    let logged_before: (i64,) = app
        .database()
        .await
        .fetch_one("select count(*) from portal_log")
        .await;

    // 150 wrong guesses, each from a different address so only the link's own limit applies.
    let mut refused = 0;
    let mut limited = None;
    for n in 0..150 {
        let ip = format!("198.51.100.{}", n % 250 + 1);
        let body =
            serde_json::json!({ "token": token, "passcode": "00000000", "keep_signed_in": false });
        let (status, code, retry) =
            outcome(from(&app, &ip, &format!("/api/m/{id}/session"), None, body).await).await;
        match status {
            StatusCode::UNAUTHORIZED => refused += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(code, "too_many_attempts");
                assert!(retry.is_some_and(|r| (1..=600).contains(&r)), "{retry:?}");
                limited.get_or_insert(n);
            }
            other => panic!("{other}"),
        }
    }
    assert_eq!(
        limited,
        Some(15),
        "the sixteenth guess on the link is refused"
    );
    assert_eq!(refused, 15);
    // Five wrong tries and the burn are logged; the guesses after that only counted.
    app.state.settle().await;
    let (logged_after,): (i64,) = app
        .database()
        .await
        .fetch_one("select count(*) from portal_log")
        .await;
    assert_eq!(logged_after - logged_before.0, 5);
}

#[tokio::test]
async fn one_client_guessing_across_links_is_refused() {
    let app = app().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let sent = app.send(&t.token, &message("bob@example.net")).await;
    let mut limited = None;
    for n in 0..60 {
        // A made-up token each time: every link's own count stays low.
        let body = serde_json::json!({ "token": format!("made-up-{n}"), "passcode": "12345678", "keep_signed_in": false });
        let uri = format!("/api/m/{}/session", sent.message_id);
        let (status, code, _) = outcome(from(&app, "203.0.113.9", &uri, None, body).await).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(code, "too_many_attempts");
            limited.get_or_insert(n);
        } else {
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
    }
    assert_eq!(limited, Some(30));
    // Another client is not affected.
    let body =
        serde_json::json!({ "token": "made-up", "passcode": "12345678", "keep_signed_in": false });
    let uri = format!("/api/m/{}/session", sent.message_id);
    let (status, _, _) = outcome(from(&app, "203.0.113.10", &uri, None, body).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn one_client_cannot_flood_a_domain_with_sender_passcodes() {
    let app = app().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    // Forty senders who have all sent protected mail.
    for n in 0..40 {
        let mut m = message("bob@example.net");
        m.from = format!("user{n}@contoso.example");
        app.send(&t.token, &m).await;
    }
    let mut accepted = 0;
    for n in 0..40 {
        let body = serde_json::json!({ "address": format!("user{n}@contoso.example") });
        let (status, code, retry) =
            outcome(from(&app, "203.0.113.9", "/api/sender/passcode", None, body).await).await;
        if status == StatusCode::ACCEPTED {
            accepted += 1;
        } else {
            assert_eq!(
                (status, code.as_str()),
                (StatusCode::TOO_MANY_REQUESTS, "too_many_passcodes")
            );
            assert!(retry.is_some());
        }
    }
    assert_eq!(accepted, 10);
    app.state.settle().await;
    let mut mailed = 0;
    for n in 0..40 {
        let to = format!("user{n}@contoso.example");
        mailed += app
            .mails_to(&to)
            .await
            .iter()
            .filter(|m| {
                crate::helpers::mail_text(&m.raw).contains("see the protected messages you sent")
            })
            .count();
    }
    assert_eq!(mailed, 10);
}

#[tokio::test]
async fn many_clients_cannot_flood_one_domain_with_sender_passcodes() {
    let app = TestApp::with_config(|c| {
        c.client_address_header = Some("x-forwarded-for".into());
        c.limits.sender_passcodes_per_domain = 12;
    })
    .await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let mut m = message("bob@example.net");
    m.from = "anna@contoso.example".into();
    app.send(&t.token, &m).await;
    let mut accepted = 0;
    for n in 0..30 {
        let ip = format!("198.51.100.{}", n + 1);
        let body = serde_json::json!({ "address": format!("x{n}@contoso.example") });
        let (status, code, _) =
            outcome(from(&app, &ip, "/api/sender/passcode", None, body).await).await;
        if status == StatusCode::ACCEPTED {
            accepted += 1;
        } else {
            assert_eq!(
                (status, code.as_str()),
                (StatusCode::TOO_MANY_REQUESTS, "too_many_passcodes")
            );
        }
    }
    assert_eq!(accepted, 12);
    // Another domain is not affected.
    let body = serde_json::json!({ "address": "someone@fabrikam.example" });
    let (status, _, _) =
        outcome(from(&app, "198.51.100.200", "/api/sender/passcode", None, body).await).await;
    assert_eq!(status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn wrong_tries_from_elsewhere_cannot_burn_a_senders_code() {
    let app = app().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let mut m = message("bob@example.net");
    m.from = "anna@contoso.example".into();
    app.send(&t.token, &m).await;

    // Anna asks for a code in her browser.
    let res = from(
        &app,
        "192.0.2.1",
        "/api/sender/passcode",
        None,
        serde_json::json!({ "address": "anna@contoso.example" }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let pending = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    app.state.settle().await;
    let mails = app.mails_to("anna@contoso.example").await;
    let text = crate::helpers::mail_text(&mails.last().unwrap().raw);
    let code = text
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 8 && l.bytes().all(|b| b.is_ascii_digit()))
        .unwrap()
        .to_owned();

    // An attacker elsewhere tries ten wrong codes for her address (with and without a pending
    // cookie of their own), and even her right code: none reaches her code.
    let (mine, _) = {
        let res = from(
            &app,
            "203.0.113.9",
            "/api/sender/passcode",
            None,
            serde_json::json!({ "address": "anna@contoso.example" }),
        )
        .await;
        (
            res.headers()["set-cookie"]
                .to_str()
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .to_owned(),
            (),
        )
    };
    for n in 0..10 {
        let cookie = (n % 2 == 0).then_some(mine.as_str());
        let guess = if n == 9 {
            code.clone()
        } else {
            format!("{:08}", n)
        };
        let body = serde_json::json!({ "address": "anna@contoso.example", "passcode": guess });
        let (status, code_, _) =
            outcome(from(&app, "203.0.113.9", "/api/sender/session", cookie, body).await).await;
        assert_eq!(
            (status, code_.as_str()),
            (StatusCode::UNAUTHORIZED, "passcode_invalid")
        );
    }
    // Her code still signs her in, in her browser.
    let body = serde_json::json!({ "address": "anna@contoso.example", "passcode": code });
    let (status, _, _) = outcome(
        from(
            &app,
            "192.0.2.1",
            "/api/sender/session",
            Some(&pending),
            body,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn limits_with_different_windows_keep_their_own_counts() {
    let app = app().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let sent = app.send(&t.token, &message("bob@example.net")).await;
    // The hourly sender-passcode limit of one client is used up (for addresses that never sent
    // protected mail it is 5, like made-up links)...
    for n in 0..6 {
        let body = serde_json::json!({ "address": format!("x{n}@contoso.example") });
        let (status, _, _) =
            outcome(from(&app, "203.0.113.9", "/api/sender/passcode", None, body).await).await;
        assert_eq!(status == StatusCode::ACCEPTED, n < 5, "{n}");
    }
    // ...and a quarter of an hour later a sign-in try (counted in a 10-minute window) does not
    // clear it.
    app.clock.advance(15 * 60);
    let body =
        serde_json::json!({ "token": "made-up", "passcode": "12345678", "keep_signed_in": false });
    let uri = format!("/api/m/{}/session", sent.message_id);
    let (status, _, _) = outcome(from(&app, "203.0.113.9", &uri, None, body).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let body = serde_json::json!({ "address": "y@contoso.example" });
    let (status, code, retry) =
        outcome(from(&app, "203.0.113.9", "/api/sender/passcode", None, body).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_passcodes")
    );
    assert!(retry.is_some_and(|r| r > 40 * 60), "{retry:?}");
}

#[tokio::test]
async fn a_connector_cannot_open_the_relay_to_the_internet() {
    let app = app().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    for wide in ["0.0.0.0/0", "10.0.0.0/8", "2001:db8::/32", "::/0"] {
        let (status, body): (_, serde_json::Value) = app
            .json(
                Method::PUT,
                "/api/admin/mail-flow/connector",
                &t.token,
                Some(&serde_json::json!({ "remote_addresses": ["192.0.2.10", wide] })),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{wide}");
        assert_eq!(body["code"], "network_too_broad", "{body}");
    }
    let connector = app.state.store.connector(&t.id).await.unwrap();
    assert!(
        connector.remote_addresses.is_empty(),
        "nothing half-written"
    );
    let (status, _): (_, serde_json::Value) = app
        .json(
            Method::PUT,
            "/api/admin/mail-flow/connector",
            &t.token,
            Some(&serde_json::json!({ "remote_addresses": ["192.0.2.0/24", "10.1.0.0/16", "2001:db8:1::/48"] })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // The operator may allow wider networks.
    let open = TestApp::with_config(|c| c.connector_allow_broad_networks = true).await;
    let t = open.tenant("Contoso", &["contoso.example"]).await;
    let (status, _): (_, serde_json::Value) = open
        .json(
            Method::PUT,
            "/api/admin/mail-flow/connector",
            &t.token,
            Some(&serde_json::json!({ "remote_addresses": ["10.0.0.0/8"] })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn notice_html_in_the_development_mailbox_is_sandboxed() {
    let app = app().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    app.send(&t.token, &message("bob@example.net")).await;
    let mail = app.mails_to("bob@example.net").await.remove(0);
    let res = app.get(&format!("/dev/mailbox/{}/html", mail.id)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let policies: Vec<&str> = res
        .headers()
        .get_all("content-security-policy")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(policies.contains(&"sandbox"), "{policies:?}");
    assert!(
        policies.iter().any(|p| p.contains("default-src 'self'")),
        "the portal's own policy still applies: {policies:?}"
    );
}

/// `OTPEnabled = false` on the branding template: the page is told, and passcodes are neither
/// sent nor accepted for that message (other messages of the tenant are not affected).
#[tokio::test]
async fn otp_disabled_refuses_passcodes() {
    let app = app().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let (status, body): (_, serde_json::Value) = app
        .json(
            Method::POST,
            "/api/admin/branding-templates",
            &t.token,
            Some(&serde_json::json!({ "identity": "No OTP", "otp_enabled": false })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let mut m = message("bob@example.net");
    m.branding_template = Some("No OTP".into());
    let id = app.send(&t.token, &m).await.message_id;
    let token = app.link_token(&id, "bob@example.net").await;

    let res = app
        .portal(
            Method::POST,
            &format!("/api/m/{id}/link"),
            None,
            true,
            Some(serde_json::json!({ "token": token })),
        )
        .await;
    let view: sealpost_api::recipient::LinkView =
        serde_json::from_str(&body_text(res).await).unwrap();
    assert!(!view.passcode_sign_in);

    let before = app.mails_to("bob@example.net").await.len();
    let (status, answer) = app.request_passcode(&id, &token).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(answer["code"], "passcodes_disabled");
    app.state.settle().await;
    assert_eq!(
        app.mails_to("bob@example.net").await.len(),
        before,
        "no passcode mail"
    );
    let (status, code, _) =
        outcome(app.sign_in_with(&id, &token, "12345678", false, None).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "passcodes_disabled")
    );

    // The default template still signs in with passcodes.
    let other = app
        .send(&t.token, &message("carol@example.org"))
        .await
        .message_id;
    app.sign_in(&other, "carol@example.org").await;
}

fn forward_to(to: &[String]) -> serde_json::Value {
    serde_json::json!({ "to": to, "text": "Have a look." })
}

fn addresses(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}@example.org")).collect()
}

/// Notices that went to any of `to`.
async fn notices(app: &TestApp, to: &[String]) -> usize {
    let mut n = 0;
    for a in to {
        n += app.mails_to(a).await.len();
    }
    n
}

#[tokio::test]
async fn a_recipient_cannot_forward_to_hundreds_at_once() {
    let app = app().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let id = app
        .send(&t.token, &message("bob@example.net"))
        .await
        .message_id;
    let bob = app.sign_in(&id, "bob@example.net").await;
    let many = addresses("target", 200);
    let (status, body) = crate::answers::post(&app, &bob, "forward", forward_to(&many)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "too_many_recipients");
    app.state.settle().await;
    assert_eq!(notices(&app, &many).await, 0, "not one notice went out");
    // Ten, the default for a forward, is fine.
    let ten = addresses("ok", 10);
    let (status, body) = crate::answers::post(&app, &bob, "forward", forward_to(&ten)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn forwards_of_one_message_are_limited_per_day() {
    let app = app().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let id = app
        .send(&t.token, &message("bob@example.net"))
        .await
        .message_id;
    let bob = app.sign_in(&id, "bob@example.net").await;
    let mut sent = 0;
    let mut refused = None;
    for round in 0..8 {
        let to = addresses(&format!("r{round}-"), 10);
        let (status, body) = crate::answers::post(&app, &bob, "forward", forward_to(&to)).await;
        match status {
            StatusCode::CREATED => sent += 10,
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(body["code"], "too_many_forwards", "{body}");
                refused.get_or_insert(round);
            }
            other => panic!("{other}: {body}"),
        }
    }
    // 50 a day by default (with the reply and forward per-hour limit of 20 well above 8 tries).
    assert_eq!((sent, refused), (50, Some(5)));
    // A day later there is room again.
    app.clock.advance(24 * 3600 + 1);
    let bob = app.sign_in(&id, "bob@example.net").await;
    let (status, body) =
        crate::answers::post(&app, &bob, "forward", forward_to(&addresses("later", 10))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn a_forward_chain_ends_at_its_depth_and_a_template_can_tighten_the_limits() {
    let app = app().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let (status, body): (_, serde_json::Value) = app
        .json(
            Method::POST,
            "/api/admin/rights-templates",
            &t.token,
            Some(&serde_json::json!({
                "name": "Short chains",
                "rights": ["view", "forward"],
                "forward_limits": { "recipients_per_forward": 2, "depth": 2 }
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["forward_limits"]["recipients_per_day"], 50,
        "an omitted limit keeps its default"
    );
    let mut m = message("a0@example.org");
    m.rights_template = Some("Short chains".into());
    let mut id = app.send(&t.token, &m).await.message_id;
    // Three at once is over this template's two.
    let a0 = app.sign_in(&id, "a0@example.org").await;
    let (status, _) =
        crate::answers::post(&app, &a0, "forward", forward_to(&addresses("x", 3))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // a0 → a1 → a2, and a2 may not forward again.
    for hop in 1..=3 {
        let from = format!("a{}@example.org", hop - 1);
        let to = format!("a{hop}@example.org");
        let s = app.sign_in(&id, &from).await;
        let (status, body) =
            crate::answers::post(&app, &s, "forward", forward_to(std::slice::from_ref(&to))).await;
        if hop <= 2 {
            assert_eq!(status, StatusCode::CREATED, "hop {hop}: {body}");
            id = body["message_id"].as_str().unwrap().to_owned();
        } else {
            assert_eq!(status, StatusCode::BAD_REQUEST, "hop {hop}: {body}");
            assert_eq!(body["code"], "forward_too_deep");
        }
    }
}

#[tokio::test]
async fn a_tenant_has_a_daily_forward_quota() {
    let app = TestApp::with_config(|c| c.limits.forward_recipients_per_tenant = 15).await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let mut sent = 0;
    for n in 0..3 {
        let to = format!("reader{n}@example.net");
        let id = app.send(&t.token, &message(&to)).await.message_id;
        let s = app.sign_in(&id, &to).await;
        let (status, body) = crate::answers::post(
            &app,
            &s,
            "forward",
            forward_to(&addresses(&format!("q{n}-"), 6)),
        )
        .await;
        if status == StatusCode::CREATED {
            sent += 6;
        } else {
            assert_eq!(
                (status, body["code"].as_str()),
                (StatusCode::TOO_MANY_REQUESTS, Some("too_many_forwards"))
            );
        }
    }
    assert_eq!(sent, 12, "the third forward would pass the tenant's 15");
}

#[tokio::test]
async fn a_second_forward_waits_while_the_first_is_still_being_read() {
    let app = app().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let id = app
        .send(&t.token, &message("bob@example.net"))
        .await
        .message_id;
    let bob = app.sign_in(&id, "bob@example.net").await;
    let server = sealpost::http::listener::spawn(
        sealpost::http::router(app.state.clone()),
        sealpost::http::listener::Limits::from_config(&app.state.config),
    )
    .await
    .unwrap();
    // The first forward's body is still arriving (half of what its length says)...
    let mut slow = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /api/m/{id}/forward HTTP/1.1\r\nhost: sealpost.test\r\ncookie: {}\r\nx-sealpost-request: 1\r\ncontent-type: application/json\r\ncontent-length: 1000000\r\n\r\n{{\"to\":",
        bob.cookie
    );
    tokio::io::AsyncWriteExt::write_all(&mut slow, head.as_bytes())
        .await
        .unwrap();
    // ...and once it is in its handler, reading that body...
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while app.state.answers_running.running() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the first forward never started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // ...a second one from the same recipient is refused at once, before its body is read.
    let (status, body) =
        crate::answers::post(&app, &bob, "forward", forward_to(&addresses("p", 1))).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["code"], "answer_in_progress");
    drop(slow);
    server.stop().await;
}
