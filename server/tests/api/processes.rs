//! Helpers for tests that run the real `sealpost` binary and a real SMTP server (maildev) as
//! processes. Every process is stopped when its handle drops, however the test ends.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process that is killed and reaped however the test ends.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn maildev_bin() -> std::path::PathBuf {
    let path = std::env::var_os("SEALPOST_MAILDEV").map_or_else(
        || crate::helpers::manifest_dir().join("../end2end/node_modules/.bin/maildev"),
        std::path::PathBuf::from,
    );
    assert!(
        path.exists(),
        "maildev is not installed at {}: run ./scripts/test, which installs it (npm ci in end2end/)",
        path.display()
    );
    path
}

pub fn wait_for_port(port: u16) {
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
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&serde_json::Value>,
) -> (u16, Vec<u8>) {
    let headers: Vec<(&str, String)> = token
        .map(|t| ("Authorization", format!("Bearer {t}")))
        .into_iter()
        .collect();
    let (status, _, body) = http_with(addr, method, path, &headers, body);
    (status, body)
}

/// As [`http`], with any request headers; also returns the response head.
pub fn http_with(
    addr: &str,
    method: &str,
    path: &str,
    extra: &[(&str, String)],
    body: Option<&serde_json::Value>,
) -> (u16, String, Vec<u8>) {
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
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
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
    let raw_head = String::from_utf8_lossy(&response[..split]).into_owned();
    let headers = raw_head.to_ascii_lowercase();
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
    (status, raw_head, body)
}

