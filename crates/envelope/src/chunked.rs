//! Cobblestone-256: C2SP chunked-encryption (c2sp.org/chunked-encryption) instantiated with
//! HKDF-Expand over SHA-512 and AES-256-GCM.
//!
//! ```text
//! key || base nonce || commitment = HKDF-Expand-SHA-512(prk = input key,
//!     info = "c2sp.org/chunked-encryption@v1+" || "AEAD_AES_256_GCM" || 0x00 || salt || context,
//!     L = 32 + 12 + 32)
//! ciphertext = salt (24) || commitment (32) || chunk 0 || chunk 1 || ... || final chunk
//! chunk k    = AES-256-GCM(key, nonce = base nonce XOR be96(k), aad = "", 16 KiB of plaintext)
//! ```
//!
//! The final chunk is always shorter than 16 KiB (and may be empty), which is what makes truncation
//! and extension detectable without a flag. See `SPEC.md` for the MUSTs this module keeps.
//!
//! # Caveats
//! - The input key MUST be uniformly random and the salt MUST NOT repeat for a key; [`Encryptor::new`]
//!   draws the salt from the CSPRNG. [`Encryptor::with_salt`] exists only to reproduce test vectors.
//! - The commitment is checked, in constant time, before any chunk is decrypted.
//! - Streaming decryption releases a chunk's plaintext only after that chunk authenticated, but the
//!   *message* is only known to be complete after [`Decryptor::finalize`] succeeds. Callers MUST NOT
//!   act on a prefix as if it were the whole message.
//! - AES-GCM here is RustCrypto's constant-time software/AES-NI implementation. The per-chunk nonce
//!   is derived, never chosen by the caller, so nonce reuse requires a salt collision (2^-80-ish).

use aes_gcm::aead::{AeadInOut, KeyInit, inout::InOutBuf};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use hmac::{Hmac, Mac};
use sha2::Sha512;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, Result};
use crate::keys::{KEY_LEN, fill_random};

/// Plaintext bytes per chunk (every chunk but the last, which is shorter).
pub const CHUNK_SIZE: usize = 16 * 1024;
/// AES-GCM tag length.
pub const TAG_SIZE: usize = 16;
/// Length of the random salt at the start of a ciphertext.
pub const SALT_SIZE: usize = 24;
/// Length of the key commitment after the salt.
pub const COMMITMENT_SIZE: usize = 32;
/// Salt plus commitment.
pub const HEADER_SIZE: usize = SALT_SIZE + COMMITMENT_SIZE;
/// A full encrypted chunk: 16 KiB of ciphertext plus its tag.
pub const ENCRYPTED_CHUNK_SIZE: usize = CHUNK_SIZE + TAG_SIZE;
/// The chunk counter MUST stay below 2^38.
pub const MAX_CHUNKS: u64 = 1 << 38;

const NONCE_SIZE: usize = 12;
const LABEL: &[u8] = b"c2sp.org/chunked-encryption@v1+";
const AEAD_NAME: &[u8] = b"AEAD_AES_256_GCM";
const OKM_LEN: usize = KEY_LEN + NONCE_SIZE + COMMITMENT_SIZE;

/// The 32-byte Cobblestone input key, as a fixed array (callers validate lengths on the way in).
pub type InputKey = [u8; KEY_LEN];

/// Parse an input key of exactly 32 bytes. Any other size is [`Error::Malformed`].
pub fn input_key_from_slice(bytes: &[u8]) -> Result<Zeroizing<InputKey>> {
    let key: InputKey = bytes.try_into().map_err(|_| Error::Malformed)?;
    Ok(Zeroizing::new(key))
}

/// The total ciphertext length for a plaintext of `plaintext_len` bytes.
pub fn ciphertext_len(plaintext_len: u64) -> u64 {
    let chunks = plaintext_len / CHUNK_SIZE as u64 + 1;
    HEADER_SIZE as u64 + plaintext_len + chunks * TAG_SIZE as u64
}

/// The plaintext length that a ciphertext of `ciphertext_len` bytes would hold, or
/// [`Error::Truncated`] if no valid ciphertext has that length. Not authenticated: only opening the
/// final chunk proves the length.
pub fn plaintext_len(ciphertext_len: u64) -> Result<u64> {
    let body = ciphertext_len
        .checked_sub(HEADER_SIZE as u64)
        .ok_or(Error::Truncated)?;
    let full = body / ENCRYPTED_CHUNK_SIZE as u64;
    let rem = body % ENCRYPTED_CHUNK_SIZE as u64;
    if rem < TAG_SIZE as u64 {
        // Either the short final chunk is missing, or it is shorter than a tag.
        return Err(Error::Truncated);
    }
    if full + 1 > MAX_CHUNKS {
        return Err(Error::Malformed);
    }
    Ok(full * CHUNK_SIZE as u64 + rem - TAG_SIZE as u64)
}

