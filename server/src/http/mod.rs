//! The HTTP adapter: the router and the layers every response passes through, the one error type
//! routes return ([`error::ApiError`], which services' errors become), our own extractors, and the
//! routes themselves. Nothing below `http` depends on it.

pub mod error;
pub mod extract;
pub mod in_flight;
pub mod listener;
pub mod routes;
pub mod security_headers;
pub mod upload_window;

use axum::Router;
use axum::http::Request;
use tower_http::trace::TraceLayer;

use crate::state::AppState;

/// The whole application. Tests call this and drive it with `oneshot`.
pub fn router(state: AppState) -> Router {
    let body_timeout = std::time::Duration::from_secs(state.config.http_body_timeout_seconds);
    let mut app = Router::new()
        .merge(routes::health::router())
        .nest("/api", routes::api::router())
        .merge(routes::dev_mailbox::router(state.config.dev_mailbox))
        .merge(routes::portal::router(routes::portal::PortalFiles::from_config(
            state.config.dist_dir.as_deref(),
        )))
        // Latency by route pattern, for every request that matched a route.
        .route_layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            crate::metrics::time_request,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            in_flight::limit,
        ))
        .with_state(state)
        // A body that stops arriving ends its request (slow-body attacks); a slow but steady one
        // is not cut off.
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(body_timeout))
        // Log method and path only: query strings may one day carry tokens, and must never be logged.
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
            }),
        );
    for layer in security_headers::layers() {
        app = app.layer(layer);
    }
    app
}
