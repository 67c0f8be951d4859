//! Any bytes as a sealed part: one-shot and streaming openers must agree and never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sealpost_envelope::{MessageId, MessageKey, Part, PartOpener, open_part};

fuzz_target!(|data: &[u8]| {
    let key = MessageKey::from_bytes([7; 32]);
    let id = MessageId::parse("fuzz").expect("valid id");
    let whole = open_part(&key, &id, Part::Body(0), data);
    let mut opener = PartOpener::new(&key, &id, Part::Body(0));
    let mut out = Vec::new();
    let mut streamed = Ok(());
    for piece in data.chunks(1000) {
        streamed = opener.update(piece, &mut out);
        if streamed.is_err() {
            break;
        }
    }
    let streamed = streamed.and_then(|()| opener.finalize(&mut out));
    assert_eq!(whole.is_ok(), streamed.is_ok());
});
