//! Sealpost's own data-driven vectors, mostly negative: one file per case in `testdata/cases/`,
//! each with `name: value` headers (`expect:` first), a blank line, and the input as hex.
//!
//! The files are pinned: `generate_vectors` (ignored; run it by name) wrote them once, and checks
//! while writing that every case produces the outcome written into its `expect:` header. The
//! expectations come from the spec, not from the implementation: the generator states them.

use sealpost_envelope::release::RecipientKeyPair;
use sealpost_envelope::{
    Error, MessageId, MessageKey, Part, ReleaseBinding, TenantDataKey, WrapBinding, open_manifest,
    open_part, unwrap_message_key,
};
use sha2::{Digest, Sha512};

macro_rules! cases {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../testdata/cases/", $name, ".vec")))),*]
    };
}

/// Every case file, compiled in (the browser run has no file system).
const CASES: &[(&str, &str)] = cases![
    "part_valid_small_body",
    "part_valid_three_chunks",
    "part_valid_empty",
    "part_truncated_final_chunk_missing",
    "part_truncated_inside_final_tag",
    "part_truncated_inside_a_chunk",
    "part_extra_chunk_appended",
    "part_reordered_chunks",
    "part_duplicated_chunk",
    "part_moved_to_another_message",
    "part_moved_to_another_position",
    "part_body_opened_as_attachment",
    "part_unsupported_version",
    "part_version_zero",
    "part_empty_input",
    "part_header_only",
    "part_trailing_data",
    "part_wrong_key",
    "part_flipped_tag_bit",
    "part_flipped_commitment_bit",
    "part_flipped_salt_bit",
    "manifest_valid",
    "manifest_tampered",
    "manifest_not_json",
    "manifest_unknown_field",
    "manifest_opened_as_body",
    "wrap_valid",
    "wrap_other_tenant",
    "wrap_other_message",
    "wrap_other_key_version",
    "wrap_wrong_data_key",
    "wrap_truncated",
    "wrap_extended",
    "wrap_forged_8_bytes",
    "wrap_unsupported_version",
    "release_valid",
    "release_wrong_recipient_key",
    "release_other_session",
    "release_other_recipient",
    "release_other_message",
    "release_truncated",
    "release_extended",
    "release_unsupported_version",
];

struct Case {
    headers: Vec<(String, String)>,
    data: Vec<u8>,
}

impl Case {
    fn parse(text: &str) -> Case {
        let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
        let headers = head
            .lines()
            .map(|l| {
                let (k, v) = l
                    .split_once(": ")
                    .unwrap_or_else(|| panic!("bad header {l:?}"));
                (k.to_owned(), v.to_owned())
            })
            .collect();
        let hex: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        Case {
            headers,
            data: hex::decode(hex).unwrap(),
        }
    }

    fn get(&self, key: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("missing header {key}"))
    }

    fn hex(&self, key: &str) -> Vec<u8> {
        hex::decode(self.get(key)).unwrap()
    }
}

fn parse_part(s: &str) -> Part {
    let mut it = s.split(' ');
    match (it.next(), it.next().map(|n| n.parse::<u32>().unwrap())) {
        (Some("manifest"), None) => Part::Manifest,
        (Some("body"), Some(n)) => Part::Body(n),
        (Some("attachment"), Some(n)) => Part::Attachment(n),
        _ => panic!("bad part {s:?}"),
    }
}

/// Run one case; Ok carries the SHA-512 of what opened (plaintext or key).
fn run(case: &Case) -> Result<Vec<u8>, Error> {
    let message = MessageId::parse(case.get("message-id")).unwrap();
    match case.get("kind") {
        "part" => {
            let key = MessageKey::from_slice(&case.hex("key")).unwrap();
            let plain = open_part(&key, &message, parse_part(case.get("part")), &case.data)?;
            Ok(Sha512::digest(&plain).to_vec())
        }
        "manifest" => {
            let key = MessageKey::from_slice(&case.hex("key")).unwrap();
            let manifest = open_manifest(&key, &message, &case.data)?;
            Ok(Sha512::digest(manifest.to_bytes().unwrap()).to_vec())
        }
        "wrap" => {
            let dk = TenantDataKey::from_slice(&case.hex("data-key")).unwrap();
            let binding = WrapBinding {
                tenant_id: case.get("tenant-id"),
                message_id: &message,
                key_version: case.get("key-version").parse().unwrap(),
            };
            let key = unwrap_message_key(&dk, &case.data, &binding)?;
            Ok(Sha512::digest(key.expose_secret()).to_vec())
        }
        "release" => {
            let pair = RecipientKeyPair::from_secret_bytes(&case.hex("recipient-secret")).unwrap();
            let session = case.hex("session");
            let binding = ReleaseBinding {
                message_id: &message,
                recipient: case.get("recipient"),
                session: &session,
            };
            let key = pair.open_release(&case.data, &binding)?;
            Ok(Sha512::digest(key.expose_secret()).to_vec())
        }
        other => panic!("unknown kind {other}"),
    }
}

