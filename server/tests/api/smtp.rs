//! The whole server as a process, sending through a real SMTP server (maildev, from the end2end
//! packages): bootstrap a tenant with the CLI, brand it, send a protected message with an
//! attachment, read the branded notice that arrived over SMTP, check the status, revoke.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use mail_parser::{MessageParser, MimeHeaders};
use sealpost_api::admin::{MessageStatusView, NoticeView};
use serde_json::json;

use crate::processes::{
    Running, bootstrap, cookie_of, enable_portal_log, free_port, http, http_with, json_of,
    maildev_bin, sealpost, serve, wait_for_port,
};

#[test]
fn a_protected_message_sent_over_smtp_arrives_as_a_branded_notice() {
    let dir = tempfile::tempdir().unwrap();
    let (smtp_port, web_port) = (free_port(), free_port());
    let _maildev = Running(
        Command::new(maildev_bin())
            .args([
                "--ip",
                "127.0.0.1",
                "--smtp",
                &smtp_port.to_string(),
                "--web",
                &web_port.to_string(),
            ])
            .arg("--mail-directory")
            .arg(dir.path().join("maildev"))
            .arg("--silent")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("maildev starts"),
    );
    wait_for_port(smtp_port);
    wait_for_port(web_port);
    let maildev = format!("127.0.0.1:{web_port}");

    let token = bootstrap(dir.path(), smtp_port);
    let (mut server, url) = serve(dir.path(), smtp_port);
    let addr = url.trim_start_matches("http://").to_owned();

    let logo =
        std::fs::read(crate::helpers::manifest_dir().join("../public/demo-logo.png")).unwrap();
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let (status, _) = http(
        &addr,
        "PATCH",
        "/api/admin/branding-templates/default",
        Some(&token),
        Some(&json!({
            "introduction_text": "Contoso Finance has sent you a protected message.",
            "email_text": "Open it with a passcode sent to you.",
            "disclaimer_text": "Confidential – for the addressee only.",
            "background_color": "#003366",
            "image_base64": b64(&logo),
        })),
    );
    assert_eq!(status, 200);
    let asked_at = sealpost::clock::Clock::system().now();
    let (status, body) = http(
        &addr,
        "POST",
        "/api/admin/messages",
        Some(&token),
        Some(&json!({
            "from": "anna@contoso.example",
            "to": ["bob@gmail.example"],
            "subject": "Avtal för granskning",
            "text": "Hej Bob, avtalet är bifogat.",
            "attachments": [{"name": "avtal.pdf", "content_type": "application/pdf", "content_base64": b64(b"%PDF-1.4 avtal")}],
            "expires_in_days": 30
        })),
    );
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let answered_at = sealpost::clock::Clock::system().now();
    let sent: MessageStatusView = serde_json::from_value(json_of(&body)).unwrap();
    // The server's clock is the one this process reads (under faketime too): the expiry is 30 days
    // after some moment between asking and the answer, and the notice states that same moment.
    let expires_at = sent
        .expires_at
        .as_deref()
        .and_then(sealpost::clock::parse_rfc3339)
        .expect("the message expires");
    assert!(
        (asked_at + 30 * 86_400..=answered_at + 30 * 86_400).contains(&expires_at),
        "expiry {expires_at} is not 30 days after the request ({asked_at}..={answered_at})"
    );
    assert!(
        matches!(sent.recipients[0].notice, NoticeView::Sent { .. }),
        "{:?}",
        sent.recipients[0].notice
    );

    // The notice, as the SMTP server received it.
    let start = Instant::now();
    let list = loop {
        let (_, body) = http(&maildev, "GET", "/email", None, None);
        let list = json_of(&body);
        if list.as_array().is_some_and(|a| !a.is_empty()) {
            break list;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "no mail arrived");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(list.as_array().unwrap().len(), 1);
    let mail_id = list[0]["id"].as_str().unwrap();
    let (status, raw) = http(
        &maildev,
        "GET",
        &format!("/email/{mail_id}/download"),
        None,
        None,
    );
    assert_eq!(status, 200);
    let notice = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(notice.subject(), Some("Avtal för granskning"));
    assert_eq!(
        notice.from().unwrap().first().unwrap().address(),
        Some("anna@contoso.example")
    );
    assert_eq!(
        notice.to().unwrap().first().unwrap().address(),
        Some("bob@gmail.example")
    );
    assert!(notice.content_type().unwrap().subtype() == Some("alternative"));
    let text = notice.body_text(0).unwrap();
    let html = notice.body_html(0).unwrap();
    let link_prefix = format!("{url}/m/{}#t=spl_", sent.message_id);
    assert!(text.contains(&link_prefix), "{text}");
    assert!(text.contains("Contoso Finance has sent you a protected message."));
    assert!(
        text.contains(&format!(
            "This message expires on {}.",
            sealpost::clock::human_date(expires_at)
        )),
        "{text}"
    );
    assert!(html.contains("Confidential – for the addressee only."));
    assert!(html.contains("background:#003366"));
    assert!(html.contains("cid:sealpost-logo"));
    assert!(
        !text.contains("avtalet är bifogat"),
        "the notice carries no content"
    );
    let inline = notice
        .attachments()
        .find(|p| p.content_id() == Some("sealpost-logo"))
        .expect("the logo travels inline");
    assert_eq!(inline.contents(), &logo[..]);

    // The recipient's journey over the real server: a passcode by SMTP, a session, the key.
    enable_portal_log(&addr, &token);
    let link: String = text[text.find(&link_prefix).unwrap() + link_prefix.len() - 4..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    let csrf = ("X-Sealpost-Request", "1".to_owned());
    let ua = ("User-Agent", "smtp-test/1.0".to_owned());
    let (status, _, body) = http_with(
        &addr,
        "POST",
        &format!("/api/m/{}/passcode", sent.message_id),
        &[csrf.clone(), ua.clone()],
        Some(&json!({ "token": link })),
    );
    assert_eq!(status, 202, "{}", String::from_utf8_lossy(&body));
    let reference = json_of(&body)["reference"].as_str().unwrap().to_owned();
    let start = Instant::now();
    let passcode_mail = loop {
        let (_, body) = http(&maildev, "GET", "/email", None, None);
        let list = json_of(&body);
        if let Some(m) = list.as_array().and_then(|a| a.get(1)) {
            break m.clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no passcode arrived"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(passcode_mail["to"][0]["address"], "bob@gmail.example");
    assert_eq!(
        passcode_mail["from"][0]["address"],
        "no-reply@contoso.example"
    );
    let mail_text = passcode_mail["text"].as_str().unwrap();
    assert!(mail_text.contains(&format!("Reference: {reference}.")));
    let code = mail_text
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 8 && l.bytes().all(|b| b.is_ascii_digit()))
        .unwrap();
    let (status, head, body) = http_with(
        &addr,
        "POST",
        &format!("/api/m/{}/session", sent.message_id),
        &[csrf.clone(), ua.clone()],
        Some(&json!({ "token": link, "passcode": code })),
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let cookie = cookie_of(&head);
    let pair = sealpost_envelope::RecipientKeyPair::generate();
    let public = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(pair.public_key());
    let key_request = |cookie: &str| {
        http_with(
            &addr,
            "POST",
            &format!("/api/m/{}/key", sent.message_id),
            &[csrf.clone(), ua.clone(), ("Cookie", cookie.to_owned())],
            Some(&json!({ "public_key": public })),
        )
    };
    let (status, _, body) = key_request(&cookie);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));

    // Status and revocation over the real server.
    let (status, body) = http(
        &addr,
        "GET",
        &format!("/api/admin/messages/{}", sent.message_id),
        Some(&token),
        None,
    );
    assert_eq!(status, 200);
    let v = json_of(&body);
    assert_eq!(
        (v["Subject"].as_str(), v["Revoked"].as_bool()),
        (Some("Avtal för granskning"), Some(false))
    );
    let (status, body) = http(
        &addr,
        "POST",
        &format!("/api/admin/messages/{}/revoke", sent.message_id),
        Some(&token),
        None,
    );
    assert_eq!(status, 200);
    let v = json_of(&body);
    assert_eq!(
        (v["Revoked"].as_bool(), v["IsRevocable"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(v["Revocation"]["by"].as_str(), Some("bootstrap"));
    let (status, _, body) = key_request(&cookie);
    assert_eq!(status, 403);
    assert_eq!(json_of(&body)["code"], "message_revoked");

    // The portal log recorded the connection's address and user agent, and its chain checks out
    // from the command line.
    let (_, body) = http(&addr, "GET", "/api/admin/portal-log", Some(&token), None);
    let log = json_of(&body);
    let newest = &log["entries"][0];
    assert_eq!(newest["event"], "key_refused");
    assert_eq!(newest["client_address"], "127.0.0.1");
    assert_eq!(newest["user_agent"], "smtp-test/1.0");
    let verify = sealpost(
        dir.path(),
        smtp_port,
        &["portal-log", "verify", "--domain", "contoso.example"],
    )
    .output()
    .unwrap();
    let said = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success(), "{said}");
    assert!(said.contains("is intact: 4 entries. Head: 4:"), "{said}");
    let head = said.trim().rsplit(' ').next().unwrap().to_owned();
    let again = sealpost(
        dir.path(),
        smtp_port,
        &[
            "portal-log",
            "verify",
            "--domain",
            "contoso.example",
            "--head",
            &head,
        ],
    )
    .output()
    .unwrap();
    assert!(again.status.success());
    let wrong_head = format!("4:{}", "0".repeat(64));
    let refused = sealpost(
        dir.path(),
        smtp_port,
        &[
            "portal-log",
            "verify",
            "--domain",
            "contoso.example",
            "--head",
            &wrong_head,
        ],
    )
    .output()
    .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("tampered with"));

    let killed = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(server.0.wait().unwrap().success());
}
