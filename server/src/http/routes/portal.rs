//! The portal: Trunk's `dist/`, with every path that names no file answered by `index.html` so
//! links like `/m/{message}` open the single-page app.
//!
//! A release binary carries the `dist/` it was built with (`rust-embed`), so a copied or packaged
//! binary serves the portal with nothing beside it; `dist_dir` (`SEALPOST_DIST_DIR`) serves a
//! directory instead, for portal development. Debug builds read the clone's `dist/` as it is now.
//!
//! Caching: Trunk names every built asset by its content hash, so those are cached for a year and
//! never revalidated; `index.html`, which names the current hashes, is never stored, so a new
//! deployment is picked up on the next load; the few unhashed files (`boot.js`, the download
//! worker, the icon) are revalidated each time against their `ETag`.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;
use sha2::{Digest, Sha256};

use crate::state::AppState;

/// The `dist/` this binary was built with (empty if it was built before `trunk build`).
#[derive(Embed)]
#[folder = "$CARGO_MANIFEST_DIR/../dist"]
#[allow_missing = true]
struct Built;

/// Where the portal's files come from.
#[derive(Debug, Clone)]
pub enum PortalFiles {
    /// Carried in the binary.
    Built,
    /// A directory on disk (`dist_dir`).
    Dir(PathBuf),
}

impl PortalFiles {
    /// The configured directory, or the portal this binary carries.
    pub fn from_config(dist_dir: Option<&Path>) -> PortalFiles {
        dist_dir.map_or(PortalFiles::Built, |dir| PortalFiles::Dir(dir.to_owned()))
    }

    /// Whether there is a portal to serve at all (an `index.html`).
    pub fn has_portal(&self) -> bool {
        match self {
            PortalFiles::Built => Built::get("index.html").is_some(),
            PortalFiles::Dir(dir) => dir.join("index.html").is_file(),
        }
    }

    /// A file's bytes and its strong validator, if `name` (relative, `/`-separated) names one.
    async fn get(&self, name: &str) -> Option<(Cow<'static, [u8]>, String)> {
        match self {
            PortalFiles::Built => {
                let file = Built::get(name)?;
                let tag = hex::encode(file.metadata.sha256_hash());
                Some((file.data, tag))
            }
            PortalFiles::Dir(dir) => {
                let data = tokio::fs::read(dir.join(name)).await.ok()?;
                let tag = hex::encode(Sha256::digest(&data));
                Some((Cow::Owned(data), tag))
            }
        }
    }
}

/// Static portal files with the single-page fallback.
pub fn router(files: PortalFiles) -> Router<AppState> {
    Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap| {
        let files = files.clone();
        async move { serve(&files, &method, &uri, &headers).await }
    })
}

async fn serve(files: &PortalFiles, method: &Method, uri: &Uri, headers: &HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, HeaderValue::from_static("GET, HEAD"))],
        )
            .into_response();
    }
    let asked = uri.path().trim_start_matches('/');
    let named = match file_name(asked) {
        Some(name) => files.get(name).await.map(|found| (name, found)),
        None => None,
    };
    let (name, (data, tag)) = match named {
        Some(found) => found,
        // A script, style or WebAssembly file this portal does not have (one of another version,
        // or a typo): said plainly, not answered with the page.
        None if looks_like_a_file(asked) => {
            return not_found("No such file in the portal.");
        }
        None => match files.get("index.html").await {
            Some(page) => ("index.html", page),
            None => return not_found(NOT_BUILT),
        },
    };
    let etag = format!("\"{tag}\"");
    let mut response = if if_none_match(headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let length = data.len();
        let body = if method == Method::HEAD {
            Body::empty()
        } else {
            Body::from(data)
        };
        let mut response = Response::new(body);
        let content_type = mime_guess::from_path(name).first_or_octet_stream();
        if let Ok(value) = HeaderValue::from_str(content_type.as_ref()) {
            response.headers_mut().insert(header::CONTENT_TYPE, value);
        }
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(length));
        response
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control(name)),
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    response
}

