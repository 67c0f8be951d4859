//! Sealed parts, to a live session only, with `Range` so a large attachment can be fetched in
//! pieces (and resumed), and `Cache-Control: no-store` like every API answer.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::{ACCEPT_RANGES, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, RANGE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{SignedIn, refusal_error};
use crate::domain::portal_log::PortalEvent;
use crate::domain::release::check;
use crate::domain::rights::Right;
use crate::http::error::ApiError;
use crate::services::tracking::{Client, Happened};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/{message}/parts/{part}", get(part))
}

/// Whether `name` is a part name the envelope uses: `manifest`, `body-N` or `attachment-N`.
pub fn is_part_name(name: &str) -> bool {
    let numbered = |prefix: &str| {
        name.strip_prefix(prefix)
            .is_some_and(|n| !n.is_empty() && n.len() <= 5 && n.bytes().all(|b| b.is_ascii_digit()))
    };
    name == "manifest" || numbered("body-") || numbered("attachment-")
}

/// The byte range asked for, as `(first, last)` inclusive, given the part's `size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// No usable `Range` header (absent, malformed or several ranges): send it all.
    Whole,
    /// One satisfiable range.
    Part(u64, u64),
    /// A range that starts beyond the end.
    Unsatisfiable,
}

/// Read a `Range` header (RFC 9110 §14.2): one `bytes=` range, `a-b`, `a-` or `-n`.
pub fn parse_range(header: Option<&str>, size: u64) -> RangeRequest {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeRequest::Whole;
    };
    if spec.contains(',') {
        return RangeRequest::Whole;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeRequest::Whole;
    };
    let (a, b) = (a.trim(), b.trim());
    let num = |s: &str| s.parse::<u64>().ok();
    let (first, last) = match (a.is_empty(), b.is_empty()) {
        (true, false) => match num(b) {
            Some(0) => return RangeRequest::Unsatisfiable,
            Some(n) => (size.saturating_sub(n), size.saturating_sub(1)),
            None => return RangeRequest::Whole,
        },
        (false, true) => match num(a) {
            Some(first) => (first, size.saturating_sub(1)),
            None => return RangeRequest::Whole,
        },
        (false, false) => match (num(a), num(b)) {
            (Some(first), Some(last)) if first <= last => (first, last.min(size.saturating_sub(1))),
            _ => return RangeRequest::Whole,
        },
        (true, true) => return RangeRequest::Whole,
    };
    if size == 0 || first >= size {
        RangeRequest::Unsatisfiable
    } else {
        RangeRequest::Part(first, last)
    }
}

async fn part(
    State(state): State<AppState>,
    Path((_, name)): Path<(String, String)>,
    signed: SignedIn,
    client: Client,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Err(refusal) = check(&signed.facts(state.clock.now()), Right::View) {
        return Err(refusal_error(refusal, &signed.message));
    }
    if !is_part_name(&name) {
        return Err(ApiError::NotFound);
    }
    let size = state
        .store
        .part_size(&signed.tenant.id, &signed.message.id, &name)
        .await?;
    signed.touch(&state).await?;
    let range = parse_range(headers.get(RANGE).and_then(|v| v.to_str().ok()), size);
    let (status, first, len) = match range {
        RangeRequest::Whole => (StatusCode::OK, 0, size),
        RangeRequest::Part(first, last) => (StatusCode::PARTIAL_CONTENT, first, last - first + 1),
        RangeRequest::Unsatisfiable => {
            let mut r = ApiError::refused(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range_not_satisfiable",
                format!("This part is {size} bytes; the range asked for is outside it."),
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                r.headers_mut().insert(CONTENT_RANGE, v);
            }
            return Ok(r);
        }
    };
    if first == 0 {
        Happened {
            tenant: &signed.tenant,
            message_id: &signed.message.id,
            recipient: &signed.session.address,
            client: &client,
        }
        .track(&state, PortalEvent::PartDownloaded, &name)
        .await?;
    }
    let bytes = state
        .store
        .read_part_range(&signed.tenant.id, &signed.message.id, &name, first, len)
        .await?;
    let body = Body::from_stream(bytes);
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(CONTENT_LENGTH, HeaderValue::from(len));
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(v) = HeaderValue::from_str(&format!("bytes {first}-{}/{size}", first + len - 1))
    {
        h.insert(CONTENT_RANGE, v);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_rfc_9110() {
        use RangeRequest::*;
        assert_eq!(parse_range(None, 100), Whole);
        assert_eq!(parse_range(Some("bytes=0-9"), 100), Part(0, 9));
        assert_eq!(parse_range(Some("bytes=90-"), 100), Part(90, 99));
        assert_eq!(parse_range(Some("bytes=-10"), 100), Part(90, 99));
        assert_eq!(parse_range(Some("bytes=-1000"), 100), Part(0, 99));
        assert_eq!(parse_range(Some("bytes=50-1000"), 100), Part(50, 99));
        assert_eq!(parse_range(Some("bytes=100-"), 100), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=-0"), 100), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-"), 0), Unsatisfiable);
        for ignored in [
            "bytes=0-1,5-6",
            "bytes=9-1",
            "items=0-1",
            "bytes=a-b",
            "bytes=-",
            "bytes=5",
        ] {
            assert_eq!(parse_range(Some(ignored), 100), Whole, "{ignored}");
        }
    }

    #[test]
    fn only_envelope_part_names_are_served() {
        for ok in ["manifest", "body-0", "attachment-12"] {
            assert!(is_part_name(ok));
        }
        for bad in [
            "",
            "body-",
            "body-x",
            "../manifest",
            "attachment-1/..",
            "Manifest",
            "body-123456",
        ] {
            assert!(!is_part_name(bad), "{bad}");
        }
    }
}
