//! SMTP smuggling (a second message hidden inside the first behind an end-of-data marker that
//! Sealpost and another server read differently) tried against the listener, in-process: every
//! published variant of a bare LF or CR around the dot is refused with 521, the connection closes,
//! and nothing is queued; a clean message on the same listener is queued once.

use axum::http::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::{TestApp, TestTenant};

/// A tenant whose connector lets loopback send, and the SMTP listener on a free port.
pub async fn listener() -> (TestApp, TestTenant, std::net::SocketAddr) {
    listener_for(TestApp::new().await).await
}

/// As [`listener`], for an app of the caller's.
pub async fn listener_for(app: TestApp) -> (TestApp, TestTenant, std::net::SocketAddr) {
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let (status, _): (_, serde_json::Value) = app
        .json(
            Method::PUT,
            "/api/admin/mail-flow/connector",
            &t.token,
            Some(&serde_json::json!({ "remote_addresses": ["127.0.0.0/24"] })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let socket = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(sealpost::smtp::run(socket, app.state.clone(), None));
    (app, t, addr)
}

/// Everything the server says until it closes the connection (or 10 s pass).
pub async fn rest(c: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), c.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// One reply (its last line starts `NNN `).
pub async fn reply(c: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        assert_eq!(c.read(&mut byte).await.unwrap(), 1, "closed after {got:?}");
        got.push(byte[0]);
        if got.ends_with(b"\r\n") {
            let text = String::from_utf8_lossy(&got).into_owned();
            let last = text
                .trim_end()
                .rsplit("\r\n")
                .next()
                .unwrap_or("")
                .to_owned();
            if last.len() > 3 && last.as_bytes()[3] == b' ' {
                return text;
            }
        }
    }
}

/// Take the next queued message and carry out its plan, as the queue worker does.
pub async fn process_next(app: &TestApp) {
    let now = app.clock.now();
    let mail = app
        .state
        .store
        .claim_mail(now, now + 60, &app.state.node_id)
        .await
        .unwrap()
        .expect("a queued message");
    sealpost::services::mail_flow::queue::process(&app.state, mail).await;
}

/// Open a transaction and send `data` after `DATA`; returns the connection.
pub async fn transaction(addr: std::net::SocketAddr, data: &[u8]) -> TcpStream {
    let mut c = TcpStream::connect(addr).await.unwrap();
    assert!(reply(&mut c).await.starts_with("220"));
    for (command, code) in [
        ("EHLO mail.contoso.example", "250"),
        ("MAIL FROM:<alex@contoso.example>", "250"),
        ("RCPT TO:<bob@fabrikam.example>", "250"),
        ("DATA", "354"),
    ] {
        c.write_all(format!("{command}\r\n").as_bytes())
            .await
            .unwrap();
        let answer = reply(&mut c).await;
        assert!(answer.starts_with(code), "{command}: {answer}");
    }
    c.write_all(data).await.unwrap();
    c
}

const HEAD: &str =
    "From: Alex <alex@contoso.example>\r\nTo: bob@fabrikam.example\r\nSubject: Hello\r\n\r\nhi";
const SMUGGLED: &str = "MAIL FROM:<ceo@contoso.example>\r\nRCPT TO:<bob@fabrikam.example>\r\nDATA\r\nFrom: ceo@contoso.example\r\nSubject: Pay now\r\n\r\nsmuggled\r\n.\r\n";

#[tokio::test]
async fn every_smuggling_variant_is_refused_and_nothing_is_queued() {
    let (app, tenant, addr) = listener().await;
    // The end-of-data markers other servers accept, each followed by a second transaction.
    let variants: [(&str, &str); 7] = [
        ("LF.LF", "\n.\n"),
        ("LF.CRLF", "\n.\r\n"),
        ("CR.CRLF", "\r.\r\n"),
        ("CRLF.CR", "\r\n.\r"),
        ("CRLF.LF", "\r\n.\n"),
        ("CR.CR", "\r.\r"),
        ("LF.CR", "\n.\r"),
    ];
    for (name, marker) in variants {
        let data = format!("{HEAD}{marker}{SMUGGLED}");
        let mut c = transaction(addr, data.as_bytes()).await;
        let said = rest(&mut c).await;
        assert!(
            said.starts_with("521 5.5.2 ") && said.matches("\r\n").count() == 1,
            "{name}: {said:?}"
        );
        let queued = app.state.store.queued_mail(&tenant.id).await.unwrap();
        assert!(queued.is_empty(), "{name}: {queued:?}");
    }

    // The same listener queues a clean message once, and only on <CRLF>.<CRLF>.
    let mut c = transaction(addr, format!("{HEAD}\r\n.\r\nQUIT\r\n").as_bytes()).await;
    let said = rest(&mut c).await;
    assert!(said.starts_with("250 2.0.0 Queued as "), "{said:?}");
    assert_eq!(
        app.state.store.queued_mail(&tenant.id).await.unwrap().len(),
        1
    );
}

#[tokio::test]
async fn a_bare_line_ending_anywhere_in_the_message_refuses_it() {
    let (app, tenant, addr) = listener().await;
    for body in ["line one\nline two\r\n", "col\rumn\r\n"] {
        let data = format!("{HEAD}\r\n{body}.\r\n");
        let mut c = transaction(addr, data.as_bytes()).await;
        let said = rest(&mut c).await;
        assert!(said.starts_with("521 5.5.2 "), "{body:?}: {said:?}");
    }
    assert!(
        app.state
            .store
            .queued_mail(&tenant.id)
            .await
            .unwrap()
            .is_empty()
    );
}
