//! `/api/m/{message}/*`: what a recipient's page calls. Sign-in with an emailed passcode
//! ([`sign_in`]), key release and the access check ([`key`]), sealed parts ([`parts`]), and
//! reply / reply-all / forward ([`answers`]) with their large attachments uploaded first
//! ([`drafts`]).
//!
//! The session is a `__Host-` cookie per message (so two messages can be open in two tabs), holding
//! 256 random bits; the database keeps only their SHA-256. Unsafe requests pass the
//! [`csrf`](crate::http::routes::csrf) guard.

mod answers;
mod drafts;
mod key;
mod link;
mod parts;
mod passkeys;
mod sign_in;
mod social;

pub use passkeys::view as passkey_view;
pub use social::callback_router;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::{FromRequestParts, Path};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware;
use axum::response::Response;
use sealpost_api::ErrorCode;

use super::cookies::cookie;
use super::csrf::require_csrf_header;
use crate::clock::human_date;
use crate::domain::release::{Refusal, ReleaseFacts};
use crate::domain::rights::{Right, Rights};
use crate::http::error::ApiError;
use crate::secrets::hash_secret;
use crate::state::AppState;
use crate::store::portal::{SessionContext, StoredSession};
use crate::store::{StoreError, StoredMessage, Tenant};

/// The recipient routes (mounted under `/api/m`).
pub fn router() -> Router<AppState> {
    // Signing in, the link, the key, the parts and a reply draft's attachments take a few hundred
    // bytes of JSON at most (a draft's windows are read as a stream, exactly as long as their
    // Content-Range says); a reply or forward reads its own body, up to the message size limit.
    let small = Router::new()
        .merge(sign_in::router())
        .merge(link::router())
        .merge(key::router())
        .merge(parts::router())
        .merge(social::router())
        .merge(passkeys::router())
        .merge(drafts::router())
        .layer(DefaultBodyLimit::max(SMALL_BODY));
    Router::new()
        .merge(small)
        .merge(answers::router())
        .layer(middleware::from_fn(require_csrf_header))
}

/// The largest body the portal's small requests may have (sign-in, link, key, access): 16 KiB.
pub const SMALL_BODY: usize = 16 * 1024;

/// Whether `s` has the form of a message id (32 lower-case hex digits), so it is safe in a cookie
/// name.
pub fn is_message_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The name of the session cookie for a message.
pub fn cookie_name(message_id: &str) -> String {
    format!("__Host-sp-{message_id}")
}

/// A request from a recipient with a live session for the message in the path.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// SHA-256 of the session id.
    pub id_hash: [u8; 32],
    pub session: StoredSession,
    /// The message (the session's own, so another message's id in the path never reaches here).
    pub message: StoredMessage,
    pub tenant: Tenant,
}

fn session_required() -> ApiError {
    ApiError::refused(
        StatusCode::UNAUTHORIZED,
        ErrorCode::SessionRequired.as_str(),
        "Sign in with the passcode we email you to read this message.",
    )
}

/// Why a request is not signed in; `ended` is the session (with its message and tenant) when it
/// was found but is over, so the key route can record who was refused.
#[derive(Debug)]
pub struct NotSignedIn {
    /// The answer.
    pub error: ApiError,
    /// The session that just ended, if that is the reason.
    pub ended: Option<Box<SessionContext>>,
}

impl From<ApiError> for NotSignedIn {
    fn from(error: ApiError) -> Self {
        NotSignedIn { error, ended: None }
    }
}

impl From<StoreError> for NotSignedIn {
    fn from(e: StoreError) -> Self {
        ApiError::from(e).into()
    }
}

