//! The Sealpost portal, compiled to WebAssembly by Trunk.
//!
//! Decisions live in plain modules tested natively ([`logic`], [`i18n`], [`opening`]); the
//! components in `ui` stay thin, and the recipient's journey is controlled in `journey`. [`reading`] opens a part with the browser's WebCrypto doing each
//! chunk's AES-GCM where the page has it ([`platform_aead`]); the benchmark page
//! (`src/bin/sealpost-bench.rs`) measures that same path.

mod api;
mod i18n;
mod journey;
mod logic;
pub mod opening;
pub mod platform_aead;
pub mod reading;
mod saving;
mod ui;
mod uploading;
mod webauthn;

/// Mount the portal on the page's body.
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(ui::App);
}
