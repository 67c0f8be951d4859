//! Mail flow rules: validating a rule as an admin wrote it, and deciding, for each recipient of a
//! message, which rules match and what happens.
//!
//! The semantics, chosen to match Exchange transport rules:
//! - rules run in priority order, separately for each envelope recipient (so one message can be
//!   sealed for a partner and relayed unchanged to a colleague);
//! - every enabled rule whose conditions all hold acts, and a later rule's action replaces an
//!   earlier one's, unless a rule that acted asked to stop processing;
//! - a rejection ends processing at once (nothing after it can undo it);
//! - no matching rule: the message goes on unchanged.
//!
//! Words match whole words without regard to case: `secret` matches "Top SECRET!" but not
//! "secretary"; a phrase matches its words in sequence. Domains match exactly, as everywhere in
//! Sealpost (a subdomain is a separate domain).

use sealpost_api::mail_flow::{MailFlowRule, RuleAction, RuleTest};
use sealpost_api::rules;

use super::ValidationError;
use super::address::{Domain, EmailAddress};
use super::validation::check_name;

/// Longest rule name.
pub const MAX_NAME_LEN: usize = rules::RULE_NAME_MAX;
/// Most conditions in one rule.
pub const MAX_CONDITIONS: usize = rules::RULE_CONDITIONS_MAX;
/// Most values (addresses, domains, words) in one condition.
pub const MAX_VALUES: usize = rules::RULE_VALUES_MAX;
/// Most rules per tenant.
pub const MAX_RULES: usize = 100;

/// Addresses and domains to compare a sender or recipient with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressList {
    addresses: Vec<EmailAddress>,
    domains: Vec<Domain>,
}

impl AddressList {
    fn parse(field: &str, values: &[String]) -> Result<AddressList, ValidationError> {
        if values.is_empty() {
            return Err(ValidationError::new(
                field,
                "required",
                "List at least one address or domain.",
            ));
        }
        let mut list = AddressList {
            addresses: Vec::new(),
            domains: Vec::new(),
        };
        for (i, v) in values.iter().enumerate() {
            let f = format!("{field}[{i}]");
            if v.contains('@') {
                list.addresses.push(EmailAddress::parse(&f, v)?);
            } else {
                list.domains.push(Domain::parse(&f, v)?);
            }
        }
        Ok(list)
    }

    fn contains(&self, a: &EmailAddress) -> bool {
        self.addresses.contains(a) || a.is_in(&self.domains)
    }
}

/// A word or phrase to look for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phrase {
    /// Its words, lower-cased, found as a run of whole words (`Confidential`, `do not forward`).
    Words(Vec<String>),
    /// One with no letters or digits (`€€€`, `§`): found as it is written, in any case.
    Literal(String),
}

/// What a validated condition tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Test {
    /// Recipient in one of the tenant's domains.
    RecipientInOrganisation,
    /// Recipient in the list.
    RecipientIn(AddressList),
    /// Sender in the list.
    SenderIn(AddressList),
    /// Any phrase in the subject or, unless `subject_only`, the body.
    Words {
        phrases: Vec<Phrase>,
        /// Only the subject.
        subject_only: bool,
    },
    /// The subject contains the tag (lower-cased).
    SubjectTag(String),
    /// A header (name lower-cased) has the value (trimmed, lower-cased).
    Header(String, String),
    /// At least one attachment.
    HasAttachments,
    /// Larger than this.
    SizeOver(u64),
}

/// A validated condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub test: Test,
    /// Inverted.
    pub negate: bool,
}

/// What happens to a recipient.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// Sealed: a notice if external, the original if internal.
    Seal {
        /// Rights template (`None`: Encrypt).
        rights_template: Option<String>,
        /// Branding template (`None`: the default).
        branding_template: Option<String>,
        /// Tags to remove from the sealed subject.
        remove_tags: Vec<String>,
    },
    /// The original, unchanged.
    SendUnencrypted,
    /// Refused, with this sentence.
    Reject {
        /// The sentence.
        reason: String,
    },
}

impl Outcome {
    /// The action's wire name.
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Seal { .. } => "seal",
            Outcome::SendUnencrypted => "send_unencrypted",
            Outcome::Reject { .. } => "reject",
        }
    }
}

