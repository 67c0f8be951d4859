//! The admin CLI against a real server process on a free port, with a real SMTP server: every
//! command, as text and as JSON; bad tokens, another tenant's message, bad input and an unreachable
//! server each give a clear message and their own exit status; the self-test passes, and fails for
//! a real reason when the mail relay is down.

use std::process::{Command, Output};

use crate::helpers::manifest_dir;
use crate::processes::{Maildev, bootstrap, create_tenant, free_port, serve};

/// What a CLI run printed and how it exited.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}\n{}", self.stdout, self.stderr))
    }

    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn fails(self, code: i32, says: &str) -> Run {
        assert_eq!(
            self.code, code,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        assert!(
            self.stderr.starts_with("sealpost: ") && self.stderr.contains(says),
            "stderr should say {says:?}: {}",
            self.stderr
        );
        self
    }
}

/// `sealpost ARGS` against `server` with `token` (both from the environment, as documented).
pub fn cli(server: &str, token: Option<&str>, args: &[&str]) -> Run {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sealpost"));
    c.args(args)
        .env("SEALPOST_SERVER", server)
        .env_remove("SEALPOST_TOKEN");
    if let Some(t) = token {
        c.env("SEALPOST_TOKEN", t);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = c.output().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}

#[test]
fn every_admin_command_works_against_a_real_server_and_refusals_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let maildev = Maildev::start(dir.path());
    let smtp = maildev.smtp;
    let token = bootstrap(dir.path(), smtp);
    let other = create_tenant(dir.path(), smtp, "Fabrikam", "fabrikam.example");
    let (_server, url) = serve(dir.path(), smtp);
    let t = Some(token.as_str());
    let run = |args: &[&str]| cli(&url, t, args);

    // Get-IRMConfiguration / Set-IRMConfiguration
    let out = run(&["config", "get"]).ok();
    assert!(out.stdout.contains("Contoso") && out.stdout.contains("contoso.example"));
    let out = run(&[
        "config",
        "set",
        "--show-subject-in-notice",
        "false",
        "--json",
    ])
    .ok();
    assert_eq!(out.json()["show_subject_in_notice"], false);

    // New / Get / Set / Remove-OMEConfiguration, every field.
    let logo = manifest_dir().join("../public/demo-logo.png");
    let logo = logo.to_str().unwrap();
    run(&[
        "branding",
        "new",
        "Finance",
        "--introduction-text",
        "Contoso Finance has sent you a protected message.",
        "--read-button-text",
        "Open it",
        "--email-text",
        "Sign in with a passcode.",
        "--disclaimer-text",
        "For the addressee only.",
        "--portal-text",
        "Contoso Finance",
        "--translation",
        "portal_text:sv=Contoso Ekonomi",
        "--background-color",
        "#003366",
        "--image",
        logo,
        "--privacy-statement-url",
        "https://contoso.example/privacy",
        "--otp-enabled",
        "true",
        "--social-id-sign-in",
        "false",
        "--external-mail-expiry-in-days",
        "30",
    ])
    .ok();
    let shown = run(&["branding", "get", "Finance", "--json"]).ok().json();
    assert_eq!(
        shown["portal_text"]["translations"]["sv"],
        "Contoso Ekonomi"
    );
    assert_eq!(shown["external_mail_expiry_in_days"], 30);
    assert!(shown["image_base64"].as_str().unwrap().len() > 100);
    let out = run(&["branding", "get", "Finance"]).ok();
    assert!(
        out.stdout.contains("ExternalMailExpiryInDays : 30"),
        "{}",
        out.stdout
    );
    let out = run(&[
        "branding",
        "set",
        "Finance",
        "--clear",
        "image",
        "--background-color",
        "yellow",
    ])
    .ok();
    assert!(
        out.stdout.contains("Image                    : (none)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("WARNING: "),
        "low contrast is warned about: {}",
        out.stdout
    );
    let out = run(&["branding", "get"]).ok();
    assert_eq!(
        out.stdout.lines().collect::<Vec<_>>(),
        ["default", "Finance"]
    );
    run(&[
        "branding",
        "new",
        "Bad",
        "--background-color",
        "not-a-colour",
    ])
    .fails(1, "(invalid_color, field background_color)");
    run(&[
        "branding",
        "set",
        "default",
        "--external-mail-expiry-in-days",
        "5",
    ])
    .fails(1, "expiry_on_default_template");
    run(&["branding", "remove", "default"]).fails(1, "default_template");
    run(&["branding", "set", "Finance"]).fails(2, "say what to change");
    run(&[
        "branding",
        "new",
        "Logo",
        "--image",
        "/nonexistent/logo.png",
    ])
    .fails(2, "cannot read");

    // Get-RMSTemplate, and the tenant's own.
    let out = run(&["rights", "get"]).ok();
    assert!(
        out.stdout.contains("Encrypt: view")
            && out
                .stdout
                .contains("Do Not Forward: view, reply, reply_all")
    );
    run(&[
        "rights",
        "new",
        "Reviewers",
        "--rights",
        "view,reply",
        "--description",
        "Read and answer",
    ])
    .ok();
    let out = run(&[
        "rights",
        "set",
        "Reviewers",
        "--rights",
        "view,reply,print",
        "--json",
    ])
    .ok();
    assert_eq!(
        out.json()["rights"],
        serde_json::json!(["view", "reply", "print"])
    );
    run(&["rights", "new", "Blind", "--rights", "reply"]).fails(1, "view_required");
    run(&["rights", "remove", "Reviewers"]).ok();
    run(&["rights", "get", "Reviewers"]).fails(1, "not_found");

    // Send from flags (with an attachment) and from an .eml file.
    let attachment = dir.path().join("figures.csv");
    std::fs::write(&attachment, "q,amount\n1,100\n").unwrap();
    let sent = run(&[
        "send",
        "--from",
        "anna@contoso.example",
        "--to",
        "bob@example.net",
        "--cc",
        "carol@example.org",
        "--subject",
        "Figures",
        "--text",
        "See attached.",
        "--attach",
        attachment.to_str().unwrap(),
        "--branding",
        "Finance",
        "--rights",
        "Do Not Forward",
        "--json",
    ])
    .ok()
    .json();
    let id = sent["MessageId"].as_str().unwrap().to_owned();
    assert_eq!(sent["RightsTemplate"], "Do Not Forward");
    assert_eq!(sent["BrandingTemplate"], "Finance");
    let eml = manifest_dir().join("tests/api/mail/mixed-attachment.eml");
    let out = run(&[
        "send",
        "--eml",
        eml.to_str().unwrap(),
        "--expires-in-days",
        "7",
    ])
    .ok();
    assert!(out.stdout.starts_with("Sent.\nMessageId"), "{}", out.stdout);
    assert!(out.stdout.contains("bob@gmail.example (to): notice sent"));
    run(&[
        "send",
        "--from",
        "anna@fabrikam.example",
        "--to",
        "bob@example.net",
        "--text",
        "Hello",
    ])
    .fails(1, "sender_not_in_tenant");

    // Get-OMEMessageStatus, the list, Set-OMEMessageRevocation for one recipient and for all.
    let out = run(&["status", &id]).ok();
    assert!(
        out.stdout.contains("Subject          : Figures"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("IsRevocable      : True"));
    assert!(out.stdout.contains("bob@example.net (to): notice sent"));
    let out = run(&["messages"]).ok();
    assert_eq!(out.stdout.lines().count(), 2);
    let out = run(&["revoke", &id, "--recipient", "bob@example.net"]).ok();
    assert!(
        out.stdout.contains("access removed by bootstrap"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("Revoked          : False"));
    let out = run(&["revoke", &id, "--json"]).ok().json();
    assert_eq!(
        (out["Revoked"].as_bool(), out["IsRevocable"].as_bool()),
        (Some(true), Some(false))
    );

    // Portal tracking logs: on, search, verify (and a head that is still there).
    let out = run(&["tracking", "set", "on"]).ok();
    assert_eq!(out.stdout, "Portal tracking logs are on for Contoso.\n");
    assert_eq!(
        run(&["tracking", "search", "--message", &id]).ok().stdout,
        "No entries match.\n"
    );
    let out = run(&["tracking", "verify"]).ok();
    let head = out.stdout.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(
        out.stdout
            .starts_with("The portal log is intact: 0 entries."),
        "{}",
        out.stdout
    );
    run(&["tracking", "verify", "--head", &head]).ok();
    run(&["tracking", "verify", "--head", "nonsense"]).fails(1, "invalid_head");
    run(&["tracking", "search", "--from", "yesterday"]).fails(1, "invalid_time");
    assert_eq!(
        run(&["tracking", "set", "off", "--json"]).ok().json()["enable_portal_tracking_logs"],
        false
    );

    // The audit log shows who did it.
    let out = run(&["audit"]).ok();
    assert!(
        out.stdout.contains("bootstrap  message.revoked"),
        "{}",
        out.stdout
    );

    // Wrong token, another tenant's message, no token, no server.
    cli(&url, Some("spa_wrong"), &["config", "get"]).fails(3, "unauthorized");
    cli(&url, Some(&other), &["status", &id]).fails(1, "not_found");
    cli(&url, Some(&other), &["revoke", &id]).fails(1, "not_found");
    cli(&url, None, &["config", "get"]).fails(2, "--token or SEALPOST_TOKEN");
    let nobody = format!("http://127.0.0.1:{}", free_port());
    cli(&nobody, t, &["config", "get"]).fails(4, "cannot reach the server");
    cli("not a url", t, &["config", "get"]).fails(2, "--server");

    // Test-IRMConfiguration: passes end to end, and fails for an inside recipient.
    let out = run(&[
        "self-test",
        "--sender",
        "anna@contoso.example",
        "--recipient",
        "bob@example.net",
    ])
    .ok();
    for step in [
        "Server",
        "Mail relay",
        "Tenant key",
        "Seal",
        "Store",
        "Read back",
        "Key release",
        "Open",
        "Clean up",
    ] {
        assert!(
            out.stdout
                .lines()
                .any(|l| l.starts_with(step) && l.contains(" : PASS ")),
            "{step}: {}",
            out.stdout
        );
    }
    assert!(
        out.stdout.ends_with("OVERALL RESULT: PASS\n"),
        "{}",
        out.stdout
    );
    let out = run(&[
        "self-test",
        "--sender",
        "anna@contoso.example",
        "--recipient",
        "carl@contoso.example",
        "--json",
    ])
    .fails(1, "self-test failed: Sender and recipient");
    assert_eq!(out.json()["overall"], "FAIL");
    // The test messages are gone again.
    assert_eq!(run(&["messages"]).ok().stdout.lines().count(), 2);
}

#[test]
fn the_self_test_fails_with_the_reason_when_the_mail_relay_is_down() {
    let dir = tempfile::tempdir().unwrap();
    let closed = free_port();
    let token = bootstrap(dir.path(), closed);
    let (_server, url) = serve(dir.path(), closed);
    let out = cli(
        &url,
        Some(&token),
        &[
            "self-test",
            "--sender",
            "anna@contoso.example",
            "--recipient",
            "bob@example.net",
        ],
    )
    .fails(1, "self-test failed: Mail relay");
    let relay = out
        .stdout
        .lines()
        .find(|l| l.starts_with("Mail relay"))
        .unwrap();
    assert!(relay.contains(" : FAIL "), "{relay}");
    // Everything that does not need the relay still worked.
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("Open") && l.contains(" : PASS ")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("OVERALL RESULT: FAIL (Mail relay: "),
        "{}",
        out.stdout
    );
}

#[test]
fn the_dkim_commands_make_list_show_and_remove_keys() {
    let dir = tempfile::tempdir().unwrap();
    let token = bootstrap(dir.path(), free_port());
    let (_server, url) = serve(dir.path(), free_port());
    let run = |args: &[&str]| cli(&url, Some(&token), args);

    let made = run(&[
        "dkim",
        "new",
        "--domain",
        "contoso.example",
        "--algorithm",
        "ed25519",
        "--selector",
        "s1",
    ])
    .ok();
    assert!(
        made.stdout
            .contains("s1._domainkey.contoso.example. IN TXT \"v=DKIM1; k=ed25519; p="),
        "{}",
        made.stdout
    );
    run(&["dkim", "new", "--domain", "contoso.example"]).ok();
    let listed = run(&["dkim", "list"]).ok().stdout;
    assert!(listed.contains("contoso.example  s1  ed25519"), "{listed}");
    assert!(listed.contains("  rsa  "), "{listed}");
    let shown = run(&["dkim", "show-dns", "--domain", "contoso.example"])
        .ok()
        .stdout;
    let rsa = shown
        .lines()
        .find(|l| l.contains("k=rsa"))
        .expect("the RSA record");
    let strings: Vec<&str> = rsa.split('"').skip(1).step_by(2).collect();
    assert!(strings.len() >= 2, "an RSA record is split: {rsa}");
    assert!(strings.iter().all(|s| s.len() <= 255), "{rsa}");
    let keys = run(&["dkim", "show-dns", "--json"]).ok().json();
    assert_eq!(keys.as_array().unwrap().len(), 2);
    let whole: String = strings.concat();
    assert!(
        keys.as_array()
            .unwrap()
            .iter()
            .any(|k| k["record_value"] == whole.as_str()),
        "the strings join into the record"
    );

    run(&["dkim", "new", "--domain", "fabrikam.example"]).fails(1, "domain_not_proven");
    run(&[
        "dkim",
        "new",
        "--domain",
        "contoso.example",
        "--selector",
        "s1",
    ])
    .fails(1, "dkim_selector_taken");
    run(&[
        "dkim",
        "remove",
        "--domain",
        "contoso.example",
        "--selector",
        "s1",
    ])
    .ok();
    assert!(!run(&["dkim", "list"]).ok().stdout.contains("  s1  "));
    run(&[
        "dkim",
        "remove",
        "--domain",
        "contoso.example",
        "--selector",
        "s1",
    ])
    .fails(1, "");
}

#[test]
fn the_passkeys_commands_list_and_remove_recipients_passkeys() {
    let dir = tempfile::tempdir().unwrap();
    let token = bootstrap(dir.path(), free_port());
    let (_server, url) = serve(dir.path(), free_port());
    let run = |args: &[&str]| cli(&url, Some(&token), args);
    assert_eq!(run(&["passkeys", "list"]).ok().stdout, "No passkeys.\n");

    // A passkey as the portal keeps one (the commands never read its credential).
    let tenant = run(&["config", "get", "--json"]).ok().json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let db = dir.path().join("data").join("sealpost.db");
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        for (id, address) in [("a1", "bob@example.net"), ("b2", "carol@example.net")] {
            sqlx::query(
                "insert into recipient_passkeys (id, tenant_id, address, user_handle, \
                 credential_id, credential, name, created_at) values ($1, $2, $3, x'00', $4, '{}', \
                 'Firefox on Linux', 1795255200)",
            )
            .bind(id)
            .bind(&tenant)
            .bind(address)
            .bind(id.as_bytes())
            .execute(&pool)
            .await
            .unwrap();
        }
        pool.close().await;
    });
    let listed = run(&["passkeys", "list"]).ok().stdout;
    assert!(
        listed.contains(
            "a1  bob@example.net  Firefox on Linux  made 2026-11-21T10:00:00Z  never used"
        ),
        "{listed}"
    );
    let bob = run(&["passkeys", "list", "--address", "bob@example.net", "--json"])
        .ok()
        .json();
    assert_eq!(bob.as_array().unwrap().len(), 1);
    assert!(
        run(&["passkeys", "remove", "a1"])
            .ok()
            .stdout
            .contains("Removed passkey a1")
    );
    run(&["passkeys", "remove", "a1"]).fails(1, "not_found");
    let left = run(&["passkeys", "list", "--json"]).ok().json();
    assert_eq!(left[0]["address"], "carol@example.net");
    assert_eq!(left.as_array().unwrap().len(), 1);
}

