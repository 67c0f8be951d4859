//! The CSRF guard for the portal's own API (recipients and senders): every `POST`, `PUT`, `PATCH` and
//! `DELETE` must carry [`CSRF_HEADER`]. A cross-site form cannot set it, and a cross-site script
//! cannot send it without a CORS preflight, which this server never grants.

use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use sealpost_api::recipient::CSRF_HEADER;

use crate::http::error::ApiError;

/// Refuse an unsafe request without the header (`403 csrf_header_missing`).
pub async fn require_csrf_header(request: Request, next: Next) -> Result<Response, ApiError> {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD);
    let marked = request
        .headers()
        .get(CSRF_HEADER)
        .is_some_and(|v| v.as_bytes() == b"1");
    if !safe && !marked {
        return Err(ApiError::refused(
            StatusCode::FORBIDDEN,
            "csrf_header_missing",
            format!(
                "This request must come from the Sealpost page itself (it lacks the {CSRF_HEADER} header)."
            ),
        ));
    }
    Ok(next.run(request).await)
}
