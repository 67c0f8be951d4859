//! Reply, reply all and forward: a short form that sends through the server, which seals the
//! answer as a new protected message. Replies may carry attachments: small ones inside the reply,
//! larger ones ([`UPLOAD_ABOVE`]) uploaded window by window to a reply draft first, with progress
//! (see `uploading`). A forward carries the message as it is, with a note above it.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use leptos::prelude::*;
use leptos::task::spawn_local;
use sealpost_api::admin::AttachmentRequest;
use sealpost_api::recipient::{ForwardRequest, ReplyRequest, SentView};

use crate::api::{self, AnswerKind, ApiFailure};
use crate::journey::state::Portal;
use crate::logic::size::pace;
use crate::logic::upload::UPLOAD_ABOVE;
use crate::ui::now_ms;
use crate::uploading::{self, Progress};

/// Which form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Reply,
    ReplyAll,
    Forward,
}

/// The chosen files: those small enough to travel inside the reply, and the rest.
fn chosen(input: Option<&web_sys::HtmlInputElement>) -> (Vec<web_sys::File>, Vec<web_sys::File>) {
    let mut small = Vec::new();
    let mut large = Vec::new();
    let Some(files) = input.and_then(|i| i.files()) else {
        return (small, large);
    };
    for file in (0..files.length()).filter_map(|i| files.get(i)) {
        if file.size() as u64 > UPLOAD_ABOVE {
            large.push(file);
        } else {
            small.push(file);
        }
    }
    (small, large)
}

/// What tells a chosen file from another: its name, size and time of change.
type FileSignature = (String, u64, u64);

/// A reply draft kept for the files it holds.
type Kept = Arc<Mutex<Option<(Vec<FileSignature>, String)>>>;

fn held(kept: &Kept) -> MutexGuard<'_, Option<(Vec<FileSignature>, String)>> {
    kept.lock().unwrap_or_else(PoisonError::into_inner)
}

fn signature(file: &web_sys::File) -> FileSignature {
    (file.name(), file.size() as u64, file.last_modified() as u64)
}

/// The kept draft, if it holds exactly these files, whole, and is still there.
async fn reusable(
    message_id: &str,
    kept: Option<(Vec<FileSignature>, String)>,
    files: &[FileSignature],
) -> Option<String> {
    let (signature, draft) = kept?;
    if signature != files {
        return None;
    }
    let view = api::draft(message_id, &draft).await.ok()?;
    (view.attachments.len() == files.len() && view.attachments.iter().all(|a| a.complete))
        .then_some(draft)
}

/// Read small files as attachments.
async fn read_files(files: &[web_sys::File]) -> Vec<AttachmentRequest> {
    let mut out = Vec::new();
    for file in files {
        let Ok(buffer) = wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await else {
            continue;
        };
        let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
        let kind = file.type_();
        out.push(AttachmentRequest {
            name: file.name(),
            content_type: (!kind.is_empty()).then_some(kind),
            content_base64: BASE64.encode(bytes),
            content_id: None,
        });
    }
    out
}

