//! The patterns the OpenAPI document states (`sealpost_api::rules`) agree with the validators the
//! server refuses by. Free texts and names agree both ways on any string: what the pattern
//! matches, the validator takes, and what it refuses, the pattern does not match (so a client that
//! checks by the document is never refused for a field's form, and never sends what the server
//! would refuse). Structured values (addresses, domains, networks…) agree one way: every string
//! the pattern makes is taken (the server also takes a few spellings the pattern leaves out, such
//! as surrounding spaces or a trailing dot, and normalises them).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRng, TestRunner};
use regex::Regex;
use sealpost_api::rules;

use crate::domain::address::{Domain, EmailAddress};
use crate::domain::branding::{check_language_tag, check_url, decode_image, parse_color};
use crate::domain::composed::{check_attachment, check_subject, requested_content_id};
use crate::domain::mail_rules::{check_reject_reason, is_header_name};
use crate::domain::networks::Network;
use crate::domain::validation::{check_name, check_text};
use crate::services::dkim::check_selector;
use crate::services::key_policies::check_name as check_policy_name;
use crate::services::tracking::parse_head;

const CASES: u32 = 1000;

/// The same strings on every run (a failure names the one that broke the agreement).
fn runner() -> TestRunner {
    let config = Config::with_cases(CASES);
    let rng = TestRng::deterministic_rng(config.rng_algorithm);
    TestRunner::new_with_rng(config, rng)
}

fn anchored(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"))
}

/// The pattern without its anchors, for generating strings it matches (and, as every address
/// schema says with `not`, without two dots in a row).
fn generator(pattern: &str) -> BoxedStrategy<String> {
    let bare = pattern
        .strip_prefix('^')
        .and_then(|p| p.strip_suffix('$'))
        .unwrap_or(pattern);
    let addresses = pattern.contains('@');
    proptest::string::string_regex(bare)
        .unwrap_or_else(|e| panic!("{pattern}: {e}"))
        .prop_filter("no two dots in a row", move |s| {
            !addresses || !s.contains("..")
        })
        .boxed()
}

/// Strings of every kind: any characters, and a bias to the ones rules are about (controls,
/// spaces of every sort, ASCII punctuation).
fn any_text() -> BoxedStrategy<String> {
    let special = prop::sample::select(vec![
        '\0', '\t', '\n', '\u{b}', '\r', '\u{1f}', ' ', '\u{7f}', '\u{85}', '\u{9f}', '\u{a0}',
        '\u{2028}', '\u{3000}', '\u{feff}', '-', '.', '/', ':', '@', 'a', 'Z', '0', 'é',
    ]);
    prop_oneof![
        any::<String>(),
        prop::collection::vec(prop_oneof![special, any::<char>()], 0..12)
            .prop_map(|c| c.into_iter().collect()),
    ]
    .boxed()
}

/// Both ways: the validator takes exactly the strings the pattern matches (up to `max` chars).
fn agree_both_ways(pattern: &str, max: usize, takes: impl Fn(&str) -> bool) {
    let re = anchored(pattern);
    let mut runner = runner();
    // Any text; strings the pattern makes; and those with one character more somewhere, which is
    // how a value that nearly fits goes wrong.
    let near = (generator(pattern), any_text(), any::<prop::sample::Index>()).prop_map(
        |(s, extra, at)| {
            let chars: Vec<char> = s.chars().collect();
            let at = at.index(chars.len() + 1);
            let extra: String = extra.chars().take(1).collect();
            chars[..at].iter().collect::<String>()
                + &extra
                + &chars[at..].iter().collect::<String>()
        },
    );
    let strings = prop_oneof![any_text(), generator(pattern), near];
    runner
        .run(&strings, |s| {
            let by_pattern = re.is_match(&s) && s.chars().count() <= max;
            prop_assert_eq!(takes(&s), by_pattern, "{:?} against {}", s, pattern);
            Ok(())
        })
        .unwrap();
}

