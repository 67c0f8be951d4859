//! How branding templates and mail flow rules are kept in the database: JSON documents of the
//! store's own record types, not of the API's wire types. The wire may grow, rename or reshape a
//! field; a stored row keeps the shape it was written in, and only the conversions here change.
//!
//! The records were introduced with the same JSON shape the wire types had then, so rows written
//! before them read unchanged (the tests below hold both to that).

use std::collections::BTreeMap;

use sealpost_api::admin::{BrandingTemplateView, LocalizedText};
use sealpost_api::mail_flow::{MailFlowRule, RuleAction, RuleCondition, RuleTest};
use serde::{Deserialize, Serialize};

use super::{StoreError, StoreResult};

/// A record as its JSON column, or why it cannot be written.
pub fn to_json<T: Serialize>(record: &T) -> StoreResult<String> {
    serde_json::to_string(record).map_err(|e| StoreError::Database(e.to_string()))
}

/// A JSON column as its record, or why the stored document is unreadable.
pub fn from_json<'a, T: Deserialize<'a>>(json: &'a str) -> StoreResult<T> {
    serde_json::from_str(json).map_err(|e| StoreError::Database(e.to_string()))
}

fn yes() -> bool {
    true
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A text with optional translations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TextRecord {
    /// Only the default text.
    Plain(String),
    /// A default text and translations by language tag.
    Translated {
        text: String,
        #[serde(default)]
        translations: BTreeMap<String, String>,
    },
}

impl From<&LocalizedText> for TextRecord {
    fn from(t: &LocalizedText) -> Self {
        match t {
            LocalizedText::Plain(s) => TextRecord::Plain(s.clone()),
            LocalizedText::Translated { text, translations } => TextRecord::Translated {
                text: text.clone(),
                translations: translations.clone(),
            },
        }
    }
}

impl From<TextRecord> for LocalizedText {
    fn from(t: TextRecord) -> Self {
        match t {
            TextRecord::Plain(s) => LocalizedText::Plain(s),
            TextRecord::Translated { text, translations } => {
                LocalizedText::Translated { text, translations }
            }
        }
    }
}

/// A branding template as stored (`branding_templates.body`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrandingRecord {
    pub identity: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduction_text: Option<TextRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_button_text: Option<TextRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_text: Option<TextRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disclaimer_text: Option<TextRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portal_text: Option<TextRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_base64: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy_statement_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otp_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub social_id_sign_in: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_mail_expiry_in_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

impl From<&BrandingTemplateView> for BrandingRecord {
    fn from(v: &BrandingTemplateView) -> Self {
        BrandingRecord {
            identity: v.identity.clone(),
            introduction_text: v.introduction_text.as_ref().map(Into::into),
            read_button_text: v.read_button_text.as_ref().map(Into::into),
            email_text: v.email_text.as_ref().map(Into::into),
            disclaimer_text: v.disclaimer_text.as_ref().map(Into::into),
            portal_text: v.portal_text.as_ref().map(Into::into),
            background_color: v.background_color.clone(),
            image_base64: v.image_base64.clone(),
            privacy_statement_url: v.privacy_statement_url.clone(),
            otp_enabled: v.otp_enabled,
            social_id_sign_in: v.social_id_sign_in,
            external_mail_expiry_in_days: v.external_mail_expiry_in_days,
            language: v.language.clone(),
        }
    }
}

impl From<BrandingRecord> for BrandingTemplateView {
    fn from(r: BrandingRecord) -> Self {
        BrandingTemplateView {
            identity: r.identity,
            introduction_text: r.introduction_text.map(Into::into),
            read_button_text: r.read_button_text.map(Into::into),
            email_text: r.email_text.map(Into::into),
            disclaimer_text: r.disclaimer_text.map(Into::into),
            portal_text: r.portal_text.map(Into::into),
            background_color: r.background_color,
            image_base64: r.image_base64,
            privacy_statement_url: r.privacy_statement_url,
            otp_enabled: r.otp_enabled,
            social_id_sign_in: r.social_id_sign_in,
            external_mail_expiry_in_days: r.external_mail_expiry_in_days,
            language: r.language,
        }
    }
}

/// A mail flow rule as stored (`mail_flow_rules.body`); its place is the row's `position`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRecord {
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub stop_processing: bool,
    #[serde(default)]
    pub conditions: Vec<ConditionRecord>,
    pub action: ActionRecord,
}

