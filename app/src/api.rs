//! The portal's one door to the server: every request goes through here, typed with `sealpost-api`.
//! Every state-changing request carries the CSRF header; the session cookie travels by itself
//! (same-origin, HttpOnly: this code never sees it).

use core::ops::Range;

use gloo_net::http::{Request, RequestBuilder, Response};
use sealpost_api::ErrorBody;
use sealpost_api::admin::{CreateDraftAttachmentRequest, DraftAttachmentView, DraftView};
use sealpost_api::recipient::{
    AccessView, CSRF_HEADER, ForwardRequest, KeyRequest, KeyResponse, LinkRequest, LinkView,
    NewPasskeyRequest, PasscodeRequest, PasscodeResponse, PasskeyChallenge,
    PasskeyChallengeRequest, PasskeySignInRequest, PasskeyView, PasskeysView, ReplyRequest,
    SentView, SessionView, SignInRequest, SocialSignInRequest, SocialSignInStart,
};
use sealpost_api::sender::{
    SenderPasscodeRequest, SenderSessionView, SenderSignInRequest, SentMessagesView,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A request that did not produce the expected answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    /// HTTP status (0 when the server was not reached).
    pub status: u16,
    /// Stable code (from the server's [`ErrorBody`], or `network`).
    pub code: String,
    /// A sentence for a person (English, from the server).
    pub message: String,
}

impl ApiFailure {
    fn network() -> Self {
        ApiFailure {
            status: 0,
            code: "network".to_owned(),
            message: "The secure message service could not be reached.".to_owned(),
        }
    }
}

type Answer<T> = Result<T, ApiFailure>;

fn url(message_id: &str, rest: &str) -> String {
    format!("/api/m/{message_id}/{rest}")
}

async fn failure(response: Response) -> ApiFailure {
    let status = response.status();
    match response.json::<ErrorBody>().await {
        Ok(body) => ApiFailure {
            status,
            code: body.code,
            message: body.message,
        },
        Err(_) => ApiFailure {
            status,
            ..ApiFailure::network()
        },
    }
}

async fn send(request: Result<Request, gloo_net::Error>) -> Answer<Response> {
    let request = request.map_err(|_| ApiFailure::network())?;
    let response = request.send().await.map_err(|_| ApiFailure::network())?;
    if response.ok() {
        Ok(response)
    } else {
        Err(failure(response).await)
    }
}

async fn json<T: DeserializeOwned>(request: Result<Request, gloo_net::Error>) -> Answer<T> {
    send(request)
        .await?
        .json()
        .await
        .map_err(|_| ApiFailure::network())
}

fn post(message_id: &str, rest: &str) -> RequestBuilder {
    Request::post(&url(message_id, rest)).header(CSRF_HEADER, "1")
}

fn post_json(
    message_id: &str,
    rest: &str,
    body: &impl Serialize,
) -> Result<Request, gloo_net::Error> {
    post(message_id, rest).json(body)
}

/// `POST /link`: branding and state for the link token.
pub async fn link_by_token(message_id: &str, token: &str) -> Answer<LinkView> {
    let body = LinkRequest {
        token: token.to_owned(),
    };
    json(post_json(message_id, "link", &body)).await
}

/// `GET /link`: the same, for a signed-in page.
pub async fn link_signed_in(message_id: &str) -> Answer<LinkView> {
    json(Request::get(&url(message_id, "link")).build()).await
}

/// `POST /passcode`.
pub async fn request_passcode(message_id: &str, token: &str) -> Answer<PasscodeResponse> {
    let body = PasscodeRequest {
        token: token.to_owned(),
    };
    json(post_json(message_id, "passcode", &body)).await
}

/// `POST /session`.
pub async fn sign_in(
    message_id: &str,
    token: &str,
    passcode: &str,
    keep_signed_in: bool,
) -> Answer<SessionView> {
    let body = SignInRequest {
        token: token.to_owned(),
        passcode: passcode.to_owned(),
        keep_signed_in,
    };
    json(post_json(message_id, "session", &body)).await
}

/// `POST /social/{provider}`: where to send the browser to sign in with the provider.
pub async fn social_start(
    message_id: &str,
    provider: &str,
    token: &str,
    keep_signed_in: bool,
) -> Answer<SocialSignInStart> {
    let body = SocialSignInRequest {
        token: token.to_owned(),
        keep_signed_in,
    };
    json(post_json(message_id, &format!("social/{provider}"), &body)).await
}

