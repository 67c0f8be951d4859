//! Email addresses and mail domains, parsed once so an invalid one never exists.
//!
//! Addresses are kept lower-cased: recipients type them in any case, and a passcode must reach the
//! same mailbox however the sender spelled it.

use std::fmt;

use super::ValidationError;

/// A mail domain such as `example.com`: lower-case, at least two labels, each 1–63 of `a-z0-9-`
/// not starting or ending with `-`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Domain(String);

impl Domain {
    /// Parse and lower-case a domain.
    pub fn parse(field: &str, input: &str) -> Result<Domain, ValidationError> {
        let d = input.trim().trim_end_matches('.').to_ascii_lowercase();
        let bad = || {
            ValidationError::new(
                field,
                "invalid_domain",
                format!("{input:?} is not a mail domain like example.com."),
            )
        };
        if d.len() > 253 || !d.contains('.') {
            return Err(bad());
        }
        for label in d.split('.') {
            if label.is_empty()
                || label.len() > 63
                || label.starts_with('-')
                || label.ends_with('-')
                || !label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(bad());
            }
        }
        Ok(Domain(d))
    }

    /// The domain as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address `local@domain`, lower-cased, at most 254 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EmailAddress {
    full: String,
    at: usize,
}

impl EmailAddress {
    /// Parse a bare address (no display name).
    pub fn parse(field: &str, input: &str) -> Result<EmailAddress, ValidationError> {
        let s = input.trim().to_lowercase();
        let bad = || {
            ValidationError::new(
                field,
                "invalid_address",
                format!("{input:?} is not an email address like name@example.com."),
            )
        };
        if s.len() > sealpost_api::rules::EMAIL_MAX {
            return Err(bad());
        }
        let at = s.rfind('@').ok_or_else(bad)?;
        let (local, domain) = (&s[..at], &s[at + 1..]);
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| {
                (c.is_alphanumeric() && !c.is_control()) || "!#$%&'*+-/=?^_`{|}~.".contains(c)
            });
        if !local_ok {
            return Err(bad());
        }
        let domain = Domain::parse(field, domain).map_err(|_| bad())?;
        let full = format!("{local}@{domain}");
        Ok(EmailAddress { full, at })
    }

    /// The whole address.
    pub fn as_str(&self) -> &str {
        &self.full
    }

    /// The part after `@`.
    pub fn domain(&self) -> &str {
        &self.full[self.at + 1..]
    }

    /// The address with most of the part before `@` hidden, to show where a passcode goes without
    /// spelling out the address to whoever holds the link: `y•••@example.net`, `j•••n@example.net`.
    pub fn masked(&self) -> String {
        let local: Vec<char> = self.full[..self.at].chars().collect();
        let shown = match local.as_slice() {
            [first, .., last] if local.len() >= 5 => format!("{first}•••{last}"),
            [first, ..] => format!("{first}•••"),
            [] => "•••".to_owned(),
        };
        format!("{shown}@{}", self.domain())
    }

    /// Whether the address is in one of `domains` (exactly; subdomains are separate domains).
    pub fn is_in(&self, domains: &[Domain]) -> bool {
        domains.iter().any(|d| d.as_str() == self.domain())
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_keeps_the_domain_and_hides_most_of_the_name() {
        let m = |a: &str| EmailAddress::parse("to", a).unwrap().masked();
        assert_eq!(m("you@example.net"), "y•••@example.net");
        assert_eq!(m("jonathan@example.net"), "j•••n@example.net");
        assert_eq!(m("a@example.net"), "a•••@example.net");
        assert_eq!(m("åsa.öberg@exempel.se"), "å•••g@exempel.se");
    }

    #[test]
    fn addresses_are_lower_cased_and_split_at_the_last_at() {
        let a = EmailAddress::parse("to", " Anna.Berg@Example.COM ").unwrap();
        assert_eq!(a.as_str(), "anna.berg@example.com");
        assert_eq!(a.domain(), "example.com");
        let d = vec![Domain::parse("d", "example.com").unwrap()];
        assert!(a.is_in(&d));
        let sub = EmailAddress::parse("to", "x@mail.example.com").unwrap();
        assert!(!sub.is_in(&d));
        assert!(EmailAddress::parse("to", "åsa@exempel.se").is_ok());
    }

    #[test]
    fn malformed_addresses_are_refused_with_the_field() {
        for bad in [
            "",
            "nobody",
            "@example.com",
            "a@",
            "a@localhost",
            "a b@example.com",
            "a..b@example.com",
            ".a@example.com",
            "a@exa_mple.com",
            "a@-example.com",
            "<a@example.com>",
            "a@example.com\r\nBcc: x@y.z",
        ] {
            let e = EmailAddress::parse("to[0]", bad).unwrap_err();
            assert_eq!(e.code, "invalid_address", "{bad:?}");
            assert_eq!(e.field, "to[0]");
        }
        // The local part is at most 64 characters, the whole address 254.
        let long = format!("{}@example.com", "a".repeat(65));
        assert!(EmailAddress::parse("to", &long).is_err());
        assert!(EmailAddress::parse("to", &format!("{}@example.com", "a".repeat(64))).is_ok());
        let too_long = format!("{}@example.com", "a".repeat(255 - "@example.com".len()));
        assert!(EmailAddress::parse("to", &too_long).is_err());
    }

    #[test]
    fn domains_are_validated_label_by_label() {
        assert_eq!(
            Domain::parse("d", "Contoso.COM.").unwrap().as_str(),
            "contoso.com"
        );
        for bad in ["", "com", "a..b", "-a.com", "a-.com", "a b.com", "ä.se"] {
            assert!(Domain::parse("d", bad).is_err(), "{bad:?}");
        }
    }
}