/// A validated rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub name: String,
    /// Runs at all.
    pub enabled: bool,
    /// Ends processing when it acts.
    pub stop_processing: bool,
    /// All must hold.
    pub conditions: Vec<Condition>,
    /// What it does.
    pub outcome: Outcome,
}

/// Check a condition's words and phrases (the agreement tests call it).
#[cfg(test)]
pub(crate) fn check_words(field: &str, words: &[String]) -> Result<(), ValidationError> {
    phrases(field, words).map(|_| ())
}

fn phrases(field: &str, words: &[String]) -> Result<Vec<Phrase>, ValidationError> {
    if words.is_empty() || words.len() > MAX_VALUES {
        return Err(ValidationError::new(
            field,
            "invalid_words",
            format!("List between 1 and {MAX_VALUES} words or phrases."),
        ));
    }
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            // Any text but white space alone (rules saved before this took any text with a
            // letter or digit, so a stricter rule would stop them sealing).
            if w.trim().is_empty() {
                return Err(ValidationError::new(
                    format!("{field}[{i}]"),
                    "required",
                    "A word or phrase must not be empty.",
                ));
            }
            let words = tokens(w);
            Ok(if words.is_empty() {
                Phrase::Literal(w.trim().to_lowercase())
            } else {
                Phrase::Words(words)
            })
        })
        .collect()
}

fn test(field: &str, t: &RuleTest) -> Result<Test, ValidationError> {
    Ok(match t {
        RuleTest::RecipientInOrganisation => Test::RecipientInOrganisation,
        RuleTest::RecipientIn { values } | RuleTest::SenderIn { values }
            if values.len() > MAX_VALUES =>
        {
            return Err(ValidationError::new(
                format!("{field}.values"),
                "too_many_values",
                format!("A condition may list at most {MAX_VALUES} addresses or domains."),
            ));
        }
        RuleTest::RecipientIn { values } => {
            Test::RecipientIn(AddressList::parse(&format!("{field}.values"), values)?)
        }
        RuleTest::SenderIn { values } => {
            Test::SenderIn(AddressList::parse(&format!("{field}.values"), values)?)
        }
        RuleTest::SubjectOrBodyWords { words } => Test::Words {
            phrases: phrases(&format!("{field}.words"), words)?,
            subject_only: false,
        },
        RuleTest::SubjectWords { words } => Test::Words {
            phrases: phrases(&format!("{field}.words"), words)?,
            subject_only: true,
        },
        RuleTest::SubjectTag { tag } => {
            let f = format!("{field}.tag");
            check_name(&f, tag, rules::SUBJECT_TAG_MAX)?;
            Test::SubjectTag(tag.trim().to_lowercase())
        }
        RuleTest::Header { name, value } => {
            let f = format!("{field}.name");
            if !is_header_name(name) {
                return Err(ValidationError::new(
                    f,
                    "invalid_header_name",
                    format!("{name:?} is not a header name like X-Sealpost-Encrypt."),
                ));
            }
            check_name(&format!("{field}.value"), value, rules::HEADER_VALUE_MAX)?;
            Test::Header(name.to_ascii_lowercase(), value.trim().to_lowercase())
        }
        RuleTest::HasAttachments => Test::HasAttachments,
        RuleTest::SizeOver { bytes } => Test::SizeOver(*bytes),
    })
}

/// The sentence a rejecting rule answers with: it goes into an SMTP reply, so one line of
/// printable ASCII, not blank.
pub(crate) fn check_reject_reason(reason: &str) -> Result<(), ValidationError> {
    check_name("action.reason", reason, rules::REJECT_REASON_MAX)?;
    if !reason.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
        return Err(ValidationError::new(
            "action.reason",
            "invalid_characters",
            "The reason is sent in an SMTP reply: one line of plain ASCII text.",
        ));
    }
    Ok(())
}

/// A mail header's name: 1–76 printable ASCII characters but `:` (RFC 5322 `ftext`, on one line).
pub(crate) fn is_header_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 76 && name.bytes().all(|b| b.is_ascii_graphic() && b != b':')
}

