//! The one error type routes return. It becomes an [`ErrorBody`] with a stable code and a sentence
//! for a person; internal detail goes to the log, never to the client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sealpost_api::ErrorBody;

use crate::domain::ValidationError;
use crate::domain::composed::ComposeError;
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
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict("domain_taken") => ApiError::refused(
                StatusCode::CONFLICT,
                "domain_taken",
                "One of these domains already belongs to another tenant.",
            ),
            StoreError::Conflict(_) => ApiError::refused(
                StatusCode::CONFLICT,
                "already_exists",
                "Something with this name already exists.",
            ),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<ComposeError> for ApiError {
    fn from(e: ComposeError) -> Self {
        match e {
            ComposeError::Invalid(v) => ApiError::Invalid(v),
            ComposeError::TooLarge { size, limit } => ApiError::refused(
                StatusCode::PAYLOAD_TOO_LARGE,
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
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
