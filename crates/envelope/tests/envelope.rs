//! The envelope's vector and property suite: one test binary, run natively by `cargo test` and on
//! wasm32 in headless Chromium by `wasm-bindgen-test-runner` (see `scripts/test`).
//!
//! Test data is compiled in with `include_bytes!`, so the browser run needs no file system.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic: that is how they fail

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// Marks a test for both targets.
macro_rules! both {
    ($(#[$meta:meta])* fn $name:ident() $body:block) => {
        $(#[$meta])*
        #[cfg_attr(not(target_arch = "wasm32"), test)]
        #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
        fn $name() $body
    };
}

#[path = "envelope/wycheproof.rs"]
mod wycheproof;

#[path = "envelope/vectors.rs"]
mod vectors;

#[path = "envelope/round_trip.rs"]
mod round_trip;
