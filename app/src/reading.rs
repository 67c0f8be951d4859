//! Opening a sealed part window by window: fetch a window, check it ([`crate::opening::PartStream::plan`]), open
//! its chunks with the fastest AES-GCM the page has ([`Engine`]), hand the plaintext on. The
//! portal's reader and attachments use this, and the benchmark page measures exactly this.

use core::future::Future;
use core::ops::Range;
use std::collections::VecDeque;

use sealpost_envelope::part::Part;
use zeroize::Zeroize;

use crate::opening::Vault;
use crate::platform_aead::{self, Opening, PlatformAead};

/// Where the released key is: the portal's tab keyring, or a vault the caller holds.
pub trait Keys {
    /// Run `f` with the vault, or `None` when the key was wiped.
    fn with<R>(&self, f: impl FnOnce(&Vault) -> R) -> Option<R>;
}

impl Keys for Vault {
    fn with<R>(&self, f: impl FnOnce(&Vault) -> R) -> Option<R> {
        Some(f(self))
    }
}

/// Which AES-GCM opens the chunks.
#[derive(Debug, Clone)]
pub enum Engine {
    /// The browser's WebCrypto (native code, AES instructions).
    Platform(web_sys::SubtleCrypto),
    /// The envelope's pure-Rust AES-GCM, compiled to WebAssembly: the fallback.
    Rust,
}

impl Engine {
    /// WebCrypto where the page has it (a secure context), the pure-Rust AES-GCM otherwise.
    pub fn best() -> Engine {
        platform_aead::subtle().map_or(Engine::Rust, Engine::Platform)
    }

    /// A name for measurements.
    pub fn name(&self) -> &'static str {
        match self {
            Engine::Platform(_) => "webcrypto",
            Engine::Rust => "rust",
        }
    }
}

/// One window's plaintext: in WebAssembly memory (the pure-Rust engine) or as WebCrypto's
/// `ArrayBuffer`s, one a chunk, which a `Blob` takes without another copy.
#[derive(Debug)]
pub enum Plain<'a> {
    /// Opened by the pure-Rust AES-GCM.
    Wasm(&'a [u8]),
    /// Opened by WebCrypto: an array of `ArrayBuffer`s, in order.
    Js(&'a js_sys::Array),
}

impl Plain<'_> {
    /// Append the plaintext to `out`.
    pub fn append_to(&self, out: &mut Vec<u8>) {
        match self {
            Plain::Wasm(bytes) => out.extend_from_slice(bytes),
            Plain::Js(buffers) => {
                for buffer in buffers.iter() {
                    let view = js_sys::Uint8Array::new(&buffer);
                    let at = out.len();
                    out.resize(at + view.length() as usize, 0);
                    view.copy_to(&mut out[at..]);
                }
            }
        }
    }

    /// Push the plaintext onto `pieces`, the parts of a future `Blob`.
    pub fn push_to(&self, pieces: &js_sys::Array) {
        match self {
            Plain::Wasm(bytes) => {
                pieces.push(&js_sys::Uint8Array::from(*bytes));
            }
            Plain::Js(buffers) => {
                for buffer in buffers.iter() {
                    pieces.push(&buffer);
                }
            }
        }
    }
}

/// Why a part did not open.
#[derive(Debug)]
pub enum OpenFailure<F> {
    /// The key was wiped (sign-out, revocation, lease end) while the part was opening.
    Wiped,
    /// Fetching a window failed.
    Fetch(F),
    /// The bytes are not this part under this key: changed, cut, extended or misplaced.
    Decrypt,
    /// Where the plaintext goes would not take it (a file, a download cancelled).
    Save,
}

/// Windows WebCrypto may be opening at once: the next window is fetched and checked while the
/// previous one decrypts.
const IN_FLIGHT: usize = 2;

