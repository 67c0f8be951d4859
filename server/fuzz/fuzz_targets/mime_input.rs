//! Any bytes as a message relayed whole: read into a composed message or refused, never a panic;
//! the rules' view of it and the RFC 5322 check too. A panic inside mail-parser is contained by
//! `sealpost::mail::parse` (0.11 trips a debug assertion on some multipart, found here), so only
//! that one is let through to be caught; any other panic is a finding.
#![no_main]
use std::sync::Once;

use libfuzzer_sys::fuzz_target;
use sealpost::mail::inbound;
use sealpost::services::mail_flow;

static CONTAINED: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    CONTAINED.call_once(|| {
        let finding = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !info
                .location()
                .is_some_and(|l| l.file().contains("/mail-parser-"))
            {
                finding(info);
            }
        }));
    });
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
