//! Raw RFC 5322 messages, as a mail server would hand them over, survive sealing intact: bodies,
//! attachments, inline images, nested messages, non-ASCII names and charsets.

use axum::http::{Method, StatusCode};
use sealpost_api::admin::MessageStatusView;
use sealpost_envelope::Manifest;

use crate::helpers::{TestApp, body_text};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        crate::helpers::manifest_dir()
            .join("tests/api/mail")
            .join(name),
    )
    .unwrap()
}

/// Send a fixture raw and open what was stored.
async fn round_trip(name: &str) -> (MessageStatusView, Manifest, Vec<String>, Vec<Vec<u8>>) {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let res = app
        .call(
            Method::POST,
            "/api/admin/messages",
            Some(&t.token),
            Some("message/rfc822"),
            fixture(name),
        )
        .await;
    let status = res.status();
    let text = body_text(res).await;
    assert_eq!(status, StatusCode::CREATED, "{name}: {text}");
    let view: MessageStatusView = serde_json::from_str(&text).unwrap();
    let (manifest, bodies, attachments) = app.open(&t.id, &view.message_id).await;
    let bodies = bodies
        .into_iter()
        .map(|b| String::from_utf8(b).unwrap())
        .collect();
    (view, manifest, bodies, attachments)
}

fn body_types(m: &Manifest) -> Vec<&str> {
    m.bodies.iter().map(|b| b.content_type.as_str()).collect()
}

#[tokio::test]
async fn multipart_alternative_keeps_both_bodies_and_decodes_swedish_text() {
    let (view, m, bodies, attachments) = round_trip("alternative-swedish.eml").await;
    assert_eq!(view.subject, "Möte på fredag – agenda");
    assert_eq!(m.from, "anna@contoso.example");
    assert_eq!(m.to, ["bjorn@gmail.example"]);
    assert_eq!(
        body_types(&m),
        ["text/plain; charset=utf-8", "text/html; charset=utf-8"]
    );
    assert_eq!(
        bodies[0],
        "Hej Björn!\r\n\r\nMötet är på fredag kl. 10. Ta med räkningarna."
    );
    assert_eq!(
        bodies[1],
        "<p>Hej Björn!</p><p>Mötet är på <b>fredag</b> kl. 10.</p>"
    );
    assert!(attachments.is_empty());
}

#[tokio::test]
async fn attachments_keep_their_bytes_types_and_non_ascii_names() {
    let (view, m, bodies, attachments) = round_trip("mixed-attachment.eml").await;
    assert_eq!(view.subject, "Årsredovisning 2026");
    let external: Vec<_> = view.recipients.iter().map(|r| r.address.as_str()).collect();
    assert_eq!(external, ["bob@gmail.example", "dana@yahoo.example"]);
    assert_eq!(m.cc, ["dana@yahoo.example"]);
    assert_eq!(bodies[0].trim_end(), "Bifogat: årsredovisningen.");
    assert_eq!(
        bodies[1].trim_end(),
        "<p>Bifogat: <i>årsredovisningen</i>.</p>"
    );
    assert_eq!(m.attachments.len(), 2);
    assert_eq!(m.attachments[0].name, "årsredovisning 2026.pdf");
    assert_eq!(m.attachments[0].content_type, "application/pdf");
    assert_eq!(attachments[0], fixture("mixed-attachment.pdf"));
    assert_eq!(m.attachments[1].name, "siffror.csv");
    assert_eq!(m.attachments[1].content_type, "text/csv");
    assert_eq!(
        String::from_utf8_lossy(&attachments[1]).trim_end(),
        "konto;belopp\r\nlön;1234,50"
    );
}

#[tokio::test]
async fn inline_images_keep_their_content_id_for_the_html() {
    let (_, m, bodies, attachments) = round_trip("related-inline-image.eml").await;
    assert_eq!(bodies[0].trim_end(), "See the chart.");
    assert!(bodies[1].contains("cid:chart.png@contoso"));
    assert_eq!(m.attachments.len(), 1);
    assert_eq!(
        m.attachments[0].content_id.as_deref(),
        Some("chart.png@contoso")
    );
    assert_eq!(m.attachments[0].content_type, "image/png");
    assert_eq!(attachments[0], fixture("related-inline-image.png"));
}

#[tokio::test]
async fn an_html_only_message_gets_no_invented_text_body() {
    let (_, m, bodies, _) = round_trip("html-only.eml").await;
    assert_eq!(body_types(&m), ["text/html; charset=utf-8"]);
    assert!(bodies[0].contains("Only <b>HTML</b> here."));
}

#[tokio::test]
async fn a_forwarded_message_is_kept_whole_as_an_attachment() {
    let (_, m, bodies, attachments) = round_trip("forwarded-message.eml").await;
    assert_eq!(bodies[0].trim_end(), "See below.");
    assert_eq!(m.attachments[0].content_type, "message/rfc822");
    let nested = String::from_utf8(attachments[0].clone()).unwrap();
    assert!(nested.contains("Subject: Offer") && nested.contains("Price: 100 EUR."));
}

#[tokio::test]
async fn other_charsets_are_decoded_to_utf8() {
    let (_, m, bodies, _) = round_trip("body-latin1.eml").await;
    assert_eq!(body_types(&m), ["text/plain; charset=utf-8"]);
    assert_eq!(bodies[0].trim_end(), "Gräsklippning på lördag.");
}

#[tokio::test]
async fn a_body_that_is_not_a_message_is_refused() {
    let app = TestApp::new().await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    for raw in [
        &b""[..],
        b"just text, no headers",
        b"Subject: no from\r\n\r\nhi",
    ] {
        let res = app
            .call(
                Method::POST,
                "/api/admin/messages",
                Some(&t.token),
                Some("message/rfc822"),
                raw.to_vec(),
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{raw:?}");
        let text = body_text(res).await;
        assert!(
            text.contains("invalid_mime") || text.contains("no_recipients"),
            "{text}"
        );
    }
}
