//! When mail that could not be delivered is tried again, and when it is given up on: one rule
//! for the SMTP queue and the outbox alike.

/// After this long, mail that still cannot be delivered is given up on (two days).
pub const GIVE_UP_AFTER: i64 = 2 * 86_400;

/// Seconds until the next try after `attempts` failed ones: 15 s, 1 min, 5 min, 15 min, 30 min,
/// then hourly.
pub fn backoff(attempts: u32) -> i64 {
    match attempts {
        0 => 15,
        1 => 60,
        2 => 300,
        3 => 900,
        4 => 1800,
        _ => 3600,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tries_slow_down_to_hourly_and_give_up_after_two_days() {
        let waits: Vec<i64> = (0..8).map(backoff).collect();
        assert_eq!(waits, [15, 60, 300, 900, 1800, 3600, 3600, 3600]);
        assert_eq!(GIVE_UP_AFTER, 172_800);
    }
}
