//! The message key in this tab, and opening sealed parts with it chunk by chunk.
//!
//! The key is released by the server HPKE-sealed to a key pair made here for this page
//! ([`RecipientKeyPair::generate`]); it lives only in WebAssembly memory, in [`Vault`], and is
//! zeroized when the vault is dropped: on leaving the page, at the end of the lease, on a revocation
//! and on sign-out. A part is fetched in byte ranges of a few chunks and each chunk is opened as it
//! arrives ([`PartStream`]), so memory stays bounded by one window, not the part's size.
//!
//! The format's checks all happen here, whichever AES-GCM opens the chunks: [`PartStream::plan`]
//! checks the prefix against the key (the commitment), each chunk's place and length, and gives
//! its nonce; [`PartStream::open_planned`] opens with the envelope's own AES-GCM, and
//! [`crate::platform_aead`] with the browser's.

use core::ops::Range;

use sealpost_envelope::chunked::ENCRYPTED_CHUNK_SIZE;
use sealpost_envelope::part::{MessageId, Part, PartReader, sealed_len};
use sealpost_envelope::{Error, Manifest, MessageKey, RecipientKeyPair, ReleaseBinding};
use zeroize::Zeroizing;

/// Chunks fetched per request: 256 × 16 KiB ≈ 4 MiB, large enough that a request's own cost is
/// small beside its bytes (measured: 1 MiB windows saved to disk at a third of the speed), and
/// small enough that progress moves and memory holds a few windows.
pub const WINDOW_CHUNKS: u64 = 256;

/// The released key of one message, with its id. Dropping it zeroizes the key.
#[derive(Debug)]
pub struct Vault {
    key: MessageKey,
    message: MessageId,
}

impl Vault {
    /// Open a release made for `pair` and this message, recipient and session binding.
    pub fn from_release(
        pair: &RecipientKeyPair,
        release: &[u8],
        message_id: &str,
        recipient: &str,
        binding: &str,
    ) -> Result<Vault, Error> {
        let message = MessageId::parse(message_id)?;
        let key = pair.open_release(
            release,
            &ReleaseBinding {
                message_id: &message,
                recipient,
                session: binding.as_bytes(),
            },
        )?;
        Ok(Vault { key, message })
    }

    /// Open the sealed manifest.
    pub fn manifest(&self, sealed: &[u8]) -> Result<Manifest, Error> {
        sealpost_envelope::open_manifest(&self.key, &self.message, sealed)
    }

    /// Start opening `part`, which the manifest says holds `plaintext_len` bytes.
    pub fn stream(&self, part: Part, plaintext_len: u64) -> PartStream {
        PartStream {
            part,
            plaintext_len,
            sealed_len: sealed_len(plaintext_len),
            reader: None,
            next_chunk: 0,
        }
    }

    fn reader(&self, part: Part, prefix: &[u8], sealed_len: u64) -> Result<PartReader, Error> {
        PartReader::new(&self.key, &self.message, part, prefix, sealed_len)
    }
}

/// One checked chunk of a window: its index, where its bytes (ciphertext and tag) lie in the
/// window, and its nonce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkJob {
    /// The chunk's index in the part.
    pub index: u64,
    /// Its bytes within the window.
    pub within: Range<usize>,
    /// Its AES-GCM nonce.
    pub nonce: [u8; 12],
}

/// Opening one part window by window: ask [`PartStream::next_range`], fetch those bytes, give them
/// to [`PartStream::feed`], until [`PartStream::is_done`]. The final chunk is authenticated as the
/// final one, so a part cut short or extended never opens.
#[derive(Debug)]
pub struct PartStream {
    part: Part,
    plaintext_len: u64,
    sealed_len: u64,
    reader: Option<PartReader>,
    next_chunk: u64,
}

impl PartStream {
    /// The byte range to fetch next, or `None` when every chunk is open.
    pub fn next_range(&self) -> Option<Range<u64>> {
        match &self.reader {
            None => {
                let first =
                    PartReader::PREFIX_LEN as u64 + WINDOW_CHUNKS * ENCRYPTED_CHUNK_SIZE as u64;
                Some(0..first.min(self.sealed_len))
            }
            Some(reader) if self.next_chunk < reader.chunk_count() => {
                let last = (self.next_chunk + WINDOW_CHUNKS).min(reader.chunk_count()) - 1;
                let start = reader.chunk_range(self.next_chunk).ok()?.start;
                let end = reader.chunk_range(last).ok()?.end;
                Some(start..end)
            }
            Some(_) => None,
        }
    }

