//! Any bytes as a key release: refused unless genuine, never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sealpost_envelope::{MessageId, RecipientKeyPair, ReleaseBinding};

fuzz_target!(|data: &[u8]| {
    let pair = RecipientKeyPair::from_secret_bytes(&[9; 32]).expect("valid secret");
    let id = MessageId::parse("fuzz").expect("valid id");
    let binding = ReleaseBinding { message_id: &id, recipient: "r@example.net", session: b"s" };
    let _ = pair.open_release(data, &binding);
});