/// The derived per-message AEAD key and base nonce. Zeroizes on drop (the AES key schedule via the
/// `zeroize` feature of `aes-gcm`, the nonce here).
pub struct ChunkCipher {
    aead: Aes256Gcm,
    // Kept for [`ChunkCipher::platform_key`]: a browser hands the chunks to WebCrypto with it.
    key: Zeroizing<[u8; KEY_LEN]>,
    base_nonce: [u8; NONCE_SIZE],
}

impl core::fmt::Debug for ChunkCipher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ChunkCipher([redacted])")
    }
}

impl Drop for ChunkCipher {
    fn drop(&mut self) {
        self.base_nonce.zeroize();
    }
}

/// HKDF-Expand (RFC 5869 §2.3) with SHA-512; `info` is the concatenation of its pieces. Output
/// longer than 255 hash blocks is [`Error::Malformed`].
///
/// Written out rather than taken from the `hkdf` crate because that crate (correctly, for general
/// use) refuses a PRK shorter than the hash output, while C2SP feeds a 32-byte input key straight
/// into Expand as the PRK. Public so the Wycheproof HKDF vectors can test it directly.
pub fn hkdf_expand_sha512(prk: &[u8], info: &[&[u8]], okm: &mut [u8]) -> Result<()> {
    const HASH_LEN: usize = 64;
    if okm.len() > 255 * HASH_LEN {
        return Err(Error::Malformed);
    }
    let mut previous = Zeroizing::new([0u8; HASH_LEN]);
    for (i, out) in okm.chunks_mut(HASH_LEN).enumerate() {
        #[allow(clippy::expect_used)]
        let mut mac = <Hmac<Sha512> as KeyInit>::new_from_slice(prk)
            .expect("HMAC accepts keys of any length");
        if i > 0 {
            mac.update(&previous[..]);
        }
        for part in info {
            mac.update(part);
        }
        // The counter is i + 1 and i < 255 by the check above.
        mac.update(&[(i + 1) as u8]);
        let block = mac.finalize().into_bytes();
        previous.copy_from_slice(&block);
        out.copy_from_slice(&previous[..out.len()]);
    }
    Ok(())
}

/// Derive the AEAD key, base nonce and commitment for `salt` and `context`.
fn derive(
    input_key: &InputKey,
    salt: &[u8; SALT_SIZE],
    context: &[u8],
) -> (ChunkCipher, [u8; COMMITMENT_SIZE]) {
    let mut okm = Zeroizing::new([0u8; OKM_LEN]);
    // 76 bytes is two SHA-512 blocks, far below the 255-block limit.
    let _ = hkdf_expand_sha512(
        input_key,
        &[LABEL, AEAD_NAME, &[0u8], salt, context],
        &mut okm[..],
    );
    #[allow(clippy::expect_used)]
    let aead = Aes256Gcm::new_from_slice(&okm[..KEY_LEN]).expect("a 32-byte AES-256 key");
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    key.copy_from_slice(&okm[..KEY_LEN]);
    let mut base_nonce = [0u8; NONCE_SIZE];
    base_nonce.copy_from_slice(&okm[KEY_LEN..KEY_LEN + NONCE_SIZE]);
    let mut commitment = [0u8; COMMITMENT_SIZE];
    commitment.copy_from_slice(&okm[KEY_LEN + NONCE_SIZE..]);
    (
        ChunkCipher {
            aead,
            key,
            base_nonce,
        },
        commitment,
    )
}

impl ChunkCipher {
    /// Check a 56-byte header against the input key and context and, if the commitment matches,
    /// return the cipher for the chunks that follow.
    ///
    /// A header shorter than 56 bytes is [`Error::Truncated`]; a commitment mismatch (wrong key,
    /// wrong context, modified salt or commitment) is [`Error::DecryptionFailed`].
    pub fn from_header(input_key: &InputKey, context: &[u8], header: &[u8]) -> Result<Self> {
        if header.len() < HEADER_SIZE {
            return Err(Error::Truncated);
        }
        if header.len() > HEADER_SIZE {
            return Err(Error::Malformed);
        }
        let mut salt = [0u8; SALT_SIZE];
        salt.copy_from_slice(&header[..SALT_SIZE]);
        let (cipher, commitment) = derive(input_key, &salt, context);
        if bool::from(commitment.ct_eq(&header[SALT_SIZE..])) {
            Ok(cipher)
        } else {
            Err(Error::DecryptionFailed)
        }
    }