/// Check a rule as written, without its templates (the caller checks they exist).
pub fn validate(view: &MailFlowRule) -> Result<Rule, ValidationError> {
    check_name("name", &view.name, MAX_NAME_LEN)?;
    if view.conditions.len() > MAX_CONDITIONS {
        return Err(ValidationError::new(
            "conditions",
            "too_many_conditions",
            format!("A rule may have at most {MAX_CONDITIONS} conditions."),
        ));
    }
    if view.priority == Some(0) {
        return Err(ValidationError::new(
            "priority",
            "invalid_priority",
            "Priorities start at 1 (the first rule).",
        ));
    }
    let conditions = view
        .conditions
        .iter()
        .enumerate()
        .map(|(i, c)| {
            Ok(Condition {
                test: test(&format!("conditions[{i}]"), &c.test)?,
                negate: c.negate,
            })
        })
        .collect::<Result<Vec<_>, ValidationError>>()?;
    let outcome = match &view.action {
        RuleAction::Seal {
            rights_template,
            branding_template,
            remove_subject_tag,
        } => {
            let remove_tags: Vec<String> = if *remove_subject_tag {
                conditions
                    .iter()
                    .filter_map(|c| match &c.test {
                        Test::SubjectTag(t) if !c.negate => Some(t.clone()),
                        _ => None,
                    })
                    .collect()
            } else {
                Vec::new()
            };
            if *remove_subject_tag && remove_tags.is_empty() {
                return Err(ValidationError::new(
                    "action.remove_subject_tag",
                    "no_subject_tag",
                    "Only a rule with a subject tag condition can remove the tag.",
                ));
            }
            Outcome::Seal {
                rights_template: rights_template.clone(),
                branding_template: branding_template.clone(),
                remove_tags,
            }
        }
        RuleAction::SendUnencrypted => Outcome::SendUnencrypted,
        RuleAction::Reject { reason } => {
            check_reject_reason(reason)?;
            Outcome::Reject {
                reason: reason.trim().to_owned(),
            }
        }
    };
    Ok(Rule {
        name: view.name.trim().to_owned(),
        enabled: view.enabled,
        stop_processing: view.stop_processing,
        conditions,
        outcome,
    })
}

/// Lower-case words: runs of letters and digits.
pub fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn has_words(words: &[String], phrase: &[String]) -> bool {
    !phrase.is_empty() && words.windows(phrase.len()).any(|w| w == phrase)
}

/// What the rules look at in a message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MessageFacts {
    /// The `From` header's address (else the envelope sender).
    pub sender: Option<EmailAddress>,
    /// The subject, decoded.
    pub subject: String,
    /// The body as text (HTML reduced to its text).
    pub body: String,
    /// Every header, name lower-cased, value decoded.
    pub headers: Vec<(String, String)>,
    /// Whether any part is an attachment.
    pub has_attachments: bool,
    /// Size as received, in bytes.
    pub size: u64,
}

/// The facts, with the words of subject and body split once.
struct Prepared<'a> {
    facts: &'a MessageFacts,
    subject_words: Vec<String>,
    body_words: Vec<String>,
    subject_lower: String,
    /// The body in lower case, made only if a literal phrase asks for it.
    body_lower: std::cell::OnceCell<String>,
}

impl Prepared<'_> {
    fn holds(&self, test: &Test, recipient: &EmailAddress, domains: &[Domain]) -> bool {
        match test {
            Test::RecipientInOrganisation => recipient.is_in(domains),
            Test::RecipientIn(list) => list.contains(recipient),
            Test::SenderIn(list) => self.facts.sender.as_ref().is_some_and(|s| list.contains(s)),
            Test::Words {
                phrases,
                subject_only,
            } => phrases.iter().any(|p| match p {
                Phrase::Words(words) => {
                    has_words(&self.subject_words, words)
                        || (!subject_only && has_words(&self.body_words, words))
                }
                Phrase::Literal(text) => {
                    self.subject_lower.contains(text.as_str())
                        || (!subject_only
                            && self
                                .body_lower
                                .get_or_init(|| self.facts.body.to_lowercase())
                                .contains(text.as_str()))
                }
            }),
            Test::SubjectTag(tag) => self.subject_lower.contains(tag.as_str()),
            Test::Header(name, value) => self
                .facts
                .headers
                .iter()
                .any(|(n, v)| n == name && v.trim().to_lowercase() == *value),
            Test::HasAttachments => self.facts.has_attachments,
            Test::SizeOver(n) => self.facts.size > *n,
        }
    }
}

