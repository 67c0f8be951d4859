//! Any bytes as a message relayed whole: read into a composed message or refused, never a panic;
//! the rules' view of it and the RFC 5322 check too.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sealpost::mail::inbound;
use sealpost::services::mail_flow;

fuzz_target!(|data: &[u8]| {
    if let Ok(composed) = inbound::read(data) {
        let _ = composed.check_content(u64::MAX);
        let _ = composed.recipients();
    }
    let _ = inbound::parse(data, 1 << 20);
    let _ = mail_flow::check_rfc5322(data);
    if let Some(facts) = mail_flow::facts(data, None) {
        assert_eq!(facts.size, data.len() as u64);
    }
});
