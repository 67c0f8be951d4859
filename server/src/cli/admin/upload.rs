//! `sealpost send --attach` for files too large for one request: a draft, each large file sent
//! window by window from disk (memory holds one window, whatever the file's size), a window that
//! fails sent again from where the server says it stopped, then the draft sent.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sealpost_api::admin::{
    CreateDraftAttachmentRequest, CreateDraftRequest, DraftAttachmentView, DraftView,
    SendMessageRequest,
};
use sha2::{Digest, Sha256};
use ureq::http::Method;

use super::client::{Answer, Body, Client, Failure, segment};

/// Files larger than this go through a draft; smaller ones travel inside the send request.
pub const INLINE_LIMIT: u64 = 4 * 1024 * 1024;

/// Times one window is tried before the upload gives up.
const TRIES: u32 = 5;

/// A file to upload: its path, name and content type.
pub struct LargeFile<'a> {
    pub path: &'a Path,
    pub name: String,
    pub content_type: &'static str,
}

fn io(path: &Path, e: std::io::Error) -> Failure {
    Failure::Usage(format!("cannot read {}: {e}", path.display()))
}

/// Send `request` with `files` uploaded first through a draft; returns the send's answer.
pub fn send(
    client: &Client,
    request: &SendMessageRequest,
    files: &[LargeFile<'_>],
) -> Result<Answer, Failure> {
    let draft: DraftView = client
        .call(
            Method::POST,
            "/drafts",
            Body::json(&CreateDraftRequest {
                from: request.from.clone(),
            })?,
        )?
        .parse()?;
    let id = segment(&draft.id);
    let sent = (|| {
        for file in files {
            upload(client, &id, draft.window_size, file)?;
        }
        client.call(
            Method::POST,
            &format!("/drafts/{id}/send"),
            Body::json(request)?,
        )
    })();
    if sent.is_err() {
        // Best effort: an unsent draft also goes by itself after a day.
        let _ = client.call(Method::DELETE, &format!("/drafts/{id}"), Body::Empty);
    }
    sent
}

fn upload(client: &Client, id: &str, window: u64, file: &LargeFile<'_>) -> Result<(), Failure> {
    let mut f = std::fs::File::open(file.path).map_err(|e| io(file.path, e))?;
    let size = f.metadata().map_err(|e| io(file.path, e))?.len();
    let declared: DraftAttachmentView = client
        .call(
            Method::POST,
            &format!("/drafts/{id}/attachments"),
            Body::json(&CreateDraftAttachmentRequest {
                name: file.name.clone(),
                content_type: Some(file.content_type.to_owned()),
                content_id: None,
                size,
            })?,
        )?
        .parse()?;
    let path = format!("/drafts/{id}/attachments/{}", declared.index);
    let mut received = declared.received;
    let mut failures = 0;
    let mut buf = Vec::new();
    while received < size {
        let len = window.min(size - received);
        buf.resize(usize::try_from(len).unwrap_or(usize::MAX), 0);
        f.seek(SeekFrom::Start(received))
            .and_then(|_| f.read_exact(&mut buf))
            .map_err(|e| io(file.path, e))?;
        let digest = format!("sha-256=:{}:", BASE64.encode(Sha256::digest(&buf)));
        let range = format!("bytes {received}-{}/{size}", received + len - 1);
        match client.call(
            Method::PUT,
            &path,
            Body::Window {
                range,
                digest,
                bytes: std::mem::take(&mut buf),
            },
        ) {
            Ok(answer) => {
                received = answer.parse::<DraftAttachmentView>()?.received;
                failures = 0;
            }
            // The last window's answer was lost: the server has the whole file.
            Err(Failure::Refused { body, .. }) if body.code == "upload_complete" => received = size,
            Err(e) if failures + 1 < TRIES && retryable(&e) => {
                failures += 1;
                // A window whose connection broke may still be being stored: wait a little more
                // each time.
                std::thread::sleep(std::time::Duration::from_millis(250 << failures));
                eprintln!(
                    "{}: a window failed ({e}); going on from where the server stopped",
                    file.name
                );
                let draft: DraftView = client
                    .call(Method::GET, &format!("/drafts/{id}"), Body::Empty)?
                    .parse()?;
                received = draft
                    .attachments
                    .iter()
                    .find(|a| a.index == declared.index)
                    .map_or(received, |a| a.received);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Whether sending the window again may work: the connection or the server failed, or the
/// server counts another place to go on from.
fn retryable(e: &Failure) -> bool {
    match e {
        Failure::Unavailable(_) => true,
        Failure::Refused { body, .. } => matches!(
            body.code.as_str(),
            "upload_out_of_order"
                | "upload_busy"
                | "request_timeout"
                | "upload_too_slow"
                | "upload_interrupted"
        ),
        _ => false,
    }
}
