//! The portal's one door to the server: every request goes through here, typed with `sealpost-api`.

use gloo_net::http::Request;
use sealpost_api::{ErrorBody, HealthResponse};

/// A request that did not produce the expected answer, in words a person understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    /// Stable code (from the server's [`ErrorBody`], or `network` when the server was not reached).
    pub code: String,
    /// A sentence for a person.
    pub message: String,
}

impl ApiFailure {
    fn network() -> Self {
        ApiFailure {
            code: "network".to_owned(),
            message: "The secure message service could not be reached. Check your connection and try again.".to_owned(),
        }
    }
}

/// `GET /healthz`.
pub async fn health() -> Result<HealthResponse, ApiFailure> {
    let response = Request::get("/healthz")
        .send()
        .await
        .map_err(|_| ApiFailure::network())?;
    if response.ok() {
        response.json().await.map_err(|_| ApiFailure::network())
    } else {
        match response.json::<ErrorBody>().await {
            Ok(body) => Err(ApiFailure {
                code: body.code,
                message: body.message,
            }),
            Err(_) => Err(ApiFailure::network()),
        }
    }
}
