//! A TCP load balancer in front of the listener, speaking the PROXY protocol, tried in-process:
//! the connector's allow-list and the per-client limit see the client the header names; a trusted
//! balancer that sends no header is cut off; anyone else who sends one gains nothing by it.

use axum::http::{Method, StatusCode};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::TestApp;
use crate::smtp_limits::{connect_from, first_line};
use crate::smtp_smuggling::reply;

/// The balancer is 127.0.0.1; the tenant's mail servers are 198.51.100.0/24 behind it.
async fn behind_a_balancer() -> (TestApp, std::net::SocketAddr) {
    let app = TestApp::with_config(|c| c.smtp_listen_proxy_from = vec!["127.0.0.1".into()]).await;
    let t = app.tenant("Contoso", &["contoso.example"]).await;
    let (status, _): (_, serde_json::Value) = app
        .json(
            Method::PUT,
            "/api/admin/mail-flow/connector",
            &t.token,
            Some(&serde_json::json!({ "remote_addresses": ["198.51.100.0/24"] })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let socket = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(sealpost::smtp::run(socket, app.state.clone(), None));
    (app, addr)
}

/// Connect from `from`, send `header` first, and read the banner.
async fn through(
    from: &str,
    addr: std::net::SocketAddr,
    header: &[u8],
) -> (TcpStream, Option<String>) {
    let mut c = connect_from(from, addr).await;
    c.write_all(header).await.unwrap();
    let banner = first_line(&mut c).await;
    (c, banner)
}

async fn command(c: &mut TcpStream, line: &str) -> String {
    c.write_all(format!("{line}\r\n").as_bytes()).await.unwrap();
    reply(c).await
}

fn v1(client: &str) -> Vec<u8> {
    format!("PROXY TCP4 {client} 127.0.0.1 40000 25\r\n").into_bytes()
}

#[tokio::test]
async fn the_connector_sees_the_client_the_header_names() {
    let (_app, addr) = behind_a_balancer().await;
    // v1: a client inside the connector's network may send.
    let (mut c, banner) = through("127.0.0.1", addr, &v1("198.51.100.7")).await;
    assert!(banner.unwrap().starts_with("220 "));
    assert!(
        command(&mut c, "EHLO mx.contoso.example")
            .await
            .starts_with("250")
    );
    let said = command(&mut c, "MAIL FROM:<alex@contoso.example>").await;
    assert!(said.starts_with("250 "), "{said}");

    // v2, binary: a client outside it may not, though the balancer itself is loopback.
    let mut v2 = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    v2.extend([
        0x21, 0x11, 0, 12, 203, 0, 113, 9, 127, 0, 0, 1, 0x9c, 0x40, 0, 25,
    ]);
    let (mut c, banner) = through("127.0.0.1", addr, &v2).await;
    assert!(banner.unwrap().starts_with("220 "));
    command(&mut c, "EHLO mx.example").await;
    let said = command(&mut c, "MAIL FROM:<alex@contoso.example>").await;
    assert!(said.starts_with("5"), "{said}");
}

#[tokio::test]
async fn a_balancer_connection_without_a_header_is_closed_unserved() {
    let (_app, addr) = behind_a_balancer().await;
    for sent in [
        &b"EHLO mx.contoso.example\r\n"[..],
        b"PROXY TCP4 nonsense\r\n",
    ] {
        let mut c = connect_from("127.0.0.1", addr).await;
        c.write_all(sent).await.unwrap();
        let mut buf = [0u8; 64];
        let read = tokio::time::timeout(Duration::from_secs(10), c.read(&mut buf))
            .await
            .expect("the server closes the connection");
        // Closed (or reset, as the server did not read all that was sent) without a word.
        assert!(matches!(read, Ok(0) | Err(_)), "{sent:?}: {read:?}");
    }
}

#[tokio::test]
async fn a_header_from_anyone_else_is_only_an_unknown_command() {
    let (_app, addr) = behind_a_balancer().await;
    let (mut c, banner) = through("127.0.0.2", addr, &v1("198.51.100.7")).await;
    assert!(banner.unwrap().starts_with("220 "));
    let said = reply(&mut c).await;
    assert!(said.starts_with("500 5.5.2 "), "{said}");
    command(&mut c, "EHLO mx.contoso.example").await;
    let said = command(&mut c, "MAIL FROM:<alex@contoso.example>").await;
    assert!(
        said.starts_with("5"),
        "127.0.0.2 is not in the connector: {said}"
    );
}

#[tokio::test]
async fn the_per_client_limit_counts_the_client_behind_the_balancer() {
    let (_app, addr) = behind_a_balancer().await;
    let mut held = Vec::new();
    for _ in 0..20 {
        let (c, banner) = through("127.0.0.1", addr, &v1("198.51.100.7")).await;
        assert!(banner.unwrap().starts_with("220 "));
        held.push(c);
    }
    let (_c, banner) = through("127.0.0.1", addr, &v1("198.51.100.7")).await;
    assert!(banner.unwrap().starts_with("421 4.7.0 "));
    // Another client through the same balancer is served.
    let (_c, banner) = through("127.0.0.1", addr, &v1("198.51.100.8")).await;
    assert!(banner.unwrap().starts_with("220 "));
}
