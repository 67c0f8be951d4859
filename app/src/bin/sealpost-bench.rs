//! The benchmark page's WebAssembly (`app/bench.html`, driven by `end2end/bench/`): it seals a
//! part of a given size, and opens one through the portal's own path ([`reading::open_to_blob`],
//! window by window into a `Blob`) with either AES-GCM engine, timing only the opening. It is
//! built with the portal's profile and never served by Sealpost.
//!
//! `window.sealpostBench.seal(bytes)` → `{ key, sealed }` (the message key as base64, the sealed
//! part as a `Uint8Array`); `window.sealpostBench.open(key, sealed, bytes, how)` → `{ ms, blob }`
//! where `how` is `"webcrypto"` or `"rust"` (into a `Blob` ready to read, as an attachment is
//! opened), or either with `-discard` (the decryption alone: the plaintext is handed on and
//! dropped, and there is no `blob`).

use core::ops::Range;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use js_sys::{Object, Promise, Reflect, Uint8Array};
use sealpost_app::opening::Vault;
use sealpost_app::platform_aead;
use sealpost_app::reading::{self, Engine, OpenFailure};
use sealpost_envelope::part::{MessageId, Part, seal_part};
use sealpost_envelope::{MessageKey, RecipientKeyPair, ReleaseBinding, seal_release};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

const MESSAGE: &str = "bench";
const PART: Part = Part::Attachment(0);

fn fail(what: &str) -> JsValue {
    JsValue::from_str(what)
}

/// Bytes that do not compress, reproducibly (xorshift).
fn sample(len: usize) -> Vec<u8> {
    let mut x: u32 = 2_463_534_242;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn seal(len: f64) -> Result<JsValue, JsValue> {
    let message = MessageId::parse(MESSAGE).map_err(|_| fail("id"))?;
    let key = MessageKey::generate();
    let sealed =
        seal_part(&key, &message, PART, &sample(len as usize)).map_err(|_| fail("seal"))?;
    let answer = Object::new();
    Reflect::set(
        &answer,
        &"key".into(),
        &BASE64.encode(key.expose_secret()).into(),
    )?;
    Reflect::set(&answer, &"sealed".into(), &Uint8Array::from(&sealed[..]))?;
    Ok(answer.into())
}

/// The vault a tab would hold after a key release for this key.
fn vault(key: &str) -> Result<Vault, JsValue> {
    let bytes = BASE64.decode(key).map_err(|_| fail("key"))?;
    let key = MessageKey::from_slice(&bytes).map_err(|_| fail("key"))?;
    let message = MessageId::parse(MESSAGE).map_err(|_| fail("id"))?;
    let pair = RecipientKeyPair::generate();
    let binding = ReleaseBinding {
        message_id: &message,
        recipient: "bench@example.net",
        session: b"bench",
    };
    let release = seal_release(&pair.public_key(), &key, &binding).map_err(|_| fail("release"))?;
    Vault::from_release(&pair, &release, MESSAGE, "bench@example.net", "bench")
        .map_err(|_| fail("release"))
}

async fn open(
    key: String,
    sealed: Uint8Array,
    len: f64,
    engine: String,
) -> Result<JsValue, JsValue> {
    let vault = vault(&key)?;
    let discard = engine.ends_with("-discard");
    let engine = match engine.trim_end_matches("-discard") {
        "webcrypto" => {
            Engine::Platform(platform_aead::subtle().ok_or_else(|| fail("no WebCrypto"))?)
        }
        "rust" => Engine::Rust,
        _ => return Err(fail("engine")),
    };
    let performance = web_sys::window()
        .and_then(|w| w.performance())
        .ok_or_else(|| fail("performance"))?;
    // Each window is copied out of the sealed bytes, as the network hands the portal each window.
    let fetch = |range: Range<u64>| {
        let bytes = sealed
            .subarray(range.start as u32, range.end as u32)
            .to_vec();
        async move { Ok::<_, ()>(bytes) }
    };
    if discard {
        let started = performance.now();
        reading::open_part(&vault, engine, PART, len as u64, fetch, |_| {}, |_, _| {})
            .await
            .map_err(|_| fail("open failed"))?;
        let ms = performance.now() - started;
        let answer = Object::new();
        Reflect::set(&answer, &"ms".into(), &ms.into())?;
        return Ok(answer.into());
    }
    let started = performance.now();
    let blob = reading::open_to_blob(
        &vault,
        engine,
        PART,
        len as u64,
        fetch,
        "application/octet-stream",
        |_, _| {},
    )
    .await
    .map_err(|f| match f {
        OpenFailure::Decrypt => fail("decryption failed"),
        OpenFailure::Wiped | OpenFailure::Fetch(()) | OpenFailure::Save => fail("open failed"),
    })?;
    // The clock stops when the Blob can be read to its last byte, as a download or a preview
    // needs it, not when its construction merely returned.
    let size = blob.size();
    let last = blob.slice_with_f64_and_f64((size - 1.0).max(0.0), size)?;
    wasm_bindgen_futures::JsFuture::from(last.array_buffer()).await?;
    let ms = performance.now() - started;
    let answer = Object::new();
    Reflect::set(&answer, &"ms".into(), &ms.into())?;
    Reflect::set(&answer, &"blob".into(), &blob)?;
    Ok(answer.into())
}

fn main() {
    console_error_panic_hook::set_once();
    let api = Object::new();
    let seal_fn = Closure::<dyn Fn(f64) -> Result<JsValue, JsValue>>::new(seal);
    let open_fn = Closure::<dyn Fn(String, Uint8Array, f64, String) -> Promise>::new(
        |key, sealed, len, engine| future_to_promise(open(key, sealed, len, engine)),
    );
    let installed = Reflect::set(&api, &"seal".into(), seal_fn.as_ref())
        .and_then(|_| Reflect::set(&api, &"open".into(), open_fn.as_ref()))
        .and_then(|_| Reflect::set(&js_sys::global(), &"sealpostBench".into(), &api));
    if installed.is_err() {
        web_sys::console::error_1(&"sealpostBench could not be installed".into());
    }
    // The page lives as long as the benchmark; the functions with it.
    seal_fn.forget();
    open_fn.forget();
}