/// `sealpost` with a data directory and an SMTP relay on `smtp_port` (plain, as on loopback).
pub fn sealpost(dir: &std::path::Path, smtp_port: u16, args: &[&str]) -> Command {
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
pub fn bootstrap(dir: &std::path::Path, smtp_port: u16) -> String {
    create_tenant(dir, smtp_port, "Contoso", "contoso.example")
}

/// `sealpost tenant create`; returns the first admin token.
pub fn create_tenant(dir: &std::path::Path, smtp_port: u16, name: &str, domain: &str) -> String {
    let out = sealpost(
        dir,
        smtp_port,
        &["tenant", "create", "--name", name, "--domain", domain],
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
pub fn serve(dir: &std::path::Path, smtp_port: u16) -> (Running, String) {
    serve_with(dir, smtp_port, &[])
}

/// As [`serve`], with more environment variables.
pub fn serve_with(
    dir: &std::path::Path,
    smtp_port: u16,
    env: &[(&str, String)],
) -> (Running, String) {
    let mut command = sealpost(dir, smtp_port, &["serve"]);
    for (k, v) in env {
        command.env(k, v);
    }
    let mut server = Running(
        command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    let mut stdout = BufReader::new(server.0.stdout.take().unwrap());
    stdout.read_line(&mut line).unwrap();
    // Keep reading what it prints later, so it never writes to a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .trim_end_matches('/')
        .to_owned();
    (server, url)
}

/// A maildev on free ports, stopped when dropped: its SMTP port and its web API's host:port.
pub struct Maildev {
    _process: Running,
    /// SMTP port.
    pub smtp: u16,
    /// host:port of its REST API.
    pub web: String,
}

impl Maildev {
    /// Start one keeping mail under `dir`.
    pub fn start(dir: &std::path::Path) -> Maildev {
        Self::start_on(dir, free_port())
    }

    /// Start one with its SMTP server on `smtp`.
    pub fn start_on(dir: &std::path::Path, smtp: u16) -> Maildev {
        let web = free_port();
        let process = Running(
            Command::new(maildev_bin())
                .args(["--ip", "127.0.0.1", "--smtp", &smtp.to_string()])
                .args(["--web", &web.to_string()])
                .arg("--mail-directory")
                .arg(dir.join("maildev"))
                .arg("--silent")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("maildev starts"),
        );
        wait_for_port(smtp);
        wait_for_port(web);
        Maildev {
            _process: process,
            smtp,
            web: format!("127.0.0.1:{web}"),
        }
    }

    /// Every mail so far (maildev's JSON list).
    pub fn list(&self) -> Vec<serde_json::Value> {
        let (_, body) = http(&self.web, "GET", "/email", None, None);
        json_of(&body).as_array().cloned().unwrap_or_default()
    }

    /// Wait (up to 60 s) for a mail whose envelope is to `address` and which `pick` accepts;
    /// returns it exactly as it arrived.
    pub fn wait_for(&self, address: &str, pick: impl Fn(&[u8]) -> bool) -> Vec<u8> {
        let start = Instant::now();
        loop {
            for m in self.list() {
                let to_them = m["envelope"]["to"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|a| a["address"] == address));
                if to_them {
                    let id = m["id"].as_str().unwrap();
                    let (status, raw) = http(
                        &self.web,
                        "GET",
                        &format!("/email/{id}/download"),
                        None,
                        None,
                    );
                    assert_eq!(status, 200);
                    if pick(&raw) {
                        return raw;
                    }
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "no such mail to {address} arrived"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// The `name=value` of the cookie a response head sets.
pub fn cookie_of(head: &str) -> String {
    head.lines()
        .find_map(|l| {
            l.split_once(": ")
                .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        })
        .expect("a Set-Cookie header")
        .1
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned()
}

pub fn json_of(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(body)))
}

/// POST `body` to a portal route, with the CSRF header and the session cookie if given.
pub fn portal(
    addr: &str,
    path: &str,
    cookie: Option<&str>,
    body: &serde_json::Value,
) -> (u16, String, serde_json::Value) {
    let mut headers = vec![("X-Sealpost-Request", "1".to_owned())];
    if let Some(c) = cookie {
        headers.push(("Cookie", c.to_owned()));
    }
    let (status, head, body) = http_with(addr, "POST", path, &headers, Some(body));
    let value = if body.is_empty() {
        serde_json::Value::Null
    } else {
        json_of(&body)
    };
    (status, head, value)
}

/// The text of the first mail (as maildev decoded it) that contains `needle`.
pub fn mail_text(maildev: &Maildev, needle: &str) -> String {
    let start = Instant::now();
    loop {
        for m in maildev.list() {
            let text = m["text"].as_str().unwrap_or_default();
            if text.contains(needle) {
                return text.to_owned();
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no mail with {needle:?} arrived"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The passcode in the mail that names `reference` and is not one of `seen`: a reference is one of
/// 256 words, so a second request may get the first one's word again.
pub fn passcode_mail(maildev: &Maildev, reference: &str, seen: &[String]) -> String {
    let needle = format!("Reference: {reference}.");
    let start = Instant::now();
    loop {
        for m in maildev.list() {
            let text = m["text"].as_str().unwrap_or_default();
            let code = text
                .lines()
                .map(str::trim)
                .find(|l| l.len() == 8 && l.bytes().all(|b| b.is_ascii_digit()));
            if let Some(code) =
                code.filter(|c| text.contains(&needle) && !seen.iter().any(|s| s == c))
            {
                return code.to_owned();
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no mail with {needle:?} arrived"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The link token in the newest notice maildev holds.
pub fn notice_link(maildev: &Maildev) -> String {
    let notice = mail_text(maildev, "#t=spl_");
    notice[notice.find("#t=").unwrap() + 3..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

/// Turn on the tenant's portal tracking log through the admin API.
pub fn enable_portal_log(addr: &str, token: &str) {
    let (status, body) = http(
        addr,
        "PATCH",
        "/api/admin/tenant",
        Some(token),
        Some(&serde_json::json!({ "enable_portal_tracking_logs": true })),
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
}

/// Send a protected message from anna@contoso.example to bob@gmail.example through the admin
/// API; returns its id.
pub fn send_to_bob(addr: &str, token: &str, subject: &str, text: &str) -> String {
    let (status, body) = http(
        addr,
        "POST",
        "/api/admin/messages",
        Some(token),
        Some(&serde_json::json!({
            "from": "anna@contoso.example",
            "to": ["bob@gmail.example"],
            "subject": subject,
            "text": text,
        })),
    );
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    json_of(&body)["MessageId"].as_str().unwrap().to_owned()
}