/// What happens to one recipient, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routing {
    /// The recipient.
    pub address: EmailAddress,
    /// In one of the tenant's domains.
    pub inside: bool,
    /// The rule whose action applies (`None`: no rule matched).
    pub rule: Option<String>,
    /// Every rule that matched, in order.
    pub matched: Vec<String>,
    /// The action.
    pub outcome: Outcome,
}

/// Run `rules` (in priority order) for each recipient.
pub fn route(
    rules: &[Rule],
    facts: &MessageFacts,
    recipients: &[EmailAddress],
    domains: &[Domain],
) -> Vec<Routing> {
    let prepared = Prepared {
        facts,
        subject_words: tokens(&facts.subject),
        body_words: tokens(&facts.body),
        subject_lower: facts.subject.to_lowercase(),
        body_lower: std::cell::OnceCell::new(),
    };
    recipients
        .iter()
        .map(|r| {
            let mut routing = Routing {
                address: r.clone(),
                inside: r.is_in(domains),
                rule: None,
                matched: Vec::new(),
                outcome: Outcome::SendUnencrypted,
            };
            for rule in rules.iter().filter(|rule| rule.enabled) {
                let holds = rule
                    .conditions
                    .iter()
                    .all(|c| prepared.holds(&c.test, r, domains) != c.negate);
                if !holds {
                    continue;
                }
                routing.matched.push(rule.name.clone());
                routing.rule = Some(rule.name.clone());
                routing.outcome = rule.outcome.clone();
                if rule.stop_processing || matches!(rule.outcome, Outcome::Reject { .. }) {
                    break;
                }
            }
            routing
        })
        .collect()
}

