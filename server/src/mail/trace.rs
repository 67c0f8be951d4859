//! Trace fields (RFC 5321 §4.4): the `Received:` field Sealpost adds to mail it relays, and the
//! count of such fields by which a mail loop is found. Each server a message passes adds one; a
//! message that already carries [`MAX_HOPS`] has gone round in circles (two relays that route to
//! each other), and is refused rather than passed on once more.

/// The most `Received:` fields a message may carry when it reaches us (Postfix's
/// `hopcount_limit` has the same default).
pub const MAX_HOPS: usize = 50;

/// How many `Received:` fields the header section of `raw` holds.
pub fn hops(raw: &[u8]) -> usize {
    let mut n = 0;
    for line in raw.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break; // the end of the header section
        }
        if line.len() >= 9 && line[..9].eq_ignore_ascii_case(b"received:") {
            n += 1;
        }
    }
    n
}

/// The `Received:` field for a message from `client` (an IP address), accepted by `hostname`
/// under queue id `id` at `at` (Unix seconds), folded and ending in CRLF.
pub fn received(client: &str, hostname: &str, id: &str, at: i64) -> String {
    let literal = if client.contains(':') {
        format!("IPv6:{client}")
    } else {
        client.to_owned()
    };
    let date = chrono::DateTime::from_timestamp(at, 0)
        .unwrap_or_default()
        .to_rfc2822();
    format!(
        "Received: from [{literal}]\r\n\tby {hostname} (Sealpost) with ESMTP id {id};\r\n\t{date}\r\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_received_fields_of_the_header_section_count() {
        let raw = b"Received: from a\r\n\tby b\r\nRECEIVED: from c\r\nSubject: x\r\nX-Received: no\r\n\r\nReceived: in the body\r\n";
        assert_eq!(hops(raw), 2);
        assert_eq!(hops(b"Subject: none\r\n\r\nbody"), 0);
        assert_eq!(hops(b""), 0);
    }

    #[test]
    fn a_received_field_names_the_client_the_host_and_the_id_and_is_counted() {
        let field = received("192.0.2.7", "mx.contoso.example", "q1", 0);
        assert!(
            field.starts_with("Received: from [192.0.2.7]\r\n\tby mx.contoso.example (Sealpost) with ESMTP id q1;\r\n\t"),
            "{field}"
        );
        assert!(field.ends_with("+0000\r\n"), "{field}");
        assert!(
            received("2001:db8::1", "h", "q", 0).starts_with("Received: from [IPv6:2001:db8::1]")
        );
        let stamped = format!("{field}Subject: x\r\n\r\nbody");
        assert_eq!(hops(stamped.as_bytes()), 1);
    }
}
