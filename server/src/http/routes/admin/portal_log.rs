//! The portal tracking log, for admins: search it by message, recipient and time, and check its
//! chain (`sealpost portal-log verify` does the same from the command line).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use sealpost_api::admin::{
    PortalLogEntryView, PortalLogQuery, PortalLogVerifyQuery, PortalLogVerifyView, PortalLogView,
};

use super::Admin;
use crate::clock::{parse_rfc3339, rfc3339};
use crate::domain::ValidationError;
use crate::domain::portal_log::ChainedEntry;
use crate::http::error::ApiError;
use crate::http::extract::ApiQuery;
use crate::services::tracking::{HEAD_FORMAT, parse_head, verify_chain};
use crate::state::AppState;
use crate::store::portal::PortalLogFilter;

/// Most entries one search returns.
pub const MAX_RESULTS: u32 = sealpost_api::rules::PORTAL_LOG_RESULTS_MAX;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal-log", get(search))
        .route("/portal-log/verify", get(verify))
}

fn time(field: &str, value: Option<&str>) -> Result<Option<i64>, ApiError> {
    value
        .map(|v| {
            parse_rfc3339(v).ok_or_else(|| {
                ValidationError::new(
                    field,
                    "invalid_time",
                    "Give the time as RFC 3339, e.g. 2026-11-21T10:00:00Z.",
                )
                .into()
            })
        })
        .transpose()
}

/// An entry as admins see it.
pub fn entry_view(e: ChainedEntry) -> PortalLogEntryView {
    PortalLogEntryView {
        seq: e.seq,
        at: rfc3339(e.entry.at),
        message_id: e.entry.message_id,
        recipient: e.entry.recipient,
        event: e.entry.event,
        detail: e.entry.detail,
        client_address: e.entry.client_addr,
        user_agent: e.entry.user_agent,
        hash: hex::encode(e.hash),
    }
}

async fn search(
    State(state): State<AppState>,
    admin: Admin,
    ApiQuery(q): ApiQuery<PortalLogQuery>,
) -> Result<Json<PortalLogView>, ApiError> {
    let filter = PortalLogFilter {
        message_id: q.message,
        recipient: q.recipient.map(|r| r.trim().to_lowercase()),
        from: time("from", q.from.as_deref())?,
        to: time("to", q.to.as_deref())?,
        limit: q.limit.unwrap_or(100).clamp(1, MAX_RESULTS),
    };
    let entries = state.store.portal_log(&admin.tenant.id, &filter).await?;
    Ok(Json(PortalLogView {
        entries: entries.into_iter().map(entry_view).collect(),
    }))
}

async fn verify(
    State(state): State<AppState>,
    admin: Admin,
    ApiQuery(q): ApiQuery<PortalLogVerifyQuery>,
) -> Result<Json<PortalLogVerifyView>, ApiError> {
    let expect = q
        .head
        .as_deref()
        .map(|h| {
            parse_head(h).ok_or_else(|| ValidationError::new("head", "invalid_head", HEAD_FORMAT))
        })
        .transpose()?;
    Ok(Json(
        match verify_chain(state.store.as_ref(), &admin.tenant.id, expect).await? {
            Ok(head) => PortalLogVerifyView {
                intact: true,
                entries: Some(head.entries),
                head_hash: Some(hex::encode(head.hash)),
                problem: None,
            },
            Err(broken) => PortalLogVerifyView {
                intact: false,
                entries: None,
                head_hash: None,
                problem: Some(broken.to_string()),
            },
        },
    ))
}
