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
