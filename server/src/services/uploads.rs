//! Large attachments through the API: a draft reserves a message's id and key; each attachment is
//! declared with its size, then sent window by window (`uploads.window_size` bytes each, in
//! order), and each window is sealed as it arrives and stored where the message's part will be
//! (a file written in place, or one part of an S3 multipart upload). Server memory holds at most
//! `uploads.windows_at_once` windows, whatever the attachments' sizes. Sending the draft seals only
//! the manifest and bodies.
//!
//! Resuming: what is stored is counted in whole windows in the database, so after a network error
//! (or a crash, or on another node) the client asks where to go on and sends the next window.
//! A window is stored only after all of it arrived and its SHA-256 was recorded, and a window
//! whose first attempt may have been stored is taken again only with the same bytes: the part's
//! nonces follow the chunk index, so a chunk is never sealed twice with different plaintext.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sealpost_api::admin::{
    CreateDraftAttachmentRequest, CreateDraftRequest, DraftAttachmentView, DraftView,
    SendMessageRequest, SendOptions,
};
use sealpost_envelope::chunked::{CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE};
use sealpost_envelope::part::{PartReader, PartSealer, sealed_len};
use sealpost_envelope::{
    AttachmentEntry, MessageId, MessageKey, Part, WrapBinding, unwrap_message_key, wrap_message_key,
};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::clock::rfc3339;
use crate::domain::ValidationError;
use crate::domain::address::EmailAddress;
use crate::domain::composed::{
    ComposedMessage, MAX_ATTACHMENTS, check_attachment, decode_attachments,
};
use crate::secrets::new_id;
use crate::services::error::{RefusalKind, ServiceError};
use crate::services::key_policies;
use crate::services::sending::{self, DraftSeal};
use crate::state::AppState;
use crate::store::blob_store::Upload;
use crate::store::drafts::{
    AttachmentRef, DraftAttachment, DraftLimits, NewDraft, NewDraftAttachment, Quota, StoredDraft,
    WindowRefusal,
};
use crate::store::{StoreError, Tenant, UploadedPart};

/// How long a draft is kept unsent.
pub const DRAFT_LIFETIME_SECONDS: i64 = 24 * 3600;
/// How long a recipient's reply draft is kept after it began or its last window arrived (within
/// [`DRAFT_LIFETIME_SECONDS`]): what an outsider declares and leaves is not held for a day.
pub const REPLY_DRAFT_IDLE_SECONDS: i64 = 3600;
/// The lease a window's request holds while it stores the window, and a send while it seals the
/// message (how long a window may take to arrive is `uploads.window_seconds`).
pub const WINDOW_SECONDS: i64 = 600;
/// How long a window waits for one of this node's sealing slots before it is refused.
const SLOT_WAIT: Duration = Duration::from_secs(30);

fn limits(state: &AppState) -> DraftLimits {
    let u = &state.config.uploads;
    DraftLimits {
        attachments: u32::try_from(MAX_ATTACHMENTS).unwrap_or(u32::MAX),
        tenant: Quota {
            drafts: u.max_drafts_per_tenant,
            bytes: u.max_bytes_per_tenant,
        },
        // Outsiders never take more than half of what the tenant's own senders need.
        recipients: Quota {
            drafts: (u.max_drafts_per_tenant / 2).max(1),
            bytes: u.max_bytes_per_tenant / 2,
        },
        per_recipient: Quota {
            drafts: u.max_drafts_per_recipient,
            bytes: u.max_bytes_per_recipient,
        },
    }
}

/// Whose drafts a request may reach: the admin API's, or one signed-in recipient's replies to one
/// message. Anyone else's draft is not found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner<'a> {
    Admin,
    Recipient {
        address: &'a str,
        message_id: &'a str,
    },
}

impl Owner<'_> {
    fn owns(&self, draft: &NewDraft) -> bool {
        match self {
            Owner::Admin => draft.answering.is_none(),
            Owner::Recipient {
                address,
                message_id,
            } => draft.answering.as_deref() == Some(*message_id) && draft.sender == *address,
        }
    }
}

/// Where a window of an attachment is, checked against the attachment: from the request's
/// `Content-Range: bytes first-last/size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowRange {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
    /// The whole attachment's size.
    pub total: u64,
}

