//! Our own extractors, so a malformed request gets our error shape instead of axum's plain text,
//! and who is asking ([`Client`]) for the services that record it.

use std::net::SocketAddr;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::header::USER_AGENT;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::http::error::ApiError;
use crate::services::tracking::Client;
use crate::state::AppState;

/// The refusal for a body that could not be read whole: too large, or it stopped arriving
/// (`http_body_timeout_seconds`).
pub fn unreadable_body(e: &(dyn std::error::Error + 'static)) -> ApiError {
    let mut source = Some(e);
    while let Some(e) = source {
        if e.is::<tower_http::timeout::TimeoutError>() {
            return ApiError::refused(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "The request body stopped arriving; send it again.",
            );
        }
        source = e.source();
    }
    too_large_body()
}

fn too_large_body() -> ApiError {
    ApiError::refused(
        StatusCode::PAYLOAD_TOO_LARGE,
        "request_too_large",
        "The request body is too large or could not be read.",
    )
}

/// A body that is not the JSON the route takes, with the parser's explanation.
fn invalid_json(why: impl std::fmt::Display) -> ApiError {
    ApiError::refused(
        StatusCode::BAD_REQUEST,
        "invalid_json",
        format!("The request body is not valid: {why}"),
    )
}

/// JSON body; a bad body is refused with `invalid_json` and the parser's explanation.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

/// Parsed JSON in which no object names a key twice. Reading a struct refuses a repeated field,
/// but a map keeps the last one silently, and a body read twice by different parsers (a proxy, an
/// auditor, the server) must mean one thing: so a repeated key is refused wherever it is.
struct UniqueKeys(serde_json::Value);

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueKeysVisitor)
    }
}

struct UniqueKeysVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueKeysVisitor {
    type Value = UniqueKeys;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys(v.into()))
    }

    fn visit_i64<E>(self, v: i64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys(v.into()))
    }

    fn visit_str<E>(self, v: &str) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys(v.into()))
    }

    fn visit_string<E>(self, v: String) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys(v.into()))
    }

    fn visit_unit<E>(self) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys(serde_json::Value::Null))
    }

    fn visit_none<E>(self) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys(serde_json::Value::Null))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<UniqueKeys, A::Error> {
        let mut items = Vec::new();
        while let Some(UniqueKeys(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(UniqueKeys(serde_json::Value::Array(items)))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<UniqueKeys, A::Error> {
        let mut fields = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let UniqueKeys(value) = map.next_value()?;
            if fields.contains_key(&key) {
                return Err(serde::de::Error::custom(format!(
                    "the key `{key}` is given twice"
                )));
            }
            fields.insert(key, value);
        }
        Ok(UniqueKeys(serde_json::Value::Object(fields)))
    }
}

/// Read `T` from parsed JSON, taking a number with no fractional part (`5.0`) as the integer it
/// is: JSON and JSON Schema do not tell `5.0` from `5`, so a client (or a generator working from
/// the OpenAPI document) may send either, and the wire types' integers must take both.
pub fn from_json_value<T: DeserializeOwned>(mut value: serde_json::Value) -> Result<T, ApiError> {
    whole_numbers_as_integers(&mut value);
    serde_json::from_value(value).map_err(invalid_json)
}

fn whole_numbers_as_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0) {
                // Only where the integer is exact; larger ones stay floats, which no integer
                // field takes.
                if (0.0..=9_007_199_254_740_992.0).contains(&f) {
                    *value = Value::from(f as u64);
                } else if (-9_007_199_254_740_992.0..0.0).contains(&f) {
                    *value = Value::from(f as i64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<UniqueKeys>::from_request(req, state).await {
            Ok(axum::Json(UniqueKeys(v))) => from_json_value(v).map(ApiJson),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::refused(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as JSON with Content-Type: application/json.",
            )),
            Err(JsonRejection::BytesRejection(e)) => Err(unreadable_body(&e)),
            Err(e) => Err(invalid_json(e.body_text())),
        }
    }
}