/// One condition of a stored rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionRecord {
    #[serde(flatten)]
    pub test: TestRecord,
    #[serde(default, skip_serializing_if = "is_false")]
    pub negate: bool,
}

/// What a stored condition looks at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TestRecord {
    RecipientInOrganisation,
    RecipientIn { values: Vec<String> },
    SenderIn { values: Vec<String> },
    SubjectOrBodyWords { words: Vec<String> },
    SubjectWords { words: Vec<String> },
    SubjectTag { tag: String },
    Header { name: String, value: String },
    HasAttachments,
    SizeOver { bytes: u64 },
}

/// What a stored rule does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ActionRecord {
    Seal {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rights_template: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        branding_template: Option<String>,
        #[serde(default, skip_serializing_if = "is_false")]
        remove_subject_tag: bool,
    },
    SendUnencrypted,
    Reject {
        reason: String,
    },
}

impl From<&RuleTest> for TestRecord {
    fn from(t: &RuleTest) -> Self {
        match t.clone() {
            RuleTest::RecipientInOrganisation => TestRecord::RecipientInOrganisation,
            RuleTest::RecipientIn { values } => TestRecord::RecipientIn { values },
            RuleTest::SenderIn { values } => TestRecord::SenderIn { values },
            RuleTest::SubjectOrBodyWords { words } => TestRecord::SubjectOrBodyWords { words },
            RuleTest::SubjectWords { words } => TestRecord::SubjectWords { words },
            RuleTest::SubjectTag { tag } => TestRecord::SubjectTag { tag },
            RuleTest::Header { name, value } => TestRecord::Header { name, value },
            RuleTest::HasAttachments => TestRecord::HasAttachments,
            RuleTest::SizeOver { bytes } => TestRecord::SizeOver { bytes },
        }
    }
}

impl From<TestRecord> for RuleTest {
    fn from(t: TestRecord) -> Self {
        match t {
            TestRecord::RecipientInOrganisation => RuleTest::RecipientInOrganisation,
            TestRecord::RecipientIn { values } => RuleTest::RecipientIn { values },
            TestRecord::SenderIn { values } => RuleTest::SenderIn { values },
            TestRecord::SubjectOrBodyWords { words } => RuleTest::SubjectOrBodyWords { words },
            TestRecord::SubjectWords { words } => RuleTest::SubjectWords { words },
            TestRecord::SubjectTag { tag } => RuleTest::SubjectTag { tag },
            TestRecord::Header { name, value } => RuleTest::Header { name, value },
            TestRecord::HasAttachments => RuleTest::HasAttachments,
            TestRecord::SizeOver { bytes } => RuleTest::SizeOver { bytes },
        }
    }
}

impl From<&RuleAction> for ActionRecord {
    fn from(a: &RuleAction) -> Self {
        match a.clone() {
            RuleAction::Seal {
                rights_template,
                branding_template,
                remove_subject_tag,
            } => ActionRecord::Seal {
                rights_template,
                branding_template,
                remove_subject_tag,
            },
            RuleAction::SendUnencrypted => ActionRecord::SendUnencrypted,
            RuleAction::Reject { reason } => ActionRecord::Reject { reason },
        }
    }
}

impl From<ActionRecord> for RuleAction {
    fn from(a: ActionRecord) -> Self {
        match a {
            ActionRecord::Seal {
                rights_template,
                branding_template,
                remove_subject_tag,
            } => RuleAction::Seal {
                rights_template,
                branding_template,
                remove_subject_tag,
            },
            ActionRecord::SendUnencrypted => RuleAction::SendUnencrypted,
            ActionRecord::Reject { reason } => RuleAction::Reject { reason },
        }
    }
}