impl WindowRange {
    /// Parse `bytes first-last/size` (RFC 9110 §14.4).
    pub fn parse(header: &str) -> Option<WindowRange> {
        let rest = header.trim().strip_prefix("bytes ")?;
        let (range, total) = rest.split_once('/')?;
        let (first, last) = range.split_once('-')?;
        let number = |s: &str| -> Option<u64> {
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
        };
        let (first, last, total) = (number(first)?, number(last)?, number(total)?);
        (first <= last && last < total).then_some(WindowRange {
            start: first,
            end: last + 1,
            total,
        })
    }
}

fn invalid_window(code: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::refused(RefusalKind::NotPossible, code, message)
}

fn upload_busy() -> ServiceError {
    ServiceError::conflict(
        "upload_busy",
        "Another request is sending a window of this draft's attachments right now.",
    )
}

fn draft_sending() -> ServiceError {
    ServiceError::conflict(
        "draft_sending",
        "This draft is being sent; nothing can be added to it or removed from it now.",
    )
}

fn out_of_order(received: u64) -> ServiceError {
    ServiceError::conflict(
        "upload_out_of_order",
        format!("The next window starts at byte {received}; send that one (nothing was stored)."),
    )
}

/// A draft as the API shows it.
pub fn view(draft: &StoredDraft) -> DraftView {
    DraftView {
        id: draft.draft.id.clone(),
        from: draft.draft.sender.clone(),
        expires_at: rfc3339(draft.draft.expires_at),
        window_size: draft.draft.window_size,
        attachments: draft.attachments.iter().map(attachment_view).collect(),
    }
}

/// One attachment as the API shows it.
pub fn attachment_view(a: &DraftAttachment) -> DraftAttachmentView {
    DraftAttachmentView {
        index: a.index,
        name: a.name.clone(),
        content_type: a.content_type.clone(),
        content_id: a.content_id.clone(),
        size: a.size,
        received: a.received,
        complete: a.complete(),
    }
}

fn sender_in_tenant(tenant: &Tenant, from: &str) -> Result<EmailAddress, ServiceError> {
    let from = EmailAddress::parse("from", from)?;
    sending::check_sender(tenant, &from)?;
    Ok(from)
}

/// Begin a draft from `from`, a sender of the tenant, through the admin API.
pub async fn create(
    state: &AppState,
    tenant: &Tenant,
    req: &CreateDraftRequest,
) -> Result<StoredDraft, ServiceError> {
    let from = sender_in_tenant(tenant, &req.from)?;
    begin(state, tenant, from.as_str(), None).await
}

/// Begin a reply draft of a signed-in recipient (`me`) to the message `answering`, for the
/// attachments too large for one request; its sender is the recipient.
pub async fn create_reply(
    state: &AppState,
    tenant: &Tenant,
    me: &str,
    answering: &str,
) -> Result<StoredDraft, ServiceError> {
    begin(state, tenant, me, Some(answering)).await
}

/// A draft's id and a fresh message key, wrapped under the sender's data key.
async fn begin(
    state: &AppState,
    tenant: &Tenant,
    sender: &str,
    answering: Option<&str>,
) -> Result<StoredDraft, ServiceError> {
    // A key roll can retire the data-key version between wrapping and writing (rarely): wrap
    // again under the new one.
    for _ in 0..3 {
        match begin_once(state, tenant, sender, answering).await {
            Err(ServiceError::Conflict {
                code: "key_version_retired",
                ..
            }) => continue,
            other => return other,
        }
    }
    begin_once(state, tenant, sender, answering).await
}