/// A query string read as `T`; one that does not fit is refused with `invalid_query` and the
/// parser's explanation (a repeated or unknown parameter, a number that is none).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        query_from_uri(&parts.uri).map(ApiQuery)
    }
}

/// The query string of `uri` as `T`, refused as [`ApiQuery`] refuses.
pub fn query_from_uri<T: DeserializeOwned>(uri: &axum::http::Uri) -> Result<T, ApiError> {
    axum::extract::Query::<T>::try_from_uri(uri)
        .map(|axum::extract::Query(q)| q)
        .map_err(|e| ApiError::refused(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))
}

/// A change sent with PATCH: a JSON merge patch (RFC 7396), which is an object of the fields to
/// change. Anything else — an array, a string, `null` — is refused with `invalid_patch` (serde
/// would otherwise read an array as a struct's fields in order); then it is read as `T`, refused
/// as [`ApiJson`] refuses.
#[derive(Debug, Clone, Copy, Default)]
pub struct MergePatch<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for MergePatch<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ApiJson(value) = ApiJson::<serde_json::Value>::from_request(req, state).await?;
        if !value.is_object() {
            return Err(ApiError::refused(
                StatusCode::BAD_REQUEST,
                "invalid_patch",
                "A change is a JSON object naming the fields to change (a merge patch), e.g. {\"name\": \"Contoso\"}.",
            ));
        }
        from_json_value(value).map(MergePatch)
    }
}

/// The largest request body read where a message's content may come in: room for base64 (4/3)
/// and JSON or MIME around the content limit. The content itself is checked exactly after decoding.
pub fn body_limit(config: &crate::config::Config) -> usize {
    usize::try_from(config.max_message_size / 3 * 4 + 1024 * 1024).unwrap_or(usize::MAX)
}

/// A JSON body of up to `limit` bytes, refused the way [`ApiJson`] refuses.
pub async fn read_json<T: DeserializeOwned>(req: Request, limit: usize) -> Result<T, ApiError> {
    let is_json = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ApiError::refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the body as JSON with Content-Type: application/json.",
        ));
    }
    let body = axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| {
            ApiError::refused(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request_too_large",
                "The request body is too large or could not be read.",
            )
        })?;
    json_from_slice(&body)
}

/// `T` from a JSON body already read, refused as [`ApiJson`] refuses.
pub fn json_from_slice<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let UniqueKeys(value) = serde_json::from_slice(body).map_err(invalid_json)?;
    from_json_value(value)
}

/// Longest user agent kept.
const MAX_USER_AGENT: usize = 256;

/// The client's address (from the configured proxy header, else the connection) and user agent.
/// The address in a proxy's header, without the port some proxies add (`203.0.113.7:4711`,
/// `[2001:db8::1]:4711`), so limits count the client whatever the proxy's style.
fn bare_address(v: &str) -> String {
    match v.parse::<SocketAddr>() {
        Ok(a) => a.ip().to_string(),
        Err(_) => v.trim_start_matches('[').trim_end_matches(']').to_owned(),
    }
}

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let forwarded = state
            .config
            .client_address_header
            .as_deref()
            .and_then(|h| parts.headers.get(h))
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(|v| bare_address(v.trim()))
            .filter(|v| !v.is_empty());
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(a)| a.ip().to_string());
        let user_agent = parts
            .headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .take(MAX_USER_AGENT)
            .collect();
        Ok(Client {
            addr: forwarded.or(peer).unwrap_or_else(|| "unknown".to_owned()),
            user_agent,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::bare_address;

    #[test]
    fn a_proxys_address_is_counted_without_its_port() {
        assert_eq!(bare_address("203.0.113.7"), "203.0.113.7");
        assert_eq!(bare_address("203.0.113.7:4711"), "203.0.113.7");
        assert_eq!(bare_address("[2001:db8::1]:4711"), "2001:db8::1");
        assert_eq!(bare_address("[2001:db8::1]"), "2001:db8::1");
        assert_eq!(bare_address("2001:db8::1"), "2001:db8::1");
        assert_eq!(bare_address("unknown"), "unknown");
    }
}
