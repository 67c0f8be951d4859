//! The Sealpost portal, compiled to WebAssembly by Trunk.
//!
//! Components stay thin; logic lives in plain modules that are tested natively.

mod api;
mod pages;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(pages::App);
}
