//! The Sealpost portal, compiled to WebAssembly by Trunk.
//!
//! Decisions live in plain modules tested natively ([`logic`], [`i18n`], [`opening`]); the
//! components in [`ui`] stay thin.

mod api;
mod i18n;
mod logic;
mod opening;
mod ui;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(ui::App);
}
