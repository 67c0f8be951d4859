//! Limits on what an outsider can make the server do, counted in the database so that every node
//! shares them: one event per try in a sliding window, under a key that names the limit and what
//! it counts (a client address, a link, a domain), hashed so no address or token is stored.

use sha2::{Digest, Sha256};

use crate::connections::client_key;
use crate::services::error::ServiceError;
use crate::state::AppState;
use crate::store::portal::RateCheck;

/// One limit: at most `max` events per `window` seconds for one subject.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// Names the limit in its key, so two limits never share a count.
    pub name: &'static str,
    pub max: u32,
    pub window: i64,
}

/// The key a subject is counted under for `limit`.
fn key(limit: &Limit, subject: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"sealpost/limit\0");
    h.update(limit.name.as_bytes());
    h.update(b"\0");
    h.update(subject);
    h.finalize().into()
}

/// Count one event under every limit at once (one transaction), unless one of them is over:
/// then nothing is counted, and that limit refuses with `code` and `message` (which may say
/// `{minutes}`, filled with the wait).
pub async fn take_all(
    state: &AppState,
    checks: &[(Limit, &[u8])],
    code: &'static str,
    message: &str,
) -> Result<(), ServiceError> {
    take_n(state, checks, 1, code, message).await
}

/// As [`take_all`], counting `n` events under each limit (one per recipient of a forward).
pub async fn take_n(
    state: &AppState,
    checks: &[(Limit, &[u8])],
    n: u32,
    code: &'static str,
    message: &str,
) -> Result<(), ServiceError> {
    let now = state.clock.now();
    let counts: Vec<RateCheck> = checks
        .iter()
        .map(|(limit, subject)| RateCheck {
            key: key(limit, subject),
            since: now - limit.window,
            max: limit.max,
            count: n,
        })
        .collect();
    let Some((i, oldest)) = state.store.count_rate_events(&counts, now).await? else {
        return Ok(());
    };
    let limit = &checks[i].0;
    let wait = (oldest + limit.window - now).max(1);
    tracing::info!(limit = limit.name, "a request was refused by a limit");
    Err(ServiceError::TooMany {
        code,
        message: message.replace("{minutes}", &((wait + 59) / 60).to_string()),
        retry_after: wait,
    })
}

/// What a client is counted as: its IPv4 address or IPv6 /64, or the text it was given as when
/// that is not an address (an unusual proxy header).
pub fn client_subject(addr: &str) -> Vec<u8> {
    match addr.parse::<std::net::IpAddr>() {
        Ok(ip) => client_key(ip).to_string().into_bytes(),
        Err(_) => addr.as_bytes().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_subjects_never_share_a_key() {
        let a = Limit {
            name: "a",
            max: 1,
            window: 60,
        };
        let b = Limit {
            name: "b",
            max: 1,
            window: 60,
        };
        assert_ne!(key(&a, b"x"), key(&b, b"x"));
        assert_ne!(key(&a, b"x"), key(&a, b"y"));
        assert_eq!(client_subject("2001:db8::1"), client_subject("2001:db8::2"));
        assert_ne!(client_subject("192.0.2.1"), client_subject("192.0.2.2"));
    }
}
