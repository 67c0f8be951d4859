//! Any bytes as a stored part read by random access: never panics, ranges stay in bounds.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sealpost_envelope::{MessageId, MessageKey, Part, PartReader};

fuzz_target!(|data: &[u8]| {
    let key = MessageKey::from_bytes([7; 32]);
    let id = MessageId::parse("fuzz").expect("valid id");
    let prefix = &data[..data.len().min(PartReader::PREFIX_LEN)];
    if let Ok(reader) = PartReader::new(&key, &id, Part::Attachment(0), prefix, data.len() as u64) {
        for k in 0..reader.chunk_count().min(64) {
            let r = reader.chunk_range(k).expect("in range");
            assert!(r.end as usize <= data.len());
            let mut out = Vec::new();
            let _ = reader.open_chunk(k, &data[r.start as usize..r.end as usize], &mut out);
        }
    }
});
