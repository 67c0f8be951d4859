//! Route modules. Each has a `router()`; `app::router` merges them in one place.

pub mod api;
pub mod health;
pub mod portal;