    /// Check the window `bytes` (exactly [`PartStream::next_range`]) and say which chunks it holds:
    /// on the first window the prefix is checked against the key and the part's place (the
    /// commitment); every chunk's position and length are checked and its nonce derived. The
    /// stream moves past these chunks: the caller MUST open every one, in order, or give up.
    pub fn plan(&mut self, vault: &Vault, bytes: &[u8]) -> Result<Vec<ChunkJob>, Error> {
        let range = self.next_range().ok_or(Error::Malformed)?;
        if bytes.len() as u64 != range.end - range.start {
            return Err(Error::Truncated);
        }
        let mut offset = range.start;
        if self.reader.is_none() {
            let prefix = bytes
                .get(..PartReader::PREFIX_LEN)
                .ok_or(Error::Truncated)?;
            self.reader = Some(vault.reader(self.part, prefix, self.sealed_len)?);
            offset = PartReader::PREFIX_LEN as u64;
        }
        let reader = self.reader.as_ref().ok_or(Error::Malformed)?;
        let mut jobs = Vec::with_capacity(WINDOW_CHUNKS as usize);
        while self.next_chunk < reader.chunk_count() {
            let chunk = reader.chunk_range(self.next_chunk)?;
            if chunk.start != offset || chunk.end > range.end {
                break;
            }
            let within = (chunk.start - range.start) as usize..(chunk.end - range.start) as usize;
            let nonce = reader.platform_nonce(self.next_chunk, within.len())?;
            jobs.push(ChunkJob {
                index: self.next_chunk,
                within,
                nonce,
            });
            offset = chunk.end;
            self.next_chunk += 1;
        }
        if offset != range.end {
            return Err(Error::Malformed);
        }
        Ok(jobs)
    }

    /// Open the chunks [`PartStream::plan`] found in `bytes` with the envelope's AES-GCM (pure
    /// Rust), appending their plaintext to `out`.
    pub fn open_planned(
        &self,
        bytes: &[u8],
        jobs: &[ChunkJob],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let reader = self.reader.as_ref().ok_or(Error::Malformed)?;
        for job in jobs {
            let chunk = bytes.get(job.within.clone()).ok_or(Error::Truncated)?;
            reader.open_chunk(job.index, chunk, out)?;
        }
        Ok(())
    }

    /// Check and open the window `bytes` with the envelope's AES-GCM: [`PartStream::plan`] then
    /// [`PartStream::open_planned`].
    pub fn feed(&mut self, vault: &Vault, bytes: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        let jobs = self.plan(vault, bytes)?;
        self.open_planned(bytes, &jobs, out)
    }

    /// The part's derived AES-256-GCM key (never the message key), once the first window was
    /// planned: for importing into WebCrypto as a non-extractable key.
    pub fn platform_key(&self) -> Option<Zeroizing<[u8; 32]>> {
        self.reader.as_ref().map(PartReader::platform_key)
    }

    /// Plaintext bytes opened so far and in all, for a progress bar.
    pub fn progress(&self) -> (u64, u64) {
        let done = (self.next_chunk * sealpost_envelope::chunked::CHUNK_SIZE as u64)
            .min(self.plaintext_len);
        (done, self.plaintext_len)
    }
}

#[cfg(test)]
mod tests {
    use sealpost_envelope::chunked::CHUNK_SIZE;
    use sealpost_envelope::part::seal_part;
    use sealpost_envelope::seal_release;

    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef";

    /// `key` released to `pair` for you@example.net with session binding `binding`.
    fn release(pair: &RecipientKeyPair, key: &MessageKey) -> Vec<u8> {
        let message = MessageId::parse(ID).unwrap();
        let binding = ReleaseBinding {
            message_id: &message,
            recipient: "you@example.net",
            session: b"binding",
        };
        seal_release(&pair.public_key(), key, &binding).unwrap()
    }

    fn vault_and_key() -> (Vault, MessageKey) {
        let key = MessageKey::generate();
        let pair = RecipientKeyPair::generate();
        let release = release(&pair, &key);
        let vault = Vault::from_release(&pair, &release, ID, "you@example.net", "binding").unwrap();
        (vault, key)
    }

    fn open_via_ranges(
        vault: &Vault,
        part: Part,
        sealed: &[u8],
        len: u64,
    ) -> Result<Vec<u8>, Error> {
        let mut stream = vault.stream(part, len);
        let mut out = Vec::new();
        let mut fetches = 0;
        while let Some(range) = stream.next_range() {
            let end = (range.end as usize).min(sealed.len());
            let bytes = sealed
                .get(range.start as usize..end)
                .ok_or(Error::Truncated)?;
            stream.feed(vault, bytes, &mut out)?;
            fetches += 1;
            assert!(fetches < 1000, "no progress");
        }
        assert_eq!(stream.progress(), (len, len));
        Ok(out)
    }