impl From<&MailFlowRule> for RuleRecord {
    /// The rule without its priority, which the row's position holds.
    fn from(r: &MailFlowRule) -> Self {
        RuleRecord {
            name: r.name.clone(),
            enabled: r.enabled,
            stop_processing: r.stop_processing,
            conditions: r
                .conditions
                .iter()
                .map(|c| ConditionRecord {
                    test: (&c.test).into(),
                    negate: c.negate,
                })
                .collect(),
            action: (&r.action).into(),
        }
    }
}

impl RuleRecord {
    /// The rule as the API shows it, at `priority`.
    pub fn into_rule(self, priority: u32) -> MailFlowRule {
        MailFlowRule {
            name: self.name,
            priority: Some(priority),
            enabled: self.enabled,
            stop_processing: self.stop_processing,
            conditions: self
                .conditions
                .into_iter()
                .map(|c| RuleCondition {
                    test: c.test.into(),
                    negate: c.negate,
                })
                .collect(),
            action: self.action.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn branding() -> BrandingTemplateView {
        BrandingTemplateView {
            identity: "Finance".into(),
            introduction_text: Some(LocalizedText::Plain("Hello".into())),
            portal_text: Some(LocalizedText::Translated {
                text: "Sign in".into(),
                translations: [("sv".to_owned(), "Logga in".to_owned())].into(),
            }),
            background_color: Some("#003366".into()),
            otp_enabled: Some(true),
            external_mail_expiry_in_days: Some(30),
            language: Some("sv".into()),
            ..BrandingTemplateView::default()
        }
    }

    fn rules() -> Vec<MailFlowRule> {
        let all_tests = [
            RuleTest::RecipientInOrganisation,
            RuleTest::RecipientIn {
                values: vec!["example.com".into()],
            },
            RuleTest::SenderIn {
                values: vec!["a@contoso.example".into()],
            },
            RuleTest::SubjectOrBodyWords {
                words: vec!["secret".into()],
            },
            RuleTest::SubjectWords {
                words: vec!["q4".into()],
            },
            RuleTest::SubjectTag {
                tag: "[secure]".into(),
            },
            RuleTest::Header {
                name: "X-Sealpost-Encrypt".into(),
                value: "yes".into(),
            },
            RuleTest::HasAttachments,
            RuleTest::SizeOver { bytes: 1000 },
        ];
        let conditions: Vec<RuleCondition> = all_tests
            .into_iter()
            .enumerate()
            .map(|(i, test)| RuleCondition {
                test,
                negate: i % 2 == 1,
            })
            .collect();
        [
            RuleAction::Seal {
                rights_template: Some("Do Not Forward".into()),
                branding_template: None,
                remove_subject_tag: true,
            },
            RuleAction::SendUnencrypted,
            RuleAction::Reject {
                reason: "No.".into(),
            },
        ]
        .into_iter()
        .map(|action| MailFlowRule {
            name: "Outside".into(),
            priority: None,
            enabled: false,
            stop_processing: true,
            conditions: conditions.clone(),
            action,
        })
        .collect()
    }

    #[test]
    fn records_have_the_json_shape_rows_were_written_in_and_round_trip() {
        let view = branding();
        let stored = to_json(&BrandingRecord::from(&view)).unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&stored).unwrap(),
            serde_json::to_value(&view).unwrap()
        );
        let back: BrandingTemplateView = from_json::<BrandingRecord>(&stored).unwrap().into();
        assert_eq!(back, view);

        for rule in rules() {
            let stored = to_json(&RuleRecord::from(&rule)).unwrap();
            // A row written as the wire type (before the records) reads the same.
            let old_row = serde_json::to_string(&rule).unwrap();
            for row in [&stored, &old_row] {
                let read = from_json::<RuleRecord>(row).unwrap().into_rule(3);
                assert_eq!(
                    read,
                    MailFlowRule {
                        priority: Some(3),
                        ..rule.clone()
                    }
                );
            }
        }
    }
}
