//! The open message: who, when, subject, body, attachments, and the actions its rights allow.
//! While it is open the page checks every 15 s that it may still be read (and closes it when it
//! cannot tell for 30 s), renews the key when the lease ends, and wipes everything on a
//! revocation, an expiry or a sign-out.

use std::sync::Arc;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::attachments::Attachments;
use super::composer::{Composer, Mode};
use super::frame::HtmlBody;
use super::shell::focus_heading;
use super::stopped::local_date;
use crate::journey as flow;
use crate::journey::state::{Body, Letter, Portal};

/// How often the page asks whether the message may still be read (the server says 15 s).
const CHECK_EVERY: Duration = Duration::from_secs(15);

/// Keep the page honest while a message is open: the access check and the key lease.
fn watch(portal: Portal, letter: &Letter) {
    // The key was just released: that is the first confirmation.
    let confirmed = StoredValue::new(js_sys::Date::now());
    if let Ok(handle) = set_interval_with_handle(
        move || spawn_local(flow::check_access(portal, confirmed)),
        CHECK_EVERY,
    ) {
        on_cleanup(move || handle.clear());
    }
    schedule_renewal(portal, letter.session.clone(), letter.lease_seconds);
}

/// At the end of the lease, ask for the key again (for a new key pair); the old key is zeroized
/// when the new one replaces it, or wiped with the page if the server refuses.
fn schedule_renewal(portal: Portal, session: sealpost_api::recipient::SessionView, lease: u32) {
    let after = Duration::from_secs(u64::from(lease.max(1)));
    let _ = set_timeout_with_handle(
        move || {
            // Only for the message still open under this session: after a sign-out and a new
            // sign-in in the same tab, a timer of the old session must not ask with it.
            let current = matches!(
                portal.screen.get_untracked(),
                crate::journey::state::Screen::Reading(letter) if letter.session.binding == session.binding
            );
            if !current {
                return;
            }
            spawn_local(async move {
                match flow::release_key(&portal, &session).await {
                    Ok(next) => schedule_renewal(portal, session, next),
                    Err(stop) => flow::stop(&portal, stop),
                }
            });
        },
        after,
    );
}

/// The message.
#[component]
pub fn Reader(letter: Arc<Letter>) -> impl IntoView {
    let portal = Portal::get();
    let heading = NodeRef::new();
    focus_heading(heading);
    watch(portal, &letter);
    let allowed = letter.allowed;
    let composing = RwSignal::new(None::<Mode>);
    let m = &letter.manifest;
    let lang = move || portal.lang.get();
    let sent_at = m.sent_at.clone();
    let date = move || local_date(&sent_at, lang());
    let to = m.to.join(", ");
    let cc = (!m.cc.is_empty()).then(|| m.cc.join(", "));
    let body = match &letter.body {
        Body::Text(text) => view! { <pre class="body-text" data-testid="body">{text.clone()}</pre> }.into_any(),
        Body::Html { html, inline_images } => {
            view! { <HtmlBody html=html.clone() inline_images=inline_images.clone() allowed=allowed /> }
                .into_any()
        }
    };
    let block_copy = move |ev: web_sys::ClipboardEvent| {
        if !allowed.copy {
            ev.prevent_default();
        }
    };
    let action = move |mode: Mode| composing.set(Some(mode));
    view! {
        <article
            class="letter"
            class:no-copy=!allowed.copy
            class:no-print=!allowed.print
            data-testid="letter"
            on:copy=block_copy
            on:cut=block_copy
            on:contextmenu=move |ev| {
                if !allowed.copy || !allowed.download {
                    ev.prevent_default();
                }
            }
        >
            <p class="print-blocked" aria-hidden="true">{move || portal.t().print_blocked}</p>
            <div class="letter-content">
                <h1 tabindex="-1" node_ref=heading data-testid="subject">{m.subject.clone()}</h1>
                <dl class="letter-meta">
                    <dt>{move || portal.t().from}</dt>
                    <dd data-testid="from">{m.from.clone()}</dd>
                    <dt>{move || portal.t().to}</dt>
                    <dd data-testid="to">{to}</dd>
                    {cc.map(|cc| view! {
                        <dt>{move || portal.t().cc}</dt>
                        <dd data-testid="cc">{cc}</dd>
                    })}
                    <dt>{move || portal.t().date}</dt>
                    <dd>{date}</dd>
                </dl>
                <nav class="actions" aria-label=move || portal.t().title>
                    {allowed.reply.then(|| view! {
                        <button data-testid="reply" on:click=move |_| action(Mode::Reply)>{move || portal.t().reply}</button>
                    })}
                    {allowed.reply_all.then(|| view! {
                        <button data-testid="reply-all" on:click=move |_| action(Mode::ReplyAll)>{move || portal.t().reply_all}</button>
                    })}
                    {allowed.forward.then(|| view! {
                        <button data-testid="forward" on:click=move |_| action(Mode::Forward)>{move || portal.t().forward}</button>
                    })}
                    {allowed.print.then(|| view! {
                        <button data-testid="print" on:click=move |_| { let _ = window().print(); }>{move || portal.t().print}</button>
                    })}
                    <button class="secondary" data-testid="sign-out" on:click=move |_| spawn_local(flow::sign_out(portal))>
                        {move || portal.t().sign_out}
                    </button>
                </nav>
                {allowed.restricted().then(|| view! {
                    <p class="notice" data-testid="restricted">{move || portal.t().restricted}</p>
                })}
                {move || composing.get().map(|mode| view! { <Composer mode=mode close=composing /> })}
                <div class="letter-body">{body}</div>
                <Attachments letter=letter.clone() />
                <p class="help">{move || portal.t().encrypted_note}</p>
                <super::passkeys::Passkeys />
            </div>
        </article>
    }
}
