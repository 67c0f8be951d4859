//! The frame around every page: the tenant's branding at the top, the language switcher, and the
//! disclaimer and privacy link at the foot.

use leptos::prelude::*;

use crate::i18n::Lang;
use crate::journey::state::Portal;

/// Header, main region and footer.
#[component]
pub fn Shell(children: Children) -> impl IntoView {
    let portal = Portal::get();
    let lang = portal.lang;
    let tag = move || lang.get().tag();
    let branding = move || portal.branding();
    let background = move || branding().map(|b| b.background_color);
    let foreground = move || branding().map(|b| b.text_color);
    let tenant = move || branding().map(|b| b.tenant_name).unwrap_or_default();
    let logo = move || branding().and_then(|b| b.logo);
    let disclaimer = move || {
        branding()
            .and_then(|b| b.disclaimer_text)
            .map(|t| t.for_language(tag()).to_owned())
    };
    let privacy = move || branding().and_then(|b| b.privacy_statement_url);
    view! {
        <a class="skip-link" href="#content">{move || portal.t().skip_to_content}</a>
        <div class="portal" data-testid="portal-ready">
            <header
                class="portal-header"
                style:background-color=background
                style:color=foreground
            >
                <div class="brand">
                    {move || {
                        logo()
                            .map(|src| {
                                view! { <img class="brand-logo" src=src alt=tenant() /> }
                            })
                    }}
                    <span class="brand-name" data-testid="tenant-name">{tenant}</span>
                </div>
                <label class="language">
                    <span class="visually-hidden">{move || portal.t().language}</span>
                    <select
                        data-testid="language"
                        on:change=move |ev| {
                            let chosen = event_target_value(&ev);
                            if let Some(l) = Lang::ALL.into_iter().find(|l| l.tag() == chosen) {
                                lang.set(l);
                            }
                        }
                    >
                        {Lang::ALL
                            .into_iter()
                            .map(|l| {
                                view! {
                                    <option value=l.tag() selected=move || lang.get() == l>
                                        {l.name()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
            </header>
            <main id="content" class="portal-main" tabindex="-1">
                {children()}
            </main>
            <footer class="portal-footer">
                {move || disclaimer().map(|d| view! { <p class="disclaimer">{d}</p> })}
                <p>
                    {move || {
                        privacy()
                            .map(|href| {
                                view! {
                                    <a href=href rel="noopener noreferrer" target="_blank">
                                        {move || portal.t().privacy}
                                    </a>
                                    " · "
                                }
                            })
                    }}
                    <span>{move || portal.t().secured_by}</span>
                </p>
            </footer>
        </div>
    }
}

/// The front page, for someone who arrives without a message link.
#[component]
pub fn Home() -> impl IntoView {
    let portal = Portal::get();
    let heading = NodeRef::new();
    focus_heading(heading);
    view! {
        <section class="card">
            <h1 tabindex="-1" node_ref=heading>{move || portal.t().home_heading}</h1>
            <p>{move || portal.t().home_text}</p>
            <p class="help">{move || portal.t().encrypted_note}</p>
            <p>
                <a href="/sent" data-testid="sent-link">{move || portal.t().sent_link}</a>
            </p>
        </section>
    }
}

/// A page that is waiting, announced to screen readers.
#[component]
pub fn Busy(text: impl Fn() -> &'static str + Send + Sync + 'static) -> impl IntoView {
    view! {
        <section class="card" aria-busy="true">
            <p class="busy" role="status">
                <span class="spinner" aria-hidden="true"></span>
                {text}
            </p>
        </section>
    }
}

/// Move keyboard focus to the page's heading when a page appears, so a screen reader announces it.
pub fn focus_heading(node: NodeRef<leptos::html::H1>) {
    Effect::new(move |_| {
        if let Some(h) = node.get() {
            let _ = h.focus();
        }
    });
}