/// `POST /passkey-sign-in/challenge`.
pub async fn passkey_sign_in_challenge(message_id: &str, token: &str) -> Answer<PasskeyChallenge> {
    let body = PasskeyChallengeRequest {
        token: token.to_owned(),
    };
    json(post_json(message_id, "passkey-sign-in/challenge", &body)).await
}

/// `POST /passkey-sign-in`.
pub async fn passkey_sign_in(
    message_id: &str,
    token: &str,
    challenge: String,
    credential: serde_json::Value,
    keep_signed_in: bool,
) -> Answer<SessionView> {
    let body = PasskeySignInRequest {
        token: token.to_owned(),
        challenge,
        credential,
        keep_signed_in,
    };
    json(post_json(message_id, "passkey-sign-in", &body)).await
}

/// `POST /passkeys/challenge` (signed in).
pub async fn passkey_challenge(message_id: &str) -> Answer<PasskeyChallenge> {
    json(post(message_id, "passkeys/challenge").build()).await
}

/// `POST /passkeys` (signed in).
pub async fn add_passkey(
    message_id: &str,
    challenge: String,
    credential: serde_json::Value,
) -> Answer<PasskeyView> {
    let body = NewPasskeyRequest {
        challenge,
        credential,
        name: None,
    };
    json(post_json(message_id, "passkeys", &body)).await
}

/// `GET /passkeys` (signed in).
pub async fn passkeys(message_id: &str) -> Answer<PasskeysView> {
    json(Request::get(&url(message_id, "passkeys")).build()).await
}

/// `DELETE /passkeys/{id}` (signed in).
pub async fn remove_passkey(message_id: &str, id: &str) -> Answer<()> {
    send(
        Request::delete(&url(message_id, &format!("passkeys/{id}")))
            .header(CSRF_HEADER, "1")
            .build(),
    )
    .await
    .map(|_| ())
}

/// `GET /session`.
pub async fn session(message_id: &str) -> Answer<SessionView> {
    json(Request::get(&url(message_id, "session")).build()).await
}

/// `DELETE /session`.
pub async fn sign_out(message_id: &str) -> Answer<()> {
    send(
        Request::delete(&url(message_id, "session"))
            .header(CSRF_HEADER, "1")
            .build(),
    )
    .await
    .map(|_| ())
}

/// `POST /key` with this page's public key (base64url).
pub async fn key(message_id: &str, public_key: String) -> Answer<KeyResponse> {
    json(post_json(message_id, "key", &KeyRequest { public_key })).await
}

/// `GET /access`.
pub async fn access(message_id: &str) -> Answer<AccessView> {
    json(Request::get(&url(message_id, "access")).build()).await
}

/// `GET /parts/{name}` for `range` (exactly those bytes, or a failure).
pub async fn part_range(message_id: &str, name: &str, range: Range<u64>) -> Answer<Vec<u8>> {
    if range.is_empty() {
        return Ok(Vec::new());
    }
    let header = format!("bytes={}-{}", range.start, range.end - 1);
    let response = send(
        Request::get(&url(message_id, &format!("parts/{name}")))
            .header("range", &header)
            .build(),
    )
    .await?;
    let bytes = response.binary().await.map_err(|_| ApiFailure::network())?;
    // A server that ignored the range sends the whole part from byte 0.
    if response.status() == 200 {
        let start = range.start as usize;
        let end = (range.end as usize).min(bytes.len());
        return Ok(bytes
            .get(start..end)
            .map(<[u8]>::to_vec)
            .unwrap_or_default());
    }
    Ok(bytes)
}

/// `GET /parts/{name}`, whole (the manifest, whose size is not known in advance).
pub async fn part_whole(message_id: &str, name: &str) -> Answer<Vec<u8>> {
    send(Request::get(&url(message_id, &format!("parts/{name}"))).build())
        .await?
        .binary()
        .await
        .map_err(|_| ApiFailure::network())
}

/// Which answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerKind {
    /// To the sender.
    Reply,
    /// To the sender and everyone the message went to.
    ReplyAll,
}

/// `POST /reply` or `/reply-all`.
pub async fn reply(message_id: &str, kind: AnswerKind, body: &ReplyRequest) -> Answer<SentView> {
    let path = match kind {
        AnswerKind::Reply => "reply",
        AnswerKind::ReplyAll => "reply-all",
    };
    json(post_json(message_id, path, body)).await
}

