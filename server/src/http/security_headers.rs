//! Security headers on every response: a strict Content-Security-Policy that still lets the portal
//! instantiate WebAssembly, HSTS, nosniff, no referrer, no framing.
//!
//! The portal loads only same-origin scripts (Trunk's inline loader is replaced by `boot.js`, see
//! `Trunk.toml`), so `script-src` needs no `'unsafe-inline'`; `'wasm-unsafe-eval'` is what
//! WebAssembly compilation requires and allows nothing else.

use axum::http::{HeaderName, HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

/// The Content-Security-Policy sent with every response.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
style-src 'self'; img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; \
frame-src 'self' blob:; worker-src 'self'; object-src 'none'; base-uri 'none'; \
form-action 'self'; \
frame-ancestors 'none'";

/// Every header this module sets, with its value.
pub fn headers() -> Vec<(HeaderName, HeaderValue)> {
    vec![
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
        (
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
        ),
    ]
}

/// Layers that set [`headers`] on every response, overriding anything a handler set; except the
/// Content-Security-Policy, which is added beside a handler's own (a browser enforces every
/// policy it is given, so a handler can only tighten it, e.g. with `sandbox`).
pub fn layers() -> Vec<SetResponseHeaderLayer<HeaderValue>> {
    headers()
        .into_iter()
        .map(|(name, value)| {
            if name == header::CONTENT_SECURITY_POLICY {
                SetResponseHeaderLayer::appending(name, value)
            } else {
                SetResponseHeaderLayer::overriding(name, value)
            }
        })
        .collect()
}
