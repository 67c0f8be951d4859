//! `sealpost envelope seal|open`: raw Cobblestone-256 on standard input and output, for interop
//! checks and debugging. Memory stays bounded (one chunk plus a read buffer) whatever the size.
//!
//! `open` writes each chunk as soon as it authenticates; if a later chunk fails, what was written is
//! an authentic prefix and the exit status is non-zero with the error class on standard error. A
//! caller MUST treat the output as incomplete unless the exit status is zero.

use std::io::{Read, Write};

use sealpost_envelope::Error;
use sealpost_envelope::chunked::{Decryptor, Encryptor, input_key_from_slice};
use zeroize::Zeroizing;

/// Why an envelope command failed.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeCmdError {
    /// A hex argument is not hex.
    #[error("{0} is not valid hex")]
    BadHex(&'static str),
    /// The key is not 32 bytes.
    #[error("the key must be 32 bytes (64 hex digits)")]
    BadKey,
    /// The ciphertext was refused.
    #[error("{}: {}", .0.class(), .0)]
    Envelope(Error),
    /// Reading or writing failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

const READ_BUF: usize = 64 * 1024;

fn parse_key(key_hex: &str) -> Result<Zeroizing<[u8; 32]>, EnvelopeCmdError> {
    let bytes =
        Zeroizing::new(hex::decode(key_hex).map_err(|_| EnvelopeCmdError::BadHex("--key-hex"))?);
    input_key_from_slice(&bytes).map_err(|_| EnvelopeCmdError::BadKey)
}

fn parse_context(context_hex: &str) -> Result<Vec<u8>, EnvelopeCmdError> {
    hex::decode(context_hex).map_err(|_| EnvelopeCmdError::BadHex("--context-hex"))
}

/// Encrypt `input` to `output`.
pub fn seal(
    key_hex: &str,
    context_hex: &str,
    mut input: impl Read,
    mut output: impl Write,
) -> Result<(), EnvelopeCmdError> {
    let key = parse_key(key_hex)?;
    let context = parse_context(context_hex)?;
    let (mut enc, header) = Encryptor::new(&key, &context);
    output.write_all(&header)?;
    let mut buf = Zeroizing::new(vec![0u8; READ_BUF]);
    let mut out = Vec::with_capacity(READ_BUF + 64);
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        enc.update(&buf[..n], &mut out)
            .map_err(EnvelopeCmdError::Envelope)?;
        output.write_all(&out)?;
        out.clear();
    }
    enc.finalize(&mut out).map_err(EnvelopeCmdError::Envelope)?;
    output.write_all(&out)?;
    output.flush()?;
    Ok(())
}

/// Decrypt `input` to `output`.
pub fn open(
    key_hex: &str,
    context_hex: &str,
    mut input: impl Read,
    mut output: impl Write,
) -> Result<(), EnvelopeCmdError> {
    let key = parse_key(key_hex)?;
    let context = parse_context(context_hex)?;
    let mut dec = Decryptor::new(&key, &context);
    let mut buf = vec![0u8; READ_BUF];
    let mut out = Zeroizing::new(Vec::with_capacity(READ_BUF + 16 * 1024));
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        dec.update(&buf[..n], &mut out)
            .map_err(EnvelopeCmdError::Envelope)?;
        output.write_all(&out)?;
        out.clear();
    }
    dec.finalize(&mut out).map_err(EnvelopeCmdError::Envelope)?;
    output.write_all(&out)?;
    output.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "59454c4c4f57205355424d4152494e452059454c4c4f57205355424d4152494e";

    #[test]
    fn seal_then_open_round_trips_large_input() {
        let msg: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        let mut sealed = Vec::new();
        seal(KEY, "6374", &msg[..], &mut sealed).unwrap();
        let mut opened = Vec::new();
        open(KEY, "6374", &sealed[..], &mut opened).unwrap();
        assert_eq!(opened, msg);
    }

    #[test]
    fn open_reports_the_error_class() {
        let mut sealed = Vec::new();
        seal(KEY, "", &b"hi"[..], &mut sealed).unwrap();
        let err = open(KEY, "00", &sealed[..], Vec::new()).unwrap_err();
        assert!(err.to_string().starts_with("decryption_failed"), "{err}");
        let err = open(KEY, "", &sealed[..40], Vec::new()).unwrap_err();
        assert!(err.to_string().starts_with("truncated"), "{err}");
        assert!(matches!(
            open("00", "", &sealed[..], Vec::new()),
            Err(EnvelopeCmdError::BadKey)
        ));
        assert!(matches!(
            open("zz", "", &sealed[..], Vec::new()),
            Err(EnvelopeCmdError::BadHex(_))
        ));
    }
}
