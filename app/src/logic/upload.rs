//! How the reply form sends files: which travel inside the reply and which are uploaded to a
//! reply draft first, window by window, and which failures are tried again.

use core::ops::Range;

/// Files above this size are uploaded window by window to a reply draft before the reply is
/// sent; smaller ones travel inside the reply (as `sealpost send --attach` decides).
pub const UPLOAD_ABOVE: u64 = 4 * 1024 * 1024;

/// How many times one window is tried before the reply gives up.
pub const TRIES: u32 = 5;

/// The window starting at `received` of a file of `size` bytes, in windows of `window` bytes.
pub fn window_at(received: u64, window: u64, size: u64) -> Range<u64> {
    received..received.saturating_add(window).min(size)
}

/// Whether a window that failed this way may be sent again (after asking where the upload
/// stands): the network, a server or node restarting, the server busy, a window the server
/// already has (its answer was lost) or is still storing. Refusals a person must act on are not.
pub fn worth_retrying(status: u16, code: &str) -> bool {
    matches!(status, 0 | 408 | 429 | 500..=599)
        || matches!(
            code,
            "upload_out_of_order" | "upload_busy" | "upload_too_slow" | "upload_interrupted"
        )
}

/// The wait before try `n` (1-based) of a window: 0.5, 1, 2, 4 seconds.
pub fn backoff_ms(n: u32) -> i32 {
    500 << n.saturating_sub(1).min(4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_a_file_once_the_last_one_short() {
        let size = 2 * 1024 + 100;
        let mut at = 0;
        let mut got = Vec::new();
        while at < size {
            let w = window_at(at, 1024, size);
            got.push(w.clone());
            at = w.end;
        }
        assert_eq!(got, [0..1024, 1024..2048, 2048..2148]);
        assert_eq!(window_at(0, 1024, 10), 0..10);
    }

    #[test]
    fn only_passing_failures_are_tried_again() {
        for (status, code) in [
            (0, "network"),
            (503, "uploads_busy"),
            (429, "upload_in_progress"),
            (408, "request_timeout"),
            (409, "upload_out_of_order"),
            (400, "upload_too_slow"),
            (409, "upload_busy"),
        ] {
            assert!(worth_retrying(status, code), "{status} {code}");
        }
        for (status, code) in [
            (403, "message_revoked"),
            (401, "session_required"),
            (413, "upload_quota"),
            (409, "upload_window_changed"),
            (404, "not_found"),
        ] {
            assert!(!worth_retrying(status, code), "{status} {code}");
        }
        assert_eq!(
            (1..=5).map(backoff_ms).collect::<Vec<_>>(),
            [500, 1000, 2000, 4000, 8000]
        );
    }
}
