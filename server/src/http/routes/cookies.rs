//! Session cookies: read one by exact name, set one, clear one. Every session cookie is
//! `__Host-`, `Secure`, `HttpOnly`, `SameSite=Strict` and for the whole site.

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;

use crate::http::error::ApiError;

/// The value of cookie `name` in the request, if any.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// Add a `Set-Cookie` to `response`. Without `max_age` the cookie lasts as long as the browser
/// session; `Some(0)` clears it.
pub fn set_cookie(
    response: &mut Response,
    name: &str,
    value: &str,
    max_age: Option<i64>,
) -> Result<(), ApiError> {
    set_cookie_with(response, name, value, max_age, "Strict")
}

/// As [`set_cookie`], but `SameSite=Lax`: for the cookie that binds a social sign-in to the
/// browser, which must come back with the provider's redirect (a top-level navigation from
/// another site, which carries `Lax` cookies and not `Strict` ones). It grants nothing by itself.
pub fn set_lax_cookie(
    response: &mut Response,
    name: &str,
    value: &str,
    max_age: i64,
) -> Result<(), ApiError> {
    set_cookie_with(response, name, value, Some(max_age), "Lax")
}

fn set_cookie_with(
    response: &mut Response,
    name: &str,
    value: &str,
    max_age: Option<i64>,
    same_site: &str,
) -> Result<(), ApiError> {
    let max_age = max_age
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    let header = format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite={same_site}{max_age}");
    response.headers_mut().append(
        SET_COOKIE,
        HeaderValue::from_str(&header).map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name_across_headers() {
        let mut h = HeaderMap::new();
        h.append(COOKIE, HeaderValue::from_static("a=1; __Host-sp-m1=s1"));
        h.append(COOKIE, HeaderValue::from_static("__Host-sp-m2=s2;x="));
        assert_eq!(cookie(&h, "__Host-sp-m1"), Some("s1"));
        assert_eq!(cookie(&h, "__Host-sp-m2"), Some("s2"));
        assert_eq!(cookie(&h, "__Host-sp-m"), None);
        assert_eq!(cookie(&h, "x"), None);
    }

    #[test]
    fn a_session_cookie_is_host_only_secure_and_strict() {
        let mut r = Response::new(axum::body::Body::empty());
        set_cookie(&mut r, "__Host-sp-x", "v", Some(0)).unwrap();
        assert_eq!(
            r.headers()[SET_COOKIE],
            "__Host-sp-x=v; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"
        );
    }
}
