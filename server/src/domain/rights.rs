//! Usage rights and rights templates (RMS templates): what a recipient may do with a message.
//!
//! The server enforces `view`, `reply`, `reply_all`, `forward` and `download`; `print` and `copy`
//! can only be enforced by the portal's interface, and the documentation says so.

use std::collections::BTreeSet;

use sealpost_api::admin::{ForwardLimits, RightsTemplateView};

use super::ValidationError;
use super::validation::{check_name, check_text};

pub use sealpost_api::Right;

/// A set of rights.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rights(BTreeSet<Right>);

impl Rights {
    /// A set from rights.
    pub fn of(rights: &[Right]) -> Rights {
        Rights(rights.iter().copied().collect())
    }

    /// Whether `right` is granted.
    pub fn allows(&self, right: Right) -> bool {
        self.0.contains(&right)
    }

    /// Wire names, in display order.
    pub fn names(&self) -> Vec<String> {
        self.0.iter().map(|r| r.as_str().to_owned()).collect()
    }

    /// Stored form: names joined by commas.
    pub fn to_stored(&self) -> String {
        self.names().join(",")
    }

    /// Parse a list of names, refusing unknown names, duplicates and a set without `view`.
    pub fn parse(field: &str, names: &[String]) -> Result<Rights, ValidationError> {
        let mut set = BTreeSet::new();
        for name in names {
            let right = Right::parse(name).ok_or_else(|| {
                ValidationError::new(
                    field,
                    "unknown_right",
                    format!(
                        "{name:?} is not a right; use view, reply, reply_all, forward, print, copy or download."
                    ),
                )
            })?;
            if !set.insert(right) {
                return Err(ValidationError::new(
                    field,
                    "duplicate_right",
                    format!("{name} is listed twice."),
                ));
            }
        }
        if !set.contains(&Right::View) {
            return Err(ValidationError::new(
                field,
                "view_required",
                "A rights template must include view; without it nobody could read the message.",
            ));
        }
        Ok(Rights(set))
    }

    /// Parse the stored form (written by [`Rights::to_stored`]).
    pub fn from_stored(stored: &str) -> Rights {
        Rights(stored.split(',').filter_map(Right::parse).collect())
    }
}

/// The built-in template that grants every right.
pub const ENCRYPT: &str = "Encrypt";
/// The built-in template that allows reading and replying only.
pub const DO_NOT_FORWARD: &str = "Do Not Forward";

/// Longest template name.
pub const MAX_NAME_LEN: usize = sealpost_api::rules::RIGHTS_NAME_MAX;
/// Longest description.
pub const MAX_DESCRIPTION_LEN: usize = sealpost_api::rules::RIGHTS_DESCRIPTION_MAX;

/// A validated rights template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RightsTemplate {
    /// Name, unique within the tenant (built-ins included).
    pub name: String,
    /// What it is for.
    pub description: String,
    /// The rights it grants.
    pub rights: Rights,
    /// Built-ins cannot be changed or removed.
    pub built_in: bool,
    /// How far recipients may forward.
    pub forward_limits: ForwardLimits,
}

/// Check forward limits are within their ranges.
fn check_forward_limits(l: &ForwardLimits) -> Result<(), ValidationError> {
    for (field, value, max) in [
        (
            "forward_limits.recipients_per_forward",
            l.recipients_per_forward,
            500,
        ),
        (
            "forward_limits.recipients_per_day",
            l.recipients_per_day,
            5000,
        ),
        ("forward_limits.depth", l.depth, 10),
    ] {
        if !(1..=max).contains(&value) {
            return Err(ValidationError::new(
                field,
                "out_of_range",
                format!("{field} must be from 1 to {max}."),
            ));
        }
    }
    Ok(())
}

impl RightsTemplate {
    /// The built-in templates every tenant has.
    pub fn built_ins() -> [RightsTemplate; 2] {
        [
            RightsTemplate {
                name: ENCRYPT.to_owned(),
                description: "Encrypted; recipients may read, reply, reply all, forward, print, copy and download attachments.".to_owned(),
                rights: Rights::of(&Right::ALL),
                built_in: true,
                forward_limits: ForwardLimits::default(),
            },
            RightsTemplate {
                name: DO_NOT_FORWARD.to_owned(),
                description: "Encrypted; recipients may read and reply but not forward, print, copy or download attachments.".to_owned(),
                rights: Rights::of(&[Right::View, Right::Reply, Right::ReplyAll]),
                built_in: true,
                forward_limits: ForwardLimits::default(),
            },
        ]
    }

    /// The built-in template of this name (names compare without regard to case).
    pub fn built_in(name: &str) -> Option<RightsTemplate> {
        RightsTemplate::built_ins()
            .into_iter()
            .find(|t| t.name.eq_ignore_ascii_case(name))
    }

    /// Validate a tenant-defined template.
    pub fn from_view(view: &RightsTemplateView) -> Result<RightsTemplate, ValidationError> {
        check_name("name", &view.name, MAX_NAME_LEN)?;
        check_text("description", &view.description, MAX_DESCRIPTION_LEN)?;
        let rights = Rights::parse("rights", &view.rights)?;
        check_forward_limits(&view.forward_limits)?;
        Ok(RightsTemplate {
            name: view.name.trim().to_owned(),
            description: view.description.clone(),
            rights,
            built_in: false,
            forward_limits: view.forward_limits,
        })
    }

    /// The wire form.
    pub fn to_view(&self) -> RightsTemplateView {
        RightsTemplateView {
            name: self.name.clone(),
            description: self.description.clone(),
            rights: self.rights.names(),
            built_in: self.built_in,
            forward_limits: self.forward_limits,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(name: &str, rights: &[&str]) -> RightsTemplateView {
        RightsTemplateView {
            name: name.into(),
            description: String::new(),
            rights: rights.iter().map(|s| (*s).to_owned()).collect(),
            built_in: false,
            forward_limits: ForwardLimits::default(),
        }
    }

    #[test]
    fn encrypt_grants_everything_and_do_not_forward_only_view_and_reply() {
        let encrypt = RightsTemplate::built_in("encrypt").unwrap();
        assert!(Right::ALL.iter().all(|r| encrypt.rights.allows(*r)));
        let dnf = RightsTemplate::built_in(DO_NOT_FORWARD).unwrap();
        assert_eq!(dnf.rights.names(), ["view", "reply", "reply_all"]);
        for denied in [Right::Forward, Right::Print, Right::Copy, Right::Download] {
            assert!(!dnf.rights.allows(denied), "{denied}");
        }
    }

    #[test]
    fn tenant_templates_need_view_and_known_unique_rights() {
        let ok = RightsTemplate::from_view(&view("Read only", &["view", "print"])).unwrap();
        assert_eq!(Rights::from_stored(&ok.rights.to_stored()), ok.rights);
        let code = |v| RightsTemplate::from_view(&v).unwrap_err().code;
        assert_eq!(code(view("x", &["reply"])), "view_required");
        assert_eq!(code(view("x", &["view", "fly"])), "unknown_right");
        assert_eq!(code(view("x", &["view", "view"])), "duplicate_right");
        assert_eq!(code(view("", &["view"])), "required");
        assert_eq!(code(view(&"n".repeat(65), &["view"])), "too_long");
        let mut wide = view("x", &["view", "forward"]);
        wide.forward_limits.recipients_per_forward = 501;
        assert_eq!(code(wide), "out_of_range");
        let mut none = view("x", &["view", "forward"]);
        none.forward_limits.depth = 0;
        assert_eq!(code(none), "out_of_range");
    }
}
