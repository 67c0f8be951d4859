//! The portal: Trunk's `dist/` as static files, with every other path answered by `index.html` so
//! links like `/m/{message}` open the single-page app.
//!
//! Everything is sent with `Cache-Control: no-cache` (revalidate each time, cheap with
//! `Last-Modified`), so a new deployment is picked up at once; the portal is small.

use std::path::Path;

use axum::Router;
use axum::http::{HeaderValue, header};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::state::AppState;

/// Static portal files with the single-page fallback.
pub fn router(dist_dir: &Path) -> Router<AppState> {
    let files = ServeDir::new(dist_dir).fallback(ServeFile::new(dist_dir.join("index.html")));
    Router::new()
        .fallback_service(files)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
}
