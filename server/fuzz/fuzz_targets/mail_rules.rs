//! Any rules (JSON, as an admin would send them) run over any message: validated or refused,
//! routed without a panic; removing tags never grows a subject.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sealpost::domain::address::{Domain, EmailAddress};
use sealpost::domain::mail_rules::{remove_tags, route, tokens, validate};
use sealpost::services::mail_flow;
use sealpost_api::mail_flow::MailFlowRule;

fuzz_target!(|data: &[u8]| {
    // Rules, a NUL, then the message.
    let (rules, raw) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let Ok(views) = serde_json::from_slice::<Vec<MailFlowRule>>(rules) else {
        return;
    };
    let valid: Vec<&MailFlowRule> = views.iter().filter(|v| validate(v).is_ok()).collect();
    let rules: Vec<_> = valid.iter().filter_map(|v| validate(v).ok()).collect();
    let Some(facts) = mail_flow::facts(raw, None) else {
        return;
    };
    let _ = tokens(&facts.subject);
    let recipients = [
        EmailAddress::parse("to", "bob@fabrikam.example").expect("valid"),
        EmailAddress::parse("to", "alex@contoso.example").expect("valid"),
    ];
    let domains = [Domain::parse("domain", "contoso.example").expect("valid")];
    let routed = route(&rules, &facts, &recipients, &domains);
    assert_eq!(routed.len(), recipients.len());
    // Tags as a rule that removes them passes them: from rules that validated, lower-cased.
    let tags: Vec<String> = valid
        .iter()
        .flat_map(|v| v.conditions.iter())
        .filter_map(|c| match &c.test {
            sealpost_api::mail_flow::RuleTest::SubjectTag { tag } => {
                Some(tag.trim().to_lowercase())
            }
            _ => None,
        })
        .collect();
    assert!(remove_tags(&facts.subject, &tags).len() <= facts.subject.len());
});
