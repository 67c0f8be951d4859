//! What a service answers when it does not do what it was asked. Adapters translate it: `http`
//! into a status and an [`sealpost_api::ErrorBody`], `smtp` and the mail queue into a reply or a
//! retry decision, `cli` into an exit status. Each refusal has a stable code and a sentence a
//! person understands; internal detail is only ever logged.

use crate::domain::ValidationError;
use crate::domain::composed::ComposeError;
use crate::domain::release::Refusal as KeyRefusal;
use crate::store::StoreError;

/// What sort of rule refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// The operation cannot be done as asked (a step out of order, a combination it does not allow).
    NotPossible,
    /// The caller has not proven who they are: no session, a wrong or used-up passcode.
    NotSignedIn,
    /// It is larger than the limit.
    TooLarge,
}

/// Why a service did not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A field of the request is invalid.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// Nothing by that name or id (or it belongs to another tenant: the two look the same).
    #[error("not found")]
    NotFound,
    /// It conflicts with what is there: a name taken, a state that does not allow it.
    #[error("{code}: {message}")]
    Conflict {
        /// Stable code.
        code: &'static str,
        /// A sentence for a person.
        message: String,
    },
    /// A rule refused it.
    #[error("{code}: {message}")]
    Refused {
        /// What sort of rule.
        refusal: RefusalKind,
        /// Stable code.
        code: &'static str,
        /// A sentence for a person.
        message: String,
    },
    /// Too many requests of this kind; another may succeed after `retry_after` seconds.
    #[error("{code}: {message}")]
    TooMany {
        /// Stable code.
        code: &'static str,
        /// A sentence for a person.
        message: String,
        /// Seconds until one more is allowed.
        retry_after: i64,
    },
    /// Something it needs (a root key, the relay) cannot be reached now; later may work.
    #[error("{code}: {message}")]
    Unavailable {
        /// Stable code.
        code: &'static str,
        /// A sentence for a person.
        message: String,
    },
    /// A message key cannot be had, for one of key release's own reasons: the data key cannot be
    /// reached (`KeyUnavailable`) or the message was purged (`Purged`).
    #[error("{}", .0.code())]
    Key(KeyRefusal),
    /// Something failed inside; the detail is for the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    /// The sentence for [`ServiceError::Key`] where no page has a better one.
    pub fn key_text(refusal: KeyRefusal) -> &'static str {
        match refusal {
            KeyRefusal::Purged => {
                "This message was permanently deleted by its organisation (a data purge); nobody can open it any more."
            }
            _ => "The tenant's key is not available right now; nothing was changed.",
        }
    }
}

impl ServiceError {
    /// A refusal by a rule.
    pub fn refused(refusal: RefusalKind, code: &'static str, message: impl Into<String>) -> Self {
        ServiceError::Refused {
            refusal,
            code,
            message: message.into(),
        }
    }

    /// A conflict with what is there.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        ServiceError::Conflict {
            code,
            message: message.into(),
        }
    }

    /// Something unreachable for now.
    pub fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        ServiceError::Unavailable {
            code,
            message: message.into(),
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ServiceError::NotFound,
            StoreError::Conflict("domain_taken") => ServiceError::conflict(
                "domain_taken",
                "One of these domains already belongs to another tenant.",
            ),
            StoreError::Conflict("draft_gone") => {
                ServiceError::conflict("draft_gone", "This draft was already sent or deleted.")
            }
            StoreError::Conflict(_) => {
                ServiceError::conflict("already_exists", "Something with this name already exists.")
            }
            other => ServiceError::Internal(other.to_string()),
        }
    }
}

impl From<ComposeError> for ServiceError {
    fn from(e: ComposeError) -> Self {
        match e {
            ComposeError::Invalid(v) => ServiceError::Invalid(v),
            ComposeError::TooLarge { size, limit } => ServiceError::refused(
                RefusalKind::TooLarge,
                "message_too_large",
                format!(
                    "The message is {:.1} MB; the limit is {:.1} MB. Nothing was sent.",
                    size as f64 / 1_048_576.0,
                    limit as f64 / 1_048_576.0
                ),
            ),
        }
    }
}
