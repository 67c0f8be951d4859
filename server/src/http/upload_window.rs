//! One window of an attachment being uploaded (`PUT …/attachments/{index}`), as the admin API and
//! the portal's reply form send it: where it is (`Content-Range`), the SHA-256 its sender says it
//! has (`Content-Digest`, optional) and its bytes, streamed to the service that seals them.

use axum::body::BodyDataStream;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_RANGE;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::http::error::ApiError;
use crate::services::uploads::{Window, WindowRange};

fn refused(code: &'static str, message: &str) -> ApiError {
    ApiError::refused(StatusCode::BAD_REQUEST, code, message)
}

/// The SHA-256 of `Content-Digest: sha-256=:…:` (RFC 9530), if the header is there.
fn content_digest(req: &Request) -> Result<Option<[u8; 32]>, ApiError> {
    let Some(value) = req.headers().get("content-digest") else {
        return Ok(None);
    };
    let invalid = || {
        refused(
            "invalid_digest",
            "Content-Digest must carry sha-256=:<base64 of 32 bytes>:.",
        )
    };
    let value = value.to_str().map_err(|_| invalid())?;
    let sha = value
        .split(',')
        .filter_map(|d| d.trim().split_once('='))
        .find(|(alg, _)| alg.trim().eq_ignore_ascii_case("sha-256"))
        .ok_or_else(invalid)?
        .1
        .trim();
    let b64 = sha
        .strip_prefix(':')
        .and_then(|s| s.strip_suffix(':'))
        .ok_or_else(invalid)?;
    let bytes = BASE64.decode(b64).map_err(|_| invalid())?;
    bytes.try_into().map(Some).map_err(|_| invalid())
}

/// A window's headers, read strictly, and its body, not yet read.
impl<S: Send + Sync> FromRequest<S> for Window<BodyDataStream> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let range = req
            .headers()
            .get(CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(WindowRange::parse)
            .ok_or_else(|| {
                refused(
                    "invalid_content_range",
                    "Each window needs Content-Range: bytes <first>-<last>/<size>.",
                )
            })?;
        let digest = content_digest(&req)?;
        Ok(Window {
            range,
            digest,
            body: req.into_body().into_data_stream(),
        })
    }
}