    /// The nonce for chunk `index`: the base nonce XOR the index as a 96-bit big-endian integer.
    pub fn nonce(&self, index: u64) -> Result<[u8; NONCE_SIZE]> {
        if index >= MAX_CHUNKS {
            return Err(Error::Malformed);
        }
        let mut nonce = self.base_nonce;
        for (n, c) in nonce[NONCE_SIZE - 8..].iter_mut().zip(index.to_be_bytes()) {
            *n ^= c;
        }
        Ok(nonce)
    }

    /// Encrypt one chunk in place and return its tag.
    fn seal_in_place(&self, index: u64, buf: &mut [u8]) -> Result<[u8; TAG_SIZE]> {
        let nonce = Nonce::from(self.nonce(index)?);
        let tag = self
            .aead
            .encrypt_inout_detached(&nonce, &[], InOutBuf::from(buf))
            .map_err(|_| Error::Malformed)?;
        let mut out = [0u8; TAG_SIZE];
        out.copy_from_slice(&tag);
        Ok(out)
    }

    /// Decrypt one chunk in place: `buf` is the ciphertext without its tag. On failure `buf` holds
    /// garbage that the caller MUST discard.
    fn open_in_place(&self, index: u64, buf: &mut [u8], tag: &[u8]) -> Result<()> {
        let nonce = Nonce::from(self.nonce(index)?);
        let tag = Tag::try_from(tag).map_err(|_| Error::Truncated)?;
        self.aead
            .decrypt_inout_detached(&nonce, &[], InOutBuf::from(buf), &tag)
            .map_err(|_| Error::DecryptionFailed)
    }

    /// Decrypt encrypted chunk `index` (ciphertext and tag) and append its plaintext to `out`.
    ///
    /// `is_final` says whether this is the last chunk of the message: a final chunk MUST be shorter
    /// than [`ENCRYPTED_CHUNK_SIZE`] and a non-final one MUST be exactly that long. On failure,
    /// nothing is appended.
    pub fn open_chunk(
        &self,
        index: u64,
        chunk: &[u8],
        is_final: bool,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        check_chunk_len(chunk.len(), is_final)?;
        let (ct, tag) = chunk.split_at(chunk.len() - TAG_SIZE);
        let start = out.len();
        out.extend_from_slice(ct);
        match self.open_in_place(index, &mut out[start..], tag) {
            Ok(()) => Ok(()),
            Err(e) => {
                out[start..].zeroize();
                out.truncate(start);
                Err(e)
            }
        }
    }
}

/// A final chunk MUST be shorter than [`ENCRYPTED_CHUNK_SIZE`] (and hold at least a tag); any other
/// chunk MUST be exactly that long.
fn check_chunk_len(len: usize, is_final: bool) -> Result<()> {
    let valid = if is_final {
        (TAG_SIZE..ENCRYPTED_CHUNK_SIZE).contains(&len)
    } else {
        len == ENCRYPTED_CHUNK_SIZE
    };
    match (valid, len < ENCRYPTED_CHUNK_SIZE) {
        (true, _) => Ok(()),
        (false, true) => Err(Error::Truncated),
        (false, false) => Err(Error::Malformed),
    }
}

/// Streaming Cobblestone-256 encryption with bounded memory (one chunk of buffer).
#[derive(Debug)]
pub struct Encryptor {
    cipher: ChunkCipher,
    index: u64,
    pending: Zeroizing<Vec<u8>>,
}

impl Encryptor {
    /// Start a message: draws a random salt and returns the encryptor and the 56-byte header, which
    /// MUST be written before the chunks.
    pub fn new(input_key: &InputKey, context: &[u8]) -> (Self, [u8; HEADER_SIZE]) {
        let mut salt = [0u8; SALT_SIZE];
        fill_random(&mut salt);
        Self::with_salt(input_key, context, salt)
    }

