//! Signing in: the branded first page with the button that emails a passcode, then the passcode
//! form with "keep me signed in", resend with a cooldown, and errors a person understands.

use sealpost_api::ErrorCode;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::shell::focus_heading;
use crate::api;
use crate::i18n::{Texts, fill};
use crate::journey as flow;
use crate::journey::state::{CodeSent, Portal, Screen};
use crate::logic::passcode::{CodeTries, Wrong, normalize};
use crate::webauthn;

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Ask for a passcode; on success show the passcode form.
fn send_passcode(portal: Portal, busy: RwSignal<bool>, error: RwSignal<Option<String>>) {
    let Some(token) = portal.token.get_value() else {
        flow::stop(&portal, crate::logic::stop::Stop::NotFound);
        return;
    };
    busy.set(true);
    error.set(None);
    spawn_local(async move {
        match api::request_passcode(&portal.id(), &token).await {
            Ok(answer) => portal.screen.set(Screen::Code(CodeSent {
                reference: answer.reference,
                sent_at_ms: now_ms(),
            })),
            Err(f) if f.code == ErrorCode::TooManyPasscodes.as_str() => {
                error.set(Some(portal.t().too_many_passcodes.to_owned()));
            }
            Err(f) if f.code == ErrorCode::PasscodesDisabled.as_str() => {
                error.set(Some(portal.t().passcodes_disabled.to_owned()));
            }
            Err(f) => flow::stop(&portal, flow::stop_for(&portal, &f)),
        }
        busy.set(false);
    });
}

