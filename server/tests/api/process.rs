//! The real `sealpost serve` process: it prints its URL, answers, and stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn serve_prints_its_url_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sealpost"))
        .arg("serve")
        .env("SEALPOST_LISTEN", "127.0.0.1:0")
        .env("SEALPOST_DATA_DIR", dir.path().join("data"))
        .env("SEALPOST_DIST_DIR", dir.path().join("dist"))
        .env("SEALPOST_LOG_FORMAT", "json")
        .env("SEALPOST_DEV_MAILBOX", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .trim_end_matches('/')
        .to_owned();

    let addr = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    use std::io::{Read, Write};
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"status\":\"ok\""));

    let data = dir.path().join("data");
    assert!(data.is_dir());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&data).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status after SIGTERM: {status:?}");
}

#[test]
fn serve_refuses_to_start_without_a_way_to_send_mail() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sealpost"))
        .arg("serve")
        .env("SEALPOST_LISTEN", "127.0.0.1:0")
        .env("SEALPOST_DATA_DIR", dir.path().join("data"))
        .env_remove("SEALPOST_DEV_MAILBOX")
        .env_remove("SEALPOST_SMTP_HOST")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("smtp_host") && err.contains("dev_mailbox"),
        "{err}"
    );
}

#[test]
fn tenant_create_prints_a_token_once_and_tenant_token_issues_another() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_sealpost"))
            .args(args)
            .env("SEALPOST_DATA_DIR", dir.path().join("data"))
            .output()
            .unwrap()
    };
    let out = run(&[
        "tenant",
        "create",
        "--name",
        "Contoso",
        "--domain",
        "contoso.example",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Created tenant Contoso"), "{stdout}");
    assert!(stdout.contains("spa_"), "{stdout}");
    let again = run(&[
        "tenant",
        "create",
        "--name",
        "Other",
        "--domain",
        "CONTOSO.example",
    ]);
    assert_eq!(again.status.code(), Some(1));
    let token = run(&[
        "tenant",
        "token",
        "--domain",
        "contoso.example",
        "--label",
        "ops",
    ]);
    assert!(token.status.success());
    assert!(String::from_utf8_lossy(&token.stdout).contains("spa_"));
    let missing = run(&["tenant", "token", "--domain", "nowhere.example"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no tenant has the domain"));
}

#[test]
fn demo_seeds_a_tenant_and_message_once_and_prints_a_fresh_token_each_run() {
    let dir = tempfile::tempdir().unwrap();
    let start = || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sealpost"))
            .arg("demo")
            .env("SEALPOST_LISTEN", "127.0.0.1:0")
            .env("SEALPOST_DATA_DIR", dir.path().join("data"))
            .env("SEALPOST_DIST_DIR", dir.path().join("dist"))
            .env_remove("SEALPOST_DEV_MAILBOX")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut lines = Vec::new();
        for _ in 0..5 {
            let mut line = String::new();
            out.read_line(&mut line).unwrap();
            lines.push(line);
        }
        (child, lines.join(""))
    };
    let mailbox_count = |text: &str| -> usize {
        let url = text
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap()
            .trim_end_matches('/')
            .to_owned();
        let addr = url.trim_start_matches("http://").to_owned();
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        use std::io::{Read, Write};
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "GET /dev/mailbox HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut page = String::new();
        stream.read_to_string(&mut page).unwrap();
        assert!(page.starts_with("HTTP/1.1 200"), "{page}");
        page.matches("data-testid=\"mail\"").count()
    };
    let stop = |mut child: std::process::Child| {
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(child.wait().unwrap().success());
    };
    let (first, text1) = start();
    assert!(
        text1.contains("/dev/mailbox") && text1.contains("Contoso (demo)"),
        "{text1}"
    );
    let token1 = text1
        .split_whitespace()
        .find(|w| w.starts_with("spa_"))
        .unwrap()
        .to_owned();
    assert_eq!(mailbox_count(&text1), 1);
    stop(first);
    let (second, text2) = start();
    let token2 = text2
        .split_whitespace()
        .find(|w| w.starts_with("spa_"))
        .unwrap()
        .to_owned();
    assert_ne!(token1, token2);
    assert_eq!(mailbox_count(&text2), 1, "the demo message is seeded once");
    let link = |text: &str| {
        text.split_whitespace()
            .find(|w| w.contains("/m/") && w.contains("#t=spl_"))
            .unwrap_or_else(|| panic!("no link printed: {text}"))
            .to_owned()
    };
    assert_eq!(link(&text1), link(&text2), "each run prints the demo link");
    stop(second);
}

/// The development mailbox shows every link and passcode, so `serve` refuses it on an address
/// other than loopback, and serves it there only with `--insecure-dev-mailbox` and a warning.
#[test]
fn the_development_mailbox_is_refused_off_loopback_unless_insisted_on() {
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_sealpost"));
        c.arg("serve")
            .args(extra)
            .env("SEALPOST_LISTEN", "0.0.0.0:0")
            .env("SEALPOST_DATA_DIR", dir.path().join("data"))
            .env("SEALPOST_DIST_DIR", dir.path().join("dist"))
            .env("SEALPOST_DEV_MAILBOX", "true")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    };
    let refused = run(&[]).output().unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("--insecure-dev-mailbox"), "{said}");
    assert!(
        !dir.path().join("data").exists(),
        "refused before anything was opened"
    );

    // With the flag it starts, warning on standard error; it is stopped at once.
    let mut child = run(&["--insecure-dev-mailbox"]).spawn().unwrap();
    let mut warning = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut warning)
        .unwrap();
    assert!(
        warning.contains("WARNING: the development mailbox is on"),
        "{warning}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}