async fn begin_once(
    state: &AppState,
    tenant: &Tenant,
    sender: &str,
    answering: Option<&str>,
) -> Result<StoredDraft, ServiceError> {
    let (policy_id, key_version, data_key) =
        key_policies::key_for_sealing(state, tenant, sender).await?;
    let id = new_id();
    let message_id = MessageId::parse(&id).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let key = MessageKey::generate();
    let wrapped_key = wrap_message_key(
        &data_key,
        &key,
        &WrapBinding {
            tenant_id: &tenant.id,
            message_id: &message_id,
            key_version,
        },
    )
    .map_err(|e| ServiceError::Internal(format!("wrapping failed: {e}")))?;
    let now = state.clock.now();
    let draft = NewDraft {
        tenant_id: tenant.id.clone(),
        id,
        sender: sender.to_owned(),
        wrapped_key: wrapped_key.to_vec(),
        policy_id,
        key_version,
        created_at: now,
        expires_at: now
            + if answering.is_some() {
                REPLY_DRAFT_IDLE_SECONDS
            } else {
                DRAFT_LIFETIME_SECONDS
            },
        window_size: state.config.uploads.window_size,
        answering: answering.map(str::to_owned),
    };
    let u = &state.config.uploads;
    match state.store.create_draft(&draft, &limits(state)).await {
        Err(StoreError::Conflict("too_many_drafts")) if answering.is_some() => {
            Err(ServiceError::conflict(
                "too_many_drafts",
                "Too many replies with large attachments are being sent to this organisation \
                 right now; try again later, or attach smaller files.",
            ))
        }
        Err(StoreError::Conflict("too_many_drafts")) => Err(ServiceError::conflict(
            "too_many_drafts",
            format!(
                "This tenant already has {} drafts; send or delete one first.",
                u.max_drafts_per_tenant
            ),
        )),
        Err(StoreError::Conflict("key_version_retired")) => Err(ServiceError::conflict(
            "key_version_retired",
            "The data encryption policy's key was rolled meanwhile; begin the draft again.",
        )),
        Err(StoreError::Conflict("too_many_recipient_drafts")) => Err(ServiceError::conflict(
            "too_many_drafts",
            format!(
                "You are already sending {} replies with large attachments; send or discard one \
                 first.",
                u.max_drafts_per_recipient
            ),
        )),
        other => other.map_err(Into::into),
    }?;
    Ok(StoredDraft {
        draft,
        attachments: Vec::new(),
    })
}

/// A tenant's draft, unexpired, if `owner`'s.
pub async fn get(
    state: &AppState,
    tenant: &Tenant,
    owner: Owner<'_>,
    id: &str,
) -> Result<StoredDraft, ServiceError> {
    let draft = state.store.draft(&tenant.id, id, state.clock.now()).await?;
    if owner.owns(&draft.draft) {
        Ok(draft)
    } else {
        Err(ServiceError::NotFound)
    }
}

/// The draft's message key, unwrapped under the data key it was wrapped with. A key roll keeps
/// the versions drafts use (see `store_rolled_keys`), so this finds it unless a version was
/// removed some other way.
async fn draft_key(
    state: &AppState,
    tenant: &Tenant,
    draft: &NewDraft,
) -> Result<(MessageId, MessageKey), ServiceError> {
    let data_key =
        key_policies::data_key_at(state, tenant, draft.policy_id.as_deref(), draft.key_version)
            .await?
            .ok_or_else(|| {
                ServiceError::conflict(
                    "draft_key_rolled",
                    "The data encryption policy's key was rolled since this draft began; \
             begin a new draft and send its attachments again.",
                )
            })?;
    let message_id =
        MessageId::parse(&draft.id).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let key = unwrap_message_key(
        &data_key,
        &draft.wrapped_key,
        &WrapBinding {
            tenant_id: &tenant.id,
            message_id: &message_id,
            key_version: draft.key_version,
        },
    )
    .map_err(|e| ServiceError::Internal(format!("draft key: {e}")))?;
    Ok((message_id, key))
}

