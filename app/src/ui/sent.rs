//! `/sent`: a sender signs in with a passcode sent to their own address, sees the protected
//! messages they sent — each recipient's notice, first open and access — and removes external
//! access for everyone or for one recipient. Nothing here is secret to the sender's own browser:
//! no key is involved, only the status the server reports.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sealpost_api::ErrorCode;
use sealpost_api::admin::{MessageStatusView, NoticeView, RecipientStatusView};
use sealpost_api::sender::SentMessagesView;

use super::shell::focus_heading;
use super::stopped::local_date;
use crate::api::{self, ApiFailure};
use crate::i18n::fill;
use crate::journey::state::Portal;
use crate::logic::passcode::normalize;
use crate::logic::sent::{SentState, can_remove, can_remove_one, signed_out_by};

/// Where the sender is.
#[derive(Debug, Clone, PartialEq)]
enum Stage {
    Checking,
    Address,
    Code { address: String, reference: String },
    Listing(SentMessagesView),
}

/// What the page shares between its parts.
#[derive(Debug, Clone, Copy)]
struct Sender {
    stage: RwSignal<Stage>,
    busy: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    status: RwSignal<Option<String>>,
}

impl Sender {
    fn failed(self, f: &ApiFailure) {
        self.busy.set(false);
        if signed_out_by(&f.code) {
            self.stage.set(Stage::Address);
        }
        self.error.set(Some(format!("{} ({})", f.message, f.code)));
    }

    fn load(self) {
        spawn_local(async move {
            match api::sent_messages().await {
                Ok(list) => self.stage.set(Stage::Listing(list)),
                Err(f) => self.failed(&f),
            }
            self.busy.set(false);
        });
    }
}

/// The sender's page.
#[component]
pub fn SentPortal() -> impl IntoView {
    let portal = Portal::get();
    let s = Sender {
        stage: RwSignal::new(Stage::Checking),
        busy: RwSignal::new(false),
        error: RwSignal::new(None),
        status: RwSignal::new(None),
    };
    spawn_local(async move {
        match api::sender_session().await {
            Ok(_) => s.load(),
            Err(_) => s.stage.set(Stage::Address),
        }
    });
    view! {
        {move || match s.stage.get() {
            Stage::Checking => {
                view! { <super::shell::Busy text=move || portal.t().loading /> }.into_any()
            }
            Stage::Address => view! { <AddressForm s=s /> }.into_any(),
            Stage::Code { address, reference } => {
                view! { <CodeForm s=s address=address reference=reference /> }.into_any()
            }
            Stage::Listing(list) => view! { <Listing s=s list=list /> }.into_any(),
        }}
    }
}

