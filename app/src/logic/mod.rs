//! The portal's decisions as plain code, tested natively: where a link points, what a refusal
//! means for the page, how passcode tries are counted, which actions the rights allow, how an
//! attachment may be shown, and what of a message's HTML survives sanitising.

pub mod actions;
pub mod link;
pub mod passcode;
pub mod sanitize;
pub mod size;
pub mod stop;