    #[test]
    fn parts_of_every_size_open_window_by_window() {
        let (vault, key) = vault_and_key();
        let message = MessageId::parse(ID).unwrap();
        let window = WINDOW_CHUNKS as usize * CHUNK_SIZE;
        for len in [
            0,
            1,
            CHUNK_SIZE - 1,
            CHUNK_SIZE,
            CHUNK_SIZE + 1,
            window,
            window + 3,
            2 * window + CHUNK_SIZE,
        ] {
            let plain: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let part = Part::Attachment(3);
            let sealed = seal_part(&key, &message, part, &plain).unwrap();
            let opened = open_via_ranges(&vault, part, &sealed, len as u64).unwrap();
            assert!(opened == plain, "length {len}");
        }
    }

    #[test]
    fn planned_chunks_open_with_a_platform_aead_and_the_exported_key() {
        use aes_gcm::aead::{Aead, KeyInit};
        let (vault, key) = vault_and_key();
        let message = MessageId::parse(ID).unwrap();
        let plain: Vec<u8> = (0..WINDOW_CHUNKS as usize * CHUNK_SIZE + 5000)
            .map(|i| (i % 253) as u8)
            .collect();
        let part = Part::Attachment(0);
        let sealed = seal_part(&key, &message, part, &plain).unwrap();
        let mut stream = vault.stream(part, plain.len() as u64);
        assert!(
            stream.platform_key().is_none(),
            "no key before the commitment is checked"
        );
        let mut opened = Vec::new();
        let mut aead = None;
        while let Some(range) = stream.next_range() {
            let window = &sealed[range.start as usize..range.end as usize];
            let jobs = stream.plan(&vault, window).unwrap();
            let aead = aead.get_or_insert_with(|| {
                aes_gcm::Aes256Gcm::new_from_slice(&stream.platform_key().unwrap()[..]).unwrap()
            });
            for job in jobs {
                let nonce = aes_gcm::Nonce::from(job.nonce);
                opened.extend(aead.decrypt(&nonce, &window[job.within]).unwrap());
            }
        }
        assert!(opened == plain);
    }

    #[test]
    fn a_window_that_is_not_the_one_asked_for_is_refused_before_any_chunk_opens() {
        let (vault, key) = vault_and_key();
        let message = MessageId::parse(ID).unwrap();
        let part = Part::Body(0);
        let sealed = seal_part(&key, &message, part, &[1u8; 3 * CHUNK_SIZE]).unwrap();
        let mut stream = vault.stream(part, 3 * CHUNK_SIZE as u64);
        assert_eq!(
            stream.plan(&vault, &sealed[..sealed.len() - 1]),
            Err(Error::Truncated)
        );
        // A different part's prefix fails the commitment: no key, no chunk.
        let mut other = vault.stream(Part::Body(1), 3 * CHUNK_SIZE as u64);
        assert_eq!(other.plan(&vault, &sealed), Err(Error::DecryptionFailed));
        assert!(other.platform_key().is_none());
        assert_eq!(stream.plan(&vault, &sealed).unwrap().len(), 4);
        assert!(stream.next_range().is_none());
    }

    #[test]
    fn a_changed_cut_or_misplaced_part_does_not_open() {
        let (vault, key) = vault_and_key();
        let message = MessageId::parse(ID).unwrap();
        let plain = vec![7u8; 3 * CHUNK_SIZE + 10];
        let part = Part::Attachment(0);
        let sealed = seal_part(&key, &message, part, &plain).unwrap();
        let len = plain.len() as u64;

        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(open_via_ranges(&vault, part, &flipped, len).is_err());

        // A server that sends less than the manifest promised.
        assert!(open_via_ranges(&vault, part, &sealed[..sealed.len() - 20], len).is_err());
        // The manifest's length is authenticated: claiming a shorter part fails at its last chunk.
        assert!(open_via_ranges(&vault, part, &sealed, len - 1).is_err());
        // Another part's bytes.
        assert!(open_via_ranges(&vault, Part::Attachment(1), &sealed, len).is_err());
        // A release for another recipient does not open.
        let pair = RecipientKeyPair::generate();
        let release = release(&pair, &key);
        assert!(Vault::from_release(&pair, &release, ID, "them@example.net", "binding").is_err());
        assert!(Vault::from_release(&pair, &release, ID, "you@example.net", "other").is_err());
    }
}
