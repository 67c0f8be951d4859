//! Any bytes as an opened manifest: parses or is refused, never panics; what parses re-encodes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sealpost_envelope::Manifest;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Manifest::from_bytes(data) {
        let again = Manifest::from_bytes(&m.to_bytes().expect("valid manifest encodes")).expect("re-parses");
        assert_eq!(m, again);
    }
});
