//! Sealed parts: one Cobblestone-256 ciphertext per manifest, body and attachment, each bound to its
//! message and position.
//!
//! ```text
//! sealed part = version (0x01) || Cobblestone-256(message key, context, plaintext)
//! context     = "sealpost/envelope/part" || 0x00 || version || len8(message id) || message id
//!               || kind (0x00 manifest, 0x01 body, 0x02 attachment) || be32(index)
//! ```
//!
//! Because the context is bound into the key derivation, a part moved to another message, or to
//! another position in the same message, fails the commitment check before any chunk is decrypted.
//! Every part of a message shares the message key; the context is what separates them.

use core::fmt;

use crate::chunked::{self, Decryptor, Encryptor, HEADER_SIZE, RandomAccess};
use crate::error::{Error, Result};
use crate::keys::MessageKey;

/// The format version this code writes and the only one it reads.
pub const FORMAT_VERSION: u8 = 0x01;

const PART_LABEL: &[u8] = b"sealpost/envelope/part";

/// A message identifier: 1 to 64 bytes of `[A-Za-z0-9._-]`, as the server assigns them.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MessageId(String);

impl MessageId {
    /// Longest accepted id.
    pub const MAX_LEN: usize = 64;

    /// Validate an id. Anything else is [`Error::Malformed`].
    pub fn parse(id: &str) -> Result<Self> {
        let ok = !id.is_empty()
            && id.len() <= Self::MAX_LEN
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if ok {
            Ok(MessageId(id.to_owned()))
        } else {
            Err(Error::Malformed)
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId({})", self.0)
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which part of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// The manifest: subject, addresses, and the list of bodies and attachments.
    Manifest,
    /// Body `n` (for example 0 = text/plain, 1 = text/html), in manifest order.
    Body(u32),
    /// Attachment `n`, in manifest order.
    Attachment(u32),
}

impl Part {
    /// The part's name, the same in the server's storage and in the portal's URLs: `manifest`,
    /// `body-N` or `attachment-N`.
    pub fn name(self) -> String {
        match self {
            Part::Manifest => "manifest".to_owned(),
            Part::Body(n) => format!("body-{n}"),
            Part::Attachment(n) => format!("attachment-{n}"),
        }
    }

    fn kind_and_index(self) -> (u8, u32) {
        match self {
            Part::Manifest => (0, 0),
            Part::Body(n) => (1, n),
            Part::Attachment(n) => (2, n),
        }
    }
}

/// The Cobblestone context for `part` of `message`.
pub fn part_context(message: &MessageId, part: Part) -> Vec<u8> {
    let (kind, index) = part.kind_and_index();
    let id = message.as_str().as_bytes();
    let mut ctx = Vec::with_capacity(PART_LABEL.len() + 8 + id.len());
    ctx.extend_from_slice(PART_LABEL);
    ctx.push(0);
    ctx.push(FORMAT_VERSION);
    // MessageId::parse bounds the length to 64, so it fits one byte.
    ctx.push(id.len() as u8);
    ctx.extend_from_slice(id);
    ctx.push(kind);
    ctx.extend_from_slice(&index.to_be_bytes());
    ctx
}

fn check_version(byte: u8) -> Result<()> {
    if byte == FORMAT_VERSION {
        Ok(())
    } else {
        Err(Error::UnsupportedVersion)
    }
}

/// The length of a sealed part holding `plaintext_len` bytes.
pub fn sealed_len(plaintext_len: u64) -> u64 {
    1 + chunked::ciphertext_len(plaintext_len)
}

/// Seal a whole part in one call.
pub fn seal_part(
    key: &MessageKey,
    message: &MessageId,
    part: Part,
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    let mut sealer = PartSealer::new(key, message, part);
    let mut out =
        Vec::with_capacity(usize::try_from(sealed_len(plaintext.len() as u64)).unwrap_or(0));
    sealer.update(plaintext, &mut out)?;
    sealer.finalize(&mut out)?;
    Ok(out)
}

/// Open a whole part in one call. Nothing is returned unless the whole part authenticated.
pub fn open_part(
    key: &MessageKey,
    message: &MessageId,
    part: Part,
    sealed: &[u8],
) -> Result<Vec<u8>> {
    let (&version, rest) = sealed.split_first().ok_or(Error::Truncated)?;
    check_version(version)?;
    chunked::open(key.expose_secret(), &part_context(message, part), rest)
}

/// Streaming sealer for one part: bounded memory whatever the part's size.
#[derive(Debug)]
pub struct PartSealer {
    header: Option<[u8; 1 + HEADER_SIZE]>,
    encryptor: Encryptor,
}

impl PartSealer {
    /// Start sealing `part` of `message` under `key` (random salt).
    pub fn new(key: &MessageKey, message: &MessageId, part: Part) -> Self {
        let (encryptor, header) = Encryptor::new(key.expose_secret(), &part_context(message, part));
        let mut framed = [0u8; 1 + HEADER_SIZE];
        framed[0] = FORMAT_VERSION;
        framed[1..].copy_from_slice(&header);
        PartSealer {
            header: Some(framed),
            encryptor,
        }
    }

    /// The prefix a part sealed over several requests starts with (the version byte and a fresh
    /// Cobblestone header), to keep until the part is finished and hand to
    /// [`PartSealer::resume`] for each piece.
    pub fn start(key: &MessageKey, message: &MessageId, part: Part) -> [u8; 1 + HEADER_SIZE] {
        PartSealer::new(key, message, part)
            .header
            .unwrap_or([0u8; 1 + HEADER_SIZE])
    }

    /// Go on sealing a part begun with [`PartSealer::start`], at chunk `next_chunk` (every chunk
    /// before it was full). At chunk 0 the prefix is written first, as [`PartSealer::new`] does.
    /// The prefix is checked against the key and the part's place. Sealing a chunk index again
    /// MUST use the same plaintext (its nonce is the same): the caller keeps that promise.
    pub fn resume(
        key: &MessageKey,
        message: &MessageId,
        part: Part,
        prefix: &[u8],
        next_chunk: u64,
    ) -> Result<Self> {
        let (&version, header) = prefix.split_first().ok_or(Error::Truncated)?;
        check_version(version)?;
        let encryptor = Encryptor::resume(
            key.expose_secret(),
            &part_context(message, part),
            header,
            next_chunk,
        )?;
        let mut framed = [0u8; 1 + HEADER_SIZE];
        framed.copy_from_slice(prefix);
        Ok(PartSealer {
            header: (next_chunk == 0).then_some(framed),
            encryptor,
        })
    }

    fn emit_header(&mut self, out: &mut Vec<u8>) {
        if let Some(header) = self.header.take() {
            out.extend_from_slice(&header);
        }
    }

    /// Seal more plaintext, appending sealed bytes to `out`.
    pub fn update(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.emit_header(out);
        self.encryptor.update(input, out)
    }

    /// Finish the part.
    pub fn finalize(mut self, out: &mut Vec<u8>) -> Result<()> {
        self.emit_header(out);
        self.encryptor.finalize(out)
    }
}

/// Streaming opener for one part: feed the sealed bytes as they arrive, get plaintext chunk by
/// chunk. The part is whole only when [`PartOpener::finalize`] returns `Ok`.
#[derive(Debug)]
pub struct PartOpener {
    version_seen: bool,
    failed: Option<Error>,
    decryptor: Decryptor,
}

impl PartOpener {
    /// Start opening `part` of `message`.
    pub fn new(key: &MessageKey, message: &MessageId, part: Part) -> Self {
        PartOpener {
            version_seen: false,
            failed: None,
            decryptor: Decryptor::new(key.expose_secret(), &part_context(message, part)),
        }
    }

    /// Feed sealed bytes; authenticated plaintext is appended to `out`.
    pub fn update(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<()> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        if !self.version_seen {
            let Some((&version, rest)) = input.split_first() else {
                return Ok(());
            };
            if let Err(e) = check_version(version) {
                self.failed = Some(e);
                return Err(e);
            }
            self.version_seen = true;
            input = rest;
        }
        self.decryptor.update(input, out)
    }

    /// End of input.
    pub fn finalize(self, out: &mut Vec<u8>) -> Result<()> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        if !self.version_seen {
            return Err(Error::Truncated);
        }
        self.decryptor.finalize(out)
    }
}

/// Random access to a stored sealed part whose total length is known: open chunk k alone.
#[derive(Debug)]
pub struct PartReader {
    inner: RandomAccess,
}

impl PartReader {
    /// Bytes a caller must read first: the version byte and the Cobblestone header.
    pub const PREFIX_LEN: usize = 1 + HEADER_SIZE;

