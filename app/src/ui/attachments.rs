//! Attachments: listed with name, type and size; shown in the page where the browser can and the
//! rights allow; downloaded when the rights include `download`. Each is fetched and decrypted
//! window by window with a progress bar (with the rate and the time left). Shown attachments and
//! small downloads go into a `Blob`, so memory holds the file once plus one window; large
//! downloads go straight to disk (see `saving`), so memory holds a window or two whatever the size.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use sealpost_envelope::AttachmentEntry;
use sealpost_envelope::part::Part;
use wasm_bindgen::JsCast;

use crate::journey as flow;
use crate::journey::keyring;
use crate::journey::state::{Letter, Portal};
use crate::logic::actions::{MAX_TEXT_PREVIEW, Preview, preview};
use crate::logic::size::{human, pace};
use crate::ui::now_ms;

/// What is shown for an opened attachment.
#[derive(Debug, Clone, PartialEq)]
enum Shown {
    Image(String),
    Text(String),
    Pdf(String),
}

/// Decrypt attachment `index` into a `Blob` of its type.
async fn decrypt(
    portal: Portal,
    index: usize,
    entry: &AttachmentEntry,
    blob_type: &str,
    progress: RwSignal<Option<(u64, u64)>>,
) -> Result<web_sys::Blob, crate::logic::stop::Stop> {
    progress.set(Some((0, entry.size)));
    let blob = flow::open_to_blob(
        &portal,
        Part::Attachment(index as u32),
        entry.size,
        blob_type,
        |done, total| progress.set(Some((done, total))),
    )
    .await?;
    progress.set(None);
    Ok(blob)
}

fn object_url(blob: &web_sys::Blob) -> Option<String> {
    let url = web_sys::Url::create_object_url_with_blob(blob).ok()?;
    keyring::remember_url(url.clone());
    Some(url)
}

fn save(blob: &web_sys::Blob, name: &str) {
    let Some(url) = object_url(blob) else { return };
    let Some(anchor) = document()
        .create_element("a")
        .ok()
        .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    else {
        return;
    };
    anchor.set_href(&url);
    anchor.set_download(name);
    anchor.click();
}

