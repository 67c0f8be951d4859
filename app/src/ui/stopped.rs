//! The pages where reading stops: revoked, expired (with the date), not found, signed out, session
//! ended, key refused, and anything else, each with its stable code.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast as _;

use super::shell::focus_heading;
use crate::i18n::{Lang, fill};
use crate::journey as flow;
use crate::journey::state::Portal;
use crate::logic::stop::Stop;

/// A date and time for people: in the page's language, written the way the reader's browser
/// writes that language (day first in British English, month first in American English).
pub fn local_date(rfc3339: &str, lang: Lang) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(rfc3339));
    if date.get_time().is_nan() {
        return rfc3339.to_owned();
    }
    let languages = super::browser_languages();
    let locale = lang.date_locale(languages.iter().map(String::as_str));
    // Called so that a locale the browser refuses (a RangeError) falls back to the language
    // itself instead of stopping the page.
    let write = |locale: &str| -> Option<String> {
        let method = js_sys::Reflect::get(&date, &"toLocaleString".into()).ok()?;
        let method: js_sys::Function = method.dyn_into().ok()?;
        js_sys::Reflect::apply(&method, &date, &js_sys::Array::of1(&locale.into()))
            .ok()?
            .as_string()
    };
    write(&locale)
        .or_else(|| write(lang.tag()))
        .unwrap_or_else(|| rfc3339.to_owned())
}

/// One stop page.
#[component]
pub fn Stopped(stop: Stop) -> impl IntoView {
    let portal = Portal::get();
    let heading = NodeRef::new();
    focus_heading(heading);
    let code = stop.code().to_owned();
    let again = stop.can_sign_in_again() && portal.token.get_value().is_some();
    let stop = StoredValue::new(stop);
    let words = move || {
        let t = portal.t();
        let lang = portal.lang.get();
        stop.with_value(|s| match s {
            Stop::Revoked => (t.revoked_heading, t.revoked_text.to_owned()),
            Stop::AccessRevoked => (t.revoked_heading, t.access_revoked_text.to_owned()),
            Stop::Purged => (t.purged_heading, t.purged_text.to_owned()),
            Stop::Expired { at: Some(at) } => (
                t.expired_heading,
                fill(t.expired_on, "date", &local_date(at, lang)),
            ),
            Stop::Expired { at: None } => (t.expired_heading, t.expired_text.to_owned()),
            Stop::NotFound => (t.not_found_heading, t.not_found_text.to_owned()),
            Stop::SignedOut => (t.signed_out_heading, t.signed_out_text.to_owned()),
            Stop::SessionEnded { .. } => (t.signed_out_heading, t.session_ended_text.to_owned()),
            Stop::KeyRefused { .. } => (t.key_refused_heading, t.key_refused_text.to_owned()),
            Stop::Failed { code, .. } if code == "network" => {
                (t.error_heading, t.network_text.to_owned())
            }
            Stop::Failed { code, .. } if code == "access_unconfirmed" => {
                (t.error_heading, t.access_unconfirmed_text.to_owned())
            }
            Stop::Failed { message, .. } => (t.error_heading, message.clone()),
        })
    };
    view! {
        <section class="card stopped" data-testid="stopped" data-code=code.clone()>
            <h1 tabindex="-1" node_ref=heading>{move || words().0}</h1>
            <p data-testid="stopped-text">{move || words().1}</p>
            <p class="help">
                {move || portal.t().error_code} ": " <code data-testid="error-code">{code.clone()}</code>
            </p>
            {again
                .then(|| {
                    view! {
                        <button
                            class="primary"
                            data-testid="sign-in-again"
                            on:click=move |_| {
                                spawn_local(flow::show_sign_in(portal));
                            }
                        >
                            {move || portal.t().sign_in_again}
                        </button>
                    }
                })}
        </section>
    }
}
