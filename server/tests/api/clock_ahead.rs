//! The guard of the test command's faketime run: it proves that the wall clock of this test binary
//! and of every server it starts really is two years ahead, so that run cannot pass by silently
//! running on today's clock. The real time comes from the kernel's boot time and uptime, which
//! faketime does not move; the server's `Date` header comes from its own (faked) clock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::processes::{free_port, http_with, serve};

/// How far ahead the test command moves the clock (`faketime -f '+730d'`).
const AHEAD: i64 = 730 * 86_400;

/// The real time, from what faketime does not touch: the kernel's boot time (`btime` in
/// `/proc/stat`) plus the time since boot (`/proc/uptime`).
fn real_now() -> i64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap();
    let boot: i64 = stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let uptime = std::fs::read_to_string("/proc/uptime").unwrap();
    let up: f64 = uptime.split_whitespace().next().unwrap().parse().unwrap();
    boot + up as i64
}

fn unix(t: SystemTime) -> i64 {
    i64::try_from(t.duration_since(UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

#[test]
#[ignore = "run under faketime by the test command; on the real clock it fails"]
fn the_clock_is_ahead() {
    let dir = tempfile::tempdir().unwrap();
    let real = real_now();
    let ours = unix(SystemTime::now());
    let near = |t: i64| (t - (real + AHEAD)).abs() < 3600;
    assert!(
        near(ours),
        "this test's clock reads {ours}, the kernel's {real}: not {AHEAD} s ahead"
    );

    let (_server, url) = serve(dir.path(), free_port());
    let addr = url.trim_start_matches("http://");
    let (status, head, _) = http_with(addr, "GET", "/healthz", &[], None);
    assert_eq!(status, 200);
    let date = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("date: ")
                .or_else(|| l.strip_prefix("Date: "))
        })
        .expect("a Date header");
    let server = mail_parser::DateTime::parse_rfc822(date)
        .unwrap_or_else(|| panic!("unreadable Date {date:?}"))
        .to_timestamp();
    assert!(
        near(server),
        "the server's clock reads {date}, the kernel's {real}: not {AHEAD} s ahead"
    );
    // Tokio's timers keep the real monotonic clock: a second is a second.
    let started = std::time::Instant::now();
    std::thread::sleep(Duration::from_millis(100));
    assert!(started.elapsed() < Duration::from_secs(5));
}
