//! Our own extractors, so a malformed request gets our error shape instead of axum's plain text.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// JSON body; a bad body is refused with `invalid_json` and the parser's explanation.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::refused(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as JSON with Content-Type: application/json.",
            )),
            Err(JsonRejection::BytesRejection(_)) => Err(ApiError::refused(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request_too_large",
                "The request body is too large or could not be read.",
            )),
            Err(e) => Err(ApiError::refused(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("The request body is not valid: {}", e.body_text()),
            )),
        }
    }
}
