//! The interop commands, run as a real process: `sealpost envelope seal|open`.

use std::io::Write;
use std::process::{Command, Stdio};

const KEY: &str = "59454c4c4f57205355424d4152494e452059454c4c4f57205355424d4152494e";

fn run(args: &[&str], input: &[u8]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sealpost"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

#[test]
fn open_decrypts_a_wycheproof_vector() {
    // Wycheproof c2sp_chunked_encryption_aes_256_gcm tcId 2: "short message, single chunk".
    let doc: serde_json::Value = serde_json::from_slice(include_bytes!(
        "../../../crates/envelope/testdata/wycheproof/c2sp_chunked_encryption_aes_256_gcm_test.json"
    ))
    .unwrap();
    let t = doc["testGroups"][0]["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tcId"] == 2)
        .unwrap();
    let compressed = hex::decode(t["ct"].as_str().unwrap()).unwrap();
    let ct = inflate(&compressed);
    let out = run(
        &[
            "envelope",
            "open",
            "--key-hex",
            t["key"].as_str().unwrap(),
            "--context-hex",
            t["ctx"].as_str().unwrap(),
        ],
        &ct,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout.len() as u64, t["msgLength"].as_u64().unwrap());
}

fn inflate(zlib: &[u8]) -> Vec<u8> {
    // The vectors are zlib-compressed (the same inflater the envelope's own vector tests use).
    miniz_oxide::inflate::decompress_to_vec_zlib(zlib).unwrap()
}

#[test]
fn seal_then_open_round_trips_through_the_binary() {
    let msg: Vec<u8> = (0..100_000u32).map(|i| (i % 7) as u8).collect();
    let sealed = run(
        &[
            "envelope",
            "seal",
            "--key-hex",
            KEY,
            "--context-hex",
            "abcd",
        ],
        &msg,
    );
    assert!(sealed.status.success());
    assert_eq!(sealed.stdout.len(), 56 + msg.len() + 7 * 16);
    let opened = run(
        &[
            "envelope",
            "open",
            "--key-hex",
            KEY,
            "--context-hex",
            "abcd",
        ],
        &sealed.stdout,
    );
    assert!(opened.status.success());
    assert_eq!(opened.stdout, msg);
}

#[test]
fn open_exits_non_zero_with_the_error_class() {
    let sealed = run(&["envelope", "seal", "--key-hex", KEY], b"secret");
    let mut tampered = sealed.stdout.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let out = run(&["envelope", "open", "--key-hex", KEY], &tampered);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stdout.is_empty(),
        "nothing of a one-chunk message is released"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("decryption_failed"), "{stderr}");
    assert!(!stderr.contains("secret"));

    let out = run(
        &["envelope", "open", "--key-hex", KEY],
        &sealed.stdout[..30],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("truncated"));
}
