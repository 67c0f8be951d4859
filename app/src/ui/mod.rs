//! The portal's components. They stay thin: decisions live in [`crate::logic`], server calls and
//! the journey's steps in [`crate::journey`].

mod attachments;
mod composer;
mod frame;
mod passkeys;
mod reader;
mod sent;
mod shell;
mod sign_in;
mod stopped;

use leptos::prelude::*;

use crate::i18n::Lang;
use crate::journey::state::{Portal, Screen};
use crate::journey::{self as flow, keyring};
use crate::logic::link;

/// The browser's preferred languages, most preferred first.
pub(crate) fn browser_languages() -> Vec<String> {
    let navigator = window().navigator();
    let mut tags: Vec<String> = navigator
        .languages()
        .iter()
        .filter_map(|v| v.as_string())
        .collect();
    if tags.is_empty() {
        tags.extend(navigator.language());
    }
    tags
}

/// The whole portal.
#[component]
pub fn App() -> impl IntoView {
    let location = window().location();
    let here = link::parse(
        &location.pathname().unwrap_or_default(),
        &location.hash().unwrap_or_default(),
    );
    let languages = browser_languages();
    let lang = Lang::from_preferences(languages.iter().map(String::as_str));
    let id = here.message_id.unwrap_or_default();
    // Back from an identity provider: no fragment, so the token kept in this tab.
    let token = here.token.or_else(|| flow::recall_token(&id));
    let portal = Portal::new(lang, id.clone(), token);
    provide_context(portal);
    if let Some(code) = link::sign_in_error(&location.search().unwrap_or_default()) {
        portal.sign_in_problem.set(Some(code));
        // Said once: a reload does not say it again.
        if let Ok(history) = window().history() {
            let _ = history.replace_state_with_url(
                &wasm_bindgen::JsValue::NULL,
                "",
                Some(&format!("/m/{id}")),
            );
        }
    }

    // `<html lang>` follows the chosen language, for screen readers and hyphenation.
    Effect::new(move |_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("lang", portal.lang.get().tag());
        }
        document().set_title(portal.t().title);
    });
    // Leaving the page (closing the tab, navigating away) zeroizes the key.
    let _ = window_event_listener(leptos::ev::pagehide, |_| keyring::wipe());

    // `/sent` is the sender's page: their messages and "Remove external access".
    if link::is_sender_page(&location.pathname().unwrap_or_default()) {
        return view! {
            <shell::Shell>
                <sent::SentPortal />
            </shell::Shell>
        }
        .into_any();
    }
    flow::start(portal);

    view! {
        <shell::Shell>
            {move || match portal.screen.get() {
                Screen::Home => view! { <shell::Home /> }.into_any(),
                Screen::Loading => view! { <shell::Busy text=move || portal.t().loading /> }.into_any(),
                Screen::Intro => view! { <sign_in::Intro /> }.into_any(),
                Screen::Code(sent) => view! { <sign_in::CodeEntry sent=sent /> }.into_any(),
                Screen::Opening => view! { <shell::Busy text=move || portal.t().opening /> }.into_any(),
                Screen::Reading(letter) => view! { <reader::Reader letter=letter /> }.into_any(),
                Screen::Stopped(stop) => view! { <stopped::Stopped stop=stop /> }.into_any(),
            }}
        </shell::Shell>
    }
    .into_any()
}

/// Milliseconds since the page began (for rates).
pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}