/// Declare an attachment of a draft.
pub async fn add_attachment(
    state: &AppState,
    tenant: &Tenant,
    owner: Owner<'_>,
    draft_id: &str,
    req: &CreateDraftAttachmentRequest,
) -> Result<DraftAttachment, ServiceError> {
    let content_type = req
        .content_type
        .clone()
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let content_id =
        crate::domain::composed::requested_content_id("content_id", req.content_id.as_deref())?;
    check_attachment("", &req.name, &content_type, content_id.as_deref())?;
    if req.size == 0 {
        return Err(ValidationError::new(
            "size",
            "empty_attachment",
            "An empty attachment has nothing to upload; put it in the send request's attachments.",
        )
        .into());
    }
    let max = state.config.uploads.max_attachment_size;
    if req.size > max {
        // A declared size, not bytes sent: the field's value is out of range.
        return Err(ValidationError::new(
            "size",
            "attachment_too_large",
            format!(
                "The attachment is {:.1} MB; the limit is {:.1} MB.",
                req.size as f64 / 1_048_576.0,
                max as f64 / 1_048_576.0
            ),
        )
        .into());
    }
    // The part's prefix binds its index, which the store assigns: try the next free one, and again
    // if another request took it meanwhile.
    for _ in 0..3 {
        let draft = get(state, tenant, owner, draft_id).await?;
        let (message_id, key) = draft_key(state, tenant, &draft.draft).await?;
        let index = u32::try_from(draft.attachments.len()).unwrap_or(u32::MAX);
        let prefix = PartSealer::start(&key, &message_id, Part::Attachment(index)).to_vec();
        drop(key);
        let new = NewDraftAttachment {
            name: req.name.clone(),
            content_type: content_type.clone(),
            content_id: content_id.clone(),
            size: req.size,
            prefix: prefix.clone(),
        };
        match state
            .store
            .add_draft_attachment(
                &tenant.id,
                draft_id,
                &new,
                &limits(state),
                index,
                state.clock.now(),
            )
            .await
        {
            Ok(()) => {
                return Ok(DraftAttachment {
                    index,
                    name: new.name,
                    content_type: new.content_type,
                    content_id: new.content_id,
                    size: new.size,
                    prefix,
                    received: 0,
                    pending: None,
                    writing_until: None,
                    upload_id: None,
                    etags: Vec::new(),
                });
            }
            Err(StoreError::Conflict("index_taken")) => continue,
            Err(StoreError::Conflict("draft_sending")) => return Err(draft_sending()),
            Err(StoreError::Conflict("too_many_attachments")) => {
                return Err(ServiceError::conflict(
                    "too_many_attachments",
                    format!("A message may have at most {MAX_ATTACHMENTS} attachments."),
                ));
            }
            Err(StoreError::Conflict("upload_quota")) => {
                let message = match owner {
                    Owner::Admin => format!(
                        "This tenant's drafts may hold {:.1} GB of attachments in all; send or \
                         delete a draft first.",
                        state.config.uploads.max_bytes_per_tenant as f64 / 1e9
                    ),
                    Owner::Recipient { .. } => "Replies to this organisation hold as many large \
                         attachments as they may right now; try again later, or attach smaller \
                         files."
                        .to_owned(),
                };
                return Err(ServiceError::refused(
                    RefusalKind::TooLarge,
                    "upload_quota",
                    message,
                ));
            }
            Err(StoreError::Conflict("recipient_upload_quota")) => {
                return Err(ServiceError::refused(
                    RefusalKind::TooLarge,
                    "upload_quota",
                    format!(
                        "Your replies being sent may hold {:.1} GB of attachments in all; send or \
                         discard one first.",
                        state.config.uploads.max_bytes_per_recipient as f64 / 1e9
                    ),
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ServiceError::conflict(
        "draft_busy",
        "Other attachments are being added to this draft right now; try again.",
    ))
}

/// The sealed length of the first `plaintext` bytes of a part (whole chunks), where the window
/// starting there is written.
fn sealed_offset(plaintext: u64) -> u64 {
    if plaintext == 0 {
        0
    } else {
        PartReader::PREFIX_LEN as u64 + plaintext / CHUNK_SIZE as u64 * ENCRYPTED_CHUNK_SIZE as u64
    }
}

/// One window of an attachment as it arrives.
pub struct Window<S> {
    /// Where it is in the attachment.
    pub range: WindowRange,
    /// The SHA-256 its sender says it has, checked.
    pub digest: Option<[u8; 32]>,
    /// Its bytes, read as they come.
    pub body: S,
}

impl<S> std::fmt::Debug for Window<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Window")
            .field("range", &self.range)
            .finish_non_exhaustive()
    }
}

/// One window, read and sealed in memory: the sealed bytes and the SHA-256 of the plaintext.
struct SealedWindow {
    sealed: Vec<u8>,
    digest: [u8; 32],
}

/// Read exactly `len` bytes of `body`, sealing them as they come.
async fn seal_window<S, E>(
    mut sealer: PartSealer,
    len: u64,
    last: bool,
    body: S,
) -> Result<SealedWindow, ServiceError>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: std::fmt::Display,
{
    let capacity = usize::try_from(sealed_len(len)).unwrap_or(0);
    let mut sealed = Vec::with_capacity(capacity);
    let mut hash = Sha256::new();
    let mut read = 0u64;
    let mut body = std::pin::pin!(body);
    while let Some(frame) = body.next().await {
        let frame = frame.map_err(|e| {
            invalid_window(
                "upload_interrupted",
                format!("The window stopped arriving ({e}); nothing of it was stored."),
            )
        })?;
        read += frame.len() as u64;
        if read > len {
            break;
        }
        hash.update(&frame);
        sealer
            .update(&frame, &mut sealed)
            .map_err(|e| ServiceError::Internal(format!("sealing a window: {e}")))?;
    }
    if read != len {
        return Err(invalid_window(
            "upload_window_length",
            format!("The window must be exactly {len} bytes, as its Content-Range says."),
        ));
    }
    if last {
        sealer
            .finalize(&mut sealed)
            .map_err(|e| ServiceError::Internal(format!("sealing a window: {e}")))?;
    }
    Ok(SealedWindow {
        sealed,
        digest: hash.finalize().into(),
    })
}

/// Receive one window of attachment `index` of a draft: sealed as it arrives, stored whole, or
/// nothing. `digest`: the SHA-256 the client says the window has (`Content-Digest`), checked.
pub async fn put_window<S, E>(
    state: &AppState,
    tenant: &Tenant,
    owner: Owner<'_>,
    draft_id: &str,
    index: u32,
    window: Window<S>,
) -> Result<DraftAttachment, ServiceError>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: std::fmt::Display,
{
    let Window {
        range,
        digest,
        body,
    } = window;
    let draft = get(state, tenant, owner, draft_id).await?;
    let attachment = draft
        .attachments
        .iter()
        .find(|a| a.index == index)
        .ok_or(ServiceError::NotFound)?;
    let window = draft.draft.window_size;
    // The window must fit the attachment as it was declared: a conflict with the draft, not a
    // malformed request.
    if range.total != attachment.size {
        return Err(ServiceError::conflict(
            "upload_size_mismatch",
            format!(
                "The attachment was declared as {} bytes; the Content-Range says {}.",
                attachment.size, range.total
            ),
        ));
    }
    if !range.start.is_multiple_of(window)
        || range.end - range.start != window.min(range.total - range.start)
    {
        return Err(ServiceError::conflict(
            "upload_window_length",
            format!(
                "Each window is {window} bytes from a multiple of {window} (the last one the rest)."
            ),
        ));
    }
    if attachment.complete() {
        return Err(ServiceError::conflict(
            "upload_complete",
            "Every byte of this attachment was received already.",
        ));
    }
    if range.start != attachment.received {
        return Err(out_of_order(attachment.received));
    }
    let (message_id, key) = draft_key(state, tenant, &draft.draft).await?;
    let part = Part::Attachment(index);
    let sealer = PartSealer::resume(
        &key,
        &message_id,
        part,
        &attachment.prefix,
        range.start / CHUNK_SIZE as u64,
    )
    .map_err(|e| ServiceError::Internal(format!("resuming the part: {e}")))?;
    drop(key);
    let last = range.end == range.total;
    // A tenant's own senders hold at most half of the node's slots, and recipients replying to
    // any tenant at most half together, so outsiders sending slowly never hold every slot.
    let share = match owner {
        Owner::Admin => tenant.id.clone(),
        Owner::Recipient { .. } => "\0recipients".to_owned(),
    };
    let slot = state
        .upload_windows
        .take(&share, SLOT_WAIT)
        .await
        .ok_or_else(|| {
            ServiceError::unavailable(
                "uploads_busy",
                "This server is sealing as many windows as it may at once (for this organisation, \
                 or for all); send the window again shortly.",
            )
        })?;
    let read = seal_window(sealer, range.end - range.start, last, body);
    let arrive = state.config.uploads.window_seconds;
    let sealed = tokio::time::timeout(Duration::from_secs(arrive), read)
        .await
        .map_err(|_| {
            invalid_window(
                "upload_too_slow",
                format!(
                    "A window must arrive within {arrive} seconds; nothing of it was stored. \
                     Send it again."
                ),
            )
        })??;
    if let Some(claimed) = digest
        && !bool::from(claimed.ct_eq(&sealed.digest))
    {
        return Err(invalid_window(
            "digest_mismatch",
            "The window's bytes do not match its Content-Digest; nothing of it was stored.",
        ));
    }
    let now = state.clock.now();
    let at = AttachmentRef {
        tenant_id: &tenant.id,
        draft_id,
        index,
    };
    let attachment = match state
        .store
        .begin_window(at, range.start, &sealed.digest, now + WINDOW_SECONDS, now)
        .await?
    {
        Ok(a) => a,
        Err(WindowRefusal::Busy) => return Err(upload_busy()),
        Err(WindowRefusal::OutOfOrder { received }) => return Err(out_of_order(received)),
        Err(WindowRefusal::Sending) => return Err(draft_sending()),
        Err(WindowRefusal::Changed) => {
            return Err(ServiceError::conflict(
                "upload_window_changed",
                "This window was sent before with other bytes; an attachment's bytes cannot \
                 change while it is uploaded. Begin a new draft to send other bytes.",
            ));
        }
    };
    let lease = attachment.writing_until.unwrap_or(now + WINDOW_SECONDS);
    // Once the whole window arrived, it is stored and recorded whether or not its request is still
    // there: a client gone mid-write would otherwise leave the attachment held until the lease
    // ends. The sealing slot is given back when the window is stored.
    let stored = tokio::spawn(store_and_commit(
        state.clone(),
        tenant.clone(),
        draft.draft,
        attachment,
        Stored {
            range,
            sealed: sealed.sealed,
            lease,
        },
        slot,
    ));
    stored
        .await
        .map_err(|e| ServiceError::Internal(format!("storing a window: {e}")))?
}

/// A window sealed and begun, to store.
struct Stored {
    range: WindowRange,
    sealed: Vec<u8>,
    lease: i64,
}

async fn store_and_commit(
    state: AppState,
    tenant: Tenant,
    draft: NewDraft,
    attachment: DraftAttachment,
    window: Stored,
    _slot: crate::connections::Slot,
) -> Result<DraftAttachment, ServiceError> {
    let Stored {
        range,
        sealed,
        lease,
    } = window;
    let at = AttachmentRef {
        tenant_id: &tenant.id,
        draft_id: &draft.id,
        index: attachment.index,
    };
    match store_window(&state, &tenant, &draft, &attachment, range, sealed).await {
        Ok(etags) => {
            state
                .store
                .commit_window(at, range.start, range.end, &etags, lease)
                .await
                .map_err(|e| match e {
                    StoreError::Conflict(_) => out_of_order(attachment.received),
                    e => e.into(),
                })?;
            if draft.answering.is_some() {
                let until = (state.clock.now() + REPLY_DRAFT_IDLE_SECONDS)
                    .min(draft.created_at + DRAFT_LIFETIME_SECONDS);
                state
                    .store
                    .keep_draft_until(&tenant.id, &draft.id, until)
                    .await?;
            }
            Ok(DraftAttachment {
                received: range.end,
                pending: None,
                writing_until: None,
                etags,
                ..attachment
            })
        }
        Err(e) => {
            // The pending digest stays: the window is taken again only with the same bytes.
            let _ = state.store.end_window(at).await;
            Err(e)
        }
    }
}

/// Write a sealed window to the blob store (beginning the S3 upload at the first, finishing it
/// at the last); returns the stored windows' ETags.
async fn store_window(
    state: &AppState,
    tenant: &Tenant,
    draft: &NewDraft,
    attachment: &DraftAttachment,
    range: WindowRange,
    sealed: Vec<u8>,
) -> Result<Vec<String>, ServiceError> {
    let draft_id = draft.id.as_str();
    let blobs = state.store.blobs();
    let part = Part::Attachment(attachment.index).name();
    let failed = |e: std::io::Error| {
        tracing::error!(error = %e, "an upload window could not be stored");
        ServiceError::unavailable(
            "blob_store_unavailable",
            "The window could not be stored; send it again.",
        )
    };
    let mut upload_id = attachment.upload_id.clone();
    if upload_id.is_none()
        && let Some(id) = blobs
            .begin_upload(&tenant.id, draft_id, &part)
            .await
            .map_err(failed)?
    {
        state
            .store
            .set_upload_id(
                AttachmentRef {
                    tenant_id: &tenant.id,
                    draft_id,
                    index: attachment.index,
                },
                &id,
            )
            .await?;
        upload_id = Some(id);
    }
    let upload = Upload {
        tenant_id: &tenant.id,
        message_id: draft_id,
        part: &part,
        upload_id: upload_id.as_deref(),
    };
    let number = usize::try_from(range.start / draft.window_size).unwrap_or(usize::MAX);
    let last = range.end == range.total;
    let mut etags: Vec<String> = attachment.etags.iter().take(number).cloned().collect();
    // S3: a last window whose upload was completed but not recorded (a failure in between) is
    // done; its upload is gone, so it cannot be stored again.
    if last
        && blobs
            .upload_completed(&upload, sealed_len(range.total))
            .await
            .map_err(failed)?
    {
        return Ok(etags);
    }
    let etag = blobs
        .write_window(&upload, number, sealed_offset(range.start), sealed, last)
        .await
        .map_err(failed)?;
    etags.extend(etag);
    if last {
        blobs.finish_upload(&upload, &etags).await.map_err(failed)?;
    }
    Ok(etags)
}

/// A draft held by one send: what the message seals from it. Give it back with [`release`] if
/// the send fails (a successful send removes it).
pub struct Claimed {
    pub draft: StoredDraft,
    pub seal: DraftSeal,
}

impl std::fmt::Debug for Claimed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claimed")
            .field("draft", &self.draft)
            .finish_non_exhaustive()
    }
}

