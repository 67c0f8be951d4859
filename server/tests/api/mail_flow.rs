//! The SMTP smart host as a tenant's mail server uses it: the real `sealpost serve` with its SMTP
//! listener, real SMTP clients (a line-by-line one that checks every reply code, and lettre with
//! STARTTLS and AUTH), rules made with the CLI, and maildev as the outbound relay where notices
//! and relayed mail arrive.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use mail_parser::MessageParser;
use sealpost_api::admin::MessageListView;
use sealpost_api::mail_flow::MailQueueView;
use serde_json::json;

use crate::cli::cli;
use crate::processes::{Maildev, bootstrap, free_port, http, json_of, serve_with, wait_for_port};

/// A plain SMTP client that shows every reply.
struct Smtp {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Smtp {
    fn connect(port: u16) -> Smtp {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut s = Smtp {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
        };
        let (code, text) = s.reply();
        assert_eq!(code, 220, "{text}");
        s
    }

    /// One reply, all its lines.
    fn reply(&mut self) -> (u16, String) {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).unwrap();
            assert!(line.len() >= 4, "short reply {line:?}");
            all.push_str(&line);
            if line.as_bytes()[3] == b' ' {
                return (line[..3].parse().unwrap(), all);
            }
        }
    }

    fn cmd(&mut self, line: &str) -> (u16, String) {
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .unwrap();
        self.reply()
    }

    #[track_caller]
    fn ok(&mut self, line: &str) {
        let (code, text) = self.cmd(line);
        assert!((200..400).contains(&code), "{line}: {text}");
    }

    /// DATA with dot-stuffing; the reply to the end of the message.
    fn data(&mut self, raw: &[u8]) -> (u16, String) {
        let (code, text) = self.cmd("DATA");
        assert_eq!(code, 354, "{text}");
        let mut out = Vec::new();
        for line in raw.split_inclusive(|b| *b == b'\n') {
            if line.starts_with(b".") {
                out.push(b'.');
            }
            out.extend_from_slice(line);
        }
        out.extend_from_slice(b".\r\n");
        self.writer.write_all(&out).unwrap();
        self.reply()
    }

    /// A whole message; the reply to its end.
    fn send(&mut self, from: &str, to: &[&str], raw: &[u8]) -> (u16, String) {
        self.ok("EHLO mx.contoso.example");
        let (code, text) = self.cmd(&format!("MAIL FROM:<{from}>"));
        if code != 250 {
            return (code, text);
        }
        for t in to {
            self.ok(&format!("RCPT TO:<{t}>"));
        }
        self.data(raw)
    }
}

fn message(subject: &str, to: &str, body: &str, extra: &str) -> Vec<u8> {
    format!(
        "From: Alex <alex@contoso.example>\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{}@contoso.example>\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n{extra}\r\n{body}\r\n.leading dot stays\r\n",
        subject.len() + body.len()
    )
    .into_bytes()
}

/// The mail queue as the admin API shows it.
fn queue(addr: &str, token: &str) -> MailQueueView {
    serde_json::from_value(admin(
        addr,
        token,
        "GET",
        "/api/admin/mail-flow/queue",
        json!(null),
    ))
    .unwrap()
}