/// What a browser is told when the server has no portal at all.
const NOT_BUILT: &str = "The portal is not built into this server. Run `trunk build --release` and build the server again, or set dist_dir.";

fn not_found(message: &'static str) -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        message,
    )
        .into_response()
}

/// `asked` as a file name inside the portal, if it can be one: no empty, `.` or `..` segments and
/// no backslashes, so nothing outside `dist/` is ever named.
fn file_name(asked: &str) -> Option<&str> {
    let plain = !asked.is_empty()
        && !asked.contains('\\')
        && asked
            .split('/')
            .all(|segment| !segment.is_empty() && segment != "." && segment != "..");
    plain.then_some(asked)
}

/// Whether the last segment of the path has an extension: the portal's own pages (`/m/{id}`,
/// `/sent`, …) never do, its files always do.
fn looks_like_a_file(asked: &str) -> bool {
    asked
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'))
}

/// Whether the browser's copy (`If-None-Match`) is the current one.
fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

/// How long a browser may keep a portal file.
pub fn cache_control(name: &str) -> &'static str {
    if name == "index.html" {
        "no-store"
    } else if content_hashed(name) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    }
}

/// Whether `name` carries Trunk's content hash (`filehash = true`): a `-` and the hash's lowercase
/// hex digits just before the extension or a `_` suffix, as in `main-ee1f9bc2bfce25f4.css` or
/// `sealpost-app-e517a15fd93d6787_bg.wasm`. Trunk writes the 64-bit hash without leading zeros, so
/// it has up to 16 digits; at least 8 are asked for (a shorter one comes once in 4 billion builds,
/// which are then revalidated, not wrong).
fn content_hashed(name: &str) -> bool {
    let file = name.rsplit('/').next().unwrap_or(name);
    file.match_indices('-').any(|(at, _)| {
        let rest = &file[at + 1..];
        let digits = rest
            .bytes()
            .take_while(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
            .count();
        (8..=16).contains(&digits) && matches!(rest.as_bytes().get(digits), Some(b'.' | b'_'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_assets_are_kept_and_the_page_is_never_stored() {
        for hashed in [
            "main-ee1f9bc2bfce25f4.css",
            "sealpost-app-e517a15fd93d6787.js",
            "sealpost-app-e517a15fd93d6787_bg.wasm",
            // Trunk drops the hash's leading zeros
            "main-e1f9bc2bfce25f4.css",
            "sealpost-app-17a15fd93d6787_bg.wasm",
        ] {
            assert_eq!(
                cache_control(hashed),
                "public, max-age=31536000, immutable",
                "{hashed}"
            );
        }
        assert_eq!(cache_control("index.html"), "no-store");
        for plain in [
            "boot.js",
            "download-worker.js",
            "favicon.svg",
            // not Trunk's hash: too short, too long, upper case, or not before the extension
            "main-ee1f9bc.css",
            "main-ee1f9bc2bfce25f4a.css",
            "main-EE1F9BC2BFCE25F4.css",
            "main-ee1f9bc2bfce25f4x.css",
            "add-bead.js",
        ] {
            assert_eq!(cache_control(plain), "no-cache", "{plain}");
        }
    }

    #[test]
    fn pages_have_no_extension_and_files_do() {
        for page in ["", "m/0123abcd", "sent", "sent/"] {
            assert!(!looks_like_a_file(page), "{page}");
        }
        for file in ["missing.js", "x/y.wasm", ".hidden"] {
            assert!(looks_like_a_file(file), "{file}");
        }
    }

    #[test]
    fn only_plain_relative_names_are_files() {
        for bad in [
            "",
            "..",
            "../etc/passwd",
            "a/../b",
            "a//b",
            "./a",
            "a\\..\\b",
            "a/",
        ] {
            assert_eq!(file_name(bad), None, "{bad:?}");
        }
        assert_eq!(file_name("boot.js"), Some("boot.js"));
        assert_eq!(file_name("snippets/x/y.js"), Some("snippets/x/y.js"));
    }
}
