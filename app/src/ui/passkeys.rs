//! Under an open message: "Use a passkey on this device next time" (offered, never made without
//! the recipient's click), and the passkeys the address has with the sender's organisation, each
//! with Remove.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sealpost_api::ErrorCode;
use sealpost_api::recipient::PasskeyView;

use super::stopped::local_date;
use crate::api;
use crate::i18n::fill;
use crate::journey::state::Portal;
use crate::webauthn;

/// What became of the last thing the recipient asked for here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Said {
    Added,
    NotAdded,
    TooMany,
    SignInAgain,
}

fn reload(portal: Portal, list: RwSignal<Vec<PasskeyView>>) {
    spawn_local(async move {
        if let Ok(v) = api::passkeys(&portal.id()).await {
            list.set(v.passkeys);
        }
    });
}

fn add(
    portal: Portal,
    list: RwSignal<Vec<PasskeyView>>,
    busy: RwSignal<bool>,
    said: RwSignal<Option<Said>>,
) {
    busy.set(true);
    said.set(None);
    spawn_local(async move {
        let id = portal.id();
        let outcome = async {
            let challenge = api::passkey_challenge(&id).await.map_err(|f| f.code)?;
            let credential = webauthn::create(&challenge.options)
                .await
                .map_err(|_| "cancelled".to_owned())?;
            api::add_passkey(&id, challenge.challenge, credential)
                .await
                .map_err(|f| f.code)
        }
        .await;
        said.set(Some(match outcome {
            Ok(_) => Said::Added,
            Err(code) if code == ErrorCode::TooManyPasskeys.as_str() => Said::TooMany,
            Err(code) if code == ErrorCode::RecentSignInRequired.as_str() => Said::SignInAgain,
            Err(_) => Said::NotAdded,
        }));
        busy.set(false);
        reload(portal, list);
    });
}

/// The passkeys section.
#[component]
pub fn Passkeys() -> impl IntoView {
    let portal = Portal::get();
    let list = RwSignal::new(Vec::<PasskeyView>::new());
    let busy = RwSignal::new(false);
    let said = RwSignal::new(None::<Said>);
    if !webauthn::supported() {
        return ().into_any();
    }
    reload(portal, list);
    let remove = move |id: String| {
        spawn_local(async move {
            let _ = api::remove_passkey(&portal.id(), &id).await;
            reload(portal, list);
        });
    };
    view! {
        <section class="passkeys" aria-labelledby="passkeys-heading" data-testid="passkeys">
            <h2 id="passkeys-heading">{move || portal.t().passkeys_heading}</h2>
            <p class="help">{move || portal.t().add_passkey_help}</p>
            <button
                class="secondary"
                data-testid="add-passkey"
                disabled=move || busy.get()
                on:click=move |_| add(portal, list, busy, said)
            >
                {move || portal.t().add_passkey}
            </button>
            <p role="status" data-testid="passkey-status">
                {move || said.get().map(|s| match s {
                    Said::Added => portal.t().passkey_added,
                    Said::NotAdded => portal.t().passkey_not_added,
                    Said::TooMany => portal.t().too_many_passkeys,
                    Said::SignInAgain => portal.t().passkey_needs_recent_sign_in,
                })}
            </p>
            <ul class="passkey-list">
                {move || list.get().into_iter().map(|p| {
                    let id = p.id.clone();
                    view! {
                        <li data-testid="passkey">
                            <span data-testid="passkey-name">{p.name.clone()}</span>
                            " · "
                            <span class="help">{fill(portal.t().passkey_made, "date", &local_date(&p.created_at, portal.lang.get()))}</span>
                            " "
                            <button class="link-button" data-testid="remove-passkey" on:click=move |_| remove(id.clone())>
                                {move || portal.t().remove_passkey}
                            </button>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
    .into_any()
}