/// Wait until the queue holds nothing: what was delivered is done (its audit event written),
/// which arriving at the relay alone does not say.
fn wait_until_queue_is_empty(addr: &str, token: &str) {
    let start = Instant::now();
    loop {
        let q = queue(addr, token);
        if q.messages.is_empty() {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{q:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn admin(
    addr: &str,
    token: &str,
    method: &str,
    path: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let (status, answer) = http(addr, method, path, Some(token), Some(&body));
    assert!(
        status < 300,
        "{method} {path}: {status} {}",
        String::from_utf8_lossy(&answer)
    );
    if answer.is_empty() {
        serde_json::Value::Null
    } else {
        json_of(&answer)
    }
}

fn cert(dir: &Path) -> (String, String) {
    let (cert, key) = (dir.join("smtp-cert.pem"), dir.join("smtp-key.pem"));
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl makes a test certificate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (cert.display().to_string(), key.display().to_string())
}

fn listener_env(smtp_listen: u16, dir: &Path) -> Vec<(&'static str, String)> {
    let (cert, key) = cert(dir);
    vec![
        ("SEALPOST_SMTP_LISTEN", format!("127.0.0.1:{smtp_listen}")),
        (
            "SEALPOST_SMTP_LISTEN_HOSTNAME",
            "smarthost.contoso.example".into(),
        ),
        ("SEALPOST_SMTP_LISTEN_CERT", cert),
        ("SEALPOST_SMTP_LISTEN_KEY", key),
        ("SEALPOST_SMTP_LISTEN_MAX_SIZE", "200000".into()),
    ]
}

#[test]
fn a_tenants_mail_server_sends_through_sealpost_and_rules_seal_what_they_should() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Maildev::start(dir.path());
    let token = bootstrap(dir.path(), relay.smtp);
    let listen = free_port();
    let (_server, url) = serve_with(dir.path(), relay.smtp, &listener_env(listen, dir.path()));
    let addr = url.trim_start_matches("http://").to_owned();
    wait_for_port(listen);
    let run = |args: &[&str]| cli(&url, Some(&token), args);

    // Nobody may relay until the connector says so.
    let mut c = Smtp::connect(listen);
    let (code, text) = c.send("alex@contoso.example", &["bob@fabrikam.example"], b"x");
    assert_eq!(code, 550, "{text}");
    assert!(
        text.contains("5.7.1") && text.contains("inbound connector"),
        "{text}"
    );
    let (code, text) = c.cmd("MAIL FROM:<eve@elsewhere.example>");
    assert_eq!(code, 550, "{text}");
    assert!(text.contains("not one"), "{text}");

    let out = run(&["connector", "set", "--remote-address", "127.0.0.1"]).ok();
    assert!(out.stdout.contains("127.0.0.1/32"), "{}", out.stdout);

    // The rules, with the CLI, as an admin would.
    run(&[
        "rules",
        "new",
        "Secure tag",
        "--if",
        "subject-tag=[secure]",
        "--remove-subject-tag",
        "--rights-template",
        "Do Not Forward",
    ])
    .ok();
    run(&[
        "rules",
        "new",
        "Header",
        "--if",
        "header=X-Sealpost-Encrypt:yes",
        "--seal",
    ])
    .ok();
    run(&[
        "rules",
        "new",
        "Confidential outside",
        "--if",
        "words=confidential",
        "--if",
        "sent-to-scope=outside",
        "--seal",
    ])
    .ok();
    run(&[
        "rules",
        "new",
        "Partners in clear",
        "--if",
        "sent-to=partner.example",
        "--unencrypted",
        "--priority",
        "1",
        "--stop-processing",
    ])
    .ok();
    run(&[
        "rules",
        "new",
        "No secrets",
        "--if",
        "subject-words=forbidden",
        "--reject",
        "Policy forbids this subject",
    ])
    .ok();
    let listed = run(&["rules", "get"]).ok().stdout;
    assert!(
        listed.find("Partners in clear").unwrap() < listed.find("Secure tag").unwrap(),
        "{listed}"
    );
    run(&["rules", "new", "Header", "--seal"]).fails(1, "rule_exists");
    run(&["rules", "new", "Bad", "--seal", "--rights-template", "Nope"])
        .fails(1, "unknown_rights_template");

    // 1. No rule matches: relayed byte for byte, leading dot and all, behind the one trace field
    //    the relay adds.
    let plain = message("Lunch", "bob@fabrikam.example", "See you at noon.", "");
    let (code, text) = c.send("alex@contoso.example", &["bob@fabrikam.example"], &plain);
    assert_eq!(code, 250, "{text}");
    assert!(text.contains("Queued as"), "{text}");
    let arrived = relay.wait_for("bob@fabrikam.example", |raw| {
        raw.windows(5).any(|w| w == b"Lunch")
    });
    relayed_unchanged(&arrived, &plain);

    // 2. A tag seals for outsiders (subject without the tag, Do Not Forward); the colleague
    //    gets the original.
    let tagged = message(
        "[SECURE] Budget 2027",
        "bob@fabrikam.example, kim@contoso.example",
        "The numbers.",
        "",
    );
    let (code, text) = c.send(
        "alex@contoso.example",
        &[
            "bob@fabrikam.example",
            "kim@contoso.example",
            "hidden@fabrikam.example",
        ],
        &tagged,
    );
    assert_eq!(code, 250, "{text}");
    let original = relay.wait_for("kim@contoso.example", |raw| {
        raw.windows(6).any(|w| w == b"Budget")
    });
    relayed_unchanged(&original, &tagged);
    let notice = relay.wait_for("bob@fabrikam.example", |raw| {
        raw.windows(11).any(|w| w == b"Budget 2027")
    });
    let parsed = MessageParser::default().parse(&notice).unwrap();
    assert_eq!(parsed.subject(), Some("Budget 2027"));
    assert!(
        !String::from_utf8_lossy(&notice).contains("The numbers."),
        "a notice never carries the content"
    );
    relay.wait_for("hidden@fabrikam.example", |raw| {
        raw.windows(11).any(|w| w == b"Budget 2027")
    });
    let messages: MessageListView = serde_json::from_value(admin(
        &addr,
        &token,
        "GET",
        "/api/admin/messages",
        json!(null),
    ))
    .unwrap();
    let sealed = messages
        .messages
        .iter()
        .find(|m| m.subject == "Budget 2027")
        .expect("the sealed message");
    assert_eq!(sealed.rights_template, "Do Not Forward");
    assert_eq!(sealed.sender, "alex@contoso.example");
    let kinds: Vec<(&str, &str)> = sealed
        .recipients
        .iter()
        .map(|r| (r.address.as_str(), r.kind.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("bob@fabrikam.example", "to"),
            ("hidden@fabrikam.example", "bcc")
        ]
    );

    // 3. A header seals; a later-priority rule does not undo an earlier one's stop.
    let flagged = message(
        "Contract",
        "carol@partner.example, dan@fabrikam.example",
        "Draft.",
        "X-Sealpost-Encrypt: yes\r\n",
    );
    let (code, text) = c.send(
        "alex@contoso.example",
        &["carol@partner.example", "dan@fabrikam.example"],
        &flagged,
    );
    assert_eq!(code, 250, "{text}");
    let to_partner = relay.wait_for("carol@partner.example", |raw| {
        raw.windows(8).any(|w| w == b"Contract")
    });
    // Partners in clear stops processing before the header rule.
    relayed_unchanged(&to_partner, &flagged);
    let to_dan = relay.wait_for("dan@fabrikam.example", |raw| {
        raw.windows(8).any(|w| w == b"Contract")
    });
    assert_ne!(to_dan, flagged, "dan gets a notice");

    // 4. Refusals at the end of DATA, each with its code.
    let (code, text) = c.send(
        "alex@contoso.example",
        &["bob@fabrikam.example"],
        &message("A forbidden plan", "bob@fabrikam.example", "x", ""),
    );
    assert_eq!(code, 550, "{text}");
    assert!(text.contains("5.7.1 Policy forbids this subject"), "{text}");
    let (code, text) = c.send(
        "alex@contoso.example",
        &["bob@fabrikam.example"],
        b"this is not a message\r\n",
    );
    assert_eq!(code, 554, "{text}");
    assert!(text.contains("5.6.0"), "{text}");
    let (code, text) = c.send(
        "alex@contoso.example",
        &["bob@fabrikam.example"],
        &message("Big", "bob@fabrikam.example", &"x".repeat(250_000), ""),
    );
    assert_eq!(code, 552, "{text}");
    c.ok("EHLO mx.contoso.example");
    let (code, text) = c.cmd("MAIL FROM:<alex@contoso.example> SIZE=300000");
    assert_eq!(code, 552, "{text}");
    let (code, _) = c.cmd("RCPT TO:<bob@fabrikam.example>");
    assert_eq!(code, 503, "no RCPT before MAIL");
    let (code, text) = c.cmd("AUTH PLAIN AGFsZXgAeA==");
    assert_eq!(code, 538, "AUTH only over TLS: {text}");
    let (code, _) = c.cmd("BOGUS");
    assert_eq!(code, 500);
    let (code, _) = c.cmd("QUIT");
    assert_eq!(code, 221);

    // 5. From elsewhere, with STARTTLS and AUTH (lettre, as a mail server would).
    run(&["connector", "set"]).ok();
    let password = run(&["connector", "new-password", "--json"]).ok().json();
    let (user, pass) = (
        password["username"].as_str().unwrap().to_owned(),
        password["password"].as_str().unwrap().to_owned(),
    );
    assert_eq!(user, "contoso.example");
    let auth_mail = message("Signed in", "erin@fabrikam.example", "Hello.", "");
    let send = |user: &str, pass: &str| {
        use lettre::transport::smtp::authentication::Credentials;
        use lettre::transport::smtp::client::{Tls, TlsParameters};
        use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
        let tls = TlsParameters::builder("localhost".into())
            .dangerous_accept_invalid_certs(true)
            .build()
            .unwrap();
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
            .port(listen)
            .tls(Tls::Required(tls))
            .credentials(Credentials::new(user.into(), pass.into()))
            .build();
        let envelope = lettre::address::Envelope::new(
            Some("alex@contoso.example".parse().unwrap()),
            vec!["erin@fabrikam.example".parse().unwrap()],
        )
        .unwrap();
        // lettre ends the data with CRLF.CRLF itself, so the message's last CRLF is left off.
        let raw = auth_mail[..auth_mail.len() - 2].to_vec();
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move { transport.send_raw(&envelope, &raw).await })
    };
    let wrong = send(&user, "spm_wrong").unwrap_err();
    assert!(
        wrong.to_string().contains("535") || wrong.is_permanent(),
        "{wrong}"
    );
    send(&user, &pass).unwrap();
    let arrived = relay.wait_for("erin@fabrikam.example", |raw| {
        raw.windows(9).any(|w| w == b"Signed in")
    });
    relayed_unchanged(&arrived, &auth_mail);

    // 6. The simulation says what would happen, and changes nothing.
    let eml = dir.path().join("question.eml");
    std::fs::write(
        &eml,
        message(
            "Quarterly confidential figures",
            "zed@fabrikam.example, kim@contoso.example",
            "x",
            "",
        ),
    )
    .unwrap();
    // What delivery leaves behind: a row in the queue until it is done, and an audit event per
    // relay or seal written before that row goes.
    let deliveries = |audit: &str| {
        audit
            .lines()
            .filter(|l| l.contains("mail_flow.relayed") || l.contains("mail_flow.sealed"))
            .count()
    };
    // Earlier steps' mail has left the queue (so their audit events are written).
    wait_until_queue_is_empty(&addr, &token);
    let delivered_before = deliveries(&run(&["audit"]).ok().stdout);
    let before = relay.list().len();
    let sim = run(&["rules", "simulate", eml.to_str().unwrap(), "--json"])
        .ok()
        .json();
    assert_eq!(sim["verdict"], "accepted");
    assert_eq!(sim["recipients"][0]["address"], "zed@fabrikam.example");
    assert_eq!(sim["recipients"][0]["rule"], "Confidential outside");
    assert_eq!(sim["recipients"][0]["delivered_as"], "notice");
    assert_eq!(sim["recipients"][1]["action"], "send_unencrypted");
    assert_eq!(sim["recipients"][1]["delivered_as"], "original");
    let human = run(&[
        "rules",
        "simulate",
        eml.to_str().unwrap(),
        "--rcpt",
        "bob@fabrikam.example",
    ])
    .ok()
    .stdout;
    assert!(
        human.contains(
            "bob@fabrikam.example: seal (Encrypt, default) by rule \"Confidential outside\""
        ),
        "{human}"
    );
    std::fs::write(&eml, message("forbidden", "zed@fabrikam.example", "x", "")).unwrap();
    let human = run(&["rules", "simulate", eml.to_str().unwrap()])
        .ok()
        .stdout;
    assert!(
        human.contains("550 5.7.1 Policy forbids this subject"),
        "{human}"
    );
    // A simulation answers only after deciding, so anything it had queued would be in the queue
    // now or, delivered already, in the audit log.
    let queued = queue(&addr, &token);
    assert!(
        queued.messages.is_empty(),
        "a simulation queues nothing: {queued:?}"
    );
    assert_eq!(
        deliveries(&run(&["audit"]).ok().stdout),
        delivered_before,
        "a simulation delivers nothing"
    );
    assert_eq!(relay.list().len(), before, "a simulation sends nothing");

    // Rules change and go; the audit log has it all.
    run(&["rules", "disable", "No secrets"]).ok();
    let sim = run(&["rules", "simulate", eml.to_str().unwrap(), "--json"])
        .ok()
        .json();
    assert_eq!(sim["verdict"], "accepted");
    run(&["rules", "remove", "No secrets"]).ok();
    run(&["rules", "get", "No secrets"]).fails(1, "not_found");
    let audit = run(&["audit"]).ok().stdout;
    for action in [
        "mail_flow.rule_created",
        "mail_flow.rule_changed",
        "mail_flow.rule_removed",
        "mail_flow.connector_changed",
        "mail_flow.smtp_password_set",
        "mail_flow.relayed",
        "mail_flow.sealed",
    ] {
        assert!(audit.contains(action), "{action} missing from {audit}");
    }
    let left = queue(&addr, &token);
    assert!(left.messages.is_empty(), "{left:?}");
}

#[test]
fn a_crash_after_250_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // The outbound relay is down when the message is accepted.
    let relay_port = free_port();
    let token = bootstrap(dir.path(), relay_port);
    let listen = free_port();
    let env = listener_env(listen, dir.path());
    let (mut server, url) = serve_with(dir.path(), relay_port, &env);
    let addr = url.trim_start_matches("http://").to_owned();
    wait_for_port(listen);
    admin(
        &addr,
        &token,
        "PUT",
        "/api/admin/mail-flow/connector",
        json!({"remote_addresses": ["127.0.0.0/24"]}),
    );

    let mail = message("Survives", "bob@fabrikam.example", "Still here.", "");
    let mut c = Smtp::connect(listen);
    let (code, text) = c.send("alex@contoso.example", &["bob@fabrikam.example"], &mail);
    assert_eq!(code, 250, "{text}");
    // The first attempt failed (the relay is down) and the message waits in the queue.
    let start = Instant::now();
    let waiting = loop {
        let q = queue(&addr, &token);
        if q.messages.first().is_some_and(|m| m.attempts >= 1) {
            break q.messages[0].clone();
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{q:?}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(waiting.state, "queued");
    assert!(text.contains(&waiting.id), "{text}");
    assert!(waiting.last_error.unwrap().contains("outbound relay"));
    let listed = cli(&url, Some(&token), &["queue"]).ok().stdout;
    assert!(
        listed.contains(&waiting.id) && listed.contains("attempts 1"),
        "{listed}"
    );
    // Killed without warning, before it could deliver.
    server.0.kill().unwrap();
    server.0.wait().unwrap();
    drop(server);

    let relay = Maildev::start_on(dir.path(), relay_port);
    let (_server, url) = serve_with(dir.path(), relay_port, &env);
    let addr = url.trim_start_matches("http://").to_owned();
    let arrived = relay.wait_for("bob@fabrikam.example", |_| true);
    relayed_unchanged(&arrived, &mail);
    // The worker takes the message off the queue just after the relay's 250: wait for that, then
    // count what arrived, so a second delivery would show.
    wait_until_queue_is_empty(&addr, &token);
    assert_eq!(relay.list().len(), 1, "delivered once");
}

/// Relayed mail arrives exactly as sent, behind the one `Received:` field Sealpost adds.
fn relayed_unchanged(arrived: &[u8], sent: &[u8]) {
    assert!(
        arrived.starts_with(b"Received: from [127.0.0.1]\r\n\tby ")
            && arrived.ends_with(sent)
            && sealpost::mail::trace::hops(arrived) == sealpost::mail::trace::hops(sent) + 1,
        "relayed mail must arrive exactly as sent, behind one Received field: {}",
        String::from_utf8_lossy(arrived)
    );
}
