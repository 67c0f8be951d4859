//! At most `http_max_requests_per_client` requests of one client address (an IPv6 /64 counts as
//! one) are handled at once; one more is answered `429 too_many_requests` at once. Unlike the
//! listener's connection cap this also holds behind a reverse proxy, where the client is the
//! address in `client_address_header`. A request counts while its handler runs (reading its body
//! included), not while its answer streams out.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::error::ApiError;
use crate::services::tracking::Client;
use crate::state::AppState;

pub async fn limit(
    State(state): State<AppState>,
    client: Client,
    req: Request,
    next: Next,
) -> Response {
    // Requests without an address to count by (a proxy header that is not one, a test's
    // in-process request) share one count, so nobody escapes the cap by sending garbage.
    let ip = client
        .addr
        .parse::<std::net::IpAddr>()
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let Some(slot) = state.requests_in_flight.take(ip) else {
        tracing::info!("a client over its limit of requests at once was refused");
        return ApiError::TooMany {
            code: "too_many_requests",
            message: "Too many requests from your address at once; wait for them to finish."
                .to_owned(),
            retry_after: 1,
        }
        .into_response();
    };
    let response = next.run(req).await;
    drop(slot);
    response
}