    /// Check the prefix (first [`PartReader::PREFIX_LEN`] bytes) against the key and position.
    pub fn new(
        key: &MessageKey,
        message: &MessageId,
        part: Part,
        prefix: &[u8],
        sealed_len: u64,
    ) -> Result<Self> {
        let (&version, header) = prefix.split_first().ok_or(Error::Truncated)?;
        check_version(version)?;
        let inner = RandomAccess::new(
            key.expose_secret(),
            &part_context(message, part),
            header,
            sealed_len.checked_sub(1).ok_or(Error::Truncated)?,
        )?;
        Ok(PartReader { inner })
    }

    /// Number of chunks.
    pub fn chunk_count(&self) -> u64 {
        self.inner.chunk_count()
    }

    /// Plaintext length implied by the sealed length (authenticated once the final chunk opens).
    pub fn plaintext_len(&self) -> u64 {
        self.inner.plaintext_len()
    }

    /// Byte range of chunk `index` in the sealed part.
    pub fn chunk_range(&self, index: u64) -> Result<core::ops::Range<u64>> {
        let r = self.inner.chunk_range(index)?;
        Ok(r.start + 1..r.end + 1)
    }

    /// Decrypt chunk `index`, appending its plaintext to `out`.
    pub fn open_chunk(&self, index: u64, chunk: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.inner.open_chunk(index, chunk, out)
    }