/// A server (and its mail server) in `dir` taking uploads in 1 MiB windows, with Contoso's token.
fn serve_in_windows(dir: &std::path::Path) -> (Maildev, String, crate::processes::Running, String) {
    let maildev = Maildev::start(dir);
    let token = bootstrap(dir, maildev.smtp);
    let (server, url) = crate::processes::serve_with(
        dir,
        maildev.smtp,
        &[("SEALPOST_UPLOAD_WINDOW_SIZE", "1048576".to_owned())],
    );
    (maildev, token, server, url)
}

/// Contoso's message `id` opened from the data directory a stopped server in `dir` left.
async fn open_from(
    dir: &std::path::Path,
    id: &str,
) -> (sealpost_envelope::Manifest, Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let data = dir.join("data");
    let app = crate::helpers::TestApp::with_config(|c| {
        c.data_dir = data;
        c.database_url = None;
    })
    .await;
    let (tenant,): (String,) = app
        .database()
        .await
        .fetch_one("select id from tenants where name = 'Contoso'")
        .await;
    app.open(&tenant, id).await
}

/// A file larger than one request goes through a draft, window by window from disk, and the
/// message holds it whole.
#[tokio::test]
async fn a_file_too_large_for_one_request_is_sent_in_windows_from_the_command_line() {
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().unwrap();
    let (_maildev, token, server, url) = serve_in_windows(dir.path());
    let big: Vec<u8> = (0..5 * 1024 * 1024 + 123u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let (large, small) = (dir.path().join("survey.bin"), dir.path().join("notes.txt"));
    std::fs::write(&large, &big).unwrap();
    std::fs::write(&small, "short").unwrap();
    let sent = cli(
        &url,
        Some(&token),
        &[
            "send",
            "--from",
            "anna@contoso.example",
            "--to",
            "bob@example.net",
            "--text",
            "The survey.",
            "--attach",
            small.to_str().unwrap(),
            "--attach",
            large.to_str().unwrap(),
            "--json",
        ],
    )
    .ok()
    .json();
    let id = sent["MessageId"].as_str().unwrap().to_owned();
    drop(server);

    // Opened from the server's own data directory: the large file first, then the small one.
    let (manifest, _, attachments) = open_from(dir.path(), &id).await;
    let names: Vec<&str> = manifest
        .attachments
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(names, ["survey.bin", "notes.txt"]);
    assert_eq!(Sha256::digest(&attachments[0]), Sha256::digest(&big));
    assert_eq!(attachments[1], b"short");
}

/// A TCP proxy to `target` that cuts the one connection carrying the client's byte number
/// `cut_at` (mid-request), once; every other byte passes. Returns its address and whether it cut.
fn cutting_proxy(
    target: std::net::SocketAddr,
    cut_at: u64,
) -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let sent = Arc::new(AtomicU64::new(0));
    let cut = Arc::new(AtomicBool::new(false));
    let cut_flag = cut.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let Ok(server) = TcpStream::connect(target) else {
                return;
            };
            let (mut c_read, mut s_write) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (mut s_read, mut c_write) = (server, client);
            let (sent, cut) = (sent.clone(), cut_flag.clone());
            std::thread::spawn(move || {
                let mut buf = [0u8; 16 * 1024];
                while let Ok(n) = c_read.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let before = sent.fetch_add(n as u64, Ordering::SeqCst);
                    if before + n as u64 > cut_at && !cut.swap(true, Ordering::SeqCst) {
                        let _ = s_write.shutdown(Shutdown::Both);
                        let _ = c_read.shutdown(Shutdown::Both);
                        return;
                    }
                    if s_write.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = s_write.shutdown(Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut s_read, &mut c_write);
                let _ = c_write.shutdown(Shutdown::Write);
            });
        }
    });
    (addr, cut)
}

