//! Client addresses and networks (`192.0.2.10`, `10.0.0.0/8`, `2001:db8::/32`), for the inbound
//! connector's allow-list. An IPv4 client seen through an IPv6 socket (`::ffff:192.0.2.10`)
//! matches its IPv4 entries.

use std::net::IpAddr;

use super::ValidationError;

/// An address and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    /// Parse `addr` or `addr/prefix`.
    pub fn parse(field: &str, input: &str) -> Result<Network, ValidationError> {
        let bad = || {
            ValidationError::new(
                field,
                "invalid_network",
                format!("{input:?} is not an address or network like 192.0.2.10 or 10.0.0.0/8."),
            )
        };
        let (addr, prefix) = match input.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (input.trim(), None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let addr = addr.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(Network { addr, prefix })
    }

    /// Whether the network is wider than a tenant's mail servers plausibly are: shorter than /16
    /// for IPv4 or /48 for IPv6 (`0.0.0.0/0` would let the whole internet relay as the tenant).
    pub fn is_broad(&self) -> bool {
        match self.addr {
            IpAddr::V4(_) => self.prefix < 16,
            IpAddr::V6(_) => self.prefix < 48,
        }
    }

    /// Whether `ip` is in this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks_contain_what_they_should() {
        let n = Network::parse("n", "10.1.0.0/16").unwrap();
        assert!(n.contains(ip("10.1.255.3")));
        assert!(!n.contains(ip("10.2.0.1")));
        assert!(n.contains(ip("::ffff:10.1.0.9")));
        let one = Network::parse("n", "192.0.2.10").unwrap();
        assert!(one.contains(ip("192.0.2.10")));
        assert!(!one.contains(ip("192.0.2.11")));
        assert!(
            Network::parse("n", "0.0.0.0/0")
                .unwrap()
                .contains(ip("8.8.8.8"))
        );
        let v6 = Network::parse("n", "2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:1::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("10.1.0.1")));
        assert_eq!(one.to_string(), "192.0.2.10/32");
    }

    #[test]
    fn bad_networks_are_refused() {
        for bad in [
            "",
            "10.0.0.0/33",
            "host.example",
            "10.0.0/8",
            "::1/129",
            "1.2.3.4/x",
        ] {
            assert_eq!(
                Network::parse("n", bad).unwrap_err().code,
                "invalid_network",
                "{bad}"
            );
        }
    }
}
