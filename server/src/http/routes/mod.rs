//! Route modules. Each has a `router()`; `app::router` merges them in one place.

pub mod admin;
pub mod api;
pub mod cookies;
pub mod csrf;
pub mod dev_mailbox;
pub mod health;
pub mod portal;
pub mod recipient;
pub mod sender;