    /// Start a message with a caller-chosen salt.
    ///
    /// Only for reproducing test vectors: a salt MUST NOT repeat under one input key, and only
    /// [`Encryptor::new`] guarantees that.
    pub fn with_salt(
        input_key: &InputKey,
        context: &[u8],
        salt: [u8; SALT_SIZE],
    ) -> (Self, [u8; HEADER_SIZE]) {
        let (cipher, commitment) = derive(input_key, &salt, context);
        let mut header = [0u8; HEADER_SIZE];
        header[..SALT_SIZE].copy_from_slice(&salt);
        header[SALT_SIZE..].copy_from_slice(&commitment);
        let encryptor = Encryptor {
            cipher,
            index: 0,
            pending: Zeroizing::new(Vec::with_capacity(CHUNK_SIZE)),
        };
        (encryptor, header)
    }

    /// Go on sealing a message whose first `next_index` chunks (all full) were sealed earlier
    /// under `header`, which is checked against the key and context first. For uploads that arrive
    /// over several requests: the caller MUST keep each chunk index's plaintext the same if it
    /// seals that chunk again, since the nonce is the same.
    pub fn resume(
        input_key: &InputKey,
        context: &[u8],
        header: &[u8],
        next_index: u64,
    ) -> Result<Self> {
        if next_index >= MAX_CHUNKS {
            return Err(Error::Malformed);
        }
        Ok(Encryptor {
            cipher: ChunkCipher::from_header(input_key, context, header)?,
            index: next_index,
            pending: Zeroizing::new(Vec::with_capacity(CHUNK_SIZE)),
        })
    }