/// Hold `owner`'s draft for one send: nothing may be added or written meanwhile, and every
/// attachment must be complete.
pub async fn claim(
    state: &AppState,
    tenant: &Tenant,
    owner: Owner<'_>,
    draft_id: &str,
) -> Result<Claimed, ServiceError> {
    get(state, tenant, owner, draft_id).await?;
    let now = state.clock.now();
    match state
        .store
        .claim_draft(&tenant.id, draft_id, now + WINDOW_SECONDS, now)
        .await
    {
        Err(StoreError::Conflict("draft_sending")) => return Err(draft_sending()),
        Err(StoreError::Conflict("upload_busy")) => return Err(upload_busy()),
        other => other?,
    }
    let claimed = sealed_attachments(state, tenant, owner, draft_id).await;
    if claimed.is_err() {
        release(state, tenant, draft_id).await;
    }
    claimed
}

/// Give back a draft a failed send held.
pub async fn release(state: &AppState, tenant: &Tenant, draft_id: &str) {
    if let Err(e) = state.store.release_draft(&tenant.id, draft_id).await {
        tracing::warn!(error = %e, "a draft could not be released after a failed send");
    }
}

async fn sealed_attachments(
    state: &AppState,
    tenant: &Tenant,
    owner: Owner<'_>,
    draft_id: &str,
) -> Result<Claimed, ServiceError> {
    let draft = get(state, tenant, owner, draft_id).await?;
    if let Some(a) = draft.attachments.iter().find(|a| !a.complete()) {
        return Err(ServiceError::conflict(
            "upload_incomplete",
            format!(
                "Attachment {} ({}) has {} of its {} bytes; send the rest first.",
                a.index, a.name, a.received, a.size
            ),
        ));
    }
    let (_, key) = draft_key(state, tenant, &draft.draft).await?;
    let seal = DraftSeal {
        id: draft.draft.id.clone(),
        key,
        attachments: draft
            .attachments
            .iter()
            .map(|a| AttachmentEntry {
                name: a.name.clone(),
                content_type: a.content_type.clone(),
                size: a.size,
                content_id: a.content_id.clone(),
            })
            .collect(),
        parts: draft
            .attachments
            .iter()
            .map(|a| UploadedPart {
                name: Part::Attachment(a.index).name(),
                size: sealed_len(a.size),
            })
            .collect(),
    };
    Ok(Claimed { draft, seal })
}

