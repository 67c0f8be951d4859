//! The portal shell. The recipient journey (sign-in, reading, replying) builds on this frame.

use leptos::prelude::*;

use crate::api;

/// The whole portal.
#[component]
pub fn App() -> impl IntoView {
    let health = LocalResource::new(api::health);
    view! {
        <div class="portal" data-testid="portal-ready">
            <header class="portal-header">
                <h1>"Sealpost secure message"</h1>
            </header>
            <main class="portal-main">
                <section class="card">
                    <h2>"Read a protected message"</h2>
                    <p>
                        "Protected messages are opened from the link in the notice email you received. "
                        "Open that email and select "<strong>"Read the message"</strong>"."
                    </p>
                    <p class="muted">
                        "Your message is decrypted here, in this browser tab. "
                        "The key that unlocks it never leaves the tab and is erased when you close it."
                    </p>
                </section>
            </main>
            <footer class="portal-footer">
                <Suspense fallback=|| view! { <span>"Connecting…"</span> }>
                    {move || {
                        health
                            .get()
                            .map(|result| match result {
                                Ok(h) => {
                                    view! {
                                        <span class="status-ok" data-testid="service-status">
                                            {format!("Secure service available · Sealpost {}", h.version)}
                                        </span>
                                    }
                                        .into_any()
                                }
                                Err(e) => {
                                    view! {
                                        <span class="status-bad" data-testid="service-status">
                                            {e.message}
                                        </span>
                                    }
                                        .into_any()
                                }
                            })
                    }}
                </Suspense>
            </footer>
        </div>
    }
}
