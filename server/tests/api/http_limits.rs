//! Slow and greedy HTTP clients, tried against the real listener in-process: half-sent headers,
//! a stalled cleartext HTTP/2 start, stalled bodies and answers nobody reads lose their connection
//! or request, and connections over the per-client and global limits are told 503 at once while
//! others are still served.

use std::net::SocketAddr;
use std::time::Duration;

use sealpost::http::listener::{Limits, Running, spawn};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::TestApp;
use crate::smtp_limits::connect_from;

const LIMITS: Limits = Limits {
    header_timeout: Duration::from_secs(1),
    write_timeout: Duration::from_secs(60),
    max_connections: 100,
    max_per_client: Some(64),
};

async fn serving(app: &TestApp, limits: Limits) -> Running {
    spawn(sealpost::http::router(app.state.clone()), limits)
        .await
        .unwrap()
}

/// Everything the server says until it closes the connection; `None` if it is still open after
/// 15 seconds.
async fn until_closed(c: &mut TcpStream) -> Option<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            match c.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .ok()?;
    Some(String::from_utf8_lossy(&got).into_owned())
}

/// A whole request's answer: its status line.
async fn get(addr: SocketAddr, from: &str) -> String {
    let mut c = connect_from(from, addr).await;
    c.write_all(b"GET /healthz HTTP/1.1\r\nhost: sealpost.test\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let said = until_closed(&mut c).await.expect("answered and closed");
    said.lines().next().unwrap_or("").to_owned()
}

#[tokio::test]
async fn half_sent_headers_lose_the_connection() {
    let app = TestApp::new().await;
    let server = serving(&app, LIMITS).await;
    let mut c = TcpStream::connect(server.addr).await.unwrap();
    c.write_all(b"GET /healthz HTTP/1.1\r\nhost: sealpost.test\r\nx-slow: ")
        .await
        .unwrap();
    assert!(
        until_closed(&mut c).await.is_some(),
        "a connection with half its headers is still open"
    );
    // A silent connection goes the same way, and so does a kept-alive one after its answer.
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    assert!(until_closed(&mut silent).await.is_some());
    let mut kept = TcpStream::connect(server.addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nhost: sealpost.test\r\n\r\n")
        .await
        .unwrap();
    let said = until_closed(&mut kept).await.expect("closed once idle");
    assert!(said.starts_with("HTTP/1.1 200 OK"), "{said}");
    assert_eq!(get(server.addr, "127.0.0.1").await, "HTTP/1.1 200 OK");
    server.stop().await;
}

/// The start of cleartext HTTP/2 (its preface, cut short) is not a way around the header timeout.
#[tokio::test]
async fn a_stalled_http2_start_loses_the_connection() {
    let app = TestApp::new().await;
    let server = serving(&app, LIMITS).await;
    let mut c = TcpStream::connect(server.addr).await.unwrap();
    c.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();
    assert!(
        until_closed(&mut c).await.is_some(),
        "a connection that began HTTP/2 and stopped is still open"
    );
    server.stop().await;
}

/// A client that asks for a large answer and never reads it (the slow-read attack) loses the
/// connection once the server's writes have made no progress for the write timeout, and with it
/// the connection slot it held.
#[tokio::test]
async fn an_answer_nobody_reads_ends_its_connection() {
    let big =
        axum::Router::new().route("/big", axum::routing::get(|| async { vec![7u8; 64 << 20] }));
    let limits = Limits {
        header_timeout: Duration::from_secs(60),
        write_timeout: Duration::from_secs(1),
        max_connections: 100,
        max_per_client: Some(1),
    };
    let server = spawn(big, limits).await.unwrap();
    let mut reader = connect_from("127.0.0.1", server.addr).await;
    reader
        .write_all(b"GET /big HTTP/1.1\r\nhost: sealpost.test\r\n\r\n")
        .await
        .unwrap();
    // While the unread answer holds the address's one connection, another is refused; once the
    // write has timed out, one is served (asked every 100 ms, for at most 20 seconds).
    let mut refused = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let mut c = connect_from("127.0.0.1", server.addr).await;
        c.write_all(b"GET /nothing HTTP/1.1\r\nhost: sealpost.test\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let said = until_closed(&mut c).await.unwrap_or_default();
        if said.starts_with("HTTP/1.1 404 ") {
            break;
        }
        assert!(said.starts_with("HTTP/1.1 503 "), "{said}");
        refused += 1;
        assert!(
            std::time::Instant::now() < deadline,
            "the unread answer still holds its connection"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(refused > 0, "the unread answer never held its connection");
    // What the reader gets now is what was written before the server gave up: not all of it.
    let mut got = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match tokio::time::timeout(Duration::from_secs(15), reader.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got += n,
            Err(_) => panic!("the connection is still open"),
        }
    }
    assert!(got < 64 << 20, "the whole answer was written: {got} bytes");
    server.stop().await;
}

#[tokio::test]
async fn a_body_that_stops_arriving_ends_its_request() {
    let app = TestApp::with_config(|c| c.http_body_timeout_seconds = 1).await;
    let server = serving(&app, LIMITS).await;
    let mut c = TcpStream::connect(server.addr).await.unwrap();
    c.write_all(
        b"POST /api/m/abc/passcode HTTP/1.1\r\nhost: sealpost.test\r\nx-sealpost-request: 1\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"token\":",
    )
    .await
    .unwrap();
    let said = until_closed(&mut c)
        .await
        .expect("the request ends, and with it the connection");
    assert!(said.starts_with("HTTP/1.1 408 "), "{said}");
    assert!(said.contains("\"code\":\"request_timeout\""), "{said}");
    server.stop().await;
}

#[tokio::test]
async fn one_address_cannot_take_every_connection() {
    let app = TestApp::new().await;
    let limits = Limits {
        header_timeout: Duration::from_secs(60),
        write_timeout: Duration::from_secs(60),
        max_connections: 100,
        max_per_client: Some(3),
    };
    let server = serving(&app, limits).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect_from("127.0.0.1", server.addr).await);
    }
    let mut fourth = connect_from("127.0.0.1", server.addr).await;
    let said = until_closed(&mut fourth).await.expect("refused at once");
    assert!(said.starts_with("HTTP/1.1 503 "), "{said}");
    assert!(said.contains("retry-after: 5"), "{said}");
    assert!(said.contains("\"code\":\"server_busy\""), "{said}");
    // Another address is served; and the first, once one of its connections goes.
    assert_eq!(get(server.addr, "127.0.0.2").await, "HTTP/1.1 200 OK");
    drop(held.pop());
    let mut served = false;
    for _ in 0..50 {
        if get(server.addr, "127.0.0.1").await == "HTTP/1.1 200 OK" {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(served, "the slot was never given back");
    drop(held);
    server.stop().await;
}

#[tokio::test]
async fn a_full_server_says_so_at_once() {
    let app = TestApp::new().await;
    let limits = Limits {
        header_timeout: Duration::from_secs(60),
        write_timeout: Duration::from_secs(60),
        max_connections: 4,
        max_per_client: Some(2),
    };
    let server = serving(&app, limits).await;
    let mut held = Vec::new();
    for from in ["127.0.0.1", "127.0.0.1", "127.0.0.2", "127.0.0.2"] {
        held.push(connect_from(from, server.addr).await);
    }
    let mut fifth = connect_from("127.0.0.3", server.addr).await;
    let said = until_closed(&mut fifth).await.expect("refused at once");
    assert!(said.starts_with("HTTP/1.1 503 "), "{said}");
    drop(held);
    let mut served = false;
    for _ in 0..50 {
        if get(server.addr, "127.0.0.3").await == "HTTP/1.1 200 OK" {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(served);
    server.stop().await;
}

/// Behind a reverse proxy every connection is the proxy's, so the cap that holds there is on
/// requests per client address (from the proxy's header): three requests of one client still
/// reading their bodies, and the fourth is told 429 at once while another client is served.
#[tokio::test]
async fn one_client_behind_a_proxy_cannot_hold_every_request_slot() {
    let app = TestApp::with_config(|c| {
        c.client_address_header = Some("x-forwarded-for".into());
        c.http_max_requests_per_client = 3;
    })
    .await;
    let server = serving(&app, LIMITS).await;
    let slow = |client: String| {
        let addr = server.addr;
        async move {
            let mut c = TcpStream::connect(addr).await.unwrap();
            c.write_all(format!(
                "POST /api/m/abc/passcode HTTP/1.1\r\nhost: sealpost.test\r\nx-forwarded-for: {client}\r\nx-sealpost-request: 1\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"token\":"
            ).as_bytes())
            .await
            .unwrap();
            c
        }
    };
    let mut held = Vec::new();
    // Some proxies add the client's port; each request comes from another one.
    for port in 40001..40004 {
        held.push(slow(format!("198.51.100.7:{port}")).await);
    }
    // Wait until all three are being handled (their bodies are being read).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let mut c = TcpStream::connect(server.addr).await.unwrap();
        c.write_all(b"GET /healthz HTTP/1.1\r\nhost: sealpost.test\r\nx-forwarded-for: 198.51.100.7:40009\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let said = until_closed(&mut c).await.unwrap();
        if said.starts_with("HTTP/1.1 429 ") {
            assert!(said.contains("\"code\":\"too_many_requests\""), "{said}");
            break;
        }
        assert!(said.starts_with("HTTP/1.1 200 "), "{said}");
        assert!(std::time::Instant::now() < deadline, "never refused");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Another client behind the same proxy is served.
    let mut c = TcpStream::connect(server.addr).await.unwrap();
    c.write_all(b"GET /healthz HTTP/1.1\r\nhost: sealpost.test\r\nx-forwarded-for: 198.51.100.8\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    assert!(
        until_closed(&mut c)
            .await
            .unwrap()
            .starts_with("HTTP/1.1 200 ")
    );
    drop(held);
    server.stop().await;
}

#[tokio::test]
async fn a_sign_in_request_cannot_be_megabytes() {
    let app = TestApp::new().await;
    let big = serde_json::json!({ "token": "x".repeat(100_000) });
    let res = app
        .portal(
            axum::http::Method::POST,
            "/api/m/abc/passcode",
            None,
            true,
            Some(big),
        )
        .await;
    assert_eq!(res.status(), axum::http::StatusCode::PAYLOAD_TOO_LARGE);
}
