//! The PROXY protocol (HAProxy's, v1 text and v2 binary) a TCP load balancer puts before the SMTP
//! conversation, so the listener sees the real client. Read byte-exact, so nothing of the SMTP
//! conversation after it is consumed; parsed with `ppp`.

use std::net::SocketAddr;

use tokio::io::{AsyncRead, AsyncReadExt};

/// The v2 header's first 12 bytes.
const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";
/// Longest v1 header, with its CRLF (the specification's limit).
const V1_MAX: usize = 107;
/// Longest v2 address block with TLVs accepted (balancers send well under this).
const V2_MAX_PAYLOAD: usize = 1024;

/// Why a connection from a load balancer was not served.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("the connection ended or failed before its PROXY header: {0}")]
    Io(#[from] std::io::Error),
    #[error("the connection does not start with a PROXY header")]
    Missing,
    #[error("the PROXY header is not valid: {0}")]
    Invalid(String),
}

/// Read one PROXY header from the start of `stream`. `Some(client)` for a proxied TCP
/// connection; `None` when the balancer speaks for itself (v2 `LOCAL`, a health check) or does
/// not know the client (`UNKNOWN`, a non-TCP family), in which case its own address stands.
pub async fn read_header(
    stream: &mut (impl AsyncRead + Unpin),
) -> Result<Option<SocketAddr>, ProxyError> {
    let mut head = vec![0u8; V2_SIGNATURE.len()];
    stream.read_exact(&mut head).await?;
    if head == V2_SIGNATURE {
        let mut fixed = [0u8; 4];
        stream.read_exact(&mut fixed).await?;
        head.extend_from_slice(&fixed);
        let len = usize::from(u16::from_be_bytes([fixed[2], fixed[3]]));
        if len > V2_MAX_PAYLOAD {
            return Err(ProxyError::Invalid(format!(
                "a v2 header of {len} bytes is longer than {V2_MAX_PAYLOAD}"
            )));
        }
        let mut payload = vec![0u8; len];
        stream.read_exact(&mut payload).await?;
        head.extend_from_slice(&payload);
        v2(&head)
    } else if head.starts_with(b"PROXY ") {
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n") {
            if head.len() >= V1_MAX {
                return Err(ProxyError::Invalid(format!(
                    "a v1 header is longer than {V1_MAX} bytes"
                )));
            }
            stream.read_exact(&mut byte).await?;
            head.push(byte[0]);
        }
        v1(&head)
    } else {
        Err(ProxyError::Missing)
    }
}

/// A whole v2 header.
pub fn v2(bytes: &[u8]) -> Result<Option<SocketAddr>, ProxyError> {
    use ppp::v2::{Addresses, Command, Header};
    let header = Header::try_from(bytes).map_err(|e| ProxyError::Invalid(e.to_string()))?;
    if header.command == Command::Local {
        return Ok(None);
    }
    Ok(match header.addresses {
        Addresses::IPv4(a) => Some(SocketAddr::new(a.source_address.into(), a.source_port)),
        Addresses::IPv6(a) => Some(SocketAddr::new(a.source_address.into(), a.source_port)),
        Addresses::Unspecified | Addresses::Unix(_) => None,
    })
}

/// A whole v1 header, CRLF included.
pub fn v1(bytes: &[u8]) -> Result<Option<SocketAddr>, ProxyError> {
    use ppp::v1::{Addresses, Header};
    // ASCII only, as the protocol says: ppp 2.3 panics slicing a header with a multi-byte
    // character in it (found by fuzzing, `proxy_header`).
    if !bytes.is_ascii() {
        return Err(ProxyError::Invalid(
            "a v1 header is not ASCII text".to_owned(),
        ));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ProxyError::Invalid("a v1 header is not text".to_owned()))?;
    let header = Header::try_from(text).map_err(|e| ProxyError::Invalid(e.to_string()))?;
    Ok(match header.addresses {
        Addresses::Tcp4(a) => Some(SocketAddr::new(a.source_address.into(), a.source_port)),
        Addresses::Tcp6(a) => Some(SocketAddr::new(a.source_address.into(), a.source_port)),
        Addresses::Unknown => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The input the fuzzer found: ppp panicked on it; now it is refused.
    #[test]
    fn a_v1_header_with_a_multi_byte_character_is_refused() {
        let found = [80, 88, 82, 45, 13, 223, 175, 53];
        assert!(v1(&found).is_err());
        assert!(v1("PROXY TCP4 192.0.2.1 192.0.2.2 1 2\u{7ef}\r\n".as_bytes()).is_err());
    }

    async fn read(bytes: &[u8]) -> (Result<Option<SocketAddr>, ProxyError>, Vec<u8>) {
        let mut input = bytes;
        let got = read_header(&mut input).await;
        (got, input.to_vec())
    }

    #[tokio::test]
    async fn v1_gives_the_client_and_leaves_the_smtp_conversation_unread() {
        let (got, rest) = read(b"PROXY TCP4 198.51.100.7 10.0.0.2 40000 25\r\nEHLO x\r\n").await;
        assert_eq!(got.unwrap(), Some("198.51.100.7:40000".parse().unwrap()));
        assert_eq!(rest, b"EHLO x\r\n");
        let (got, _) = read(b"PROXY TCP6 2001:db8::7 2001:db8::1 40000 25\r\n").await;
        assert_eq!(got.unwrap(), Some("[2001:db8::7]:40000".parse().unwrap()));
        let (got, _) = read(b"PROXY UNKNOWN\r\n").await;
        assert_eq!(got.unwrap(), None);
    }

    #[tokio::test]
    async fn v2_gives_the_client_and_local_gives_none() {
        let mut proxied = V2_SIGNATURE.to_vec();
        proxied.extend([
            0x21, 0x11, 0, 12, 198, 51, 100, 7, 10, 0, 0, 2, 0x9c, 0x40, 0, 25,
        ]);
        proxied.extend(b"EHLO x\r\n");
        let (got, rest) = read(&proxied).await;
        assert_eq!(got.unwrap(), Some("198.51.100.7:40000".parse().unwrap()));
        assert_eq!(rest, b"EHLO x\r\n");
        let mut local = V2_SIGNATURE.to_vec();
        local.extend([0x20, 0x00, 0, 0]);
        assert_eq!(read(&local).await.0.unwrap(), None);
    }

    #[tokio::test]
    async fn anything_else_is_refused() {
        for bad in [
            &b"EHLO mail.example\r\n"[..],
            b"PROXY TCP4 not-an-address 10.0.0.2 1 25\r\n",
            b"PROXY TCP4 198.51.100.7 10.0.0.2 40000 25 and on and on and on and on and on and on and on and on and on and on\r\n",
            b"PROXY TCP4 198.51.100.7",
        ] {
            assert!(read(bad).await.0.is_err(), "{bad:?}");
        }
        let mut long = V2_SIGNATURE.to_vec();
        long.extend([0x21, 0x11, 0xff, 0xff]);
        assert!(matches!(read(&long).await.0, Err(ProxyError::Invalid(_))));
    }
}