    /// Encrypt more plaintext, appending every completed chunk to `out`.
    ///
    /// A full 16 KiB chunk is flushed as soon as it is complete: the final chunk is always short.
    pub fn update(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<()> {
        while !input.is_empty() {
            if self.pending.is_empty() && input.len() >= CHUNK_SIZE {
                let (chunk, rest) = input.split_at(CHUNK_SIZE);
                seal_chunk(&self.cipher, &mut self.index, chunk, out)?;
                input = rest;
                continue;
            }
            let take = (CHUNK_SIZE - self.pending.len()).min(input.len());
            self.pending.extend_from_slice(&input[..take]);
            input = &input[take..];
            if self.pending.len() == CHUNK_SIZE {
                seal_chunk(&self.cipher, &mut self.index, &self.pending, out)?;
                // Zeroes the plaintext and keeps the allocation for the next chunk.
                self.pending.zeroize();
            }
        }
        Ok(())
    }

    /// Encrypt the short final chunk (possibly empty) and finish the message.
    pub fn finalize(mut self, out: &mut Vec<u8>) -> Result<()> {
        seal_chunk(&self.cipher, &mut self.index, &self.pending, out)
    }
}

/// Encrypt one chunk of `plaintext` as chunk `*index`, append it and its tag to `out`, and advance
/// the counter.
fn seal_chunk(
    cipher: &ChunkCipher,
    index: &mut u64,
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<()> {
    let start = out.len();
    out.extend_from_slice(plaintext);
    let tag = cipher.seal_in_place(*index, &mut out[start..])?;
    out.extend_from_slice(&tag);
    *index += 1;
    Ok(())
}

#[derive(Debug)]
enum DecryptState {
    Header {
        input_key: Zeroizing<InputKey>,
        context: Vec<u8>,
        buf: Vec<u8>,
    },
    Body {
        // Boxed: the AES key schedule is large and the other states are small.
        cipher: Box<ChunkCipher>,
        index: u64,
        buf: Vec<u8>,
    },
    Failed(Error),
}

/// Streaming Cobblestone-256 decryption with bounded memory (one encrypted chunk of buffer).
///
/// Plaintext is appended to `out` one authenticated chunk at a time. The message is complete only
/// when [`Decryptor::finalize`] returns `Ok`. After any error every later call returns the same
/// error.
#[derive(Debug)]
pub struct Decryptor {
    state: DecryptState,
}

impl Decryptor {
    /// Start decrypting a message under `input_key` and `context`.
    pub fn new(input_key: &InputKey, context: &[u8]) -> Self {
        Decryptor {
            state: DecryptState::Header {
                input_key: Zeroizing::new(*input_key),
                context: context.to_vec(),
                buf: Vec::with_capacity(HEADER_SIZE),
            },
        }
    }

    /// Feed more ciphertext; append the plaintext of every chunk that is now complete to `out`.
    pub fn update(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let result = self.update_inner(input, out);
        if let Err(e) = result {
            self.state = DecryptState::Failed(e);
        }
        result
    }

    fn update_inner(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<()> {
        if let DecryptState::Failed(e) = self.state {
            return Err(e);
        }
        if let DecryptState::Header {
            input_key,
            context,
            buf,
        } = &mut self.state
        {
            let take = (HEADER_SIZE - buf.len()).min(input.len());
            buf.extend_from_slice(&input[..take]);
            input = &input[take..];
            if buf.len() < HEADER_SIZE {
                return Ok(());
            }
            let cipher = ChunkCipher::from_header(input_key, context, buf)?;
            self.state = DecryptState::Body {
                cipher: Box::new(cipher),
                index: 0,
                buf: Vec::with_capacity(ENCRYPTED_CHUNK_SIZE),
            };
        }
        if let DecryptState::Body { cipher, index, buf } = &mut self.state {
            // A chunk of exactly ENCRYPTED_CHUNK_SIZE bytes can never be final (the final chunk is
            // short), so it is decrypted as soon as it is complete.
            while !input.is_empty() {
                if buf.is_empty() && input.len() >= ENCRYPTED_CHUNK_SIZE {
                    let (chunk, rest) = input.split_at(ENCRYPTED_CHUNK_SIZE);
                    cipher.open_chunk(*index, chunk, false, out)?;
                    *index += 1;
                    input = rest;
                    continue;
                }
                let take = (ENCRYPTED_CHUNK_SIZE - buf.len()).min(input.len());
                buf.extend_from_slice(&input[..take]);
                input = &input[take..];
                if buf.len() == ENCRYPTED_CHUNK_SIZE {
                    cipher.open_chunk(*index, buf, false, out)?;
                    *index += 1;
                    buf.clear();
                }
            }
        }
        Ok(())
    }

    /// End of input: authenticate the short final chunk. Only an `Ok` here means the plaintext
    /// appended so far is the whole message.
    pub fn finalize(self, out: &mut Vec<u8>) -> Result<()> {
        match self.state {
            DecryptState::Failed(e) => Err(e),
            DecryptState::Header { .. } => Err(Error::Truncated),
            DecryptState::Body { cipher, index, buf } => {
                if buf.len() < TAG_SIZE {
                    return Err(Error::Truncated);
                }
                cipher.open_chunk(index, &buf, true, out)
            }
        }
    }
}

/// Random access to the chunks of a ciphertext whose total length is known (e.g. a stored blob or
/// an HTTP resource fetched by range).
#[derive(Debug)]
pub struct RandomAccess {
    cipher: ChunkCipher,
    chunks: u64,
    plaintext_len: u64,
}

impl RandomAccess {
    /// Check the header (first 56 bytes) and the total ciphertext length.
    pub fn new(
        input_key: &InputKey,
        context: &[u8],
        header: &[u8],
        ciphertext_len: u64,
    ) -> Result<Self> {
        let plaintext_len = plaintext_len(ciphertext_len)?;
        let cipher = ChunkCipher::from_header(input_key, context, header)?;
        Ok(RandomAccess {
            cipher,
            chunks: plaintext_len / CHUNK_SIZE as u64 + 1,
            plaintext_len,
        })
    }

    /// How many chunks the ciphertext has (at least one).
    pub fn chunk_count(&self) -> u64 {
        self.chunks
    }

    /// The plaintext length implied by the ciphertext length. Authenticated only once the final
    /// chunk has been opened.
    pub fn plaintext_len(&self) -> u64 {
        self.plaintext_len
    }

    /// The byte range of chunk `index` within the whole ciphertext (header included).
    pub fn chunk_range(&self, index: u64) -> Result<core::ops::Range<u64>> {
        if index >= self.chunks {
            return Err(Error::Malformed);
        }
        let start = HEADER_SIZE as u64 + index * ENCRYPTED_CHUNK_SIZE as u64;
        let len = if index + 1 == self.chunks {
            self.plaintext_len % CHUNK_SIZE as u64 + TAG_SIZE as u64
        } else {
            ENCRYPTED_CHUNK_SIZE as u64
        };
        Ok(start..start + len)
    }

    /// Decrypt chunk `index` (its bytes as given by [`RandomAccess::chunk_range`]) into `out`.
    pub fn open_chunk(&self, index: u64, chunk: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let range = self.chunk_range(index)?;
        if chunk.len() as u64 != range.end - range.start {
            return Err(Error::Malformed);
        }
        self.cipher
            .open_chunk(index, chunk, index + 1 == self.chunks, out)
    }

    /// For opening the chunks with a platform AES-256-GCM (WebCrypto in a browser) instead of this
    /// crate's: the derived AEAD key of this ciphertext. It is not the input key: it opens this one
    /// ciphertext (this salt and context) and nothing else. The format logic stays here: the
    /// commitment was checked by [`RandomAccess::new`], and [`RandomAccess::platform_nonce`]
    /// checks each chunk's position and length and gives its nonce.
    pub fn platform_key(&self) -> Zeroizing<[u8; KEY_LEN]> {
        self.cipher.key.clone()
    }

    /// The nonce under which chunk `index` (ciphertext and tag, `len` bytes) opens, after the same
    /// checks as [`RandomAccess::open_chunk`]: the index exists and the length is that chunk's. A
    /// caller opening chunks with [`RandomAccess::platform_key`] MUST use this for every chunk and
    /// MUST open the final chunk, or truncation goes unnoticed.
    pub fn platform_nonce(&self, index: u64, len: usize) -> Result<[u8; NONCE_SIZE]> {
        let range = self.chunk_range(index)?;
        if len as u64 != range.end - range.start {
            return Err(Error::Malformed);
        }
        check_chunk_len(len, index + 1 == self.chunks)?;
        self.cipher.nonce(index)
    }
}

/// Encrypt a whole message in one call (random salt).
pub fn seal(input_key: &InputKey, context: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    let (mut enc, header) = Encryptor::new(input_key, context);
    let capacity = usize::try_from(ciphertext_len(plaintext.len() as u64)).unwrap_or(0);
    let mut out = Vec::with_capacity(capacity);
    out.extend_from_slice(&header);
    enc.update(plaintext, &mut out)?;
    enc.finalize(&mut out)?;
    Ok(out)
}

/// Decrypt a whole message in one call. Nothing is returned unless every chunk authenticated and
/// the message is complete.
pub fn open(input_key: &InputKey, context: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>> {
    let expected = plaintext_len(ciphertext.len() as u64)?;
    let mut dec = Decryptor::new(input_key, context);
    let mut out = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
    let result = dec
        .update(ciphertext, &mut out)
        .and_then(|()| dec.finalize(&mut out));
    match result {
        Ok(()) => Ok(out),
        Err(e) => {
            out.zeroize();
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: InputKey = [7u8; KEY_LEN];

    #[test]
    fn ciphertext_and_plaintext_lengths_agree_around_chunk_boundaries() {
        for len in [0u64, 1, 16383, 16384, 16385, 32768, 100_000] {
            assert_eq!(plaintext_len(ciphertext_len(len)).unwrap(), len, "{len}");
        }
    }

    #[test]
    fn lengths_that_end_on_a_chunk_boundary_are_truncated() {
        assert_eq!(plaintext_len(55), Err(Error::Truncated));
        assert_eq!(plaintext_len(56), Err(Error::Truncated));
        assert_eq!(plaintext_len(56 + 15), Err(Error::Truncated));
        assert_eq!(
            plaintext_len(56 + ENCRYPTED_CHUNK_SIZE as u64),
            Err(Error::Truncated)
        );
        assert_eq!(plaintext_len(56 + 16), Ok(0));
    }

    #[test]
    fn nonce_xors_the_counter_into_the_low_bytes() {
        let (enc, _) = Encryptor::with_salt(&KEY, b"", [0; SALT_SIZE]);
        let base = enc.cipher.nonce(0).unwrap();
        let n = enc.cipher.nonce(0x01_0203_0405).unwrap();
        assert_eq!(&n[..7], &base[..7]);
        assert_eq!(n[7] ^ base[7], 0x01);
        assert_eq!(n[11] ^ base[11], 0x05);
        assert_eq!(enc.cipher.nonce(MAX_CHUNKS), Err(Error::Malformed));
    }

    #[test]
    fn streaming_in_odd_pieces_matches_one_shot() {
        let msg: Vec<u8> = (0..50_000u32).map(|i| i as u8).collect();
        let ct = seal(&KEY, b"ctx", &msg).unwrap();
        for piece in [1usize, 7, 16400, 16401, 40_000] {
            let mut dec = Decryptor::new(&KEY, b"ctx");
            let mut out = Vec::new();
            for part in ct.chunks(piece) {
                dec.update(part, &mut out).unwrap();
            }
            dec.finalize(&mut out).unwrap();
            assert_eq!(out, msg, "piece size {piece}");
        }
    }

    #[test]
    fn decryptor_keeps_failing_after_an_error() {
        let mut ct = seal(&KEY, b"", &[1u8; 40_000]).unwrap();
        ct[HEADER_SIZE + 3] ^= 1;
        let mut dec = Decryptor::new(&KEY, b"");
        let mut out = Vec::new();
        assert_eq!(dec.update(&ct, &mut out), Err(Error::DecryptionFailed));
        assert!(out.is_empty());
        assert_eq!(dec.update(&[], &mut out), Err(Error::DecryptionFailed));
        assert_eq!(dec.finalize(&mut out), Err(Error::DecryptionFailed));
    }

    #[test]
    fn a_platform_aead_with_the_exported_key_and_nonces_opens_every_chunk() {
        use aes_gcm::aead::Aead;
        let msg: Vec<u8> = (0..(2 * CHUNK_SIZE + 100) as u32)
            .map(|i| (i * 7) as u8)
            .collect();
        let ct = seal(&KEY, b"p", &msg).unwrap();
        let ra = RandomAccess::new(&KEY, b"p", &ct[..HEADER_SIZE], ct.len() as u64).unwrap();
        let key = ra.platform_key();
        assert_ne!(*key, KEY, "the derived key, never the input key");
        let platform = Aes256Gcm::new_from_slice(&key[..]).unwrap();
        let mut opened = Vec::new();
        for k in 0..ra.chunk_count() {
            let r = ra.chunk_range(k).unwrap();
            let chunk = &ct[r.start as usize..r.end as usize];
            let nonce = ra.platform_nonce(k, chunk.len()).unwrap();
            opened.extend(platform.decrypt(&Nonce::from(nonce), chunk).unwrap());
        }
        assert_eq!(opened, msg);
    }

    #[test]
    fn platform_nonces_are_given_only_for_chunks_of_the_right_place_and_length() {
        let ct = seal(&KEY, b"p", &[3u8; CHUNK_SIZE + 10]).unwrap();
        let ra = RandomAccess::new(&KEY, b"p", &ct[..HEADER_SIZE], ct.len() as u64).unwrap();
        assert!(ra.platform_nonce(0, ENCRYPTED_CHUNK_SIZE).is_ok());
        assert!(ra.platform_nonce(1, 10 + TAG_SIZE).is_ok());
        // A full-length chunk presented as the final one, a short one as a middle one, a cut final
        // chunk, and a chunk past the end.
        assert_eq!(
            ra.platform_nonce(1, ENCRYPTED_CHUNK_SIZE),
            Err(Error::Malformed)
        );
        assert_eq!(ra.platform_nonce(0, 10 + TAG_SIZE), Err(Error::Malformed));
        assert_eq!(ra.platform_nonce(1, 9 + TAG_SIZE), Err(Error::Malformed));
        assert_eq!(ra.platform_nonce(2, TAG_SIZE), Err(Error::Malformed));
        assert_ne!(
            ra.platform_nonce(0, ENCRYPTED_CHUNK_SIZE),
            ra.platform_nonce(1, 10 + TAG_SIZE)
        );
    }

    #[test]
    fn random_access_opens_any_chunk_alone() {
        let msg: Vec<u8> = (0..40_000u32).map(|i| (i * 31) as u8).collect();
        let ct = seal(&KEY, b"x", &msg).unwrap();
        let ra = RandomAccess::new(&KEY, b"x", &ct[..HEADER_SIZE], ct.len() as u64).unwrap();
        assert_eq!(ra.chunk_count(), 3);
        for k in (0..3).rev() {
            let r = ra.chunk_range(k).unwrap();
            let mut out = Vec::new();
            ra.open_chunk(k, &ct[r.start as usize..r.end as usize], &mut out)
                .unwrap();
            let start = k as usize * CHUNK_SIZE;
            assert_eq!(out, &msg[start..(start + CHUNK_SIZE).min(msg.len())]);
        }
        // Chunk 0's bytes presented as chunk 1 fail.
        let r0 = ra.chunk_range(0).unwrap();
        let mut out = Vec::new();
        assert_eq!(
            ra.open_chunk(1, &ct[r0.start as usize..r0.end as usize], &mut out),
            Err(Error::DecryptionFailed)
        );
    }
}