/// `POST /drafts`: a reply draft, for attachments too large for one request.
pub async fn create_draft(message_id: &str) -> Answer<DraftView> {
    json(post(message_id, "drafts").build()).await
}

/// `GET /drafts/{id}`: how far each attachment's upload is.
pub async fn draft(message_id: &str, draft: &str) -> Answer<DraftView> {
    json(Request::get(&url(message_id, &format!("drafts/{draft}"))).build()).await
}

/// `DELETE /drafts/{id}`.
pub async fn delete_draft(message_id: &str, draft: &str) -> Answer<()> {
    send(
        Request::delete(&url(message_id, &format!("drafts/{draft}")))
            .header(CSRF_HEADER, "1")
            .build(),
    )
    .await
    .map(|_| ())
}

/// `POST /drafts/{id}/attachments`: declare a file.
pub async fn add_draft_attachment(
    message_id: &str,
    draft: &str,
    body: &CreateDraftAttachmentRequest,
) -> Answer<DraftAttachmentView> {
    json(post_json(
        message_id,
        &format!("drafts/{draft}/attachments"),
        body,
    ))
    .await
}

/// One window of a file being uploaded: where it is, its bytes and their SHA-256.
pub struct UploadWindow<'a> {
    pub index: u32,
    pub range: Range<u64>,
    pub total: u64,
    pub bytes: &'a js_sys::Uint8Array,
    pub sha256: &'a [u8],
}

/// `PUT /drafts/{id}/attachments/{index}`: one window, with `Content-Range` and `Content-Digest`.
pub async fn put_window(
    message_id: &str,
    draft: &str,
    w: &UploadWindow<'_>,
) -> Answer<DraftAttachmentView> {
    use base64::Engine as _;
    let digest = base64::engine::general_purpose::STANDARD.encode(w.sha256);
    json(
        Request::put(&url(
            message_id,
            &format!("drafts/{draft}/attachments/{}", w.index),
        ))
        .header(CSRF_HEADER, "1")
        .header("content-type", "application/octet-stream")
        .header(
            "content-range",
            &format!(
                "bytes {}-{}/{}",
                w.range.start,
                w.range.end.saturating_sub(1),
                w.total
            ),
        )
        .header("content-digest", &format!("sha-256=:{digest}:"))
        .body(w.bytes.clone()),
    )
    .await
}

/// `POST /forward`.
pub async fn forward(message_id: &str, body: &ForwardRequest) -> Answer<SentView> {
    json(post_json(message_id, "forward", body)).await
}

/// `POST /api/sender/passcode`: a passcode to the sender's own address.
pub async fn sender_passcode(address: &str) -> Answer<PasscodeResponse> {
    let body = SenderPasscodeRequest {
        address: address.to_owned(),
    };
    json(
        Request::post("/api/sender/passcode")
            .header(CSRF_HEADER, "1")
            .json(&body),
    )
    .await
}

/// `POST /api/sender/session`.
pub async fn sender_sign_in(address: &str, passcode: &str) -> Answer<SenderSessionView> {
    let body = SenderSignInRequest {
        address: address.to_owned(),
        passcode: passcode.to_owned(),
    };
    json(
        Request::post("/api/sender/session")
            .header(CSRF_HEADER, "1")
            .json(&body),
    )
    .await
}

/// `GET /api/sender/session`.
pub async fn sender_session() -> Answer<SenderSessionView> {
    json(Request::get("/api/sender/session").build()).await
}

/// `DELETE /api/sender/session`.
pub async fn sender_sign_out() -> Answer<()> {
    send(
        Request::delete("/api/sender/session")
            .header(CSRF_HEADER, "1")
            .build(),
    )
    .await
    .map(|_| ())
}

/// `GET /api/sender/messages`.
pub async fn sent_messages() -> Answer<SentMessagesView> {
    json(Request::get("/api/sender/messages").build()).await
}

/// Remove external access to a sent message, for everyone or for one recipient.
pub async fn remove_access(message_id: &str, recipient: Option<&str>) -> Answer<SentMessagesView> {
    let path = match recipient {
        None => format!("/api/sender/messages/{message_id}/revoke"),
        Some(r) => format!(
            "/api/sender/messages/{message_id}/recipients/{}/revoke",
            js_sys::encode_uri_component(r)
        ),
    };
    json(Request::post(&path).header(CSRF_HEADER, "1").build()).await
}
