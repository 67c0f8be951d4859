//! The HTTP application: state, router and the layers every response passes through.

use std::sync::Arc;

use axum::Router;
use axum::http::Request;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::{routes, security_headers};

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The loaded configuration.
    pub config: Arc<Config>,
}

impl AppState {
    /// State for a configuration.
    pub fn new(config: Config) -> Self {
        AppState {
            config: Arc::new(config),
        }
    }
}

/// The whole application. Tests call this and drive it with `oneshot`.
pub fn router(state: AppState) -> Router {
    let mut app = Router::new()
        .merge(routes::health::router())
        .nest("/api", routes::api::router())
        .merge(routes::portal::router(&state.config.dist_dir))
        .with_state(state)
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