impl axum::response::IntoResponse for NotSignedIn {
    fn into_response(self) -> Response {
        self.error.into_response()
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = NotSignedIn;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Path(params) = Path::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound)?;
        let message_id = params
            .iter()
            .find(|(k, _)| k == "message")
            .map(|(_, v)| v.as_str())
            .ok_or(ApiError::NotFound)?;
        let secret = cookie(&parts.headers, &cookie_name(message_id))
            .ok_or_else(|| NotSignedIn::from(session_required()))?;
        let id_hash = hash_secret(secret);
        let SessionContext {
            session,
            message,
            tenant,
        } = match state.store.session_context(&id_hash).await {
            Ok(c) => c,
            Err(StoreError::NotFound) => return Err(session_required().into()),
            Err(e) => return Err(e.into()),
        };
        if session.scope != message_id {
            return Err(session_required().into());
        }
        if !session.times.is_live(state.clock.now()) {
            state.store.end_session(&id_hash).await?;
            return Err(NotSignedIn {
                error: ApiError::refused(
                    StatusCode::UNAUTHORIZED,
                    ErrorCode::SessionExpired.as_str(),
                    "Your session has ended. Ask for a new passcode to sign in again.",
                ),
                ended: Some(Box::new(SessionContext {
                    session,
                    message,
                    tenant,
                })),
            });
        }
        Ok(SignedIn {
            id_hash,
            session,
            message,
            tenant,
        })
    }
}

impl SignedIn {
    /// The hash of the session's id if its use at `now` is to be written (see [`Self::touch`]).
    pub fn touch_due(&self, now: i64) -> Option<[u8; 32]> {
        self.session.times.needs_touch(now).then_some(self.id_hash)
    }

    /// The facts the release rules judge, now.
    pub fn facts(&self, now: i64) -> ReleaseFacts<'_> {
        facts(&self.message, &self.session.address, now)
    }

    /// The message's rights.
    pub fn rights(&self) -> Rights {
        Rights::from_stored(&self.message.rights)
    }

    /// Count this request as use of the session (moves the idle limit), written at most every
    /// [`crate::domain::session::TOUCH_EVERY`] seconds.
    pub async fn touch(&self, state: &AppState) -> Result<(), ApiError> {
        if self.touch_due(state.clock.now()).is_none() {
            return Ok(());
        }
        Ok(state
            .store
            .touch_session(&self.id_hash, state.clock.now())
            .await?)
    }
}

/// The facts the release rules judge for `address` reading `message` at `now`, assuming a live
/// session.
pub fn facts<'a>(message: &'a StoredMessage, address: &str, now: i64) -> ReleaseFacts<'a> {
    let recipient = message.recipients.iter().find(|r| r.address == address);
    ReleaseFacts {
        // A recipient row that is gone would be a broken database; refuse as if signed out.
        session_valid: recipient.is_some(),
        message_revoked: message.revocation.as_ref(),
        recipient_revoked: recipient.and_then(|r| r.revocation.as_ref()),
        expires_at: message.expires_at,
        now,
        rights: Rights::from_stored(&message.rights),
    }
}

/// The refusal as the page sees it.
pub fn refusal_error(refusal: Refusal, message: &StoredMessage) -> ApiError {
    let (status, text) = match refusal {
        Refusal::SessionRequired => return session_required(),
        Refusal::MessageRevoked => (
            StatusCode::FORBIDDEN,
            "The sender has withdrawn this message. It can no longer be read.".to_owned(),
        ),
        Refusal::RecipientRevoked => (
            StatusCode::FORBIDDEN,
            "Your access to this message has been removed by the sender.".to_owned(),
        ),
        Refusal::Expired => (
            StatusCode::FORBIDDEN,
            match message.expires_at {
                Some(at) => format!("This message expired on {} and can no longer be read.", human_date(at)),
                None => "This message has expired and can no longer be read.".to_owned(),
            },
        ),
        Refusal::NotAllowed(right) => (
            StatusCode::FORBIDDEN,
            format!(
                "The sender's settings for this message do not allow you to {}.",
                match right {
                    Right::View => "read it",
                    Right::Reply => "reply",
                    Right::ReplyAll => "reply to all",
                    Right::Forward => "forward it",
                    Right::Print => "print it",
                    Right::Copy => "copy from it",
                    Right::Download => "download its attachments",
                }
            ),
        ),
        Refusal::KeyUnavailable => (
            StatusCode::SERVICE_UNAVAILABLE,
            "The message cannot be opened right now because its key is unavailable. Please try again later."
                .to_owned(),
        ),
        Refusal::Purged => (
            StatusCode::GONE,
            "This message was permanently deleted by its organisation (a data purge); nobody can open it any more."
                .to_owned(),
        ),
    };
    ApiError::Refused {
        status,
        code: refusal.code(),
        message: text,
    }
}
