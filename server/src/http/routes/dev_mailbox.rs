//! `/dev/mailbox`: the development mailbox, a page listing the mail Sealpost "sent", so a newcomer
//! can follow the whole journey with no mail server. The routes exist only when `dev_mailbox` is on
//! (otherwise these paths fall through to the portal like any unknown path).
//!
//! Pages are plain server-rendered HTML with no script, under the same strict CSP as everything
//! else (so a notice's HTML, shown on its own page, can run nothing and loads no inline styles).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use mail_parser::MessageParser;

use crate::clock::rfc3339;
use crate::http::error::ApiError;
use crate::mail::notice::escape_html;
use crate::state::AppState;

/// The mailbox routes, or none when it is off.
pub fn router(enabled: bool) -> Router<AppState> {
    if !enabled {
        return Router::new();
    }
    Router::new()
        .route("/dev/mailbox", get(index))
        .route("/dev/mailbox.css", get(stylesheet))
        .route("/dev/mailbox/{id}", get(show))
        .route("/dev/mailbox/{id}/html", get(html))
        .route("/dev/mailbox/{id}/raw", get(raw))
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem}\
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.4rem;border-bottom:1px solid #ddd}\
pre{white-space:pre-wrap}";

async fn stylesheet() -> Response {
    let mut r = STYLE.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    r
}

fn page(title: &str, body: &str) -> Response {
    let mut r = Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\
         <link rel=\"stylesheet\" href=\"/dev/mailbox.css\"></head><body>{body}</body></html>",
        escape_html(title)
    ))
    .into_response();
    // The mailbox shows link tokens: never cache it.
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn index(State(state): State<AppState>) -> Result<Response, ApiError> {
    let mails = state.store.dev_mailbox_list(200).await?;
    let mut rows = String::new();
    for m in &mails {
        rows.push_str(&format!(
            "<tr data-testid=\"mail\"><td>{}</td><td>{}</td><td><a href=\"/dev/mailbox/{}\">{}</a></td></tr>",
            escape_html(&rfc3339(m.at)),
            escape_html(&m.to),
            m.id,
            escape_html(&m.subject),
        ));
    }
    let body = format!(
        "<h1>Development mailbox</h1><p>Mail Sealpost would have sent. This page exists only because \
         <code>dev_mailbox</code> is on; never turn it on where real people use the server.</p>\
         <table><tr><th>Received</th><th>To</th><th>Subject</th></tr>{rows}</table>"
    );
    Ok(page("Development mailbox", &body))
}

async fn show(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, ApiError> {
    let m = state.store.dev_mailbox_get(id).await?;
    let parsed = MessageParser::default().parse(&m.raw);
    let text = parsed
        .as_ref()
        .and_then(|p| p.body_text(0))
        .map(|t| t.into_owned())
        .unwrap_or_default();
    let body = format!(
        "<p><a href=\"/dev/mailbox\">All mail</a> · <a href=\"/dev/mailbox/{id}/html\">As HTML</a> · \
         <a href=\"/dev/mailbox/{id}/raw\">Raw</a></p>\
         <h1>{}</h1><p>From {} to {}, {}</p><pre>{}</pre>",
        escape_html(&m.subject),
        escape_html(&m.from),
        escape_html(&m.to),
        escape_html(&rfc3339(m.at)),
        linkify(&text),
    );
    Ok(page(&m.subject, &body))
}

/// Escape, then turn http(s) URLs into links (so the "Read the message" link can be followed).
fn linkify(text: &str) -> String {
    let mut out = String::new();
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let trimmed = line.trim();
        if (trimmed.starts_with("https://") || trimmed.starts_with("http://"))
            && !trimmed.contains(' ')
        {
            let e = escape_html(trimmed);
            out.push_str(&format!(
                "<a data-testid=\"read-link\" href=\"{e}\">{e}</a>"
            ));
        } else {
            out.push_str(&escape_html(line));
        }
    }
    out
}

async fn html(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, ApiError> {
    let m = state.store.dev_mailbox_get(id).await?;
    let parsed = MessageParser::default().parse(&m.raw);
    let html = parsed
        .as_ref()
        .and_then(|p| p.body_html(0))
        .map(|t| t.into_owned())
        .unwrap_or_default();
    let mut r = Html(html).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Mail HTML is not ours: shown in a sandbox (an opaque origin, no scripts, no forms), it
    // cannot act as the portal's origin.
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox"),
    );
    Ok(r)
}

async fn raw(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, ApiError> {
    let m = state.store.dev_mailbox_get(id).await?;
    let mut r = m.raw.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}