/// `subject` without any of `tags` (compared without regard to case), spaces tidied.
pub fn remove_tags(subject: &str, tags: &[String]) -> String {
    let mut out = subject.to_owned();
    for tag in tags {
        loop {
            let lower = out.to_lowercase();
            // Lower-casing can change byte lengths outside ASCII; only cut where it did not.
            let Some(at) = lower.find(tag.as_str()) else {
                break;
            };
            if lower.len() != out.len() || !out.is_char_boundary(at) {
                break;
            }
            out.replace_range(at..at + tag.len(), " ");
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use sealpost_api::mail_flow::RuleCondition;

    use super::*;

    fn a(s: &str) -> EmailAddress {
        EmailAddress::parse("a", s).unwrap()
    }

    fn domains() -> Vec<Domain> {
        vec![Domain::parse("d", "contoso.example").unwrap()]
    }

    fn cond(test: RuleTest, negate: bool) -> RuleCondition {
        RuleCondition { test, negate }
    }

    fn rule(name: &str, conditions: Vec<RuleCondition>, action: RuleAction) -> MailFlowRule {
        MailFlowRule {
            name: name.into(),
            priority: None,
            enabled: true,
            stop_processing: false,
            conditions,
            action,
        }
    }

    fn seal() -> RuleAction {
        RuleAction::Seal {
            rights_template: None,
            branding_template: None,
            remove_subject_tag: false,
        }
    }

    fn facts(subject: &str, body: &str) -> MessageFacts {
        MessageFacts {
            sender: Some(a("alex@contoso.example")),
            subject: subject.into(),
            body: body.into(),
            headers: vec![("x-sealpost-encrypt".into(), " Yes ".into())],
            has_attachments: false,
            size: 1000,
        }
    }

    fn run(rules: &[MailFlowRule], f: &MessageFacts, to: &[&str]) -> Vec<Routing> {
        let rules: Vec<Rule> = rules.iter().map(|r| validate(r).unwrap()).collect();
        let to: Vec<EmailAddress> = to.iter().map(|s| a(s)).collect();
        route(&rules, f, &to, &domains())
    }

    fn outside() -> RuleCondition {
        cond(RuleTest::RecipientInOrganisation, true)
    }

    #[test]
    fn no_rule_sends_unchanged() {
        let r = run(&[], &facts("hi", ""), &["bob@fabrikam.example"]);
        assert_eq!(r[0].outcome, Outcome::SendUnencrypted);
        assert_eq!(r[0].rule, None);
        assert!(!r[0].inside);
    }

    #[test]
    fn recipient_conditions_are_asked_of_each_recipient() {
        let rules = [rule("outside", vec![outside()], seal())];
        let r = run(
            &rules,
            &facts("hi", ""),
            &["bob@fabrikam.example", "kim@contoso.example"],
        );
        assert_eq!(r[0].outcome.name(), "seal");
        assert_eq!(r[0].rule.as_deref(), Some("outside"));
        assert_eq!(r[1].outcome, Outcome::SendUnencrypted);
        assert!(r[1].inside);
    }

    #[test]
    fn a_later_matching_rule_replaces_an_earlier_action_unless_it_stopped_processing() {
        let mut first = rule("seal all", vec![], seal());
        let second = rule(
            "partners plain",
            vec![cond(
                RuleTest::RecipientIn {
                    values: vec!["fabrikam.example".into()],
                },
                false,
            )],
            RuleAction::SendUnencrypted,
        );
        let to = ["bob@fabrikam.example", "eve@other.example"];
        let r = run(&[first.clone(), second.clone()], &facts("x", ""), &to);
        assert_eq!(r[0].outcome, Outcome::SendUnencrypted);
        assert_eq!(r[0].matched, vec!["seal all", "partners plain"]);
        assert_eq!(r[1].outcome.name(), "seal");
        first.stop_processing = true;
        let r = run(&[first, second], &facts("x", ""), &to);
        assert_eq!(r[0].outcome.name(), "seal");
        assert_eq!(r[0].matched, vec!["seal all"]);
    }

    #[test]
    fn a_rejection_is_final() {
        let rules = [
            rule(
                "no secrets",
                vec![cond(
                    RuleTest::SubjectWords {
                        words: vec!["secret".into()],
                    },
                    false,
                )],
                RuleAction::Reject {
                    reason: "Do not mail secrets".into(),
                },
            ),
            rule("plain", vec![], RuleAction::SendUnencrypted),
        ];
        let r = run(&rules, &facts("Top SECRET!", ""), &["bob@fabrikam.example"]);
        assert_eq!(r[0].outcome.name(), "reject");
        assert_eq!(r[0].matched, vec!["no secrets"]);
    }

    #[test]
    fn disabled_rules_do_not_run() {
        let mut r0 = rule("off", vec![], seal());
        r0.enabled = false;
        let r = run(&[r0], &facts("x", ""), &["bob@fabrikam.example"]);
        assert_eq!(r[0].outcome, Outcome::SendUnencrypted);
    }

    #[test]
    fn words_match_whole_words_and_phrases_without_regard_to_case() {
        let words = |w: &[&str]| {
            rule(
                "w",
                vec![cond(
                    RuleTest::SubjectOrBodyWords {
                        words: w.iter().map(|s| (*s).to_owned()).collect(),
                    },
                    false,
                )],
                seal(),
            )
        };
        let to = ["bob@fabrikam.example"];
        let sealed = |rules: &[MailFlowRule], f: &MessageFacts| {
            run(rules, f, &to)[0].outcome.name() == "seal"
        };
        assert!(sealed(&[words(&["secret"])], &facts("Top SECRET!", "")));
        assert!(sealed(&[words(&["secret"])], &facts("", "it is secret.")));
        assert!(!sealed(&[words(&["secret"])], &facts("secretary", "")));
        assert!(sealed(
            &[words(&["top secret"])],
            &facts("", "this is TOP\n secret")
        ));
        assert!(!sealed(
            &[words(&["top secret"])],
            &facts("", "top, not secret")
        ));
        assert!(sealed(&[words(&["lön"])], &facts("Din LÖN", "")));
        // Without letters or digits a phrase is found as it is written.
        assert!(sealed(&[words(&["€€€"])], &facts("", "price: €€€ only")));
        assert!(sealed(&[words(&["--"])], &facts("a -- b", "")));
        assert!(!sealed(&[words(&["€€€"])], &facts("€ and €", "")));
        // Any text but blank is a phrase, as rules saved before could hold (a line break
        // included): such a rule still validates, and so still seals.
        assert!(sealed(
            &[words(&["Confidential\n"])],
            &facts("confidential", "")
        ));
        let subject_only = rule(
            "s",
            vec![cond(
                RuleTest::SubjectWords {
                    words: vec!["secret".into()],
                },
                false,
            )],
            seal(),
        );
        assert!(!sealed(&[subject_only], &facts("hello", "secret")));
    }

    #[test]
    fn every_other_test_and_its_negation() {
        let to = ["bob@fabrikam.example"];
        let check = |test: RuleTest, f: &MessageFacts, expect: bool| {
            for negate in [false, true] {
                let r = run(
                    &[rule("t", vec![cond(test.clone(), negate)], seal())],
                    f,
                    &to,
                );
                assert_eq!(
                    r[0].outcome.name() == "seal",
                    expect != negate,
                    "{test:?} negate={negate}"
                );
            }
        };
        let f = facts("Budget [Secure] 2027", "");
        check(
            RuleTest::SubjectTag {
                tag: "[secure]".into(),
            },
            &f,
            true,
        );
        check(
            RuleTest::SubjectTag {
                tag: "[private]".into(),
            },
            &f,
            false,
        );
        check(
            RuleTest::Header {
                name: "X-Sealpost-Encrypt".into(),
                value: "yes".into(),
            },
            &f,
            true,
        );
        check(
            RuleTest::Header {
                name: "X-Sealpost-Encrypt".into(),
                value: "no".into(),
            },
            &f,
            false,
        );
        check(RuleTest::HasAttachments, &f, false);
        let mut with = f.clone();
        with.has_attachments = true;
        check(RuleTest::HasAttachments, &with, true);
        check(RuleTest::SizeOver { bytes: 999 }, &f, true);
        check(RuleTest::SizeOver { bytes: 1000 }, &f, false);
        for (v, expect) in [
            ("alex@contoso.example", true),
            ("contoso.example", true),
            ("kim@contoso.example", false),
            ("sub.contoso.example", false),
        ] {
            check(
                RuleTest::SenderIn {
                    values: vec![v.into()],
                },
                &f,
                expect,
            );
        }
        check(
            RuleTest::RecipientIn {
                values: vec!["bob@fabrikam.example".into()],
            },
            &f,
            true,
        );
        check(RuleTest::RecipientInOrganisation, &f, false);
    }

    #[test]
    fn validation_refuses_what_cannot_work() {
        let bad = |r: MailFlowRule| validate(&r).unwrap_err().code;
        assert_eq!(bad(rule(" ", vec![], seal())), "required");
        assert_eq!(
            bad(rule(
                "x",
                vec![],
                RuleAction::Seal {
                    rights_template: None,
                    branding_template: None,
                    remove_subject_tag: true
                }
            )),
            "no_subject_tag"
        );
        assert_eq!(
            bad(rule(
                "x",
                vec![cond(
                    RuleTest::RecipientIn {
                        values: vec!["not a domain".into()]
                    },
                    false
                )],
                seal()
            )),
            "invalid_domain"
        );
        assert_eq!(
            bad(rule(
                "x",
                vec![cond(
                    RuleTest::SubjectWords {
                        words: vec!["  ".into()]
                    },
                    false
                )],
                seal()
            )),
            "required"
        );
        assert_eq!(
            bad(rule(
                "x",
                vec![cond(
                    RuleTest::Header {
                        name: "Bad Name:".into(),
                        value: "x".into()
                    },
                    false
                )],
                seal()
            )),
            "invalid_header_name"
        );
        assert_eq!(
            bad(rule(
                "x",
                vec![],
                RuleAction::Reject {
                    reason: "two\nlines".into()
                }
            )),
            "invalid_characters"
        );
        let mut p = rule("x", vec![], seal());
        p.priority = Some(0);
        assert_eq!(bad(p), "invalid_priority");
    }

    #[test]
    fn tags_are_removed_without_regard_to_case() {
        let tags = vec!["[secure]".to_owned()];
        assert_eq!(remove_tags("[SECURE] Budget 2027", &tags), "Budget 2027");
        assert_eq!(remove_tags("Budget [Secure]  2027", &tags), "Budget 2027");
        assert_eq!(remove_tags("Budget", &tags), "Budget");
    }
}
