//! The portal's opening path in a real browser (headless Chromium, `wasm-bindgen-test-runner`; see
//! `scripts/test`): parts of several windows open window by window with WebCrypto doing the
//! AES-GCM and with the pure-Rust fallback, byte for byte the same; a changed, cut or misplaced part
//! never opens with either; a wipe stops the opening. Only on wasm32: it needs WebCrypto.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic: that is how they fail

use core::cell::Cell;
use core::ops::Range;

use sealpost_app::opening::{Vault, WINDOW_CHUNKS};
use sealpost_app::platform_aead;
use sealpost_app::reading::{self, Engine, Keys, OpenFailure};
use sealpost_envelope::chunked::CHUNK_SIZE;
use sealpost_envelope::part::{MessageId, Part, seal_part};
use sealpost_envelope::{MessageKey, RecipientKeyPair, ReleaseBinding, seal_release};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const ID: &str = "0123456789abcdef0123456789abcdef";

fn vault_for(key: &MessageKey) -> Vault {
    let pair = RecipientKeyPair::generate();
    let message = MessageId::parse(ID).unwrap();
    let binding = ReleaseBinding {
        message_id: &message,
        recipient: "you@example.net",
        session: b"binding",
    };
    let release = seal_release(&pair.public_key(), key, &binding).unwrap();
    Vault::from_release(&pair, &release, ID, "you@example.net", "binding").unwrap()
}

fn sample(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

fn engines() -> [Engine; 2] {
    let subtle = platform_aead::subtle().expect("a page on localhost has WebCrypto");
    [Engine::Platform(subtle), Engine::Rust]
}

/// Open `sealed` as attachment 0 of `len` bytes, collecting the plaintext.
async fn open(
    keys: &impl Keys,
    engine: Engine,
    sealed: &[u8],
    len: u64,
) -> Result<Vec<u8>, OpenFailure<()>> {
    let mut plain = Vec::new();
    let fetch = |range: Range<u64>| {
        let bytes = sealed
            .get(range.start as usize..(range.end as usize).min(sealed.len()))
            .map(<[u8]>::to_vec);
        async move { bytes.ok_or(()) }
    };
    reading::open_part(
        keys,
        engine,
        Part::Attachment(0),
        len,
        fetch,
        |p| p.append_to(&mut plain),
        |_, _| {},
    )
    .await?;
    Ok(plain)
}

#[wasm_bindgen_test]
async fn both_engines_open_every_size_byte_for_byte() {
    let key = MessageKey::generate();
    let vault = vault_for(&key);
    let message = MessageId::parse(ID).unwrap();
    let window = WINDOW_CHUNKS as usize * CHUNK_SIZE;
    for len in [
        0,
        1,
        CHUNK_SIZE,
        window - 1,
        window,
        3 * window + CHUNK_SIZE + 7,
    ] {
        let plain = sample(len);
        let sealed = seal_part(&key, &message, Part::Attachment(0), &plain).unwrap();
        for engine in engines() {
            let name = engine.name();
            let opened = open(&vault, engine, &sealed, len as u64).await.unwrap();
            assert!(opened == plain, "{name}, {len} bytes");
        }
    }
}

#[wasm_bindgen_test]
async fn a_changed_cut_or_misplaced_part_never_opens() {
    let key = MessageKey::generate();
    let vault = vault_for(&key);
    let message = MessageId::parse(ID).unwrap();
    let len = 2 * WINDOW_CHUNKS as usize * CHUNK_SIZE + 100;
    let sealed = seal_part(&key, &message, Part::Attachment(0), &sample(len)).unwrap();
    let misplaced = seal_part(&key, &message, Part::Attachment(1), &sample(len)).unwrap();
    let mut changed = sealed.clone();
    changed[sealed.len() / 2] ^= 1;
    let mut last = sealed.clone();
    *last.last_mut().unwrap() ^= 0x80;
    for engine in engines() {
        let name = engine.name();
        for (what, bytes, claimed) in [
            ("a flipped bit mid-part", &changed[..], len),
            ("a flipped bit in the final tag", &last[..], len),
            ("another part's bytes", &misplaced[..], len),
            ("a shorter length than sealed", &sealed[..], len - 1),
        ] {
            let result = open(&vault, engine.clone(), bytes, claimed as u64).await;
            assert!(
                matches!(result, Err(OpenFailure::Decrypt)),
                "{name}: {what}: {result:?}"
            );
        }
        let cut = &sealed[..sealed.len() - 20];
        let result = open(&vault, engine.clone(), cut, len as u64).await;
        assert!(
            matches!(result, Err(OpenFailure::Fetch(()) | OpenFailure::Decrypt)),
            "{name}: cut: {result:?}"
        );
    }
}

/// A keyring that is wiped after `uses` uses, as a sign-out in the middle of a download.
struct WipedAfter<'a> {
    vault: &'a Vault,
    uses: Cell<u32>,
}

impl Keys for WipedAfter<'_> {
    fn with<R>(&self, f: impl FnOnce(&Vault) -> R) -> Option<R> {
        let left = self.uses.get();
        self.uses.set(left.saturating_sub(1));
        (left > 0).then(|| f(self.vault))
    }
}

#[wasm_bindgen_test]
async fn a_wipe_stops_the_opening_with_either_engine() {
    let key = MessageKey::generate();
    let vault = vault_for(&key);
    let message = MessageId::parse(ID).unwrap();
    let len = 4 * WINDOW_CHUNKS as usize * CHUNK_SIZE;
    let sealed = seal_part(&key, &message, Part::Attachment(0), &sample(len)).unwrap();
    for engine in engines() {
        let keys = WipedAfter {
            vault: &vault,
            uses: Cell::new(3),
        };
        let result = open(&keys, engine, &sealed, len as u64).await;
        assert!(matches!(result, Err(OpenFailure::Wiped)), "{result:?}");
    }
}

#[wasm_bindgen_test]
async fn a_part_opens_into_a_blob_of_the_given_type_across_folds() {
    let key = MessageKey::generate();
    let vault = vault_for(&key);
    let message = MessageId::parse(ID).unwrap();
    // Several folds of the pieces into the blob (every 4 MiB), and a short last piece.
    let len = 17 * 1024 * 1024 + 3;
    let plain = sample(len);
    let sealed = seal_part(&key, &message, Part::Attachment(0), &plain).unwrap();
    let fetch = |range: Range<u64>| {
        let bytes = sealed[range.start as usize..range.end as usize].to_vec();
        async move { Ok::<_, ()>(bytes) }
    };
    let blob = reading::open_to_blob(
        &vault,
        Engine::best(),
        Part::Attachment(0),
        len as u64,
        fetch,
        "image/png",
        |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(blob.type_(), "image/png");
    let bytes = JsFuture::from(blob.array_buffer()).await.unwrap();
    let bytes = js_sys::Uint8Array::new(&bytes).to_vec();
    assert!(bytes == plain);
}