/// Whether `uploaded` attachments of a draft and `inline` ones of the request fit in a message.
pub fn check_attachment_count(uploaded: usize, inline: usize) -> Result<(), ServiceError> {
    if uploaded + inline > MAX_ATTACHMENTS {
        return Err(ServiceError::conflict(
            "too_many_attachments",
            format!("A message may have at most {MAX_ATTACHMENTS} attachments."),
        ));
    }
    Ok(())
}

/// Send a draft begun through the admin API: every attachment must be complete; `req.from` must
/// be the draft's sender. The request's own attachments (base64) follow the uploaded ones.
pub async fn send(
    state: &AppState,
    tenant: &Tenant,
    actor: &str,
    draft_id: &str,
    req: &SendMessageRequest,
) -> Result<String, ServiceError> {
    let from = sender_in_tenant(tenant, &req.from)?;
    let claimed = claim(state, tenant, Owner::Admin, draft_id).await?;
    let sent = send_claimed(state, tenant, actor, req, &from, claimed).await;
    if sent.is_err() {
        release(state, tenant, draft_id).await;
    }
    sent
}

async fn send_claimed(
    state: &AppState,
    tenant: &Tenant,
    actor: &str,
    req: &SendMessageRequest,
    from: &EmailAddress,
    claimed: Claimed,
) -> Result<String, ServiceError> {
    let Claimed { draft, seal } = claimed;
    if !from.as_str().eq_ignore_ascii_case(&draft.draft.sender) {
        return Err(ServiceError::conflict(
            "draft_sender_changed",
            format!(
                "This draft is from {}; its attachments are sealed for that sender.",
                draft.draft.sender
            ),
        ));
    }
    check_attachment_count(draft.attachments.len(), req.attachments.len())?;
    let attachments = decode_attachments(&req.attachments)?;
    // The draft's attachments may be all the message has.
    let bodiless = req.text.is_none() && req.html.is_none() && req.attachments.is_empty();
    let with_body;
    let req = if bodiless && !draft.attachments.is_empty() {
        with_body = SendMessageRequest {
            text: Some(String::new()),
            ..req.clone()
        };
        &with_body
    } else {
        req
    };
    let composed = ComposedMessage::from_request(req, attachments, state.config.max_message_size)?;
    let options = SendOptions {
        branding_template: req.branding_template.clone(),
        rights_template: req.rights_template.clone(),
        expires_in_days: req.expires_in_days,
    };
    sending::send_draft(state, tenant, actor, composed, options, seal).await
}

