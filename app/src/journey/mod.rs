//! The recipient's journey, controlled outside the components: starting from the link, signing in,
//! releasing the key, opening the message, and stopping (which always wipes). The state the
//! components render is in [`state`]; the released key lives only in [`keyring`].

pub mod keyring;
pub mod state;

use sealpost_api::ErrorCode;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as BASE64, URL_SAFE_NO_PAD as BASE64URL};
use leptos::prelude::*;
use leptos::task::spawn_local;
use sealpost_api::recipient::{AccessState, SessionView};
use sealpost_envelope::RecipientKeyPair;
use sealpost_envelope::part::Part;

use crate::api::{self, ApiFailure};
use crate::logic::actions::Allowed;
use crate::logic::stop::Stop;
use crate::logic::watch::unconfirmed_too_long;
use crate::opening::Vault;
use crate::reading::{self, Engine, OpenFailure};
use state::{Body, Letter, Portal, Screen};

/// Largest inline (`cid:`) image turned into a `data:` URL for the HTML body.
const MAX_INLINE_IMAGE: u64 = 5 * 1024 * 1024;

/// The page for a failed request.
pub fn stop_for(portal: &Portal, failure: &ApiFailure) -> Stop {
    Stop::from_refusal(
        &failure.code,
        &failure.message,
        portal.expires_at().as_deref(),
    )
}

/// Wipe the key and what was decrypted, and show `stop`.
pub fn stop(portal: &Portal, stop: Stop) {
    keyring::wipe();
    portal.screen.set(Screen::Stopped(stop));
}

/// The first step: an existing session opens the message at once; otherwise the link token shows
/// the sign-in page; without either there is nothing to open.
pub fn start(portal: Portal) {
    let id = portal.id();
    if id.is_empty() {
        portal.screen.set(Screen::Home);
        return;
    }
    spawn_local(async move {
        match api::session(&id).await {
            Ok(session) => open(portal, session).await,
            Err(f) if f.status == 401 => show_sign_in(portal).await,
            Err(f) => stop(&portal, stop_for(&portal, &f)),
        }
    });
}

/// Show the sign-in page for the link token (or the page for a message no longer readable).
pub async fn show_sign_in(portal: Portal) {
    let Some(token) = portal.token.get_value() else {
        stop(&portal, Stop::NotFound);
        return;
    };
    match api::link_by_token(&portal.id(), &token).await {
        Ok(link) => {
            let state = link.state;
            let expires = link.expires_at.clone();
            portal.link.set(Some(link));
            match Stop::from_access(state, expires.as_deref()) {
                Some(s) => stop(&portal, s),
                None => portal.screen.set(Screen::Intro),
            }
        }
        Err(f) => stop(&portal, stop_for(&portal, &f)),
    }
}

fn storage_key(message_id: &str) -> String {
    format!("sealpost-link-{message_id}")
}

/// Keep the link token in this tab's session storage while the browser visits an identity
/// provider (the address it comes back to has no fragment). Only this tab can read it, and it
/// goes once the message opens.
pub fn remember_token(message_id: &str, token: &str) {
    if let Some(s) = web_sys::window().and_then(|w| w.session_storage().ok().flatten()) {
        let _ = s.set_item(&storage_key(message_id), token);
    }
}

/// The token [`remember_token`] kept for `message_id`, if any.
pub fn recall_token(message_id: &str) -> Option<String> {
    web_sys::window()
        .and_then(|w| w.session_storage().ok().flatten())
        .and_then(|s| s.get_item(&storage_key(message_id)).ok().flatten())
}

fn forget_token(message_id: &str) {
    if let Some(s) = web_sys::window().and_then(|w| w.session_storage().ok().flatten()) {
        let _ = s.remove_item(&storage_key(message_id));
    }
}

/// Ask the server for the key for a fresh key pair of this page and keep it; returns the lease.
pub async fn release_key(portal: &Portal, session: &SessionView) -> Result<u32, Stop> {
    let generation = keyring::generation();
    let pair = RecipientKeyPair::generate();
    let answer = api::key(&portal.id(), BASE64URL.encode(pair.public_key()))
        .await
        .map_err(|f| stop_for(portal, &f))?;
    let release = BASE64URL
        .decode(answer.release.as_bytes())
        .map_err(|_| Stop::KeyRefused {
            code: ErrorCode::DecryptionFailed.as_str().into(),
        })?;
    let vault = Vault::from_release(
        &pair,
        &release,
        &session.message_id,
        &session.recipient,
        &session.binding,
    )
    .map_err(|_| Stop::KeyRefused {
        code: ErrorCode::DecryptionFailed.as_str().into(),
    })?;
    if !keyring::install(vault, generation) {
        return Err(wiped());
    }
    Ok(answer.lease_seconds)
}

