//! Sending a reply's large files: a reply draft, each file declared and then sent window by
//! window (read from disk one window at a time, its SHA-256 from WebCrypto so the server checks
//! it), going on where the server says after a failure. Memory holds one window whatever the
//! file's size; the server seals each window as it arrives.

use js_sys::Uint8Array;
use sealpost_api::admin::{CreateDraftAttachmentRequest, DraftView};
use wasm_bindgen_futures::JsFuture;

use crate::api::{self, ApiFailure, UploadWindow};
use crate::logic::upload::{TRIES, backoff_ms, window_at, worth_retrying};

/// How far one file's upload is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub name: String,
    pub done: u64,
    pub total: u64,
}

fn unreadable(name: &str) -> ApiFailure {
    ApiFailure {
        status: 0,
        code: "file_unreadable".to_owned(),
        message: format!("{name} could not be read from your device; choose it again."),
    }
}

/// Bytes `range` of `file`, read now.
async fn read(file: &web_sys::File, range: &core::ops::Range<u64>) -> Option<Uint8Array> {
    let slice = file
        .slice_with_f64_and_f64(range.start as f64, range.end as f64)
        .ok()?;
    let buffer = JsFuture::from(slice.array_buffer()).await.ok()?;
    Some(Uint8Array::new(&buffer))
}

/// The SHA-256 of `bytes`, by WebCrypto.
async fn sha256(bytes: &Uint8Array) -> Option<Vec<u8>> {
    let subtle = crate::platform_aead::subtle()?;
    let promise = subtle
        .digest_with_str_and_js_u8_array("SHA-256", bytes)
        .ok()?;
    let digest = JsFuture::from(promise).await.ok()?;
    Some(Uint8Array::new(&digest).to_vec())
}

/// Upload `files` to a new reply draft of `message_id`; the draft's id, to name in the reply.
/// On failure the draft is removed.
pub async fn upload(
    message_id: &str,
    files: &[web_sys::File],
    progress: impl Fn(Progress),
) -> Result<String, ApiFailure> {
    let draft = api::create_draft(message_id).await?;
    match send_files(message_id, &draft, files, &progress).await {
        Ok(()) => Ok(draft.id),
        Err(f) => {
            let _ = api::delete_draft(message_id, &draft.id).await;
            Err(f)
        }
    }
}

async fn send_files(
    message_id: &str,
    draft: &DraftView,
    files: &[web_sys::File],
    progress: &impl Fn(Progress),
) -> Result<(), ApiFailure> {
    for file in files {
        let name = file.name();
        let size = file.size() as u64;
        let kind = file.type_();
        let declared = CreateDraftAttachmentRequest {
            name: name.clone(),
            content_type: (!kind.is_empty()).then_some(kind),
            content_id: None,
            size,
        };
        let index = api::add_draft_attachment(message_id, &draft.id, &declared)
            .await?
            .index;
        let mut received = 0;
        let mut tries = 1;
        progress(Progress {
            name: name.clone(),
            done: 0,
            total: size,
        });
        while received < size {
            let range = window_at(received, draft.window_size, size);
            let bytes = read(file, &range).await.ok_or_else(|| unreadable(&name))?;
            let sha = sha256(&bytes).await.ok_or_else(|| unreadable(&name))?;
            let window = UploadWindow {
                index,
                range,
                total: size,
                bytes: &bytes,
                sha256: &sha,
            };
            match api::put_window(message_id, &draft.id, &window).await {
                Ok(view) => {
                    received = view.received;
                    tries = 1;
                }
                // Its answer was lost and the window was the last: the file arrived whole.
                Err(f) if f.code == "upload_complete" => received = size,
                Err(f) if worth_retrying(f.status, &f.code) && tries < TRIES => {
                    crate::saving::sleep(backoff_ms(tries)).await;
                    tries += 1;
                    // Where the upload stands: a window whose answer was lost may be stored.
                    if let Ok(d) = api::draft(message_id, &draft.id).await
                        && let Some(a) = d.attachments.iter().find(|a| a.index == index)
                    {
                        received = a.received;
                    }
                }
                Err(f) => return Err(f),
            }
            progress(Progress {
                name: name.clone(),
                done: received,
                total: size,
            });
        }
    }
    Ok(())
}