/// One attachment row.
#[component]
fn Row(index: usize, entry: AttachmentEntry, letter: Arc<Letter>) -> impl IntoView {
    let portal = Portal::get();
    let allowed = letter.allowed;
    let how = preview(&entry.content_type, &allowed);
    let viewable = match how {
        Preview::None => false,
        Preview::Text => entry.size <= MAX_TEXT_PREVIEW,
        _ => true,
    };
    let progress = RwSignal::new(None::<(u64, u64)>);
    let started = StoredValue::new(0.0f64);
    let note = RwSignal::new(None::<String>);
    // Streaming to disk (a large download) rather than decrypting into the page.
    let to_disk = RwSignal::new(false);
    let shown = RwSignal::new(None::<Shown>);
    let entry = StoredValue::new(entry);
    let busy = move || progress.get().is_some();
    let view_it = move |_| {
        to_disk.set(false);
        started.set_value(now_ms());
        if shown.get_untracked().is_some() {
            shown.set(None);
            return;
        }
        spawn_local(async move {
            let e = entry.get_value();
            match decrypt(portal, index, &e, how.blob_type(&e.content_type), progress).await {
                Ok(blob) => {
                    let s = match how {
                        Preview::Text => {
                            let text = wasm_bindgen_futures::JsFuture::from(blob.text())
                                .await
                                .ok()
                                .and_then(|t| t.as_string())
                                .unwrap_or_default();
                            Some(Shown::Text(text))
                        }
                        Preview::Image => object_url(&blob).map(Shown::Image),
                        Preview::Pdf => object_url(&blob).map(Shown::Pdf),
                        Preview::None => None,
                    };
                    shown.set(s);
                }
                Err(stop) => flow::stop(&portal, stop),
            }
        });
    };
    let download = move |_| {
        note.set(None);
        started.set_value(now_ms());
        to_disk.set(entry.with_value(|e| e.size) > crate::saving::IN_MEMORY_MAX);
        spawn_local(async move {
            let e = entry.get_value();
            progress.set(Some((0, e.size)));
            let saved = flow::save_part(
                &portal,
                Part::Attachment(index as u32),
                &e.name,
                e.size,
                |done, total| progress.set(Some((done, total))),
            )
            .await;
            progress.set(None);
            match saved {
                Ok(flow::Saved::InMemory(blob)) => save(&blob, &e.name),
                Ok(flow::Saved::Streamed | flow::Saved::Cancelled) => {}
                Ok(flow::Saved::Failed(why)) => {
                    note.set(Some(format!("{} {why}", portal.t().save_failed)));
                }
                Ok(flow::Saved::TooLarge) => note.set(Some(portal.t().too_large_to_save.into())),
                Err(stop) => flow::stop(&portal, stop),
            }
        });
    };
    let name = entry.with_value(|e| e.name.clone());
    let kind = entry.with_value(|e| e.content_type.clone());
    let size = entry.with_value(|e| e.size);
    view! {
        <li class="attachment" data-testid="attachment">
            <div class="attachment-info">
                <span class="attachment-name" data-testid="attachment-name">{name.clone()}</span>
                <span class="attachment-meta">
                    {kind} " · " {move || human(size, portal.t().bytes)}
                </span>
            </div>
            <div class="attachment-actions">
                {viewable.then(|| view! {
                    <button data-testid="attachment-view" disabled=busy on:click=view_it aria-expanded=move || shown.get().is_some().to_string()>
                        {move || if shown.get().is_some() { portal.t().hide } else { portal.t().view }}
                    </button>
                })}
                {allowed.download.then(|| view! {
                    <button data-testid="attachment-download" disabled=busy on:click=download>
                        {move || portal.t().download}
                    </button>
                })}
                {(!viewable && !allowed.download).then(|| view! {
                    <span class="help">{move || portal.t().no_preview}</span>
                })}
            </div>
            {move || progress.get().map(|(done, total)| view! {
                <label class="progress">
                    <span>
                        {move || if to_disk.get() { portal.t().saving } else { portal.t().decrypting }}
                        " " {name.clone()}
                    </span>
                    <progress data-testid="attachment-progress" max=total.max(1).to_string() value=done.to_string()></progress>
                    <span class="help" data-testid="attachment-rate">
                        {move || pace(done, total, now_ms() - started.get_value(), portal.t())}
                    </span>
                </label>
            })}
            {move || note.get().map(|n| view! { <p class="help" role="alert" data-testid="attachment-note">{n}</p> })}
            {move || shown.get().map(|s| match s {
                Shown::Image(url) => view! { <img class="attachment-preview" data-testid="attachment-preview" src=url alt=entry.with_value(|e| e.name.clone()) /> }.into_any(),
                Shown::Text(text) => view! { <pre class="attachment-preview" data-testid="attachment-preview">{text}</pre> }.into_any(),
                Shown::Pdf(url) => view! { <iframe class="attachment-preview pdf" data-testid="attachment-preview" src=url title=entry.with_value(|e| e.name.clone())></iframe> }.into_any(),
            })}
        </li>
    }
}

/// The list.
#[component]
pub fn Attachments(letter: Arc<Letter>) -> impl IntoView {
    let portal = Portal::get();
    let entries: Vec<(usize, AttachmentEntry)> = letter
        .manifest
        .attachments
        .iter()
        .cloned()
        .enumerate()
        .filter(|(i, _)| !letter.inlined.contains(i))
        .collect();
    (!entries.is_empty()).then(|| {
        view! {
            <section class="attachments" aria-labelledby="attachments-heading">
                <h2 id="attachments-heading">{move || portal.t().attachments}</h2>
                <ul>
                    {entries
                        .into_iter()
                        .map(|(index, entry)| view! { <Row index=index entry=entry letter=letter.clone() /> })
                        .collect_view()}
                </ul>
            </section>
        }
    })
}
