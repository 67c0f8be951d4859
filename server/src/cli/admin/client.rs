//! The admin API over HTTP(S), as the CLI uses it: a server URL, a bearer token, and refusals
//! turned into [`Failure`]s that carry the server's stable code and sentence.

use std::time::Duration;

use sealpost_api::ErrorBody;
use ureq::Agent;
use ureq::http::{Method, Request};
use ureq::tls::{RootCerts, TlsConfig};

/// Largest answer read (a message list or a log search is far smaller).
const MAX_ANSWER: u64 = 64 * 1024 * 1024;

/// Why a command did not do what was asked. Each kind has its own exit status.
#[derive(Debug)]
pub enum Failure {
    /// The server refused the request (4xx): its code and sentence. Exit 1.
    Refused {
        /// HTTP status.
        status: u16,
        /// The server's answer.
        body: ErrorBody,
    },
    /// The check the command ran found a problem (a failed self-test, a broken log chain). Exit 1.
    Failed(String),
    /// The arguments cannot be used (an unreadable file, a missing token). Exit 2.
    Usage(String),
    /// The token is missing, wrong or revoked. Exit 3.
    Unauthorized(String),
    /// The server could not be reached, or answered with an error of its own. Exit 4.
    Unavailable(String),
}

impl Failure {
    /// The process exit status for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Refused { .. } | Failure::Failed(_) => 1,
            Failure::Usage(_) => 2,
            Failure::Unauthorized(_) => 3,
            Failure::Unavailable(_) => 4,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Refused { body, .. } => {
                write!(f, "{} ({}", body.message, body.code)?;
                if let Some(field) = &body.field {
                    write!(f, ", field {field}")?;
                }
                f.write_str(")")
            }
            Failure::Failed(m) | Failure::Usage(m) | Failure::Unavailable(m) => f.write_str(m),
            Failure::Unauthorized(m) => write!(f, "{m} (unauthorized)"),
        }
    }
}

/// A body to send.
#[derive(Debug)]
pub enum Body {
    /// Nothing.
    Empty,
    Json(serde_json::Value),
    /// Bytes of a given content type.
    Raw(&'static str, Vec<u8>),
    /// One window of an upload: its `Content-Range`, `Content-Digest` and bytes.
    Window {
        range: String,
        digest: String,
        bytes: Vec<u8>,
    },
}

impl Body {
    /// A request type of `sealpost-api` as JSON: the CLI never spells a body by hand, so it cannot
    /// drift from what the server reads.
    pub fn json<T: serde::Serialize>(request: &T) -> Result<Body, Failure> {
        Body::value(request).map(Body::Json)
    }

    /// A request type as a JSON value (to add merge-patch `null`s to).
    pub fn value<T: serde::Serialize>(request: &T) -> Result<serde_json::Value, Failure> {
        serde_json::to_value(request).map_err(|e| Failure::Usage(e.to_string()))
    }
}

/// A successful answer.
#[derive(Debug)]
pub struct Answer {
    /// The body (JSON, or empty for `204`).
    pub text: String,
    /// A `Sealpost-Warning` header, if the server added one.
    pub warning: Option<String>,
}

impl Answer {
    /// The body as JSON (`null` when empty).
    pub fn json(&self) -> Result<serde_json::Value, Failure> {
        if self.text.trim().is_empty() {
            return Ok(serde_json::Value::Null);
        }
        serde_json::from_str(&self.text)
            .map_err(|e| Failure::Unavailable(format!("the server's answer is not JSON: {e}")))
    }

    /// The body as `T`.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, Failure> {
        serde_json::from_str(&self.text).map_err(|e| {
            Failure::Unavailable(format!(
                "the server's answer is not what this version of sealpost expects: {e}"
            ))
        })
    }
}

/// A connection to one server's admin API.
#[derive(Debug)]
pub struct Client {
    base: String,
    token: String,
    agent: Agent,
}

impl Client {
    /// A client for `server` (e.g. `https://sealpost.contoso.com`) with an admin token.
    pub fn new(server: &str, token: Option<&str>) -> Result<Client, Failure> {
        let url = url::Url::parse(server).map_err(|e| {
            Failure::Usage(format!(
                "--server must be the server's URL, e.g. https://sealpost.example.com ({e})"
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Failure::Usage(
                "--server must be an http:// or https:// URL".into(),
            ));
        }
        let token = token
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Failure::Usage(
                    "give an admin token with --token or SEALPOST_TOKEN (`sealpost tenant create` prints the first one)".into(),
                )
            })?;
        let agent: Agent = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .tls_config(
                TlsConfig::builder()
                    .root_certs(RootCerts::PlatformVerifier)
                    .build(),
            )
            .build()
            .into();
        Ok(Client {
            base: server.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            agent,
        })
    }

    /// `GET /healthz`: is the server there at all?
    pub fn health(&self) -> Result<sealpost_api::HealthResponse, Failure> {
        let request = Request::get(format!("{}/healthz", self.base))
            .body(Vec::new())
            .map_err(|e| Failure::Usage(e.to_string()))?;
        let (status, answer) = self.run(request)?;
        if status != 200 {
            return Err(Failure::Unavailable(format!(
                "{} answered /healthz with HTTP {status}",
                self.base
            )));
        }
        answer.parse()
    }

    /// Call `path` under `/api/admin`.
    pub fn call(&self, method: Method, path: &str, body: Body) -> Result<Answer, Failure> {
        let url = format!("{}/api/admin{path}", self.base);
        let builder = Request::builder()
            .method(method)
            .uri(&url)
            .header("authorization", format!("Bearer {}", self.token))
            .header("accept", "application/json");
        let request = match body {
            Body::Empty => builder.body(Vec::new()),
            Body::Json(v) => builder
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&v).unwrap_or_default()),
            Body::Raw(content_type, bytes) => {
                builder.header("content-type", content_type).body(bytes)
            }
            Body::Window {
                range,
                digest,
                bytes,
            } => builder
                .header("content-type", "application/octet-stream")
                .header("content-range", range)
                .header("content-digest", digest)
                .body(bytes),
        }
        .map_err(|e| Failure::Usage(format!("cannot build the request to {url}: {e}")))?;
        let (status, answer) = self.run(request)?;
        match status {
            200..=299 => Ok(answer),
            401 => Err(Failure::Unauthorized(
                refusal(&answer.text)
                    .map(|b| b.message)
                    .unwrap_or_else(|| "the admin token was not accepted".into()),
            )),
            400..=499 => Err(match refusal(&answer.text) {
                Some(body) => Failure::Refused { status, body },
                None => Failure::Unavailable(format!(
                    "HTTP {status} from {url}; is --server a Sealpost server?"
                )),
            }),
            _ => Err(Failure::Unavailable(match refusal(&answer.text) {
                Some(body) => format!("the server failed: {} ({})", body.message, body.code),
                None => format!("HTTP {status} from {url}"),
            })),
        }
    }

    fn run(&self, request: Request<Vec<u8>>) -> Result<(u16, Answer), Failure> {
        let mut response = self.agent.run(request).map_err(|e| {
            Failure::Unavailable(format!("cannot reach the server at {}: {e}", self.base))
        })?;
        let status = response.status().as_u16();
        let warning = response
            .headers()
            .get("sealpost-warning")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER)
            .read_to_string()
            .map_err(|e| Failure::Unavailable(format!("the answer could not be read: {e}")))?;
        Ok((status, Answer { text, warning }))
    }
}

fn refusal(text: &str) -> Option<ErrorBody> {
    serde_json::from_str(text).ok()
}

/// Percent-encode one path segment (an identity, a name, an address).
pub fn segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}
