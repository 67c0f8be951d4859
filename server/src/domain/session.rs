//! How long a recipient session lives: 30 minutes without use, 12 hours at most; "keep me signed in
//! on this private computer" stretches the idle limit to the absolute one.

/// Idle limit of a normal session, in seconds.
pub const IDLE: i64 = 30 * 60;
/// Idle limit when the recipient chose to stay signed in.
pub const IDLE_KEPT: i64 = 12 * 60 * 60;
/// No session lives longer than this from sign-in.
pub const ABSOLUTE: i64 = 12 * 60 * 60;

/// The times a session is judged by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimes {
    /// Sign-in.
    pub created_at: i64,
    /// Last request that counted as use.
    pub last_seen_at: i64,
    /// "Keep me signed in".
    pub keep_signed_in: bool,
}

impl SessionTimes {
    /// The idle limit that applies.
    pub fn idle_limit(&self) -> i64 {
        if self.keep_signed_in { IDLE_KEPT } else { IDLE }
    }

    /// The first second at which the session is over if it is not used again.
    pub fn ends_at(&self) -> i64 {
        (self.last_seen_at + self.idle_limit()).min(self.created_at + ABSOLUTE)
    }

    /// Whether the session is still valid at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        now < self.ends_at()
    }

    /// Whether a use at `now` must be written down: only when the last one written is
    /// [`TOUCH_EVERY`] seconds old or more. A page asking many times a minute then costs one write
    /// in ten seconds, and the idle limit is counted from at most that much earlier.
    pub fn needs_touch(&self, now: i64) -> bool {
        now - self.last_seen_at >= TOUCH_EVERY
    }
}

/// The granularity of a session's last use (see [`SessionTimes::needs_touch`]).
pub const TOUCH_EVERY: i64 = 10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_use_is_written_down_only_when_the_last_one_is_ten_seconds_old() {
        let s = SessionTimes {
            created_at: 0,
            last_seen_at: 100,
            keep_signed_in: false,
        };
        assert!(!s.needs_touch(100));
        assert!(!s.needs_touch(100 + TOUCH_EVERY - 1));
        assert!(s.needs_touch(100 + TOUCH_EVERY));
    }

    fn times(last_seen: i64, keep: bool) -> SessionTimes {
        SessionTimes {
            created_at: 0,
            last_seen_at: last_seen,
            keep_signed_in: keep,
        }
    }

    #[test]
    fn idle_and_absolute_limits_end_sessions_at_their_exact_second() {
        let s = times(0, false);
        assert!(s.is_live(IDLE - 1));
        assert!(!s.is_live(IDLE));
        // Use moves the idle limit, never past the absolute one.
        let used = times(ABSOLUTE - 60, false);
        assert_eq!(used.ends_at(), ABSOLUTE);
        assert!(!used.is_live(ABSOLUTE));
        let kept = times(0, true);
        assert!(kept.is_live(IDLE));
        assert!(kept.is_live(ABSOLUTE - 1));
        assert!(!kept.is_live(ABSOLUTE));
        assert!(!times(ABSOLUTE, true).is_live(ABSOLUTE));
    }
}