fn decryption_failed() -> Stop {
    Stop::KeyRefused {
        code: ErrorCode::DecryptionFailed.as_str().into(),
    }
}

fn wiped() -> Stop {
    Stop::SessionEnded {
        code: "key_wiped".into(),
    }
}

/// Fetch and open `part` window by window, giving each window's plaintext to `sink` and the
/// progress (done, total) to `progress`.
pub async fn open_part(
    portal: &Portal,
    part: Part,
    len: u64,
    sink: impl FnMut(reading::Plain<'_>),
    progress: impl FnMut(u64, u64),
) -> Result<(), Stop> {
    let id = portal.id();
    let name = part.name();
    let fetch = |range| api::part_range(&id, &name, range);
    reading::open_part(
        &keyring::Tab,
        Engine::best(),
        part,
        len,
        fetch,
        sink,
        progress,
    )
    .await
    .map_err(|f| stop_for_opening(portal, f))
}

/// Open `part` into a `Blob` of `blob_type`, with progress.
pub async fn open_to_blob(
    portal: &Portal,
    part: Part,
    len: u64,
    blob_type: &str,
    progress: impl FnMut(u64, u64),
) -> Result<web_sys::Blob, Stop> {
    let id = portal.id();
    let name = part.name();
    let fetch = |range| part_range_retrying(&id, &name, range);
    reading::open_to_blob(
        &keyring::Tab,
        Engine::best(),
        part,
        len,
        fetch,
        blob_type,
        progress,
    )
    .await
    .map_err(|f| stop_for_opening(portal, f))
}

fn stop_for_opening(portal: &Portal, failure: OpenFailure<ApiFailure>) -> Stop {
    match failure {
        OpenFailure::Wiped => wiped(),
        OpenFailure::Fetch(f) => stop_for(portal, &f),
        OpenFailure::Decrypt | OpenFailure::Save => decryption_failed(),
    }
}

/// A window of a part, fetched again after a network failure or a server error (the connection
/// dropped, a node restarting): up to five tries, waiting 0.5, 1, 2 and 4 seconds. A refusal (a
/// revocation, the session gone) is not tried again.
async fn part_range_retrying(
    id: &str,
    name: &str,
    range: core::ops::Range<u64>,
) -> Result<Vec<u8>, ApiFailure> {
    let mut wait = 500;
    let mut tries = 1;
    loop {
        match api::part_range(id, name, range.clone()).await {
            Err(f) if (f.status == 0 || f.status >= 500) && tries < 5 => {
                crate::saving::sleep(wait).await;
                wait *= 2;
                tries += 1;
            }
            other => return other,
        }
    }
}

/// What became of a save.
#[derive(Debug)]
pub enum Saved {
    /// Written to disk window by window.
    Streamed,
    /// Decrypted into memory: the caller saves the `Blob`.
    InMemory(web_sys::Blob),
    /// The person closed the picker or cancelled the download.
    Cancelled,
    /// The browser would not write; why.
    Failed(String),
    /// Too large for this browser, which can stream to disk neither way.
    TooLarge,
}

/// Save attachment `part` (`len` bytes, named `name`) the best way this browser has (see
/// `saving`). A revocation, a wiped key or a part that does not open stop the journey, after
/// what was written is discarded.
pub async fn save_part(
    portal: &Portal,
    part: Part,
    name: &str,
    len: u64,
    progress: impl FnMut(u64, u64),
) -> Result<Saved, Stop> {
    use crate::saving::{MEMORY_CAP, SaveFailure, Sink, Way};
    let way = Way::for_size(len);
    if way == Way::Memory {
        if len > MEMORY_CAP {
            return Ok(Saved::TooLarge);
        }
        return open_to_blob(portal, part, len, "application/octet-stream", progress)
            .await
            .map(Saved::InMemory);
    }
    let sink = match Sink::begin(way, name, len).await {
        Ok(s) => s,
        Err(SaveFailure::Cancelled) => return Ok(Saved::Cancelled),
        Err(SaveFailure::Failed(why)) => return Ok(Saved::Failed(why)),
    };
    if sink.ready().await.is_err() {
        sink.abort().await;
        return Ok(Saved::Cancelled);
    }
    let id = portal.id();
    let part_name = part.name();
    let opened = reading::open_part_paced(
        &keyring::Tab,
        Engine::best(),
        part,
        len,
        |range| part_range_retrying(&id, &part_name, range),
        |plain| Some(sink.write(&plain)),
        progress,
    )
    .await;
    match opened {
        Ok(()) => Ok(match sink.finish().await {
            Ok(()) => Saved::Streamed,
            Err(SaveFailure::Cancelled) => Saved::Cancelled,
            Err(SaveFailure::Failed(why)) => Saved::Failed(why),
        }),
        Err(OpenFailure::Save) => {
            sink.abort().await;
            Ok(Saved::Cancelled)
        }
        Err(other) => {
            sink.abort().await;
            Err(stop_for_opening(portal, other))
        }
    }
}

/// A whole part in memory (bodies and inline images, which are small).
async fn part_bytes(portal: &Portal, part: Part, len: u64) -> Result<Vec<u8>, Stop> {
    let mut all = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    open_part(portal, part, len, |p| p.append_to(&mut all), |_, _| {}).await?;
    Ok(all)
}

/// Release the key and open the manifest and body.
pub async fn open(portal: Portal, session: SessionView) {
    forget_token(&portal.id());
    portal.screen.set(Screen::Opening);
    match open_letter(&portal, session).await {
        Ok(letter) => portal.screen.set(Screen::Reading(Arc::new(letter))),
        Err(s) => stop(&portal, s),
    }
}

async fn open_letter(portal: &Portal, session: SessionView) -> Result<Letter, Stop> {
    let id = portal.id();
    if portal.link.with_untracked(Option::is_none) {
        let link = api::link_signed_in(&id)
            .await
            .map_err(|f| stop_for(portal, &f))?;
        portal.link.set(Some(link));
    }
    let lease_seconds = release_key(portal, &session).await?;
    let sealed = api::part_whole(&id, "manifest")
        .await
        .map_err(|f| stop_for(portal, &f))?;
    let manifest = keyring::with(|v| v.manifest(&sealed))
        .ok_or_else(wiped)?
        .map_err(|_| decryption_failed())?;
    let is_html = |ct: &str| ct.to_ascii_lowercase().starts_with("text/html");
    let chosen = manifest
        .bodies
        .iter()
        .position(|b| is_html(&b.content_type))
        .unwrap_or(0);
    let entry = manifest.bodies.get(chosen).ok_or_else(decryption_failed)?;
    let bytes = part_bytes(portal, Part::Body(chosen as u32), entry.size).await?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let mut inlined = Vec::new();
    let body = if is_html(&entry.content_type) {
        let mut inline_images = Vec::new();
        for (i, a) in manifest.attachments.iter().enumerate() {
            let Some(cid) = &a.content_id else { continue };
            let ct = a.content_type.to_ascii_lowercase();
            if a.size > MAX_INLINE_IMAGE
                || !matches!(
                    ct.as_str(),
                    "image/png" | "image/jpeg" | "image/gif" | "image/webp"
                )
            {
                continue;
            }
            if !text.contains(&format!("cid:{cid}")) {
                continue;
            }
            let bytes = part_bytes(portal, Part::Attachment(i as u32), a.size).await?;
            inline_images.push((
                cid.clone(),
                format!("data:{ct};base64,{}", BASE64.encode(bytes)),
            ));
            inlined.push(i);
        }
        Body::Html {
            html: text,
            inline_images,
        }
    } else {
        Body::Text(text)
    };
    let allowed = Allowed::from_rights(&session.rights);
    Ok(Letter {
        session,
        manifest,
        body,
        allowed,
        lease_seconds,
        inlined,
    })
}

/// Ask whether the message is still readable; stop the page if not. `confirmed` holds when the
/// server last said it is (`js_sys::Date::now()` milliseconds).
pub async fn check_access(portal: Portal, confirmed: StoredValue<f64>) {
    match api::access(&portal.id()).await {
        Ok(view) if view.state == AccessState::Active => confirmed.set_value(js_sys::Date::now()),
        Ok(view) => {
            if let Some(s) = Stop::from_access(view.state, portal.expires_at().as_deref()) {
                stop(&portal, s);
            }
        }
        // A session that ended (idle, absolute or signed out elsewhere) ends reading too.
        Err(f) if f.status == 401 => stop(&portal, stop_for(&portal, &f)),
        // One failed check is a blip; unconfirmed for as long as a revocation may take to arrive,
        // the message closes, since a revocation could be what the page cannot hear.
        Err(_) => {
            if unconfirmed_too_long(confirmed.get_value(), js_sys::Date::now()) {
                stop(
                    &portal,
                    Stop::Failed {
                        code: "access_unconfirmed".to_owned(),
                        message: String::new(),
                    },
                );
            }
        }
    }
}

/// Sign out on the server and wipe.
pub async fn sign_out(portal: Portal) {
    let _ = api::sign_out(&portal.id()).await;
    stop(&portal, Stop::SignedOut);
}
