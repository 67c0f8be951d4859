//! Customer Key from the command line against a real server process: the operator makes the root
//! keys (`sealpost root-key`) and keeps availability keys; the admin makes, assigns, rolls, rolls
//! back, recovers and purges a policy (`sealpost dep`), and the server's own background worker
//! finishes the roll and the roll backs.

use std::time::{Duration, Instant};

use crate::cli::cli;
use crate::processes::{Maildev, bootstrap, sealpost, serve_with};

#[test]
fn an_operator_makes_root_keys_and_an_admin_assigns_rolls_and_purges_a_policy() {
    let dir = tempfile::tempdir().unwrap();
    let maildev = Maildev::start(dir.path());
    let smtp = maildev.smtp;
    let keys = dir.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    let availability = dir.path().join("availability");
    let config = dir.path().join("sealpost.toml");
    std::fs::write(
        &config,
        format!(
            "[availability_key]\nprovider = \"file\"\ndirectory = \"{availability}\"\n\n{}",
            ["a", "b", "c", "d"]
                .iter()
                .map(|n| format!(
                    "[[root_keys]]\nname = \"vault-{n}\"\nprovider = \"file\"\npath = \"{}\"\n\
                     tenant = \"contoso.example\"\n\n",
                    keys.join(format!("{n}.key")).display()
                ))
                .collect::<String>(),
            availability = availability.display(),
        ),
    )
    .unwrap();
    let operator = |args: &[&str]| {
        let out = sealpost(dir.path(), smtp, args)
            .env("SEALPOST_CONFIG", &config)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };

    // Not made yet: listed as not available, with the reason; then made, once.
    let (code, out, _) = operator(&["root-key", "list"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("local  local  available"), "{out}");
    assert!(out.contains("vault-a  file  NOT AVAILABLE"), "{out}");
    assert!(
        out.contains(&format!(
            "availability keys: one per policy, key files in {}",
            availability.display()
        )),
        "{out}"
    );
    for name in ["vault-a", "vault-b", "vault-c", "vault-d"] {
        let (code, out, err) = operator(&["root-key", "create", name]);
        assert_eq!(code, Some(0), "{err}");
        assert!(
            out.contains(&format!("Root key {name} is ready: key file")),
            "{out}"
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(keys.join("a.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let before = std::fs::read(keys.join("a.key")).unwrap();
    operator(&["root-key", "create", "vault-a"]);
    assert_eq!(
        std::fs::read(keys.join("a.key")).unwrap(),
        before,
        "never replaced"
    );
    let (code, _, err) = operator(&["root-key", "create", "nowhere"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("no root key is configured as \"nowhere\""),
        "{err}"
    );

    let token = bootstrap(dir.path(), smtp);
    let serve = || {
        serve_with(
            dir.path(),
            smtp,
            &[("SEALPOST_CONFIG", config.display().to_string())],
        )
    };
    let (server, url) = serve();
    let run = |args: &[&str]| cli(&url, Some(token.as_str()), args);

    run(&["dep", "new", "X", "--root-key", "vault-a"]).fails(1, "two_root_keys_required");
    let out = run(&[
        "dep",
        "new",
        "Contoso_Global",
        "--root-key",
        "vault-a",
        "--root-key",
        "vault-b",
        "--description",
        "All mail",
    ])
    .ok();
    assert!(
        out.stdout.contains("Status") && out.stdout.contains("Registered"),
        "{}",
        out.stdout
    );
    let out = run(&["dep", "assign", "Contoso_Global"]).ok();
    assert!(
        out.stdout
            .contains("under the data encryption policy Contoso_Global")
    );
    assert!(
        run(&["dep", "assignment"])
            .ok()
            .stdout
            .contains("Contoso_Global")
    );
    run(&["dep", "set", "Contoso_Global"]).fails(2, "say what to change");
    // One sender's policy (Set-Mailbox -DataEncryptionPolicy, Get-MailboxStatistics).
    let out = run(&[
        "dep",
        "assign",
        "Contoso_Global",
        "--sender",
        "zoe@contoso.example",
    ])
    .ok();
    assert!(
        out.stdout
            .contains("DataEncryptionPolicyID : Contoso_Global")
            && out
                .stdout
                .contains("AssignedToSender       : Contoso_Global")
            // Zoe has sent nothing yet: all of her (no) messages are under it.
            && out.stdout.contains("IsEncrypted            : True"),
        "{}",
        out.stdout
    );
    run(&[
        "dep",
        "assign",
        "Contoso_Global",
        "--sender",
        "zoe@elsewhere.example",
    ])
    .fails(1, "sender_not_in_tenant");
    let out = run(&["dep", "assign", "--none", "--sender", "zoe@contoso.example"]).ok();
    assert!(
        out.stdout.contains("AssignedToSender       : \n"),
        "{}",
        out.stdout
    );
    assert!(
        run(&["dep", "assignment", "--sender", "zoe@contoso.example"])
            .ok()
            .stdout
            .contains("DataEncryptionPolicyID : Contoso_Global"),
        "the tenant's policy applies again"
    );

    let sent = run(&[
        "send",
        "--from",
        "anna@contoso.example",
        "--to",
        "bob@gmail.example",
        "--subject",
        "Numbers",
        "--text",
        "Hello",
        "--json",
    ])
    .ok();
    let id = sent.json()["MessageId"].as_str().unwrap().to_owned();
    assert!(
        run(&["status", &id])
            .ok()
            .stdout
            .contains("DataEncryptionPolicy")
    );

    // -Refresh: the server's worker re-wraps the message key in the background.
    run(&["dep", "set", "Contoso_Global", "--refresh"]).ok();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v = run(&["dep", "get", "Contoso_Global", "--json"]).ok().json();
        if v["status"] == "Registered" && v["key_version"] == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "the roll did not finish: {v}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(run(&["status", &id]).ok().stdout.contains("Numbers"));

    // Set-Mailbox -DataEncryptionPolicy $null: Anna's message goes back to service-managed keys.
    let out = run(&["dep", "roll-back", "--sender", "anna@contoso.example"]).ok();
    assert!(
        out.stdout
            .contains("AssignedToSender       : (service-managed keys)"),
        "{}",
        out.stdout
    );
    wait_until(|| {
        let v = run(&[
            "dep",
            "roll-back",
            "--sender",
            "anna@contoso.example",
            "--status",
            "--json",
        ])
        .ok()
        .json();
        (v["roll_back_left"] == 0 && v["messages_under_policy"] == 1).then_some(())
    });
    assert!(
        !run(&["status", &id])
            .ok()
            .stdout
            .contains("DataEncryptionPolicy")
    );

    // Both root keys lost (the server restarted without them): recovered with the availability
    // key onto two new ones, with a reason, which the audit log keeps.
    let zoes = run(&[
        "send",
        "--from",
        "zoe@contoso.example",
        "--to",
        "bob@gmail.example",
        "--subject",
        "Plans",
        "--text",
        "Hello",
        "--json",
    ])
    .ok()
    .json()["MessageId"]
        .as_str()
        .unwrap()
        .to_owned();
    run(&[
        "dep",
        "recover",
        "Contoso_Global",
        "--root-key",
        "vault-c",
        "--root-key",
        "vault-d",
        "--reason",
        "Lost",
    ])
    .fails(1, "root_key_available");
    drop(server);
    for n in ["a", "b"] {
        std::fs::rename(
            keys.join(format!("{n}.key")),
            keys.join(format!("{n}.lost")),
        )
        .unwrap();
    }
    let (server, url) = serve();
    let run = |args: &[&str]| cli(&url, Some(token.as_str()), args);
    let out = run(&[
        "dep",
        "recover",
        "Contoso_Global",
        "--root-key",
        "vault-c",
        "--root-key",
        "vault-d",
        "--reason",
        "Both vaults were lost",
    ])
    .ok();
    assert!(
        out.stdout.contains("vault-c (file), vault-d (file)")
            && out.stdout.contains("AvailabilityKey : True"),
        "{}",
        out.stdout
    );
    assert!(run(&["status", &zoes]).ok().stdout.contains("Plans"));

    // The tenant leaves Customer Key: Zoe's message goes back to service-managed keys too.
    let out = run(&["dep", "roll-back"]).ok();
    assert!(
        out.stdout
            .contains("Rolling back to service-managed keys since"),
        "{}",
        out.stdout
    );
    wait_until(|| {
        let v = run(&["dep", "roll-back", "--status", "--json"]).ok().json();
        (v["messages_left"] == 0).then_some(())
    });
    assert!(
        !run(&["status", &zoes])
            .ok()
            .stdout
            .contains("DataEncryptionPolicy")
    );
    assert!(
        run(&["dep", "assignment"])
            .ok()
            .stdout
            .contains("no policy assigned")
    );

    // And back: a new message under the policy, which a purge then destroys.
    run(&["dep", "assign", "Contoso_Global"]).ok();
    let id = run(&[
        "send",
        "--from",
        "zoe@contoso.example",
        "--to",
        "bob@gmail.example",
        "--subject",
        "Last",
        "--text",
        "Hello",
        "--json",
    ])
    .ok()
    .json()["MessageId"]
        .as_str()
        .unwrap()
        .to_owned();

    // Purge: request with reason and contact, then confirm with the name.
    let out = run(&[
        "dep",
        "set",
        "Contoso_Global",
        "--permanent-data-purge-requested",
        "--permanent-data-purge-reason",
        "Leaving the service",
        "--permanent-data-purge-contact",
        "dpo@contoso.example",
    ])
    .ok();
    assert!(out.stdout.contains("PurgeRequested") && out.stdout.contains("Leaving the service"));
    run(&["dep", "purge", "Contoso_Global", "--confirm", "wrong"])
        .fails(1, "confirmation_mismatch");
    let out = run(&[
        "dep",
        "purge",
        "Contoso_Global",
        "--confirm",
        "Contoso_Global",
    ])
    .ok();
    assert!(
        out.stdout.contains("Destroyed 1 data key version(s) and 1 message key(s); root keys destroyed in their provider: vault-c, vault-d; availability key destroyed: yes."),
        "{}",
        out.stdout
    );
    assert!(!keys.join("c.key").exists() && !keys.join("d.key").exists());
    assert_eq!(std::fs::read_dir(&availability).unwrap().count(), 0);
    let out = run(&["status", &id]).ok();
    assert!(
        out.stdout.contains("Purged") && out.stdout.contains("can never be opened"),
        "{}",
        out.stdout
    );
    // The messages rolled back are not under the policy any more: the purge leaves them.
    assert!(!run(&["status", &zoes]).ok().stdout.contains("Purged"));
    let out = run(&["audit"]).ok();
    for action in [
        "data_encryption_policy.purged",
        "data_encryption_policy.recovered",
        "data_encryption_policy.rolled_back",
        "data_encryption_policy.sender_rolled_back",
    ] {
        assert!(out.stdout.contains(action), "{action}: {}", out.stdout);
    }
    assert!(
        out.stdout.contains("Both vaults were lost"),
        "{}",
        out.stdout
    );
    drop(server);
}

/// Poll the server (its worker runs in the background) until `done` answers, for up to 30 s.
fn wait_until(mut done: impl FnMut() -> Option<()>) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while done().is_none() {
        assert!(
            Instant::now() < deadline,
            "the server's worker did not finish"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
