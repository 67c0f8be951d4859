//! Any bytes from a load balancer: a PROXY header is read or refused, never a panic, and reading
//! never takes more than the header from the stream.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sealpost::smtp::proxy;

fuzz_target!(|data: &[u8]| {
    let _ = proxy::v1(data);
    let _ = proxy::v2(data);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let mut input = data;
        if proxy::read_header(&mut input).await.is_ok() {
            assert!(input.len() < data.len());
        }
    });
});