/// One way: every string the pattern makes (up to `max` chars) the validator takes.
fn pattern_is_taken(pattern: &str, max: usize, takes: impl Fn(&str) -> bool) {
    let mut runner = runner();
    runner
        .run(&generator(pattern), |s| {
            if s.chars().count() <= max {
                prop_assert!(takes(&s), "{:?} matches {} but is refused", s, pattern);
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn names_and_texts() {
    agree_both_ways(rules::NAME, 64, |s| check_name("f", s, 64).is_ok());
    agree_both_ways(rules::TEXT, 64, |s| check_text("f", s, 64).is_ok());
    agree_both_ways(rules::ONE_LINE, rules::SUBJECT_MAX, |s| {
        check_subject(s).is_ok()
    });
    agree_both_ways(rules::ONE_LINE_NAME, rules::ATTACHMENT_NAME_MAX, |s| {
        check_attachment("", s, "text/plain", None).is_ok()
    });
    agree_both_ways(rules::NOT_BLANK, usize::MAX, |s| !s.trim().is_empty());
    agree_both_ways(rules::NOT_BLANK, usize::MAX, |s| {
        crate::domain::mail_rules::check_words("w", &[s.to_owned()]).is_ok()
    });
    agree_both_ways(rules::REJECT_REASON, rules::REJECT_REASON_MAX, |s| {
        check_reject_reason(s).is_ok()
    });
}

#[test]
fn mime_fields() {
    agree_both_ways(rules::CONTENT_TYPE, rules::MIME_TOKEN_MAX, |s| {
        check_attachment("", "a", s, None).is_ok()
    });
    agree_both_ways(rules::CONTENT_ID, rules::MIME_TOKEN_MAX, |s| {
        requested_content_id("f", Some(s)).is_ok()
    });
    agree_both_ways(rules::HEADER_NAME, usize::MAX, is_header_name);
}

#[test]
fn identifiers() {
    agree_both_ways(rules::DKIM_SELECTOR, usize::MAX, |s| {
        // The server reads a selector in lower case.
        check_selector(&s.to_ascii_lowercase()).is_ok() && !s.is_empty()
    });
    agree_both_ways(rules::POLICY_NAME, usize::MAX, |s| {
        check_policy_name(s).is_ok()
    });
    agree_both_ways(rules::LANGUAGE_TAG, rules::LANGUAGE_TAG_MAX, |s| {
        check_language_tag("f", s).is_ok()
    });
}

#[test]
fn addresses_domains_and_networks() {
    pattern_is_taken(rules::DOMAIN, rules::DOMAIN_MAX, |s| {
        Domain::parse("f", s).is_ok()
    });
    pattern_is_taken(rules::EMAIL, rules::EMAIL_MAX, |s| {
        EmailAddress::parse("f", s).is_ok()
    });
    pattern_is_taken(rules::EMAIL_OR_DOMAIN, rules::DOMAIN_MAX, |s| {
        if s.contains('@') {
            EmailAddress::parse("f", s).is_ok()
        } else {
            Domain::parse("f", s).is_ok()
        }
    });
    pattern_is_taken(rules::NETWORK, usize::MAX, |s| {
        Network::parse("f", s).is_ok_and(|n| !n.is_broad())
    });
}

#[test]
fn web_and_colours() {
    agree_both_ways(rules::WEB_URL, rules::WEB_URL_MAX, |s| check_url(s).is_ok());
    pattern_is_taken(&rules::colour_pattern(), usize::MAX, |s| {
        parse_color(s).is_some()
    });
    pattern_is_taken(rules::PORTAL_LOG_HEAD, usize::MAX, |s| {
        parse_head(s).is_some()
    });
}

#[test]
fn encoded_bytes() {
    let mut runner = runner();
    runner
        .run(&generator(rules::BASE64), |s| {
            use base64::Engine as _;
            prop_assert!(
                base64::engine::general_purpose::STANDARD.decode(&s).is_ok(),
                "{:?}",
                s
            );
            Ok(())
        })
        .unwrap();
    pattern_is_taken(rules::IMAGE_BASE64, rules::IMAGE_BASE64_MAX, |s| {
        decode_image(s).is_ok()
    });
}
