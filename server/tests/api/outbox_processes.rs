//! The outbox with the real server and a real SMTP server (maildev): a notice sent while the
//! relay is down arrives once, after it is back; a server killed (`kill -9`) in the middle of
//! handing a notice to the relay sends it after it starts again, once.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sealpost_api::admin::{MessageStatusView, NoticeView};
use serde_json::json;

use crate::processes::{Maildev, bootstrap, free_port, http, json_of, serve};

fn send(addr: &str, token: &str) -> (u16, Vec<u8>) {
    http(
        addr,
        "POST",
        "/api/admin/messages",
        Some(token),
        Some(&json!({"from": "anna@contoso.example", "to": ["bob@gmail.example"], "text": "hi"})),
    )
}

fn notice(addr: &str, token: &str, id: &str) -> NoticeView {
    let (status, body) = http(
        addr,
        "GET",
        &format!("/api/admin/messages/{id}"),
        Some(token),
        None,
    );
    assert_eq!(status, 200);
    let view: MessageStatusView = serde_json::from_slice(&body).unwrap();
    view.recipients[0].notice.clone()
}

/// Wait until the notice is settled as sent: the definite signal that no second try will follow.
fn wait_until_sent(addr: &str, token: &str, id: &str) {
    let start = Instant::now();
    loop {
        match notice(addr, token, id) {
            NoticeView::Sent { .. } => return,
            other => assert!(start.elapsed() < Duration::from_secs(60), "still {other:?}"),
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn to_bob(m: &serde_json::Value) -> bool {
    m["envelope"]["to"]
        .as_array()
        .is_some_and(|t| t.iter().any(|a| a["address"] == "bob@gmail.example"))
}

#[test]
fn a_notice_sent_while_the_relay_is_down_arrives_once_when_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let relay_port = free_port();
    let token = bootstrap(dir.path(), relay_port);
    let (_server, url) = serve(dir.path(), relay_port);
    let addr = url.trim_start_matches("http://").to_owned();

    let (status, body) = send(&addr, &token);
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let sent = json_of(&body);
    let id = sent["MessageId"].as_str().unwrap().to_owned();
    assert_eq!(sent["Recipients"][0]["notice"]["state"], "deferred");
    assert!(
        !sent["Recipients"][0]["notice"]["reason"]
            .as_str()
            .unwrap()
            .is_empty()
    );

    let relay = Maildev::start_on(dir.path(), relay_port);
    let arrived = relay.wait_for("bob@gmail.example", |_| true);
    assert!(String::from_utf8_lossy(&arrived).contains(&format!("/m/{id}#t=")));
    wait_until_sent(&addr, &token, &id);
    assert_eq!(
        relay.list().iter().filter(|m| to_bob(m)).count(),
        1,
        "the notice arrived once"
    );
}

/// An SMTP server that takes a whole message and then never answers it. The receiver says when
/// the message's last line has arrived.
fn relay_that_never_answers_the_data() -> (u16, mpsc::Receiver<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (done, arrived) = mpsc::channel();
    std::thread::spawn(move || {
        let Ok((conn, _)) = listener.accept() else {
            return;
        };
        let mut write = conn.try_clone().unwrap();
        let mut read = BufReader::new(conn);
        let _ = write.write_all(b"220 hang.test ESMTP\r\n");
        let mut line = String::new();
        loop {
            line.clear();
            if read.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line.to_ascii_uppercase().starts_with("DATA") {
                let _ = write.write_all(b"354 go on\r\n");
                loop {
                    line.clear();
                    if read.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if line == ".\r\n" {
                        let _ = done.send(());
                        // Hold the connection, silent, until the other end goes away.
                        let _ = std::io::copy(&mut read, &mut std::io::sink());
                        return;
                    }
                }
            }
            let _ = write.write_all(b"250 ok\r\n");
        }
    });
    (port, arrived)
}

#[test]
fn a_server_killed_while_handing_a_notice_to_the_relay_sends_it_once_after_it_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let (hanging, arrived) = relay_that_never_answers_the_data();
    let token = bootstrap(dir.path(), hanging);
    let (mut server, url) = serve(dir.path(), hanging);
    let addr = url.trim_start_matches("http://").to_owned();
    // The request waits on the relay; it ends when the server is killed.
    let request = {
        let (addr, token) = (addr.clone(), token.clone());
        std::thread::spawn(move || std::panic::catch_unwind(|| send(&addr, &token)))
    };
    arrived
        .recv_timeout(Duration::from_secs(60))
        .expect("the notice reached the relay");
    server.0.kill().unwrap(); // SIGKILL, in the middle of the SMTP transaction
    server.0.wait().unwrap();
    drop(server);
    let _ = request.join();

    let relay = Maildev::start(dir.path());
    let (_server, url) = serve(dir.path(), relay.smtp);
    let addr = url.trim_start_matches("http://").to_owned();
    relay.wait_for("bob@gmail.example", |_| true);
    let (_, list) = http(&addr, "GET", "/api/admin/messages", Some(&token), None);
    let id = json_of(&list)["messages"][0]["MessageId"]
        .as_str()
        .expect("the message was kept")
        .to_owned();
    wait_until_sent(&addr, &token, &id);
    assert_eq!(
        relay.list().iter().filter(|m| to_bob(m)).count(),
        1,
        "sent once after the restart"
    );
}
