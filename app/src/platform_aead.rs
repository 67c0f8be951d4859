//! Each chunk's AES-256-GCM handed to the browser's WebCrypto (`crypto.subtle`), which runs it in
//! native code with the CPU's AES instructions: about ten times the speed of AES in WebAssembly
//! here (docs/PERFORMANCE.md). Only the AES-GCM moves: the key derivation, the commitment, the
//! chunk framing and the truncation checks stay in Rust ([`crate::opening::PartStream::plan`]).
//!
//! The part's derived key (never the message key) is imported as a *non-extractable* `CryptoKey`:
//! no script can read it back. Its bytes pass through one short-lived JavaScript array, zeroed as
//! soon as `importKey` has copied them. WebCrypto is there only in a secure context (HTTPS or
//! localhost); elsewhere, or if it refuses the key, [`crate::reading`] uses the envelope's pure-Rust
//! AES-GCM instead.

use js_sys::{Array, ArrayBuffer, Promise, Reflect, Uint8Array};
use sealpost_envelope::Error;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AesGcmParams, CryptoKey, SubtleCrypto};

use crate::opening::ChunkJob;

/// The page's `crypto.subtle`, if it has one (secure contexts only).
pub fn subtle() -> Option<SubtleCrypto> {
    let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")).ok()?;
    let subtle = Reflect::get(&crypto, &JsValue::from_str("subtle")).ok()?;
    subtle.dyn_into::<SubtleCrypto>().ok()
}

/// One part's AES-256-GCM key inside WebCrypto.
#[derive(Debug)]
pub struct PlatformAead {
    subtle: SubtleCrypto,
    key: CryptoKey,
}

impl PlatformAead {
    /// Import `key` for decryption only, non-extractable. `None` if WebCrypto refuses it.
    pub async fn import(subtle: &SubtleCrypto, key: &[u8; 32]) -> Option<PlatformAead> {
        let bytes = Uint8Array::from(&key[..]);
        let usages = Array::of1(&JsValue::from_str("decrypt"));
        // importKey copies the bytes before it returns its promise, so they are zeroed at once.
        let imported = subtle.import_key_with_str("raw", &bytes, "AES-GCM", false, &usages);
        bytes.fill(0, 0, 32);
        let key = JsFuture::from(imported.ok()?).await.ok()?;
        Some(PlatformAead {
            subtle: subtle.clone(),
            key: key.dyn_into().ok()?,
        })
    }

    /// Start opening the chunks of one window, all at once (WebCrypto works on them in parallel
    /// while the page goes on); [`PlatformAead::finish`] waits for them.
    pub fn start(&self, window: &[u8], jobs: &[ChunkJob]) -> Result<Opening, Error> {
        let pending = Array::new();
        for job in jobs {
            let chunk = window.get(job.within.clone()).ok_or(Error::Truncated)?;
            let params = AesGcmParams::new("AES-GCM", &Uint8Array::from(&job.nonce[..]));
            params.set_tag_length(128);
            // decrypt copies the chunk (a view of WebAssembly memory) before it returns.
            let promise = self
                .subtle
                .decrypt_with_object_and_u8_array(&params, &self.key, chunk)
                .map_err(|_| Error::DecryptionFailed)?;
            pending.push(&promise);
        }
        Ok(Opening {
            all: Promise::all(&pending),
            chunks: jobs.len(),
        })
    }
}

/// One window's chunks being opened by WebCrypto.
#[derive(Debug)]
pub struct Opening {
    all: Promise,
    chunks: usize,
}

impl Opening {
    /// The window's plaintext in order, one `ArrayBuffer` a chunk, never copied into WebAssembly
    /// memory. Any chunk that does not authenticate fails the window with
    /// [`Error::DecryptionFailed`].
    pub async fn finish(self) -> Result<Array, Error> {
        let opened = JsFuture::from(self.all)
            .await
            .map_err(|_| Error::DecryptionFailed)?;
        let opened: Array = opened.dyn_into().map_err(|_| Error::DecryptionFailed)?;
        let whole = opened.length() as usize == self.chunks
            && opened.iter().all(|p| p.is_instance_of::<ArrayBuffer>());
        if whole {
            Ok(opened)
        } else {
            Err(Error::DecryptionFailed)
        }
    }
}
