//! Sizes for people.

/// `1 234 bytes`, `12.3 KB`, `4.5 MB`, `1.2 GB` (decimal units, one decimal under 100).
pub fn human(bytes: u64, bytes_word: &str) -> String {
    const UNITS: [&str; 3] = ["KB", "MB", "GB"];
    if bytes < 1000 {
        return format!("{bytes} {bytes_word}");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if value < 100.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

/// "12.3 MB of 1.1 GB · 45.0 MB/s · 20 s left", once there is a rate to tell.
pub fn pace(done: u64, total: u64, elapsed_ms: f64, t: &crate::i18n::Texts) -> String {
    let sizes = format!(
        "{} {} {}",
        human(done, t.bytes),
        t.of,
        human(total, t.bytes)
    );
    if elapsed_ms < 500.0 || done == 0 {
        return sizes;
    }
    let rate = done as f64 / (elapsed_ms / 1000.0);
    let left = ((total.saturating_sub(done)) as f64 / rate).ceil() as u64;
    let left = if left >= 120 {
        format!("{} min", left.div_ceil(60))
    } else {
        format!("{left} s")
    };
    format!(
        "{sizes} · {}/s · {left} {}",
        human(rate as u64, t.bytes),
        t.left
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(human(0, "bytes"), "0 bytes");
        assert_eq!(human(999, "byte"), "999 byte");
        assert_eq!(human(1000, "bytes"), "1.0 KB");
        assert_eq!(human(12_345, "bytes"), "12.3 KB");
        assert_eq!(human(123_456, "bytes"), "123 KB");
        assert_eq!(human(64 * 1024 * 1024, "bytes"), "67.1 MB");
        assert_eq!(human(3_000_000_000_000, "bytes"), "3000 GB");
    }
}
