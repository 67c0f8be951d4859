//! Any bytes as a wrapped message key: refused unless genuine, never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sealpost_envelope::{MessageId, TenantDataKey, WrapBinding, unwrap_message_key};

fuzz_target!(|data: &[u8]| {
    let dk = TenantDataKey::from_bytes([3; 32]);
    let id = MessageId::parse("fuzz").expect("valid id");
    let binding = WrapBinding { tenant_id: "t", message_id: &id, key_version: 1 };
    let _ = unwrap_message_key(&dk, data, &binding);
});
