//! Notices in the recipient's language, by the path OME admins use: a branding template per
//! language, chosen by a mail flow rule per recipient. Sent through the SMTP listener in-process,
//! one message to a Swedish and an English reader gives each a notice in their language, and the
//! Swedish reader's passcode mail is Swedish too.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::mail_text as text_of;
use crate::smtp_smuggling::{listener, process_next, reply};

#[tokio::test]
async fn a_rule_that_picks_a_swedish_template_gives_its_recipients_a_swedish_notice() {
    let (app, t, addr) = listener().await;
    let (status, body): (_, serde_json::Value) = app
        .json(
            Method::POST,
            "/api/admin/branding-templates",
            &t.token,
            Some(&json!({
                "identity": "Svenska",
                "language": "sv",
                "portal_text": {"text": "Sign in", "translations": {"sv": "Logga in"}},
                "disclaimer_text": {"text": "Confidential.", "translations": {"sv": "Konfidentiellt."}},
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    for rule in [
        json!({"name": "Swedish readers", "stop_processing": true,
               "conditions": [{"kind": "recipient_in", "values": ["sven@fabrikam.se"]}],
               "action": {"kind": "seal", "branding_template": "Svenska"}}),
        json!({"name": "Everyone else", "action": {"kind": "seal"}}),
    ] {
        let (status, body): (_, serde_json::Value) = app
            .json(
                Method::POST,
                "/api/admin/mail-flow/rules",
                &t.token,
                Some(&rule),
            )
            .await;
        assert!(status.is_success(), "{body}");
    }

    let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
    assert!(reply(&mut c).await.starts_with("220"));
    let data = "From: alex@contoso.example\r\nTo: sven@fabrikam.se, kim@fabrikam.example\r\n\
                Subject: Avtal\r\n\r\nHej.\r\n.\r\n";
    for (command, code) in [
        ("EHLO mail.contoso.example", "250"),
        ("MAIL FROM:<alex@contoso.example>", "250"),
        ("RCPT TO:<sven@fabrikam.se>", "250"),
        ("RCPT TO:<kim@fabrikam.example>", "250"),
        ("DATA", "354"),
    ] {
        tokio::io::AsyncWriteExt::write_all(&mut c, format!("{command}\r\n").as_bytes())
            .await
            .unwrap();
        let answer = reply(&mut c).await;
        assert!(answer.starts_with(code), "{command}: {answer}");
    }
    tokio::io::AsyncWriteExt::write_all(&mut c, data.as_bytes())
        .await
        .unwrap();
    assert!(reply(&mut c).await.starts_with("250"));
    process_next(&app).await;

    let swedish = app.mails_to("sven@fabrikam.se").await;
    assert_eq!(swedish.len(), 1);
    let raw = String::from_utf8_lossy(&swedish[0].raw).into_owned();
    assert!(raw.contains("Content-Language: sv\r\n"), "{raw}");
    let text = text_of(&swedish[0].raw);
    assert!(
        text.contains("har skickat ett skyddat meddelande till dig"),
        "{text}"
    );
    assert!(text.contains("Läs meddelandet"), "{text}");
    assert!(text.contains("Konfidentiellt."), "{text}");
    assert!(text.contains("Skickat säkert av Contoso"), "{text}");

    let english = app.mails_to("kim@fabrikam.example").await;
    assert_eq!(english.len(), 1);
    let text = text_of(&english[0].raw);
    assert!(text.contains("has sent you a protected message"), "{text}");
    assert!(text.contains("Read the message"), "{text}");
    assert!(String::from_utf8_lossy(&english[0].raw).contains("Content-Language: en\r\n"));

    // Sven's passcode mail is in his notice's language too.
    let (_, list): (_, sealpost_api::admin::MessageListView) = app
        .json(Method::GET, "/api/admin/messages", &t.token, None::<&()>)
        .await;
    // Each rule sealed its own message; Sven's is the one under the Swedish template.
    let id = &list
        .messages
        .iter()
        .find(|m| m.branding_template == "Svenska")
        .expect("Sven's message")
        .message_id;
    let token = app.link_token(id, "sven@fabrikam.se").await;
    let (status, _) = app.request_passcode(id, &token).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    app.state.settle().await;
    let mails = app.mails_to("sven@fabrikam.se").await;
    assert_eq!(mails.len(), 2);
    let text = text_of(&mails[1].raw);
    assert!(
        text.contains("Här är din engångskod för att läsa det skyddade meddelandet"),
        "{text}"
    );
    assert!(
        mails[1].subject.starts_with("Din engångskod"),
        "{}",
        mails[1].subject
    );
}
