//! Counting connections per client, for the listeners' limits (HTTP and SMTP): the key a client
//! is counted by, and a slot that is given back when the connection ends; and work that runs
//! once at a time per key.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};

/// The address limits count a client by: the IPv4 address, or the IPv6 /64 (one customer's
/// network; an attacker gets a whole /64 as easily as one address).
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
        },
        v4 => v4,
    }
}

/// Open connections per client key, with a limit.
#[derive(Debug, Clone)]
pub struct PerClient {
    max: usize,
    counts: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl PerClient {
    /// At most `max` at once per client key.
    pub fn new(max: usize) -> PerClient {
        PerClient {
            max,
            counts: Arc::default(),
        }
    }

    /// A slot for a connection from `ip`, or `None` if its client already holds `max`.
    pub fn take(&self, ip: IpAddr) -> Option<ClientSlot> {
        let key = client_key(ip);
        let mut map = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = map.entry(key).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(ClientSlot {
            key,
            counts: self.counts.clone(),
        })
    }
}

/// A connection counted against its client's limit until dropped.
#[derive(Debug)]
pub struct ClientSlot {
    key: IpAddr,
    counts: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut map = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = map.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.key);
            }
        }
    }
}

/// Work that may run only once at a time per key on this node (a recipient's reply or forward,
/// whose body may be tens of megabytes: parallel requests must not multiply that).
#[derive(Debug, Clone, Default)]
pub struct OneAtATime {
    running: Arc<Mutex<std::collections::HashSet<String>>>,
}

impl OneAtATime {
    /// How many keys have work running.
    pub fn running(&self) -> usize {
        self.running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    /// Start work for `key`, or `None` while other work for it runs.
    pub fn start(&self, key: &str) -> Option<Running> {
        let mut running = self
            .running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        running.insert(key.to_owned()).then(|| Running {
            key: key.to_owned(),
            running: self.running.clone(),
        })
    }
}

/// Work under way for a key until dropped.
#[derive(Debug)]
pub struct Running {
    key: String,
    running: Arc<Mutex<std::collections::HashSet<String>>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_by_their_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn a_client_slot_is_given_back_when_dropped() {
        let per_client = PerClient::new(3);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let held: Vec<_> = (0..3).map(|_| per_client.take(ip).unwrap()).collect();
        assert!(per_client.take(ip).is_none());
        assert!(per_client.take("192.0.2.2".parse().unwrap()).is_some());
        drop(held);
        assert!(per_client.take(ip).is_some());
    }

    #[test]
    fn one_at_a_time_per_key() {
        let work = OneAtATime::default();
        let first = work.start("a").unwrap();
        assert!(work.start("a").is_none());
        assert!(work.start("b").is_some());
        drop(first);
        assert!(work.start("a").is_some());
    }
}

/// Slots for work that holds memory while a client sends (upload windows): at most `total` at
/// once on this node, and at most `per_key` of them for one key (a tenant), so one tenant's slow
/// uploads cannot hold every slot.
#[derive(Debug)]
pub struct Slots {
    total: Arc<tokio::sync::Semaphore>,
    per_key: usize,
    held: Arc<Mutex<HashMap<String, usize>>>,
}

impl Slots {
    /// `total` slots, `per_key` of them at most for one key.
    pub fn new(total: usize, per_key: usize) -> Slots {
        Slots {
            total: Arc::new(tokio::sync::Semaphore::new(total)),
            per_key: per_key.max(1),
            held: Arc::default(),
        }
    }

    /// A slot for `key`, waiting up to `wait` for one to be free; `None` if `key` holds its share
    /// already, or none came free in time.
    pub async fn take(&self, key: &str, wait: std::time::Duration) -> Option<Slot> {
        {
            let mut held = self.held.lock().ok()?;
            let n = held.entry(key.to_owned()).or_insert(0);
            if *n >= self.per_key {
                return None;
            }
            *n += 1;
        }
        // Counted now; given back when dropped, whether or not a slot comes.
        let mut slot = Slot {
            permit: None,
            key: key.to_owned(),
            held: self.held.clone(),
        };
        let permit = tokio::time::timeout(wait, self.total.clone().acquire_owned())
            .await
            .ok()?
            .ok()?;
        slot.permit = Some(permit);
        Some(slot)
    }
}

/// A taken slot, given back when dropped.
#[derive(Debug)]
pub struct Slot {
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
    key: String,
    held: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.permit.take();
        if let Ok(mut held) = self.held.lock()
            && let Some(n) = held.get_mut(&self.key)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                held.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod slot_tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn one_key_holds_at_most_its_share_and_slots_come_back() {
        let slots = Slots::new(4, 2);
        let a1 = slots.take("a", Duration::ZERO).await.unwrap();
        let _a2 = slots.take("a", Duration::ZERO).await.unwrap();
        // Tenant a's slow uploads hold its share; it gets no third, others still get theirs.
        assert!(slots.take("a", Duration::from_secs(1)).await.is_none());
        let _b1 = slots.take("b", Duration::ZERO).await.unwrap();
        let _b2 = slots.take("b", Duration::ZERO).await.unwrap();
        // Every slot is taken: c waits, then is refused.
        assert!(slots.take("c", Duration::from_millis(20)).await.is_none());
        drop(a1);
        assert!(slots.take("c", Duration::ZERO).await.is_some());
        assert!(slots.take("a", Duration::ZERO).await.is_some());
    }
}