/// A connection cut in the middle of a window: the command asks the server where the upload
/// stands and goes on, and the message holds the file whole.
#[tokio::test]
async fn a_window_cut_by_the_network_is_sent_again_from_the_command_line() {
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().unwrap();
    let (_maildev, token, server, url) = serve_in_windows(dir.path());
    let target: std::net::SocketAddr = url.trim_start_matches("http://").parse().unwrap();
    // Cut in the third window's body.
    let (proxy, cut) = cutting_proxy(target, 2 * 1024 * 1024 + 500_000);
    let big: Vec<u8> = (0..4 * 1024 * 1024 + 77u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 9) as u8)
        .collect();
    let large = dir.path().join("survey.bin");
    std::fs::write(&large, &big).unwrap();
    let proxied = format!("http://{proxy}");
    let run = tokio::task::spawn_blocking(move || {
        cli(
            &proxied,
            Some(&token),
            &[
                "send",
                "--from",
                "anna@contoso.example",
                "--to",
                "bob@example.net",
                "--text",
                "The survey.",
                "--attach",
                large.to_str().unwrap(),
                "--json",
            ],
        )
    })
    .await
    .unwrap();
    assert!(
        cut.load(std::sync::atomic::Ordering::SeqCst),
        "the proxy cut a connection"
    );
    assert!(
        run.stderr
            .contains("going on from where the server stopped"),
        "{}",
        run.stderr
    );
    let id = run.ok().json()["MessageId"].as_str().unwrap().to_owned();
    drop(server);

    let (_, _, attachments) = open_from(dir.path(), &id).await;
    assert_eq!(Sha256::digest(&attachments[0]), Sha256::digest(&big));
}
