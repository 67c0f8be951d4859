//! The whole server as a process, sending through a real SMTP server (maildev, from the end2end
//! packages): bootstrap a tenant with the CLI, brand it, send a protected message with an
//! attachment, read the branded notice that arrived over SMTP, check the status, revoke.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use mail_parser::{MessageParser, MimeHeaders};
use sealpost_api::admin::{MessageStatusView, NoticeView};
use serde_json::json;

/// A child process that is killed and reaped however the test ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn maildev_bin() -> std::path::PathBuf {
    let path = std::env::var_os("SEALPOST_MAILDEV").map_or_else(
        || {
            std::path::PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../end2end/node_modules/.bin/maildev"
            ))
        },
        std::path::PathBuf::from,
    );
    assert!(
        path.exists(),
        "maildev is not installed at {}: run ./scripts/test, which installs it (npm ci in end2end/)",
        path.display()
    );
    path
}

fn wait_for_port(port: u16) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "nothing listens on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A minimal HTTP/1.1 exchange (Connection: close), enough for JSON and small downloads.
fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&serde_json::Value>,
) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let payload = body
        .map(|b| serde_json::to_vec(b).unwrap())
        .unwrap_or_default();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        payload.len()
    );
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if body.is_some() {
        head.push_str("Content-Type: application/json\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&payload).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let headers = String::from_utf8_lossy(&response[..split]).to_ascii_lowercase();
    let status: u16 = headers[9..12].parse().unwrap();
    let mut body = response[split + 4..].to_vec();
    if headers.contains("transfer-encoding: chunked") {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let line_end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let size =
                usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).unwrap().trim(), 16)
                    .unwrap();
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[line_end + 2..line_end + 2 + size]);
            rest = &rest[line_end + 4 + size..];
        }
        body = out;
    }
    (status, body)
}

/// `sealpost` with a data directory and an SMTP relay on `smtp_port` (plain, as on loopback).
fn sealpost(dir: &std::path::Path, smtp_port: u16, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sealpost"));
    c.args(args)
        .env("SEALPOST_DATA_DIR", dir.join("data"))
        .env("SEALPOST_DIST_DIR", dir.join("dist"))
        .env("SEALPOST_LISTEN", "127.0.0.1:0")
        .env("SEALPOST_SMTP_HOST", "127.0.0.1")
        .env("SEALPOST_SMTP_PORT", smtp_port.to_string())
        .env("SEALPOST_SMTP_TLS", "none")
        .env("SEALPOST_LOG_FORMAT", "json")
        .env_remove("SEALPOST_DEV_MAILBOX");
    c
}

/// Bootstrap a tenant with the CLI; returns its admin token.
fn bootstrap(dir: &std::path::Path, smtp_port: u16) -> String {
    let out = sealpost(
        dir,
        smtp_port,
        &[
            "tenant",
            "create",
            "--name",
            "Contoso",
            "--domain",
            "contoso.example",
        ],
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    stdout
        .split_whitespace()
        .find(|w| w.starts_with("spa_"))
        .unwrap()
        .to_owned()
}

/// Start `sealpost serve`; returns the process and the host:port it printed.
fn serve(dir: &std::path::Path, smtp_port: u16) -> (Running, String) {
    let mut server = Running(
        sealpost(dir, smtp_port, &["serve"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .trim_end_matches('/')
        .to_owned();
    (server, url)
}

fn json_of(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(body)))
}

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

    let logo = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../public/demo-logo.png"
    ))
    .unwrap();
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
    let sent: MessageStatusView = serde_json::from_value(json_of(&body)).unwrap();
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
        text.contains("This message expires on 21 December 2026"),
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

    let killed = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(server.0.wait().unwrap().success());
}

#[test]
fn an_unreachable_relay_is_reported_per_recipient_and_the_message_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let dead_port = free_port();
    let token = bootstrap(dir.path(), dead_port);
    let (_server, url) = serve(dir.path(), dead_port);
    let addr = url.trim_start_matches("http://").to_owned();
    let (status, body) = http(
        &addr,
        "POST",
        "/api/admin/messages",
        Some(&token),
        Some(&json!({"from": "anna@contoso.example", "to": ["bob@gmail.example"], "text": "hi"})),
    );
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let v = json_of(&body);
    assert_eq!(
        v["Recipients"][0]["notice"]["state"].as_str(),
        Some("failed")
    );
    assert!(
        !v["Recipients"][0]["notice"]["reason"]
            .as_str()
            .unwrap()
            .is_empty()
    );
}