#[component]
fn AddressForm(s: Sender) -> impl IntoView {
    let portal = Portal::get();
    let heading = NodeRef::new();
    focus_heading(heading);
    let typed = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let address = typed.get_untracked().trim().to_owned();
        s.busy.set(true);
        s.error.set(None);
        spawn_local(async move {
            match api::sender_passcode(&address).await {
                Ok(answer) => {
                    s.busy.set(false);
                    s.stage.set(Stage::Code {
                        address,
                        reference: answer.reference,
                    });
                }
                Err(f) => s.failed(&f),
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="sender-heading">
            <h1 id="sender-heading" tabindex="-1" node_ref=heading>
                {move || portal.t().sender_sign_in_heading}
            </h1>
            <form on:submit=submit novalidate=true>
                <label for="sender-address">{move || portal.t().sender_address_label}</label>
                <input
                    id="sender-address"
                    type="email"
                    autocomplete="email"
                    data-testid="sender-address"
                    aria-describedby="sender-address-help sender-error"
                    prop:value=move || typed.get()
                    on:input=move |ev| typed.set(event_target_value(&ev))
                />
                <p id="sender-address-help" class="help">
                    {move || portal.t().sender_address_help}
                </p>
                <p id="sender-error" role="alert" class="error">{move || s.error.get()}</p>
                <button
                    type="submit"
                    class="primary"
                    data-testid="sender-send-passcode"
                    disabled=move || s.busy.get()
                >
                    {move || if s.busy.get() { portal.t().sending } else { portal.t().send_passcode }}
                </button>
            </form>
        </section>
    }
}

#[component]
fn CodeForm(s: Sender, address: String, reference: String) -> impl IntoView {
    let portal = Portal::get();
    let heading = NodeRef::new();
    focus_heading(heading);
    let typed = RwSignal::new(String::new());
    let to = address.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(code) = normalize(&typed.get_untracked()) else {
            s.error.set(Some(portal.t().passcode_format.to_owned()));
            return;
        };
        let address = to.clone();
        s.busy.set(true);
        s.error.set(None);
        spawn_local(async move {
            match api::sender_sign_in(&address, &code).await {
                Ok(_) => s.load(),
                Err(f) if f.code == ErrorCode::PasscodeInvalid.as_str() => {
                    s.busy.set(false);
                    typed.set(String::new());
                    s.error.set(Some(portal.t().passcode_invalid.to_owned()));
                }
                Err(f) => s.failed(&f),
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="sender-code-heading">
            <h1 id="sender-code-heading" tabindex="-1" node_ref=heading>
                {move || portal.t().sender_sign_in_heading}
            </h1>
            <p>
                {move || portal.t().passcode_sent_to} " " <strong>{address.clone()}</strong> ". "
                {move || portal.t().reference_hint} " "
                <strong class="reference" data-testid="reference">{reference.clone()}</strong> "."
            </p>
            <form on:submit=submit novalidate=true>
                <label for="sender-passcode">{move || portal.t().passcode_label}</label>
                <input
                    id="sender-passcode"
                    data-testid="passcode"
                    inputmode="numeric"
                    autocomplete="one-time-code"
                    maxlength="12"
                    aria-describedby="sender-passcode-help sender-code-error"
                    prop:value=move || typed.get()
                    on:input=move |ev| typed.set(event_target_value(&ev))
                />
                <p id="sender-passcode-help" class="help">{move || portal.t().passcode_help}</p>
                <p id="sender-code-error" role="alert" class="error" data-testid="passcode-error">
                    {move || s.error.get()}
                </p>
                <button
                    type="submit"
                    class="primary"
                    data-testid="sign-in"
                    disabled=move || s.busy.get()
                >
                    {move || if s.busy.get() { portal.t().checking } else { portal.t().continue_button }}
                </button>
            </form>
            <p>
                <button
                    class="link-button"
                    on:click=move |_| {
                        s.error.set(None);
                        s.stage.set(Stage::Address);
                    }
                >
                    {move || portal.t().use_another_address}
                </button>
            </p>
        </section>
    }
}

/// Ask the person, then remove access and show the new state. `portal` is taken where the
/// component runs: the answer arrives outside any component, where there is no context.
fn remove(
    s: Sender,
    portal: Portal,
    question: String,
    message_id: String,
    recipient: Option<String>,
) {
    let sure = window().confirm_with_message(&question).unwrap_or(false);
    if !sure {
        return;
    }
    s.busy.set(true);
    s.error.set(None);
    s.status.set(None);
    spawn_local(async move {
        match api::remove_access(&message_id, recipient.as_deref()).await {
            Ok(list) => {
                s.busy.set(false);
                s.status.set(Some(portal.t().access_removed.to_owned()));
                s.stage.set(Stage::Listing(list));
            }
            Err(f) => s.failed(&f),
        }
    });
}

#[component]
fn Listing(s: Sender, list: SentMessagesView) -> impl IntoView {
    let portal = Portal::get();
    let heading = NodeRef::new();
    focus_heading(heading);
    let sign_out = move |_| {
        spawn_local(async move {
            let _ = api::sender_sign_out().await;
            s.status.set(None);
            s.stage.set(Stage::Address);
        });
    };
    let empty = list.messages.is_empty();
    let messages = list.messages;
    view! {
        <section class="card" aria-labelledby="sent-heading">
            <h1 id="sent-heading" tabindex="-1" node_ref=heading>
                {move || portal.t().sent_heading}
            </h1>
            <p class="help">
                {move || portal.t().signed_in_as} " "
                <strong data-testid="sender-signed-in">{list.address.clone()}</strong> " · "
                <button class="link-button" data-testid="sender-sign-out" on:click=sign_out>
                    {move || portal.t().sign_out}
                </button>
            </p>
            <p role="status" class="notice" data-testid="sender-status">{move || s.status.get()}</p>
            <p role="alert" class="error">{move || s.error.get()}</p>
            {empty.then(|| view! { <p>{move || portal.t().sent_none}</p> })}
        </section>
        {messages
            .into_iter()
            .map(|m| view! { <SentMessage s=s m=m /> })
            .collect_view()}
    }
}

#[component]
fn SentMessage(s: Sender, m: MessageStatusView) -> impl IntoView {
    let portal = Portal::get();
    let lang = move || portal.lang.get();
    let subject = m.subject.clone();
    let state = {
        let m = m.clone();
        move || {
            let t = portal.t();
            match SentState::of(&m) {
                SentState::Revoked(r) => format!(
                    "{} ({} {}, {})",
                    t.state_revoked,
                    t.removed_by.to_lowercase(),
                    r.by,
                    local_date(&r.at, lang())
                ),
                SentState::Expired => t.state_expired.to_owned(),
                SentState::Active => t.state_active.to_owned(),
            }
        }
    };
    let expiry = {
        let at = m.expires_at.clone();
        move || match &at {
            Some(at) => format!("{} {}", portal.t().access_ends, local_date(at, lang())),
            None => portal.t().access_never_ends.to_owned(),
        }
    };
    let sent_at = m.sent_at.clone();
    let open = can_remove(&m);
    let id = m.message_id.clone();
    let remove_all = {
        let (id, subject) = (id.clone(), subject.clone());
        move |_| {
            let question = fill(portal.t().confirm_remove_all, "subject", &subject);
            remove(s, portal, question, id.clone(), None);
        }
    };
    let m_for_rows = m.clone();
    let rows = m
        .recipients
        .into_iter()
        .map(|r| {
            view! {
                <RecipientRow
                    s=s
                    can_remove=can_remove_one(&m_for_rows, &r)
                    r=r
                    message_id=id.clone()
                    subject=subject.clone()
                />
            }
        })
        .collect_view();
    view! {
        <article class="card sent-message" data-testid="sent-message" data-message-id=m.message_id.clone()>
            <h2>{m.subject.clone()}</h2>
            <p class="help">
                {move || portal.t().sent_on} " " {move || local_date(&sent_at, lang())} " · "
                {expiry}
            </p>
            <p data-testid="sent-state">
                <strong>{state}</strong>
            </p>
            <table class="recipients">
                <thead>
                    <tr>
                        <th scope="col">{move || portal.t().recipient_col}</th>
                        <th scope="col">{move || portal.t().notice_col}</th>
                        <th scope="col">{move || portal.t().opened_col}</th>
                        <th scope="col">{move || portal.t().access_col}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
            {open
                .then(|| {
                    view! {
                        <button
                            class="danger"
                            data-testid="remove-access-all"
                            disabled=move || s.busy.get()
                            on:click=remove_all
                        >
                            {move || portal.t().remove_access_all}
                        </button>
                    }
                })}
        </article>
    }
}

#[component]
fn RecipientRow(
    s: Sender,
    r: RecipientStatusView,
    message_id: String,
    subject: String,
    can_remove: bool,
) -> impl IntoView {
    let portal = Portal::get();
    let lang = move || portal.lang.get();
    let notice = {
        let n = r.notice.clone();
        move || match &n {
            NoticeView::Queued { .. } => portal.t().notice_queued.to_owned(),
            NoticeView::Sent { .. } => portal.t().notice_sent.to_owned(),
            NoticeView::Deferred { reason, .. } => {
                format!("{}: {reason}", portal.t().notice_deferred)
            }
            NoticeView::Bounced { reason, .. } => format!("{}: {reason}", portal.t().notice_failed),
        }
    };
    let opened = {
        let at = r.opened_at.clone();
        move || match &at {
            Some(at) => local_date(at, lang()),
            None => portal.t().not_opened.to_owned(),
        }
    };
    let revoked = r.revoked.clone();
    let access = {
        let revoked = revoked.clone();
        move || match &revoked {
            Some(v) => format!(
                "{} {}, {}",
                portal.t().removed_by,
                v.by,
                local_date(&v.at, lang())
            ),
            None => portal.t().can_read.to_owned(),
        }
    };
    let address = r.address.clone();
    let remove_one = {
        let address = address.clone();
        move |_| {
            let question = fill(portal.t().confirm_remove_one, "address", &address);
            let question = fill(&question, "subject", &subject);
            remove(
                s,
                portal,
                question,
                message_id.clone(),
                Some(address.clone()),
            );
        }
    };
    let label = {
        let address = address.clone();
        move || format!("{} – {address}", portal.t().remove_access_one)
    };
    view! {
        <tr data-testid="sent-recipient" data-address=address.clone()>
            <th scope="row">{address.clone()}</th>
            <td>{notice}</td>
            <td data-testid="opened">{opened}</td>
            <td data-testid="access">
                {access}
                {can_remove
                    .then(|| {
                        view! {
                            " "
                            <button
                                class="link-button"
                                data-testid="remove-access-one"
                                aria-label=label
                                disabled=move || s.busy.get()
                                on:click=remove_one.clone()
                            >
                                {move || portal.t().remove_access_one}
                            </button>
                        }
                    })}
            </td>
        </tr>
    }
}