/// Fetch and open `part` (of `len` plaintext bytes) window by window: `fetch` gives the bytes of
/// a range, `sink` takes each window's plaintext in order, `progress` hears (done, total).
pub async fn open_part<K, F, Fut, E>(
    keys: &K,
    engine: Engine,
    part: Part,
    len: u64,
    fetch: F,
    mut sink: impl FnMut(Plain<'_>),
    progress: impl FnMut(u64, u64),
) -> Result<(), OpenFailure<E>>
where
    K: Keys,
    F: FnMut(Range<u64>) -> Fut,
    Fut: Future<Output = Result<Vec<u8>, E>>,
{
    open_part_paced(
        keys,
        engine,
        part,
        len,
        fetch,
        |plain| {
            sink(plain);
            None
        },
        progress,
    )
    .await
}

/// As [`open_part`], where `sink` may answer a window with a promise that settles when it wants
/// the next one (a file or a download being written): the next window is fetched and decrypted
/// while the sink writes, but handed to it only once it asked, so at most one window runs ahead of
/// the disk; a rejected promise stops the part with [`OpenFailure::Save`].
pub async fn open_part_paced<K, F, Fut, E>(
    keys: &K,
    engine: Engine,
    part: Part,
    len: u64,
    mut fetch: F,
    mut sink: impl FnMut(Plain<'_>) -> Option<js_sys::Promise>,
    mut progress: impl FnMut(u64, u64),
) -> Result<(), OpenFailure<E>>
where
    K: Keys,
    F: FnMut(Range<u64>) -> Fut,
    Fut: Future<Output = Result<Vec<u8>, E>>,
{
    let mut stream = keys
        .with(|v| v.stream(part, len))
        .ok_or(OpenFailure::Wiped)?;
    let mut engine = engine;
    let mut platform: Option<PlatformAead> = None;
    let mut in_flight: VecDeque<(Opening, (u64, u64))> = VecDeque::new();
    let mut out = Vec::new();
    // The sink's answer to the window before: awaited just before it gets the next one.
    let mut writing: Option<js_sys::Promise> = None;
    let settled = |p: Option<js_sys::Promise>| async move {
        match p {
            Some(p) => wasm_bindgen_futures::JsFuture::from(p).await.is_ok(),
            None => true,
        }
    };
    let result = loop {
        let next = stream.next_range();
        let more = next.is_some();
        if let Some(range) = next {
            let bytes = match fetch(range).await {
                Ok(b) => b,
                Err(e) => break Err(OpenFailure::Fetch(e)),
            };
            let jobs = match keys.with(|v| stream.plan(v, &bytes)) {
                None => break Err(OpenFailure::Wiped),
                Some(Err(_)) => break Err(OpenFailure::Decrypt),
                Some(Ok(jobs)) => jobs,
            };
            if let Engine::Platform(subtle) = &engine
                && platform.is_none()
            {
                let Some(key) = stream.platform_key() else {
                    break Err(OpenFailure::Decrypt);
                };
                platform = PlatformAead::import(subtle, &key).await;
                if platform.is_none() {
                    // WebCrypto refused the key: the pure-Rust AES-GCM opens this part instead.
                    engine = Engine::Rust;
                }
            }
            if let Some(aead) = &platform {
                match aead.start(&bytes, &jobs) {
                    Ok(opening) => in_flight.push_back((opening, stream.progress())),
                    Err(_) => break Err(OpenFailure::Decrypt),
                }
            } else {
                out.clear();
                if stream.open_planned(&bytes, &jobs, &mut out).is_err() {
                    break Err(OpenFailure::Decrypt);
                }
                if !settled(writing.take()).await {
                    break Err(OpenFailure::Save);
                }
                writing = sink(Plain::Wasm(&out));
                let (done, total) = stream.progress();
                progress(done, total);
                continue;
            }
        }
        if more && in_flight.len() < IN_FLIGHT {
            continue;
        }
        let Some((opening, (done, total))) = in_flight.pop_front() else {
            break Ok(());
        };
        let Ok(buffers) = opening.finish().await else {
            break Err(OpenFailure::Decrypt);
        };
        // WebCrypto answers asynchronously: a wipe in the meantime keeps this window too.
        if keys.with(|_| ()).is_none() {
            break Err(OpenFailure::Wiped);
        }
        if !settled(writing.take()).await {
            break Err(OpenFailure::Save);
        }
        writing = sink(Plain::Js(&buffers));
        progress(done, total);
    };
    // The last window written too.
    let result = match result {
        Ok(()) if !settled(writing.take()).await => Err(OpenFailure::Save),
        other => other,
    };
    out.zeroize();
    result
}

/// Open `part` into a `Blob` of type `blob_type`, as attachments are: the plaintext goes into the
/// blob window by window and is folded into it every 4 MiB (see `docs/PERFORMANCE.md`, memory).
pub async fn open_to_blob<K, F, Fut, E>(
    keys: &K,
    engine: Engine,
    part: Part,
    len: u64,
    fetch: F,
    blob_type: &str,
    progress: impl FnMut(u64, u64),
) -> Result<web_sys::Blob, OpenFailure<E>>
where
    K: Keys,
    F: FnMut(Range<u64>) -> Fut,
    Fut: Future<Output = Result<Vec<u8>, E>>,
{
    // Every 4 MiB (256 chunks) the pieces are folded into the blob, which references earlier
    // blobs without copying them: the pieces can then be collected, so memory holds the file
    // about once plus what the garbage collector has yet to free.
    const FOLD_EVERY: u32 = 4 * 64;
    let folded = core::cell::RefCell::new(None::<web_sys::Blob>);
    let pieces = js_sys::Array::new();
    let fold = |pieces: &js_sys::Array, options: &web_sys::BlobPropertyBag| {
        let parts = js_sys::Array::new();
        if let Some(blob) = folded.borrow_mut().take() {
            parts.push(&blob);
        }
        for piece in pieces.iter() {
            parts.push(&piece);
        }
        pieces.set_length(0);
        let blob = web_sys::Blob::new_with_blob_sequence_and_options(&parts, options).ok();
        let made = blob.is_some();
        *folded.borrow_mut() = blob;
        made
    };
    let mut whole = true;
    open_part(
        keys,
        engine,
        part,
        len,
        fetch,
        |plain| {
            plain.push_to(&pieces);
            if pieces.length() >= FOLD_EVERY {
                whole &= fold(&pieces, &web_sys::BlobPropertyBag::new());
            }
        },
        progress,
    )
    .await?;
    // The type the caller decided on, never a sender's raw string: a blob with an odd type could
    // be sniffed and shown as a page of the portal's origin.
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(blob_type);
    if !(whole && fold(&pieces, &options)) {
        return Err(OpenFailure::Decrypt);
    }
    folded.into_inner().ok_or(OpenFailure::Decrypt)
}
