//! How long an open message may stay on screen when the page cannot confirm that it may still be
//! read (the network is down, the server answers 5xx): a revocation reaches an open page within
//! 30 seconds, so a page that has not heard "still readable" for that long closes the message
//! rather than show it past a revocation it cannot see.

/// The longest an open message stays on screen without a confirmation, in milliseconds: two of
/// the 15-second checks.
pub const MAX_UNCONFIRMED_MS: f64 = 30_000.0;

/// Whether the message must close: the last confirmation was at `confirmed_ms`, it is `now_ms`.
pub fn unconfirmed_too_long(confirmed_ms: f64, now_ms: f64) -> bool {
    now_ms - confirmed_ms >= MAX_UNCONFIRMED_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_missed_check_is_a_blip_two_close_the_message() {
        let opened = 1_000_000.0;
        assert!(!unconfirmed_too_long(opened, opened + 15_000.0));
        assert!(!unconfirmed_too_long(opened, opened + 29_999.0));
        assert!(unconfirmed_too_long(opened, opened + 30_000.0));
        // A clock that jumps back never keeps a message open longer than it should, nor closes it.
        assert!(!unconfirmed_too_long(opened, opened - 5_000.0));
    }
}
