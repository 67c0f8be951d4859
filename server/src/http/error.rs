//! The one error type routes return. It becomes an [`ErrorBody`] with a stable code and a sentence
//! for a person; internal detail goes to the log, never to the client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sealpost_api::ErrorBody;

use crate::domain::ValidationError;
use crate::domain::composed::ComposeError;
use crate::domain::release::Refusal as KeyRefusal;
use crate::services::error::{RefusalKind, ServiceError};
use crate::store::StoreError;

/// A refusal or failure, as the client will see it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Nothing at this address (or it belongs to another tenant: the two look the same).
    #[error("not found")]
    NotFound,
    /// No valid admin token.
    #[error("unauthorized")]
    Unauthorized,
    /// A field of the request is invalid.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// Any other refusal with its status, code and sentence.
    #[error("{code}: {message}")]
    Refused {
        /// HTTP status.
        status: StatusCode,
        /// Stable code.
        code: &'static str,
        /// A sentence for a person.
        message: String,
    },
    /// Too many requests: `429` with `Retry-After`.
    #[error("{code}: {message}")]
    TooMany {
        /// Stable code.
        code: &'static str,
        /// A sentence for a person.
        message: String,
        /// Seconds until one more is allowed.
        retry_after: i64,
    },
    /// Something failed inside; the detail is logged, not sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A refusal.
    pub fn refused(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::Refused {
            status,
            code,
            message: message.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ServiceError::from(e).into()
    }
}

impl From<ComposeError> for ApiError {
    fn from(e: ComposeError) -> Self {
        ServiceError::from(e).into()
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(v) => ApiError::Invalid(v),
            ServiceError::NotFound => ApiError::NotFound,
            ServiceError::Conflict { code, message } => {
                ApiError::refused(StatusCode::CONFLICT, code, message)
            }
            ServiceError::Refused {
                refusal,
                code,
                message,
            } => {
                let status = match refusal {
                    RefusalKind::NotPossible => StatusCode::BAD_REQUEST,
                    RefusalKind::NotSignedIn => StatusCode::UNAUTHORIZED,
                    RefusalKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
                };
                ApiError::refused(status, code, message)
            }
            ServiceError::TooMany {
                code,
                message,
                retry_after,
            } => ApiError::TooMany {
                code,
                message,
                retry_after,
            },
            ServiceError::Unavailable { code, message } => {
                ApiError::refused(StatusCode::SERVICE_UNAVAILABLE, code, message)
            }
            ServiceError::Key(refusal) => {
                let status = match refusal {
                    KeyRefusal::Purged => StatusCode::GONE,
                    _ => StatusCode::SERVICE_UNAVAILABLE,
                };
                ApiError::refused(status, refusal.code(), ServiceError::key_text(refusal))
            }
            ServiceError::Internal(detail) => ApiError::Internal(detail),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut retry = None;
        let (status, code, message, field) = match self {
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                "There is nothing at this address.".to_owned(),
                None,
            ),
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Send a valid admin token as Authorization: Bearer <token>.".to_owned(),
                None,
            ),
            ApiError::Invalid(v) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                v.code,
                v.message,
                Some(v.field),
            ),
            ApiError::Refused {
                status,
                code,
                message,
            } => (status, code, message, None),
            ApiError::TooMany {
                code,
                message,
                retry_after,
            } => {
                retry = Some(retry_after);
                (StatusCode::TOO_MANY_REQUESTS, code, message, None)
            }
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Something went wrong on our side. Please try again in a moment.".to_owned(),
                    None,
                )
            }
        };
        let body = ErrorBody {
            code: code.to_owned(),
            message,
            field,
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(v) = retry.and_then(|r| axum::http::HeaderValue::from_str(&r.to_string()).ok())
        {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, v);
        }
        if status == StatusCode::UNAUTHORIZED
            && let Ok(v) = axum::http::HeaderValue::from_str("Bearer")
        {
            response
                .headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, v);
        }
        response
    }
}