/// Remove `owner`'s draft and what was uploaded for it.
pub async fn delete(
    state: &AppState,
    tenant: &Tenant,
    owner: Owner<'_>,
    id: &str,
) -> Result<(), ServiceError> {
    get(state, tenant, owner, id).await?;
    let draft = match state
        .store
        .delete_draft(&tenant.id, id, state.clock.now())
        .await
    {
        Err(StoreError::Conflict(_)) => return Err(draft_sending()),
        other => other?,
    };
    remove_uploads(state, &draft).await;
    Ok(())
}

async fn remove_uploads(state: &AppState, draft: &StoredDraft) {
    let blobs = state.store.blobs();
    let (tenant_id, id) = (&draft.draft.tenant_id, &draft.draft.id);
    for a in &draft.attachments {
        let part = Part::Attachment(a.index).name();
        let upload = Upload {
            tenant_id,
            message_id: id,
            part: &part,
            upload_id: a.upload_id.as_deref(),
        };
        if let Err(e) = blobs.abort_upload(&upload).await {
            tracing::warn!(error = %e, "an unfinished upload could not be aborted");
        }
    }
    // Best effort: what is left is removed by a later start's sweep.
    if let Err(e) = blobs.remove(tenant_id, id).await {
        tracing::warn!(error = %e, "a draft's uploads could not be removed");
    }
}