/// Addresses typed as a list: split on commas, semicolons and spaces.
fn addresses(typed: &str) -> Vec<String> {
    typed
        .split([',', ';', ' ', '\n'])
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The form.
#[component]
pub fn Composer(mode: Mode, close: RwSignal<Option<Mode>>) -> impl IntoView {
    let portal = Portal::get();
    let text = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let sent = RwSignal::new(None::<SentView>);
    let uploading = RwSignal::new(None::<Progress>);
    let started = StoredValue::new(0.0_f64);
    // The reply draft whose files were uploaded for a reply that was not sent (a failure, a
    // refusal to act on): sending again with the same files takes it, rather than sending them
    // again. Removed when the form closes unsent; the server drops it after an hour anyway.
    // (Plain shared memory, not a reactive value: it is read while the form is taken down.)
    let kept: Kept = Arc::new(Mutex::new(None));
    let message_id = portal.id();
    on_cleanup({
        let kept = kept.clone();
        move || {
            let draft = held(&kept).take();
            if let Some((_, draft)) = draft {
                spawn_local(async move {
                    let _ = api::delete_draft(&message_id, &draft).await;
                });
            }
        }
    });
    let files = NodeRef::<leptos::html::Input>::new();
    let first = NodeRef::<leptos::html::Textarea>::new();
    let to_field = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        // The first field to fill: the addresses for a forward, the text otherwise.
        let _ = match mode {
            Mode::Forward => to_field.get().map(|e| e.focus()),
            _ => first.get().map(|e| e.focus()),
        };
    });
    let heading = move || {
        let t = portal.t();
        match mode {
            Mode::Reply => t.compose_reply,
            Mode::ReplyAll => t.compose_reply_all,
            Mode::Forward => t.compose_forward,
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let kept = kept.clone();
        busy.set(true);
        error.set(None);
        let id = portal.id();
        let input = files.get_untracked();
        spawn_local(async move {
            let answer: Result<SentView, ApiFailure> = match mode {
                Mode::Forward => {
                    let body = ForwardRequest {
                        to: addresses(&to.get_untracked()),
                        text: text.get_untracked(),
                    };
                    api::forward(&id, &body).await
                }
                Mode::Reply | Mode::ReplyAll => {
                    let (small, large) = chosen(input.as_ref());
                    let signature: Vec<FileSignature> = large.iter().map(signature).collect();
                    let before = held(&kept).clone();
                    let draft = if large.is_empty() {
                        Ok(None)
                    } else if let Some(d) = reusable(&id, before, &signature).await {
                        Ok(Some(d))
                    } else {
                        let old = held(&kept).take();
                        if let Some((_, old)) = old {
                            let _ = api::delete_draft(&id, &old).await;
                        }
                        started.set_value(now_ms());
                        let shown = |p: Progress| uploading.set(Some(p));
                        uploading::upload(&id, &large, shown).await.map(Some)
                    };
                    uploading.set(None);
                    match draft {
                        Ok(draft) => {
                            let body = ReplyRequest {
                                text: text.get_untracked(),
                                html: None,
                                attachments: read_files(&small).await,
                                draft: draft.clone(),
                            };
                            let kind = if mode == Mode::Reply {
                                AnswerKind::Reply
                            } else {
                                AnswerKind::ReplyAll
                            };
                            let answer = api::reply(&id, kind, &body).await;
                            *held(&kept) = match (&answer, draft) {
                                // Kept for sending again with the same files.
                                (Err(_), Some(d)) => Some((signature, d)),
                                _ => None,
                            };
                            answer
                        }
                        Err(f) => Err(f),
                    }
                }
            };
            match answer {
                Ok(view) => sent.set(Some(view)),
                Err(f) => error.set(Some(f.message)),
            }
            busy.set(false);
        });
    };
    view! {
        <section class="composer card" aria-labelledby="composer-heading" data-testid="composer">
            <h2 id="composer-heading">{heading}</h2>
            {move || match sent.get() {
                Some(view) => view! {
                    <p role="status" class="success" data-testid="sent">
                        {move || portal.t().sent_to} " " {view.recipients.join(", ")} "."
                    </p>
                    <button on:click=move |_| close.set(None)>{move || portal.t().cancel}</button>
                }.into_any(),
                None => view! {
                    <form on:submit=submit.clone()>
                        {(mode == Mode::Forward).then(|| view! {
                            <label for="forward-to">{move || portal.t().forward_to}</label>
                            <input id="forward-to" type="text" data-testid="forward-to" autocomplete="email"
                                aria-describedby="forward-to-help" required=true node_ref=to_field
                                prop:value=move || to.get() on:input=move |ev| to.set(event_target_value(&ev)) />
                            <p id="forward-to-help" class="help">{move || portal.t().forward_to_help}</p>
                        })}
                        <label for="composer-text">{move || portal.t().your_message}</label>
                        <textarea id="composer-text" data-testid="composer-text" rows="6" node_ref=first
                            prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                        {(mode != Mode::Forward).then(|| view! {
                            <label for="composer-files">{move || portal.t().attach_files}</label>
                            <input id="composer-files" type="file" multiple=true data-testid="composer-files" node_ref=files />
                        })}
                        {move || uploading.get().map(|p| view! {
                            <label class="progress">
                                <span>{move || portal.t().uploading} " " {p.name.clone()}</span>
                                <progress data-testid="upload-progress" max=p.total.max(1).to_string() value=p.done.to_string()></progress>
                                <span class="help" data-testid="upload-rate">
                                    {move || pace(p.done, p.total, now_ms() - started.get_value(), portal.t())}
                                </span>
                            </label>
                        })}
                        <p role="alert" class="error" data-testid="composer-error">{move || error.get()}</p>
                        <div class="composer-actions">
                            <button type="submit" class="primary" data-testid="composer-send" disabled=move || busy.get()>
                                {move || portal.t().send}
                            </button>
                            <button type="button" class="secondary" on:click=move |_| close.set(None)>
                                {move || portal.t().cancel}
                            </button>
                        </div>
                    </form>
                }.into_any(),
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_address_lists_split_on_the_usual_separators() {
        assert_eq!(
            addresses(" a@x.example, b@y.example;c@z.example\nd@w.example  "),
            ["a@x.example", "b@y.example", "c@z.example", "d@w.example"]
        );
        assert!(addresses(" , ;").is_empty());
    }
}
