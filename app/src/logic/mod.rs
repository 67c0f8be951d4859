//! The portal's decisions as plain code, tested natively: where a link points, what a refusal
//! means for the page, how passcode tries are counted, which actions the rights allow, how an
//! attachment may be shown, what of a message's HTML survives sanitising, and what the sender's
//! page shows of a sent message, how long an open message may go unconfirmed, and how the reply
//! form uploads large files.

pub mod actions;
pub mod link;
pub mod passcode;
pub mod sanitize;
pub mod sent;
pub mod size;
pub mod stop;
pub mod upload;
pub mod watch;
