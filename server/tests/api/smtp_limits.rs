//! Starvation of the SMTP listener, tried in-process: one address holding more than a hundred idle
//! connections cannot keep a client elsewhere from its banner, a full listener says so at once
//! instead of leaving a client without a banner, and a client that only sends NOOPs loses its
//! connection.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

use crate::helpers::TestApp;

async fn listener() -> (TestApp, SocketAddr) {
    let app = TestApp::new().await;
    let socket = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(sealpost::smtp::run(socket, app.state.clone(), None));
    (app, addr)
}

/// A connection from `from` (any 127.0.0.0/8 address on Linux).
pub async fn connect_from(from: &str, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    socket.connect(to).await.unwrap()
}

/// The first line the server says, within 10 seconds (`None`: nothing came).
pub async fn first_line(c: &mut TcpStream) -> Option<String> {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    tokio::time::timeout(Duration::from_secs(10), async {
        while !got.ends_with(b"\r\n") {
            if c.read(&mut byte).await.ok()? == 0 {
                break;
            }
            got.push(byte[0]);
        }
        Some(String::from_utf8_lossy(&got).into_owned())
    })
    .await
    .ok()
    .flatten()
}

#[tokio::test]
async fn a_new_client_is_served_while_one_address_holds_over_a_hundred_connections() {
    let (_app, addr) = listener().await;
    let mut held = Vec::new();
    for _ in 0..105 {
        held.push(connect_from("127.0.0.1", addr).await);
    }
    // The first twenty are greeted and then sit idle; the rest are told why they are refused.
    let mut greeted = 0;
    let mut refused = 0;
    for c in &mut held {
        match first_line(c).await {
            Some(l) if l.starts_with("220 ") => greeted += 1,
            Some(l) if l.starts_with("421 4.7.0 ") => refused += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((greeted, refused), (20, 85));
    // Another client is greeted at once.
    let mut other = connect_from("127.0.0.2", addr).await;
    let banner = first_line(&mut other).await;
    assert!(
        banner.as_deref().is_some_and(|b| b.starts_with("220 ")),
        "{banner:?}"
    );
    // When one of the first address's connections goes, that address may connect again.
    drop(held.remove(0));
    let mut again = None;
    for _ in 0..50 {
        let mut c = connect_from("127.0.0.1", addr).await;
        match first_line(&mut c).await {
            Some(l) if l.starts_with("220 ") => {
                again = Some(c);
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    assert!(again.is_some(), "the slot was never given back");
}

#[tokio::test]
async fn a_full_listener_refuses_at_once_and_serves_again_when_a_slot_frees() {
    let (_app, addr) = listener().await;
    // Five addresses take twenty connections each: all hundred slots.
    let mut held = Vec::new();
    for client in 1..=5 {
        for _ in 0..20 {
            let mut c = connect_from(&format!("127.0.1.{client}"), addr).await;
            let banner = first_line(&mut c).await;
            assert!(
                banner.as_deref().is_some_and(|b| b.starts_with("220 ")),
                "{banner:?}"
            );
            held.push(c);
        }
    }
    let mut late = connect_from("127.0.1.6", addr).await;
    let answer = first_line(&mut late).await;
    assert!(
        answer
            .as_deref()
            .is_some_and(|a| a.starts_with("421 4.3.2 ")),
        "{answer:?}"
    );
    drop(held.pop());
    let mut served = false;
    for _ in 0..50 {
        let mut c = connect_from("127.0.1.6", addr).await;
        if first_line(&mut c)
            .await
            .is_some_and(|l| l.starts_with("220 "))
        {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(served, "the freed slot was never given out");
}

#[tokio::test]
async fn a_client_that_only_sends_noops_loses_its_connection() {
    let (_app, addr) = listener().await;
    let mut c = connect_from("127.0.0.3", addr).await;
    assert!(first_line(&mut c).await.unwrap().starts_with("220 "));
    let mut answers = Vec::new();
    for _ in 0..30 {
        if c.write_all(b"NOOP\r\n").await.is_err() {
            break;
        }
        match first_line(&mut c).await {
            Some(l) if !l.is_empty() => answers.push(l),
            _ => break,
        }
    }
    assert_eq!(answers.len(), 21, "{answers:?}");
    assert!(
        answers[..20].iter().all(|a| a.starts_with("250 ")),
        "{answers:?}"
    );
    assert!(answers[20].starts_with("421 4.7.0 "), "{answers:?}");
    let mut rest = Vec::new();
    assert_eq!(c.read_to_end(&mut rest).await.unwrap_or(0), 0, "closed");
}
