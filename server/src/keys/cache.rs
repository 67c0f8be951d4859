//! Data keys a policy's root keys unwrapped, kept in memory for a short while ([`TTL_SECONDS`]),
//! so a key release does not ask a PKCS#11 token each time.
//!
//! An entry is found only by a digest of exactly what was unwrapped: the policy, the version, the
//! root key names and both wrapped copies, as read from the database for this release. So nothing
//! a node keeps can outlive what the database (which every node shares) says: a roll writes new
//! versions, a root key replacement new wraps, and a purge removes the wraps, and each is a
//! different digest or none at all. What the cache does change is when a root key that has gone
//! (taken out of its token, or a token unplugged) stops releases: at most [`TTL_SECONDS`] later,
//! the same bound within which a revocation reaches an open page. Expired entries are dropped
//! (and their keys zeroed) at every use and by [`sweep_every`] every [`SWEEP_SECONDS`], so no key
//! stays in memory much past its time on an idle node; a purge on this node forgets its policy's
//! at once.

use std::collections::HashMap;
use std::sync::{Mutex, Weak};

use sealpost_envelope::TenantDataKey;
use sha2::{Digest, Sha256};

use crate::clock::Clock;

/// How long an unwrapped data key is kept, in seconds.
pub const TTL_SECONDS: i64 = 30;

/// How often an idle node drops expired keys, in seconds.
pub const SWEEP_SECONDS: u64 = 5;

/// Most keys kept (a tenant has a few versions per policy; more are unwrapped afresh).
const CAPACITY: usize = 4096;

struct Entry {
    policy_id: String,
    until: i64,
    /// Boxed, so the map moving its entries never leaves copies of the key behind.
    key: Box<TenantDataKey>,
}

/// The cache ([`AppState`](crate::state::AppState) holds one per node).
#[derive(Default)]
pub struct DataKeyCache {
    entries: Mutex<HashMap<[u8; 32], Entry>>,
}

impl std::fmt::Debug for DataKeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKeyCache")
    }
}

/// What identifies one unwrap: every input to it, length-prefixed.
pub fn digest(
    policy_id: &str,
    version: u32,
    root_keys: &[String],
    wrapped: &[Vec<u8>],
) -> [u8; 32] {
    let mut h = Sha256::new();
    let mut part = |b: &[u8]| {
        h.update((b.len() as u64).to_be_bytes());
        h.update(b);
    };
    part(policy_id.as_bytes());
    part(&version.to_be_bytes());
    for name in root_keys {
        part(name.as_bytes());
    }
    for w in wrapped {
        part(w);
    }
    h.finalize().into()
}

impl DataKeyCache {
    /// The key kept under `id` at `now`, else `unwrap`'s (kept until `now` + [`TTL_SECONDS`]
    /// if it succeeded; a failure is not kept).
    pub fn get_or_unwrap<E>(
        &self,
        now: i64,
        policy_id: &str,
        id: [u8; 32],
        unwrap: impl FnOnce() -> Result<TenantDataKey, E>,
    ) -> Result<TenantDataKey, E> {
        {
            let mut entries = self.lock();
            entries.retain(|_, e| e.until > now);
            if let Some(e) = entries.get(&id) {
                return Ok(TenantDataKey::from_bytes(*e.key.expose_secret()));
            }
        }
        // Unwrapped without the lock held: a token may take a while.
        let key = unwrap()?;
        let mut entries = self.lock();
        if entries.len() < CAPACITY {
            entries.insert(
                id,
                Entry {
                    policy_id: policy_id.to_owned(),
                    until: now + TTL_SECONDS,
                    key: Box::new(TenantDataKey::from_bytes(*key.expose_secret())),
                },
            );
        }
        Ok(key)
    }

    /// Drop every key whose time is up at `now`.
    pub fn sweep(&self, now: i64) {
        self.lock().retain(|_, e| e.until > now);
    }

    /// Forget every key of `policy_id` (it is being purged).
    pub fn forget_policy(&self, policy_id: &str) {
        self.lock().retain(|_, e| e.policy_id != policy_id);
    }

    /// How many keys are kept (for tests).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Entry>> {
        // A panic while holding the lock leaves a map that is still whole.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Drop expired keys every [`SWEEP_SECONDS`] for as long as the cache is in use.
pub async fn sweep_every(cache: Weak<DataKeyCache>, clock: Clock) {
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(SWEEP_SECONDS)).await;
        let Some(cache) = cache.upgrade() else {
            return;
        };
        cache.sweep(clock.now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_kept_until_its_time_and_found_only_by_what_was_unwrapped() {
        let cache = DataKeyCache::default();
        let id = digest("p1", 1, &["a".into(), "b".into()], &[vec![1], vec![2]]);
        let asked = std::cell::Cell::new(0);
        let get = |now: i64, id: [u8; 32]| {
            cache
                .get_or_unwrap(now, "p1", id, || {
                    asked.set(asked.get() + 1);
                    Ok::<_, ()>(TenantDataKey::from_bytes([7; 32]))
                })
                .unwrap()
        };
        get(100, id);
        get(100 + TTL_SECONDS - 1, id);
        assert_eq!(asked.get(), 1, "kept");
        get(100 + TTL_SECONDS, id);
        assert_eq!(asked.get(), 2, "asked again once its time is up");
        // Another version, other root keys or another wrap is another entry.
        for other in [
            digest("p1", 2, &["a".into(), "b".into()], &[vec![1], vec![2]]),
            digest("p1", 1, &["a".into(), "c".into()], &[vec![1], vec![2]]),
            digest("p1", 1, &["a".into(), "b".into()], &[vec![1], vec![3]]),
            digest("p1", 1, &["ab".into(), String::new()], &[vec![1], vec![2]]),
        ] {
            assert_ne!(other, id);
        }
        assert_eq!(cache.len(), 1);
        cache.forget_policy("p1");
        assert!(cache.is_empty());
        // An idle node's sweep drops a key once its time is up, not before.
        get(200, id);
        cache.sweep(200 + TTL_SECONDS - 1);
        assert_eq!(cache.len(), 1);
        cache.sweep(200 + TTL_SECONDS);
        assert!(cache.is_empty());
    }

    #[test]
    fn a_failed_unwrap_is_not_kept() {
        let cache = DataKeyCache::default();
        let id = [1; 32];
        assert!(
            cache
                .get_or_unwrap(0, "p", id, || Err::<TenantDataKey, _>("gone"))
                .is_err()
        );
        assert!(cache.is_empty());
    }
}
