//! Round trips at every size that matters: 0, around the 16 KiB chunk boundary, and several MiB;
//! through the one-shot, streaming and random-access paths. Property tests run natively; the
//! browser runs the fixed size sweep.

use sealpost_envelope::chunked::CHUNK_SIZE;
use sealpost_envelope::{
    MessageId, MessageKey, Part, PartOpener, PartReader, PartSealer, open_part, seal_part,
};

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Seal with the streaming sealer in `piece`-sized writes, then open three ways.
fn round_trip(len: usize, piece: usize) {
    let key = MessageKey::generate();
    let id = MessageId::parse("rt").unwrap();
    let part = Part::Attachment(2);
    let plain = data(len, len as u8);

    let mut sealer = PartSealer::new(&key, &id, part);
    let mut sealed = Vec::new();
    for p in plain.chunks(piece.max(1)) {
        sealer.update(p, &mut sealed).unwrap();
    }
    sealer.finalize(&mut sealed).unwrap();
    // Same length as the one-shot path (the bytes differ: each seal draws a fresh salt).
    assert_eq!(
        seal_part(&key, &id, part, &plain).unwrap().len(),
        sealed.len()
    );

    assert!(
        open_part(&key, &id, part, &sealed).unwrap() == plain,
        "one-shot, len {len}"
    );

    let mut opener = PartOpener::new(&key, &id, part);
    let mut streamed = Vec::new();
    for p in sealed.chunks(piece.max(1) + 7) {
        opener.update(p, &mut streamed).unwrap();
    }
    opener.finalize(&mut streamed).unwrap();
    assert!(streamed == plain, "streaming, len {len}");

    let reader = PartReader::new(
        &key,
        &id,
        part,
        &sealed[..PartReader::PREFIX_LEN],
        sealed.len() as u64,
    )
    .unwrap();
    assert_eq!(reader.plaintext_len(), len as u64);
    let mut random = Vec::new();
    for k in 0..reader.chunk_count() {
        let r = reader.chunk_range(k).unwrap();
        reader
            .open_chunk(k, &sealed[r.start as usize..r.end as usize], &mut random)
            .unwrap();
    }
    assert!(random == plain, "random access, len {len}");
}

both! {
    fn round_trips_at_the_sizes_that_matter() {
        for len in [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE, 3 * 1024 * 1024 + 5] {
            round_trip(len, 4096);
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn any_size_and_write_pattern_round_trips(len in 0usize..(5 * CHUNK_SIZE), piece in 1usize..40_000) {
            round_trip(len, piece);
        }

        #[test]
        fn any_single_byte_change_is_refused(len in 0usize..(3 * CHUNK_SIZE), at in any::<prop::sample::Index>(), bit in 0u8..8) {
            let key = MessageKey::generate();
            let id = MessageId::parse("p").unwrap();
            let mut sealed = seal_part(&key, &id, Part::Body(0), &data(len, 1)).unwrap();
            let i = at.index(sealed.len());
            sealed[i] ^= 1 << bit;
            prop_assert!(open_part(&key, &id, Part::Body(0), &sealed).is_err());
        }

        #[test]
        fn any_truncation_is_refused(len in 0usize..(3 * CHUNK_SIZE), cut in any::<prop::sample::Index>()) {
            let key = MessageKey::generate();
            let id = MessageId::parse("p").unwrap();
            let sealed = seal_part(&key, &id, Part::Body(0), &data(len, 2)).unwrap();
            let keep = cut.index(sealed.len());
            prop_assert!(open_part(&key, &id, Part::Body(0), &sealed[..keep]).is_err());
        }
    }

    #[test]
    fn several_mib_round_trip() {
        round_trip(9 * 1024 * 1024 + 3, 1 << 20);
    }
}
