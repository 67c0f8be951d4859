//! Passcode entry. The server answers every failed sign-in the same way (`passcode_invalid`), so
//! that nobody learns from it whether a link, a code or an address is real. The page knows more:
//! it asked for the code and saw each answer, so it counts the tries and the time itself and tells
//! the recipient which case they are in.

/// Digits in a passcode.
pub const DIGITS: usize = 8;
/// Tries one passcode allows (the server's limit).
pub const MAX_TRIES: u32 = 5;
/// How long a passcode is valid, in milliseconds (the server's limit).
pub const VALID_FOR_MS: f64 = 15.0 * 60.0 * 1000.0;
/// How long the page waits before offering to send another passcode.
pub const RESEND_COOLDOWN_MS: f64 = 30.0 * 1000.0;

/// The 8 digits typed, without spaces or dashes; `None` if that is not 8 digits.
pub fn normalize(typed: &str) -> Option<String> {
    let digits: String = typed
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '\u{a0}'))
        .collect();
    (digits.len() == DIGITS && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// Why a typed passcode was not accepted, as the page explains it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrong {
    /// Not 8 digits; nothing was sent.
    Format,
    /// Wrong, with this many tries left (2 or more).
    TriesLeft(u32),
    /// Wrong, one try left.
    LastTry,
    /// Wrong, and that was the last try: the code is burned.
    UsedUp,
    /// The code this page asked for is older than 15 minutes.
    Expired,
    /// Refused for a reason the page cannot tell (a code from another tab, already used…).
    Invalid,
    /// Too many tries from here or on this link: the server says to wait.
    TooManyTries,
}

impl Wrong {
    /// Whether the recipient must ask for a new code (typing again cannot help).
    pub fn needs_new_code(self) -> bool {
        matches!(self, Wrong::UsedUp | Wrong::Expired)
    }
}

/// The code this page asked for, and the tries it has seen refused.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CodeTries {
    sent_at_ms: f64,
    refused: u32,
}

impl CodeTries {
    /// A code was asked for at `now_ms`.
    pub fn sent(now_ms: f64) -> Self {
        CodeTries {
            sent_at_ms: now_ms,
            refused: 0,
        }
    }

    /// The server refused a try at `now_ms`: say why, as best the page knows.
    pub fn refused(&mut self, now_ms: f64) -> Wrong {
        if now_ms - self.sent_at_ms >= VALID_FOR_MS {
            return Wrong::Expired;
        }
        if self.refused >= MAX_TRIES {
            return Wrong::Invalid;
        }
        self.refused += 1;
        match MAX_TRIES - self.refused {
            0 => Wrong::UsedUp,
            1 => Wrong::LastTry,
            n => Wrong::TriesLeft(n),
        }
    }

    /// Whole seconds until another code may be asked for (0 = now).
    pub fn resend_wait_seconds(&self, now_ms: f64) -> u32 {
        let left = RESEND_COOLDOWN_MS - (now_ms - self.sent_at_ms);
        if left <= 0.0 {
            0
        } else {
            (left / 1000.0).ceil() as u32
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_codes_are_forgiving_about_spaces_but_not_digits() {
        assert_eq!(normalize("1234 5678").as_deref(), Some("12345678"));
        assert_eq!(normalize(" 1234-5678 ").as_deref(), Some("12345678"));
        for bad in ["1234567", "123456789", "1234567a", "", "١٢٣٤٥٦٧٨"] {
            assert_eq!(normalize(bad), None, "{bad}");
        }
    }

    #[test]
    fn tries_count_down_to_a_burned_code() {
        let mut t = CodeTries::sent(0.0);
        assert_eq!(t.refused(1.0), Wrong::TriesLeft(4));
        assert_eq!(t.refused(2.0), Wrong::TriesLeft(3));
        assert_eq!(t.refused(3.0), Wrong::TriesLeft(2));
        assert_eq!(t.refused(4.0), Wrong::LastTry);
        let last = t.refused(5.0);
        assert_eq!(last, Wrong::UsedUp);
        assert!(last.needs_new_code());
        assert_eq!(t.refused(6.0), Wrong::Invalid);
    }

    #[test]
    fn an_old_code_is_expired_whatever_the_tries() {
        let mut t = CodeTries::sent(1_000.0);
        assert_eq!(t.refused(1_000.0 + VALID_FOR_MS - 1.0), Wrong::TriesLeft(4));
        assert_eq!(t.refused(1_000.0 + VALID_FOR_MS), Wrong::Expired);
        assert!(Wrong::Expired.needs_new_code());
        assert!(!Wrong::LastTry.needs_new_code());
    }

    #[test]
    fn resending_waits_for_the_cooldown() {
        let t = CodeTries::sent(10_000.0);
        assert_eq!(t.resend_wait_seconds(10_000.0), 30);
        assert_eq!(t.resend_wait_seconds(10_001.0), 30);
        assert_eq!(t.resend_wait_seconds(39_000.0), 1);
        assert_eq!(t.resend_wait_seconds(40_000.0), 0);
    }
}
