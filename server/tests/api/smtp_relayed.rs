//! Real-world mail relayed through the listener, in-process: legacy multi-byte charsets and header
//! recipients that are not addresses arrive intact, sealed for the envelope's recipients.

use axum::http::Method;
use sealpost_api::admin::MessageListView;
use sealpost_envelope::Manifest;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::helpers::TestApp;
use crate::mime::LEGACY_CHARSETS;
use crate::smtp_smuggling::{listener, process_next, reply};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        crate::helpers::manifest_dir()
            .join("tests/api/mail")
            .join(name),
    )
    .unwrap()
}

/// Relay `raw` to `rcpt` over SMTP (dot-stuffed, as a mail server sends it), seal what was
/// queued, and open the sealed message.
async fn relay(
    app: &TestApp,
    tenant: &str,
    token: &str,
    addr: std::net::SocketAddr,
    rcpt: &str,
    raw: &[u8],
) -> (Manifest, Vec<String>) {
    let mut c = TcpStream::connect(addr).await.unwrap();
    assert!(reply(&mut c).await.starts_with("220"));
    let mut data = Vec::new();
    for line in raw.split_inclusive(|b| *b == b'\n') {
        if line.starts_with(b".") {
            data.push(b'.');
        }
        data.extend_from_slice(line);
    }
    data.extend_from_slice(b".\r\n");
    for (command, code) in [
        ("EHLO mail.contoso.example".to_owned(), "250"),
        ("MAIL FROM:<alex@contoso.example>".to_owned(), "250"),
        (format!("RCPT TO:<{rcpt}>"), "250"),
        ("DATA".to_owned(), "354"),
    ] {
        c.write_all(format!("{command}\r\n").as_bytes())
            .await
            .unwrap();
        let answer = reply(&mut c).await;
        assert!(answer.starts_with(code), "{command}: {answer}");
    }
    c.write_all(&data).await.unwrap();
    let answer = reply(&mut c).await;
    assert!(answer.starts_with("250 2.0.0 Queued"), "{answer}");

    assert_eq!(app.state.store.queued_mail(tenant).await.unwrap().len(), 1);
    process_next(app).await;
    let left = app.state.store.queued_mail(tenant).await.unwrap();
    assert!(left.is_empty(), "{left:?}");
    let (_, list): (_, MessageListView) = app
        .json(Method::GET, "/api/admin/messages", token, None::<&()>)
        .await;
    let newest = list.messages.first().expect("a sealed message");
    let (manifest, bodies, _) = app.open(tenant, &newest.message_id).await;
    let bodies = bodies
        .into_iter()
        .map(|b| String::from_utf8(b).unwrap())
        .collect();
    (manifest, bodies)
}

/// A tenant whose connector lets loopback send and whose one rule seals everything.
async fn sealing_listener() -> (TestApp, String, String, std::net::SocketAddr) {
    let (app, t, addr) = listener().await;
    let (tenant, token) = (t.id, t.token);
    let (status, answer): (_, serde_json::Value) = app
        .json(
            Method::POST,
            "/api/admin/mail-flow/rules",
            &token,
            Some(&serde_json::json!({ "name": "Seal all", "action": { "kind": "seal" } })),
        )
        .await;
    assert!(status.is_success(), "{answer}");
    (app, tenant, token, addr)
}

#[tokio::test]
async fn legacy_multibyte_charsets_arrive_intact_over_smtp() {
    let (app, tenant, token, addr) = sealing_listener().await;
    for (name, subject, body) in LEGACY_CHARSETS {
        let (m, bodies) = relay(
            &app,
            &tenant,
            &token,
            addr,
            "bob@fabrikam.example",
            &fixture(name),
        )
        .await;
        assert_eq!(m.subject, subject, "{name}");
        assert_eq!(bodies[0].trim_end(), body, "{name}");
    }
}

#[tokio::test]
async fn a_header_recipient_that_is_not_an_address_does_not_block_relayed_mail() {
    let (app, tenant, token, addr) = sealing_listener().await;
    let (m, bodies) = relay(
        &app,
        &tenant,
        &token,
        addr,
        "ops@fabrikam.example",
        &fixture("odd-addresses.eml"),
    )
    .await;
    assert_eq!(m.to, ["ops@fabrikam.example", "greg@inbucket"]);
    assert_eq!(m.cc, ["Front Desk"]);
    assert_eq!(bodies[0].trim_end(), "The rota is attached.");
}