/// Remove the reply drafts answering a message, of every recipient or of one (the message was
/// revoked for them: they may not reply any more), with their uploads. A draft being sent is left
/// to its send.
pub async fn remove_reply_drafts(
    state: &AppState,
    tenant: &Tenant,
    message_id: &str,
    recipient: Option<&str>,
) -> Result<(), ServiceError> {
    let drafts = state.store.drafts_answering(&tenant.id, message_id).await?;
    let theirs = drafts
        .into_iter()
        .filter(|(_, sender)| recipient.is_none_or(|r| r == sender));
    for (id, _) in theirs {
        match state
            .store
            .delete_draft(&tenant.id, &id, state.clock.now())
            .await
        {
            Ok(draft) => remove_uploads(state, &draft).await,
            Err(StoreError::NotFound | StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Remove drafts that expired, with their uploads; returns how many.
pub async fn sweep(state: &AppState) -> Result<usize, ServiceError> {
    let expired = state.store.expired_drafts(state.clock.now(), 100).await?;
    let mut removed = 0;
    for draft in expired {
        match state
            .store
            .delete_draft(&draft.draft.tenant_id, &draft.draft.id, state.clock.now())
            .await
        {
            Ok(draft) => {
                remove_uploads(state, &draft).await;
                removed += 1;
            }
            // Another node took it, or a send holds it now.
            Err(StoreError::NotFound | StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(removed)
}

/// [`sweep`] every minute.
pub async fn sweep_every_minute(state: AppState) {
    loop {
        match sweep(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(drafts = n, "removed drafts nobody sent in time"),
            Err(e) => tracing::error!(error = %e, "expired drafts could not be removed"),
        }
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges_are_read_strictly() {
        assert_eq!(
            WindowRange::parse("bytes 0-99/1000"),
            Some(WindowRange {
                start: 0,
                end: 100,
                total: 1000
            })
        );
        for bad in [
            "bytes 0-99/*",
            "bytes */1000",
            "bytes 100-99/1000",
            "bytes 0-1000/1000",
            "bytes -1-5/10",
            "items 0-9/10",
            "bytes 0-9/10/",
            "bytes +0-9/10",
            "bytes 0-99999999999999999999999/10",
        ] {
            assert_eq!(WindowRange::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn windows_are_written_where_their_chunks_go() {
        assert_eq!(sealed_offset(0), 0);
        let window = 4 * CHUNK_SIZE as u64;
        assert_eq!(sealed_offset(window), 57 + 4 * ENCRYPTED_CHUNK_SIZE as u64);
        // The whole part: every window's offset plus the last window's sealed length.
        let size = 2 * window + 10;
        assert_eq!(
            sealed_offset(2 * window) + 10 + 16,
            sealed_len(size),
            "the last window holds the final short chunk"
        );
    }
}
