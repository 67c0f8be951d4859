//! `/api/*`: the JSON API. Anything not routed here answers with a JSON `not_found`, never with the
//! portal's HTML.

use axum::Router;

use crate::app::AppState;
use crate::error::ApiError;

/// The API routes (mounted under `/api`).
pub fn router() -> Router<AppState> {
    Router::new()
        .nest("/admin", super::admin::router())
        .fallback(|| async { ApiError::NotFound })
}
