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

/// Mail from Japanese, Korean and Chinese mail programs still arrives in the legacy multi-byte
/// charsets, named as they name them (`ks_c_5601-1987` is Outlook's name for EUC-KR), in encoded
/// words and in 7bit, 8bit, base64 and quoted-printable bodies.
pub const LEGACY_CHARSETS: [(&str, &str, &str); 5] = [
    (
        "charset-iso-2022-jp.eml",
        "議事録 第3回",
        "いつもお世話になっております。\r\n第3回会議の議事録をお送りします。",
    ),
    (
        "charset-euc-kr.eml",
        "회의록 송부",
        "안녕하세요.\r\n회의록을 보내드립니다.",
    ),
    (
        "charset-shift-jis.eml",
        "請求書のご送付",
        "いつもお世話になっております。\r\n請求書をお送りします。",
    ),
    (
        "charset-gb2312.eml",
        "会议纪要",
        "您好：\r\n附上会议纪要，请查收。",
    ),
    (
        "charset-big5.eml",
        "會議紀錄",
        "您好：\r\n附上會議紀錄，請查收。",
    ),
];

#[tokio::test]
async fn legacy_multibyte_charsets_are_decoded_in_subject_and_body() {
    for (name, subject, body) in LEGACY_CHARSETS {
        let (view, m, bodies, _) = round_trip(name).await;
        assert_eq!(view.subject, subject, "{name}");
        assert_eq!(m.subject, subject, "{name}");
        assert_eq!(body_types(&m), ["text/plain; charset=utf-8"], "{name}");
        assert_eq!(bodies[0].trim_end(), body, "{name}");
    }
}

/// A header recipient that is not an address we could write to (`greg@inbucket`, a bare name) is
/// kept as written for the reader, and the message goes to the addresses that are.
#[tokio::test]
async fn header_recipients_that_are_not_addresses_are_kept_as_text() {
    let (view, m, bodies, _) = round_trip("odd-addresses.eml").await;
    assert_eq!(m.to, ["ops@fabrikam.example", "greg@inbucket"]);
    assert_eq!(m.cc, ["Front Desk"]);
    let to: Vec<&str> = view.recipients.iter().map(|r| r.address.as_str()).collect();
    assert_eq!(to, ["ops@fabrikam.example"]);
    assert_eq!(bodies[0].trim_end(), "The rota is attached.");
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