fn check(name: &str, case: &Case) {
    let outcome = run(case);
    match case.get("expect") {
        "ok" => {
            let digest = outcome.unwrap_or_else(|e| panic!("{name}: expected ok, got {e:?}"));
            assert_eq!(
                hex::encode(digest),
                case.get("sha512"),
                "{name}: wrong output"
            );
        }
        class => {
            let err = outcome
                .err()
                .unwrap_or_else(|| panic!("{name}: expected {class}, got ok"));
            assert_eq!(err.class(), class, "{name}");
        }
    }
}

both! {
    fn every_pinned_vector_has_its_expected_outcome() {
        let mut negatives = 0;
        for (name, text) in CASES {
            let case = Case::parse(text);
            check(name, &case);
            if case.get("expect") != "ok" {
                negatives += 1;
            }
        }
        assert!(negatives * 4 >= CASES.len() * 3, "the suite is mostly negative cases");
    }
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn every_file_in_testdata_cases_is_listed() {
    let dir = manifest_dir().join("testdata/cases");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter_map(|n| n.strip_suffix(".vec").map(str::to_owned))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = CASES.iter().map(|(n, _)| (*n).to_owned()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
}

/// Writes `testdata/cases/`. Run with
/// `cargo test -p sealpost-envelope --test envelope -- --ignored generate_vectors`.
#[cfg(not(target_arch = "wasm32"))]
#[test]
#[ignore]
fn generate_vectors() {
    generator::write_all();
}

#[cfg(not(target_arch = "wasm32"))]
mod generator {
    use super::*;
    use sealpost_envelope::chunked::{ENCRYPTED_CHUNK_SIZE, HEADER_SIZE, TAG_SIZE};
    use sealpost_envelope::{Manifest, seal_manifest, seal_part, seal_release, wrap_message_key};

    const KEY: [u8; 32] = [0x11; 32];
    const OTHER_KEY: [u8; 32] = [0x22; 32];
    const DATA_KEY: [u8; 32] = [0x33; 32];
    const RECIPIENT_SECRET: [u8; 32] = [0x44; 32];
    const OTHER_SECRET: [u8; 32] = [0x55; 32];
    const PREFIX: usize = 1 + HEADER_SIZE;

    struct Writer {
        dir: std::path::PathBuf,
    }

    impl Writer {
        fn write(&self, name: &str, expect: &str, headers: &[(&str, String)], data: &[u8]) {
            let mut text = format!("expect: {expect}\n");
            for (k, v) in headers {
                text.push_str(&format!("{k}: {v}\n"));
            }
            text.push('\n');
            for line in hex::encode(data).as_bytes().chunks(96) {
                text.push_str(std::str::from_utf8(line).unwrap());
                text.push('\n');
            }
            let case = Case::parse(&text);
            check(name, &case);
            std::fs::write(self.dir.join(format!("{name}.vec")), text).unwrap();
        }
    }

    fn part_headers(
        comment: &str,
        key: &[u8; 32],
        id: &str,
        part: &str,
    ) -> Vec<(&'static str, String)> {
        vec![
            ("comment", comment.to_owned()),
            ("kind", "part".into()),
            ("message-id", id.into()),
            ("part", part.into()),
            ("key", hex::encode(key)),
        ]
    }

    fn with(
        mut h: Vec<(&'static str, String)>,
        extra: (&'static str, String),
    ) -> Vec<(&'static str, String)> {
        h.push(extra);
        h
    }

    fn sha(data: &[u8]) -> String {
        hex::encode(Sha512::digest(data))
    }

    fn chunk(i: usize) -> std::ops::Range<usize> {
        PREFIX + i * ENCRYPTED_CHUNK_SIZE..PREFIX + (i + 1) * ENCRYPTED_CHUNK_SIZE
    }

    pub fn write_all() {
        let dir = manifest_dir().join("testdata/cases");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let w = Writer { dir };
        let key = MessageKey::from_bytes(KEY);
        let m1 = MessageId::parse("m-1").unwrap();

        // Parts.
        let small = b"Hello from Sealpost.\n".to_vec();
        let sealed_small = seal_part(&key, &m1, Part::Body(0), &small).unwrap();
        let h = |c: &str, p: &str| part_headers(c, &KEY, "m-1", p);
        w.write(
            "part_valid_small_body",
            "ok",
            &with(h("a one-chunk body", "body 0"), ("sha512", sha(&small))),
            &sealed_small,
        );
        let three: Vec<u8> = (0..2 * 16384 + 100).map(|i: u32| (i % 253) as u8).collect();
        let sealed3 = seal_part(&key, &m1, Part::Attachment(0), &three).unwrap();
        let h3 = || {
            h(
                "an attachment of two full chunks and a short one",
                "attachment 0",
            )
        };
        w.write(
            "part_valid_three_chunks",
            "ok",
            &with(h3(), ("sha512", sha(&three))),
            &sealed3,
        );
        let empty = seal_part(&key, &m1, Part::Attachment(1), b"").unwrap();
        w.write(
            "part_valid_empty",
            "ok",
            &with(
                h("an empty attachment is one empty chunk", "attachment 1"),
                ("sha512", sha(b"")),
            ),
            &empty,
        );

        w.write(
            "part_truncated_final_chunk_missing",
            "truncated",
            &h(
                "cut after the second full chunk: the short final chunk is missing",
                "attachment 0",
            ),
            &sealed3[..chunk(1).end],
        );
        w.write(
            "part_truncated_inside_final_tag",
            "truncated",
            &h("the final chunk is shorter than a tag", "attachment 0"),
            &sealed3[..chunk(1).end + TAG_SIZE - 1],
        );
        w.write(
            "part_truncated_inside_a_chunk",
            "decryption_failed",
            &h(
                "cut in the middle of chunk 1: the rest is tried, and fails, as a final chunk",
                "attachment 0",
            ),
            &sealed3[..chunk(1).start + 5000],
        );
        let mut extended = sealed3.clone();
        extended.extend_from_slice(&sealed3[chunk(1)]);
        w.write(
            "part_extra_chunk_appended",
            "decryption_failed",
            &h("a full chunk copied after the final chunk", "attachment 0"),
            &extended,
        );
        let mut reordered = sealed3[..PREFIX].to_vec();
        reordered.extend_from_slice(&sealed3[chunk(1)]);
        reordered.extend_from_slice(&sealed3[chunk(0)]);
        reordered.extend_from_slice(&sealed3[chunk(2).start..]);
        w.write(
            "part_reordered_chunks",
            "decryption_failed",
            &h("chunks 0 and 1 swapped", "attachment 0"),
            &reordered,
        );
        let mut duplicated = sealed3[..chunk(0).end].to_vec();
        duplicated.extend_from_slice(&sealed3[chunk(0)]);
        duplicated.extend_from_slice(&sealed3[chunk(2).start..]);
        w.write(
            "part_duplicated_chunk",
            "decryption_failed",
            &h("chunk 0 repeated in place of chunk 1", "attachment 0"),
            &duplicated,
        );
        w.write(
            "part_moved_to_another_message",
            "decryption_failed",
            &part_headers("sealed for m-1, presented as m-2", &KEY, "m-2", "body 0"),
            &sealed_small,
        );
        w.write(
            "part_moved_to_another_position",
            "decryption_failed",
            &h("attachment 0 presented as attachment 1", "attachment 1"),
            &sealed3,
        );
        w.write(
            "part_body_opened_as_attachment",
            "decryption_failed",
            &h("body 0 presented as attachment 0", "attachment 0"),
            &sealed_small,
        );
        let mut v2 = sealed_small.clone();
        v2[0] = 0x02;
        w.write(
            "part_unsupported_version",
            "unsupported_version",
            &h("version byte 2", "body 0"),
            &v2,
        );
        let mut v0 = sealed_small.clone();
        v0[0] = 0x00;
        w.write(
            "part_version_zero",
            "unsupported_version",
            &h("version byte 0", "body 0"),
            &v0,
        );
        w.write(
            "part_empty_input",
            "truncated",
            &h("nothing at all", "body 0"),
            b"",
        );
        w.write(
            "part_header_only",
            "truncated",
            &h("version, salt and commitment, no chunk", "body 0"),
            &sealed_small[..PREFIX],
        );
        let mut trailing = sealed_small.clone();
        trailing.extend_from_slice(&[0u8; 40]);
        w.write(
            "part_trailing_data",
            "decryption_failed",
            &h("40 zero bytes after the final chunk", "body 0"),
            &trailing,
        );
        w.write(
            "part_wrong_key",
            "decryption_failed",
            &part_headers("opened with another key", &OTHER_KEY, "m-1", "body 0"),
            &sealed_small,
        );
        let mut tag = sealed_small.clone();
        let last = tag.len() - 1;
        tag[last] ^= 0x01;
        w.write(
            "part_flipped_tag_bit",
            "decryption_failed",
            &h("last bit of the final tag flipped", "body 0"),
            &tag,
        );
        let mut commit = sealed_small.clone();
        commit[1 + 24] ^= 0x80;
        w.write(
            "part_flipped_commitment_bit",
            "decryption_failed",
            &h("a commitment bit flipped", "body 0"),
            &commit,
        );
        let mut salt = sealed_small.clone();
        salt[1] ^= 0x01;
        w.write(
            "part_flipped_salt_bit",
            "decryption_failed",
            &h("a salt bit flipped", "body 0"),
            &salt,
        );

        // Manifests.
        let manifest = Manifest {
            subject: "Quarterly numbers".into(),
            from: "alice@example.com".into(),
            to: vec!["bob@example.net".into()],
            cc: vec![],
            sent_at: "2026-11-21T10:00:00Z".into(),
            bodies: vec![sealpost_envelope::BodyEntry {
                content_type: "text/plain; charset=utf-8".into(),
                size: 21,
            }],
            attachments: vec![],
        };
        let sealed_manifest = seal_manifest(&key, &m1, &manifest).unwrap();
        let mh = |c: &str| {
            vec![
                ("comment", c.to_owned()),
                ("kind", "manifest".into()),
                ("message-id", "m-1".into()),
                ("key", hex::encode(KEY)),
            ]
        };
        w.write(
            "manifest_valid",
            "ok",
            &with(
                mh("a manifest with one body"),
                ("sha512", sha(&manifest.to_bytes().unwrap())),
            ),
            &sealed_manifest,
        );
        let mut tampered = sealed_manifest.clone();
        tampered[PREFIX + 3] ^= 0x04;
        w.write(
            "manifest_tampered",
            "decryption_failed",
            &mh("a manifest ciphertext byte changed"),
            &tampered,
        );
        let not_json = seal_part(&key, &m1, Part::Manifest, b"subject=hello").unwrap();
        w.write(
            "manifest_not_json",
            "malformed",
            &mh("authentic, but not JSON"),
            &not_json,
        );
        let mut extra: serde_json::Value =
            serde_json::from_slice(&manifest.to_bytes().unwrap()).unwrap();
        extra["reply_to"] = "eve@example.org".into();
        let unknown = seal_part(&key, &m1, Part::Manifest, extra.to_string().as_bytes()).unwrap();
        w.write(
            "manifest_unknown_field",
            "malformed",
            &mh("authentic, with a field the format does not define"),
            &unknown,
        );
        w.write(
            "manifest_opened_as_body",
            "decryption_failed",
            &h("the manifest presented as body 0", "body 0"),
            &sealed_manifest,
        );

        // Wrapped keys.
        let dk = TenantDataKey::from_bytes(DATA_KEY);
        let binding = WrapBinding {
            tenant_id: "tenant-1",
            message_id: &m1,
            key_version: 1,
        };
        let wrapped = wrap_message_key(&dk, &key, &binding).unwrap();
        let wh = |c: &str, tenant: &str, id: &str, version: u32, data_key: [u8; 32]| {
            vec![
                ("comment", c.to_owned()),
                ("kind", "wrap".into()),
                ("message-id", id.to_owned()),
                ("tenant-id", tenant.to_owned()),
                ("key-version", version.to_string()),
                ("data-key", hex::encode(data_key)),
            ]
        };
        w.write(
            "wrap_valid",
            "ok",
            &with(
                wh(
                    "a message key wrapped for tenant-1, m-1, version 1",
                    "tenant-1",
                    "m-1",
                    1,
                    DATA_KEY,
                ),
                ("sha512", sha(&KEY)),
            ),
            &wrapped,
        );
        w.write(
            "wrap_other_tenant",
            "decryption_failed",
            &wh(
                "unwrapped as another tenant's",
                "tenant-2",
                "m-1",
                1,
                DATA_KEY,
            ),
            &wrapped,
        );
        w.write(
            "wrap_other_message",
            "decryption_failed",
            &wh(
                "unwrapped for another message",
                "tenant-1",
                "m-2",
                1,
                DATA_KEY,
            ),
            &wrapped,
        );
        w.write(
            "wrap_other_key_version",
            "decryption_failed",
            &wh(
                "unwrapped claiming data-key version 2",
                "tenant-1",
                "m-1",
                2,
                DATA_KEY,
            ),
            &wrapped,
        );
        w.write(
            "wrap_wrong_data_key",
            "decryption_failed",
            &wh(
                "unwrapped with another data key",
                "tenant-1",
                "m-1",
                1,
                OTHER_KEY,
            ),
            &wrapped,
        );
        w.write(
            "wrap_truncated",
            "truncated",
            &wh("one byte short", "tenant-1", "m-1", 1, DATA_KEY),
            &wrapped[..60],
        );
        let mut long = wrapped.to_vec();
        long.push(0);
        w.write(
            "wrap_extended",
            "malformed",
            &wh("one byte too many", "tenant-1", "m-1", 1, DATA_KEY),
            &long,
        );
        let mut forged = vec![0x01u8];
        forged.extend_from_slice(&[0xa6; 7]);
        w.write(
            "wrap_forged_8_bytes",
            "truncated",
            &wh(
                "an 8-byte input (the aes-kw forgery shape) is refused by length",
                "tenant-1",
                "m-1",
                1,
                DATA_KEY,
            ),
            &forged,
        );
        let mut wv = wrapped.to_vec();
        wv[0] = 0x02;
        w.write(
            "wrap_unsupported_version",
            "unsupported_version",
            &wh("version byte 2", "tenant-1", "m-1", 1, DATA_KEY),
            &wv,
        );

        // Releases.
        let pair = RecipientKeyPair::from_secret_bytes(&RECIPIENT_SECRET).unwrap();
        let session = b"session-binding-1".to_vec();
        let rb = ReleaseBinding {
            message_id: &m1,
            recipient: "bob@example.net",
            session: &session,
        };
        let release = seal_release(&pair.public_key(), &key, &rb).unwrap();
        let rh = |c: &str, secret: [u8; 32], id: &str, recipient: &str, session: &[u8]| {
            vec![
                ("comment", c.to_owned()),
                ("kind", "release".into()),
                ("message-id", id.to_owned()),
                ("recipient", recipient.to_owned()),
                ("session", hex::encode(session)),
                ("recipient-secret", hex::encode(secret)),
            ]
        };
        let base = |c: &str| rh(c, RECIPIENT_SECRET, "m-1", "bob@example.net", &session);
        w.write(
            "release_valid",
            "ok",
            &with(
                base("the message key released to bob's tab"),
                ("sha512", sha(&KEY)),
            ),
            &release,
        );
        w.write(
            "release_wrong_recipient_key",
            "decryption_failed",
            &rh(
                "opened by another tab's key pair",
                OTHER_SECRET,
                "m-1",
                "bob@example.net",
                &session,
            ),
            &release,
        );
        w.write(
            "release_other_session",
            "decryption_failed",
            &rh(
                "opened claiming another session",
                RECIPIENT_SECRET,
                "m-1",
                "bob@example.net",
                b"session-binding-2",
            ),
            &release,
        );
        w.write(
            "release_other_recipient",
            "decryption_failed",
            &rh(
                "opened claiming another recipient",
                RECIPIENT_SECRET,
                "m-1",
                "eve@example.net",
                &session,
            ),
            &release,
        );
        w.write(
            "release_other_message",
            "decryption_failed",
            &rh(
                "opened claiming another message",
                RECIPIENT_SECRET,
                "m-2",
                "bob@example.net",
                &session,
            ),
            &release,
        );
        w.write(
            "release_truncated",
            "truncated",
            &base("the last byte missing"),
            &release[..release.len() - 1],
        );
        let mut rl = release.clone();
        rl.push(0);
        w.write(
            "release_extended",
            "malformed",
            &base("one byte too many"),
            &rl,
        );
        let mut rv = release.clone();
        rv[0] = 0x02;
        w.write(
            "release_unsupported_version",
            "unsupported_version",
            &base("version byte 2"),
            &rv,
        );
    }
}

#[cfg(not(target_arch = "wasm32"))]
/// This package's directory, read when the test runs (cargo sets it), so a test binary built from
/// another checkout of the same source finds this checkout's files.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(
        || env!("CARGO_MANIFEST_DIR").into(),
        std::path::PathBuf::from,
    )
}
