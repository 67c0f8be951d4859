//! The one error type routes return. It becomes an [`ErrorBody`] with a stable code and a sentence
//! for a person; internal detail goes to the log, never to the client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sealpost_api::ErrorBody;

/// A refusal or failure, as the client will see it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Nothing at this address.
    #[error("not found")]
    NotFound,
    /// Something failed inside; the detail is logged, not sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                "There is nothing at this address.",
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Something went wrong on our side. Please try again in a moment.",
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = self.parts();
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "request failed");
        }
        let body = ErrorBody {
            code: code.to_owned(),
            message: message.to_owned(),
        };
        (status, Json(body)).into_response()
    }
}