    /// This part's derived AES-256-GCM key, for a platform AEAD: see
    /// [`RandomAccess::platform_key`]. Never the message key.
    pub fn platform_key(&self) -> zeroize::Zeroizing<[u8; crate::keys::KEY_LEN]> {
        self.inner.platform_key()
    }

    /// The nonce of chunk `index` of `len` bytes, checked as [`PartReader::open_chunk`] checks
    /// it: see [`RandomAccess::platform_nonce`].
    pub fn platform_nonce(&self, index: u64, len: usize) -> Result<[u8; 12]> {
        self.inner.platform_nonce(index, len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> MessageId {
        MessageId::parse(s).unwrap()
    }

    #[test]
    fn a_part_sealed_in_pieces_resumed_at_chunk_boundaries_opens_whole() {
        use crate::chunked::CHUNK_SIZE;
        let key = MessageKey::generate();
        let message = id("m1");
        let part = Part::Attachment(2);
        for len in [
            0,
            10,
            3 * CHUNK_SIZE,
            3 * CHUNK_SIZE + 7,
            7 * CHUNK_SIZE + 1,
        ] {
            let plain: Vec<u8> = (0..len).map(|i| (i % 239) as u8).collect();
            let prefix = PartSealer::start(&key, &message, part);
            let mut sealed = Vec::new();
            let window = 2 * CHUNK_SIZE;
            let mut at = 0;
            loop {
                let end = (at + window).min(len);
                let mut sealer =
                    PartSealer::resume(&key, &message, part, &prefix, (at / CHUNK_SIZE) as u64)
                        .unwrap();
                sealer.update(&plain[at..end], &mut sealed).unwrap();
                if end == len {
                    sealer.finalize(&mut sealed).unwrap();
                    break;
                }
                at = end;
            }
            assert_eq!(sealed.len() as u64, sealed_len(len as u64));
            assert!(
                open_part(&key, &message, part, &sealed).unwrap() == plain,
                "{len}"
            );
        }
        // The prefix is checked: another part's, another message's or a cut one is refused.
        let prefix = PartSealer::start(&key, &message, part);
        assert!(PartSealer::resume(&key, &message, Part::Attachment(3), &prefix, 1).is_err());
        assert!(PartSealer::resume(&key, &id("m2"), part, &prefix, 1).is_err());
        assert!(PartSealer::resume(&key, &message, part, &prefix[..20], 1).is_err());
        assert!(PartSealer::resume(&MessageKey::generate(), &message, part, &prefix, 0).is_err());
    }

    #[test]
    fn message_ids_are_validated() {
        assert!(MessageId::parse("m-01.ab_C").is_ok());
        for bad in ["", "a b", "a/b", "é", &"x".repeat(65)] {
            assert_eq!(MessageId::parse(bad), Err(Error::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn contexts_differ_for_every_message_and_position() {
        let a = id("a");
        let b = id("b");
        let all = [
            part_context(&a, Part::Manifest),
            part_context(&a, Part::Body(0)),
            part_context(&a, Part::Body(1)),
            part_context(&a, Part::Attachment(0)),
            part_context(&b, Part::Body(0)),
        ];
        for (i, x) in all.iter().enumerate() {
            for y in &all[i + 1..] {
                assert_ne!(x, y);
            }
        }
    }

    #[test]
    fn part_sealed_for_one_position_fails_at_another() {
        let key = MessageKey::generate();
        let m = id("m1");
        let sealed = seal_part(&key, &m, Part::Attachment(0), b"hello").unwrap();
        assert_eq!(
            open_part(&key, &m, Part::Attachment(0), &sealed).unwrap(),
            b"hello"
        );
        assert_eq!(
            open_part(&key, &m, Part::Attachment(1), &sealed),
            Err(Error::DecryptionFailed)
        );
        assert_eq!(
            open_part(&key, &m, Part::Body(0), &sealed),
            Err(Error::DecryptionFailed)
        );
        assert_eq!(
            open_part(&key, &id("m2"), Part::Attachment(0), &sealed),
            Err(Error::DecryptionFailed)
        );
    }

    #[test]
    fn unknown_version_is_refused_before_anything_else() {
        let key = MessageKey::generate();
        let m = id("m1");
        let mut sealed = seal_part(&key, &m, Part::Body(0), b"x").unwrap();
        sealed[0] = 2;
        assert_eq!(
            open_part(&key, &m, Part::Body(0), &sealed),
            Err(Error::UnsupportedVersion)
        );
        let mut opener = PartOpener::new(&key, &m, Part::Body(0));
        let mut out = Vec::new();
        assert_eq!(
            opener.update(&sealed, &mut out),
            Err(Error::UnsupportedVersion)
        );
        assert_eq!(opener.finalize(&mut out), Err(Error::UnsupportedVersion));
    }

    #[test]
    fn reader_and_opener_agree_with_one_shot() {
        let key = MessageKey::generate();
        let m = id("m1");
        let data: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
        let sealed = seal_part(&key, &m, Part::Attachment(3), &data).unwrap();
        assert_eq!(sealed.len() as u64, sealed_len(data.len() as u64));

        let reader = PartReader::new(
            &key,
            &m,
            Part::Attachment(3),
            &sealed[..PartReader::PREFIX_LEN],
            sealed.len() as u64,
        )
        .unwrap();
        let mut via_reader = Vec::new();
        for k in 0..reader.chunk_count() {
            let r = reader.chunk_range(k).unwrap();
            reader
                .open_chunk(
                    k,
                    &sealed[r.start as usize..r.end as usize],
                    &mut via_reader,
                )
                .unwrap();
        }
        assert_eq!(via_reader, data);

        let mut opener = PartOpener::new(&key, &m, Part::Attachment(3));
        let mut via_opener = Vec::new();
        for piece in sealed.chunks(1000) {
            opener.update(piece, &mut via_opener).unwrap();
        }
        opener.finalize(&mut via_opener).unwrap();
        assert_eq!(via_opener, data);
    }
}