/// The sentence for a sign-in refusal the page explains (`None`: one it does not know).
pub fn problem_text(t: &'static Texts, code: &str) -> Option<&'static str> {
    Some(match ErrorCode::parse(code)? {
        ErrorCode::SignInExpired => t.sign_in_expired,
        ErrorCode::IdentityMismatch => t.identity_mismatch,
        ErrorCode::EmailUnverified => t.email_unverified,
        ErrorCode::ProviderFailed => t.provider_failed,
        ErrorCode::SocialSignInUnavailable => t.social_unavailable,
        ErrorCode::PasskeyInvalid => t.passkey_invalid,
        ErrorCode::TooManyAttempts => t.too_many_attempts,
        _ => return None,
    })
}

/// Whether the page explains `f` on the sign-in page rather than stopping.
fn explained(f: &api::ApiFailure) -> bool {
    problem_text(crate::i18n::Lang::En.texts(), &f.code).is_some()
}

/// The link token, with the page set busy and the last problem cleared; without a token there is
/// nothing to sign in to, and the page says so.
fn begin(portal: Portal, busy: RwSignal<bool>) -> Option<String> {
    let Some(token) = portal.token.get_value() else {
        flow::stop(&portal, crate::logic::stop::Stop::NotFound);
        return None;
    };
    busy.set(true);
    portal.sign_in_problem.set(None);
    Some(token)
}

/// Begin signing in with an identity provider: keep the token for the way back, then go there.
fn social(portal: Portal, provider: String, busy: RwSignal<bool>, keep: bool) {
    let Some(token) = begin(portal, busy) else {
        return;
    };
    spawn_local(async move {
        match api::social_start(&portal.id(), &provider, &token, keep).await {
            Ok(start) => {
                flow::remember_token(&portal.id(), &token);
                if window().location().set_href(&start.authorize_url).is_err() {
                    busy.set(false);
                }
            }
            Err(f) if explained(&f) => {
                portal.sign_in_problem.set(Some(f.code));
                busy.set(false);
            }
            Err(f) => flow::stop(&portal, flow::stop_for(&portal, &f)),
        }
    });
}

/// Sign in with a passkey of this address.
fn passkey(portal: Portal, busy: RwSignal<bool>, keep: bool) {
    let Some(token) = begin(portal, busy) else {
        return;
    };
    spawn_local(async move {
        let id = portal.id();
        let problem = |code: String| {
            portal.sign_in_problem.set(Some(code));
            busy.set(false);
        };
        let challenge = match api::passkey_sign_in_challenge(&id, &token).await {
            Ok(c) => c,
            Err(f) if explained(&f) => return problem(f.code),
            Err(f) => return flow::stop(&portal, flow::stop_for(&portal, &f)),
        };
        let Ok(credential) = webauthn::sign(&challenge.options).await else {
            return problem("passkey_cancelled".to_owned());
        };
        match api::passkey_sign_in(&id, &token, challenge.challenge, credential, keep).await {
            Ok(session) => flow::open(portal, session).await,
            Err(f) if explained(&f) => problem(f.code),
            Err(f) => flow::stop(&portal, flow::stop_for(&portal, &f)),
        }
    });
}

/// The first page: who sent it, the tenant's texts, where the passcode will go.
#[component]
pub fn Intro() -> impl IntoView {
    let portal = Portal::get();
    let heading = NodeRef::new();
    focus_heading(heading);
    let busy = RwSignal::new(false);
    let keep = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let link = move || portal.link.get();
    let lang = move || portal.lang.get().tag();
    let introduction = move || {
        link()
            .and_then(|l| l.branding.introduction_text)
            .map(|t| t.for_language(lang()).to_owned())
    };
    let portal_text = move || {
        link()
            .and_then(|l| l.branding.portal_text)
            .map(|t| t.for_language(lang()).to_owned())
    };
    view! {
        <section class="card" aria-labelledby="intro-heading">
            <h1 id="intro-heading" tabindex="-1" node_ref=heading>
                {move || portal.t().sign_in_heading}
            </h1>
            {move || introduction().map(|t| view! { <p class="intro" data-testid="introduction">{t}</p> })}
            <p>
                {move || portal.t().protected_message_from} " "
                <strong data-testid="sender">{move || link().map(|l| l.sender).unwrap_or_default()}</strong>
            </p>
            {move || portal_text().map(|t| view! { <p class="portal-text" data-testid="portal-text">{t}</p> })}
            <p>
                {move || portal.t().passcode_will_go_to} " "
                <strong data-testid="recipient-hint">
                    {move || link().map(|l| l.recipient_hint).unwrap_or_default()}
                </strong>
            </p>
            <p role="alert" class="error" data-testid="sign-in-problem">
                {move || error.get().or_else(|| {
                    portal.sign_in_problem.get().map(|code| {
                        if code == "passkey_cancelled" {
                            portal.t().passkey_cancelled.to_owned()
                        } else {
                            problem_text(portal.t(), &code).unwrap_or(portal.t().provider_failed).to_owned()
                        }
                    })
                })}
            </p>
            {move || if link().is_some_and(|l| !l.passcode_sign_in) {
                let others = link().is_some_and(|l| !l.social_providers.is_empty() || l.passkey_sign_in);
                (!others).then(|| view! { <p class="error" data-testid="passcodes-disabled">{portal.t().passcodes_disabled}</p> }).into_any()
            } else {
                view! {
                    <button
                        class="primary"
                        data-testid="send-passcode"
                        disabled=move || busy.get()
                        on:click=move |_| send_passcode(portal, busy, error)
                    >
                        {move || if busy.get() { portal.t().sending } else { portal.t().send_passcode }}
                    </button>
                }.into_any()
            }}
            {move || {
                let providers = link().map(|l| l.social_providers).unwrap_or_default();
                let with_passkey = link().is_some_and(|l| l.passkey_sign_in) && webauthn::supported();
                let others = !providers.is_empty() || with_passkey;
                let passcodes = link().is_none_or(|l| l.passcode_sign_in);
                (others).then(|| view! {
                    <div class="other-ways" data-testid="other-ways">
                        {passcodes.then(|| view! { <p>{portal.t().other_ways}</p> })}
                        {with_passkey.then(|| view! {
                            <button
                                class="secondary"
                                data-testid="passkey-sign-in"
                                disabled=move || busy.get()
                                on:click=move |_| passkey(portal, busy, keep.get_untracked())
                            >
                                {portal.t().sign_in_with_passkey}
                            </button>
                        })}
                        {providers.into_iter().map(|p| {
                            let id = p.id.clone();
                            view! {
                                <button
                                    class="secondary"
                                    data-testid="social-sign-in"
                                    data-provider=p.id.clone()
                                    disabled=move || busy.get()
                                    on:click=move |_| social(portal, id.clone(), busy, keep.get_untracked())
                                >
                                    {fill(portal.t().sign_in_with, "name", &p.name)}
                                </button>
                            }
                        }).collect_view()}
                        <div class="checkbox">
                            <input
                                id="keep-other"
                                type="checkbox"
                                data-testid="keep-signed-in-other"
                                prop:checked=move || keep.get()
                                on:change=move |ev| keep.set(event_target_checked(&ev))
                            />
                            <label for="keep-other">{move || portal.t().keep_signed_in}</label>
                        </div>
                    </div>
                })
            }}
        </section>
    }
}

/// The passcode form.
#[component]
pub fn CodeEntry(sent: CodeSent) -> impl IntoView {
    let portal = Portal::get();
    let heading = NodeRef::new();
    focus_heading(heading);
    let tries = StoredValue::new(CodeTries::sent(sent.sent_at_ms));
    let typed = RwSignal::new(String::new());
    let keep = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let problem = RwSignal::new(None::<Wrong>);
    let resend_error = RwSignal::new(None::<String>);
    let now = RwSignal::new(now_ms());
    if let Ok(handle) = set_interval_with_handle(move || now.set(now_ms()), Duration::from_secs(1))
    {
        on_cleanup(move || handle.clear());
    }
    let wait = move || tries.with_value(|t| t.resend_wait_seconds(now.get()));
    let message = move || {
        let t = portal.t();
        problem.get().map(|w| match w {
            Wrong::Format => t.passcode_format.to_owned(),
            Wrong::TriesLeft(n) => fill(t.passcode_wrong_tries_left, "n", &n.to_string()),
            Wrong::LastTry => t.passcode_wrong_last_try.to_owned(),
            Wrong::UsedUp => t.passcode_used_up.to_owned(),
            Wrong::Expired => t.passcode_expired.to_owned(),
            Wrong::Invalid => t.passcode_invalid.to_owned(),
            Wrong::TooManyTries => t.too_many_attempts.to_owned(),
        })
    };
    let must_resend = move || problem.get().is_some_and(Wrong::needs_new_code);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(code) = normalize(&typed.get_untracked()) else {
            problem.set(Some(Wrong::Format));
            return;
        };
        let Some(token) = portal.token.get_value() else {
            return;
        };
        busy.set(true);
        spawn_local(async move {
            match api::sign_in(&portal.id(), &token, &code, keep.get_untracked()).await {
                Ok(session) => flow::open(portal, session).await,
                Err(f) if f.code == ErrorCode::TooManyAttempts.as_str() => {
                    problem.set(Some(Wrong::TooManyTries));
                    busy.set(false);
                }
                Err(f) if f.code == ErrorCode::PasscodeInvalid.as_str() => {
                    let mut t = tries.get_value();
                    let wrong = t.refused(now_ms());
                    tries.set_value(t);
                    problem.set(Some(wrong));
                    typed.set(String::new());
                    busy.set(false);
                }
                Err(f) => flow::stop(&portal, flow::stop_for(&portal, &f)),
            }
        });
    };
    let resend = move |_: leptos::ev::MouseEvent| {
        resend_error.set(None);
        send_passcode(portal, busy, resend_error);
    };
    view! {
        <section class="card" aria-labelledby="code-heading">
            <h1 id="code-heading" tabindex="-1" node_ref=heading>
                {move || portal.t().sign_in_heading}
            </h1>
            <p>
                {move || portal.t().passcode_sent_to} " "
                <strong>{move || portal.link.get().map(|l| l.recipient_hint).unwrap_or_default()}</strong>
                ". " {move || portal.t().reference_hint} " "
                <strong class="reference" data-testid="reference">{sent.reference.clone()}</strong>
                "."
            </p>
            <form on:submit=submit novalidate=true>
                <label for="passcode">{move || portal.t().passcode_label}</label>
                <input
                    id="passcode"
                    name="passcode"
                    data-testid="passcode"
                    inputmode="numeric"
                    autocomplete="one-time-code"
                    maxlength="12"
                    aria-describedby="passcode-help passcode-error"
                    aria-invalid=move || problem.get().is_some().to_string()
                    disabled=must_resend
                    prop:value=move || typed.get()
                    on:input=move |ev| typed.set(event_target_value(&ev))
                />
                <p id="passcode-help" class="help">{move || portal.t().passcode_help}</p>
                <p id="passcode-error" role="alert" class="error" data-testid="passcode-error">
                    {message}
                </p>
                <div class="checkbox">
                    <input
                        id="keep"
                        type="checkbox"
                        data-testid="keep-signed-in"
                        aria-describedby="keep-help"
                        prop:checked=move || keep.get()
                        on:change=move |ev| keep.set(event_target_checked(&ev))
                    />
                    <label for="keep">{move || portal.t().keep_signed_in}</label>
                </div>
                <p id="keep-help" class="help">{move || portal.t().keep_signed_in_help}</p>
                <button
                    type="submit"
                    class="primary"
                    data-testid="sign-in"
                    disabled=move || busy.get() || must_resend()
                >
                    {move || if busy.get() { portal.t().checking } else { portal.t().continue_button }}
                </button>
            </form>
            <p class="resend">
                <button
                    class="link-button"
                    data-testid="resend"
                    disabled=move || { wait() > 0 || busy.get() }
                    on:click=resend
                >
                    {move || portal.t().resend}
                </button>
                <span class="help" aria-live="polite">
                    {move || {
                        let w = wait();
                        (w > 0).then(|| fill(portal.t().resend_in, "n", &w.to_string()))
                    }}
                </span>
            </p>
            <p role="alert" class="error">{move || resend_error.get()}</p>
        </section>
    }
}
