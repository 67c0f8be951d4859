//! `/api/*`: the JSON API. Anything not routed here answers with a JSON `not_found`, never with the
//! portal's HTML.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::http::error::ApiError;
use crate::state::AppState;

/// The API routes (mounted under `/api`).
pub fn router() -> Router<AppState> {
    Router::new()
        .nest("/admin", super::admin::router())
        .nest("/m", super::recipient::router())
        .nest("/sender", super::sender::router())
        .merge(super::recipient::callback_router())
        .route("/openapi.json", get(openapi))
        .fallback(|| async { ApiError::NotFound })
        // Nothing the API answers may be kept by a browser or a proxy.
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

/// The admin API's OpenAPI document, as checked in (a test keeps it equal to the routes and the
/// wire types).
pub const OPENAPI: &str = include_str!("../../../../docs/openapi.json");

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}
