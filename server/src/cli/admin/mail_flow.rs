//! `sealpost rules …`, `sealpost connector …` and `sealpost queue`: mail flow rules
//! (`New-TransportRule … -ApplyRightsProtectionTemplate …`), the inbound connector
//! (`New-InboundConnector -RemoteIPAddresses`) and the SMTP listener's queue.
//!
//! Conditions are written `--if KIND[=VALUE]` and negated with `--except-if`, as Exchange's
//! `-ExceptIf…` parameters: `sent-to-scope=inside|outside`, `sent-to=LIST`, `from=LIST`,
//! `words=LIST`, `subject-words=LIST`, `subject-tag=TAG`, `header=NAME:VALUE`, `has-attachment`,
//! `size-over=BYTES` (a LIST is comma-separated).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use sealpost_api::mail_flow::{
    InboundConnectorRequest, MailFlowRule, MailFlowRulesView, MailQueueView, RuleAction,
    RuleCondition, RuleTest, SimulationView, SmtpPasswordResponse,
};
use ureq::http::Method;

use super::client::{Body, Client, Failure, segment};
use super::{output, read_file, show};

/// `sealpost rules …`
#[derive(Debug, Subcommand)]
pub enum RulesAction {
    /// List the rules in priority order, or show one (Get-TransportRule).
    Get {
        /// A rule's name; all if absent.
        name: Option<String>,
    },
    /// Create a rule (New-TransportRule).
    New {
        /// Its name.
        name: String,
        #[command(flatten)]
        args: RuleArgs,
    },
    /// Change a rule: given conditions replace its conditions, a given action its action, and
    /// the other flags what they name (Set-TransportRule).
    Set {
        /// Its name.
        name: String,
        #[command(flatten)]
        args: RuleArgs,
    },
    /// Remove a rule (Remove-TransportRule).
    Remove {
        /// Its name.
        name: String,
    },
    /// Turn a rule on (Enable-TransportRule).
    Enable {
        /// Its name.
        name: String,
    },
    /// Turn a rule off (Disable-TransportRule).
    Disable {
        /// Its name.
        name: String,
    },
    /// What would happen to this message: the SMTP reply, and for each recipient the rule and
    /// the action. Nothing is changed or sent.
    Simulate {
        /// The message (RFC 5322, e.g. saved from a mail client as .eml).
        file: PathBuf,
        /// Envelope sender (default: the From header).
        #[arg(long)]
        mail_from: Option<String>,
        /// Envelope recipient; repeat (default: the To, Cc and Bcc headers).
        #[arg(long)]
        rcpt: Vec<String>,
    },
}

/// A rule's settings on the command line.
#[derive(Debug, Default, Args)]
pub struct RuleArgs {
    /// A condition that must hold, KIND[=VALUE]; repeat (all must hold).
    #[arg(long = "if", value_name = "KIND[=VALUE]")]
    conditions: Vec<String>,
    /// A condition that must not hold, KIND[=VALUE]; repeat.
    #[arg(long = "except-if", value_name = "KIND[=VALUE]")]
    exceptions: Vec<String>,
    /// Seal with this rights template (-ApplyRightsProtectionTemplate; default Encrypt).
    #[arg(long)]
    rights_template: Option<String>,
    /// Seal with this branding template (-ApplyRightsProtectionCustomizationTemplate).
    #[arg(long)]
    branding_template: Option<String>,
    /// Seal, with the default templates unless the two flags above say otherwise.
    #[arg(long, conflicts_with_all = ["unencrypted", "reject"])]
    seal: bool,
    /// Remove the rule's subject tags from the sealed message's subject.
    #[arg(long)]
    remove_subject_tag: bool,
    /// Send unencrypted, as it came (-RemoveOMEv2).
    #[arg(long, conflicts_with_all = ["rights_template", "branding_template", "reject"])]
    unencrypted: bool,
    /// Refuse the message with this sentence (-RejectMessageReasonText).
    #[arg(long, value_name = "TEXT", conflicts_with_all = ["rights_template", "branding_template"])]
    reject: Option<String>,
    /// Position, 1 first (default: last for a new rule, unchanged for `set`).
    #[arg(long)]
    priority: Option<u32>,
    /// No later rule runs when this one acts (-StopRuleProcessing).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    stop_processing: Option<bool>,
    /// Whether the rule runs (default true).
    #[arg(long, value_name = "BOOL")]
    enabled: Option<bool>,
}

/// `sealpost connector …`
#[derive(Debug, Subcommand)]
pub enum ConnectorAction {
    /// Show which clients may send through the SMTP listener (Get-InboundConnector).
    Get,
    /// Set the client addresses and networks allowed without signing in
    /// (Set-InboundConnector -RemoteIPAddresses); none given clears the list.
    Set {
        /// An address or network, e.g. 192.0.2.10 or 10.0.0.0/8; repeat.
        #[arg(long = "remote-address", value_name = "ADDRESS[/PREFIX]")]
        remote_addresses: Vec<String>,
    },
    /// Make a new SMTP AUTH password (shown once; replaces any earlier one).
    NewPassword,
    /// Remove the SMTP AUTH password.
    RemovePassword,
}

fn usage(text: impl Into<String>) -> Failure {
    Failure::Usage(text.into())
}

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// One `--if` or `--except-if`.
fn condition(spec: &str, except: bool) -> Result<RuleCondition, Failure> {
    let (kind, value) = match spec.split_once('=') {
        Some((k, v)) => (k.trim(), Some(v.trim())),
        None => (spec.trim(), None),
    };
    let need = |v: Option<&str>| {
        v.filter(|v| !v.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| usage(format!("--if {kind} needs a value: {kind}=…")))
    };
    let mut negate = except;
    let test = match kind {
        "sent-to-scope" => {
            match need(value)?.as_str() {
                "inside" => {}
                "outside" => negate = !negate,
                other => {
                    return Err(usage(format!(
                        "sent-to-scope is inside or outside, not {other:?}"
                    )));
                }
            }
            RuleTest::RecipientInOrganisation
        }
        "sent-to" => RuleTest::RecipientIn {
            values: list(&need(value)?),
        },
        "from" => RuleTest::SenderIn {
            values: list(&need(value)?),
        },
        "words" => RuleTest::SubjectOrBodyWords {
            words: list(&need(value)?),
        },
        "subject-words" => RuleTest::SubjectWords {
            words: list(&need(value)?),
        },
        "subject-tag" => RuleTest::SubjectTag { tag: need(value)? },
        "header" => {
            let v = need(value)?;
            let (name, value) = v.split_once(':').ok_or_else(|| {
                usage("header is header=NAME:VALUE, e.g. header=X-Sealpost-Encrypt:yes")
            })?;
            RuleTest::Header {
                name: name.trim().to_owned(),
                value: value.trim().to_owned(),
            }
        }
        "has-attachment" => RuleTest::HasAttachments,
        "size-over" => RuleTest::SizeOver {
            bytes: need(value)?
                .parse()
                .map_err(|_| usage("size-over is a number of bytes"))?,
        },
        other => {
            return Err(usage(format!(
                "unknown condition {other:?}; use sent-to-scope, sent-to, from, words, subject-words, subject-tag, header, has-attachment or size-over"
            )));
        }
    };
    Ok(RuleCondition { test, negate })
}

impl RuleArgs {
    fn conditions(&self) -> Result<Option<Vec<RuleCondition>>, Failure> {
        if self.conditions.is_empty() && self.exceptions.is_empty() {
            return Ok(None);
        }
        let mut out = Vec::new();
        for c in &self.conditions {
            out.push(condition(c, false)?);
        }
        for c in &self.exceptions {
            out.push(condition(c, true)?);
        }
        Ok(Some(out))
    }

    fn action(&self) -> Option<RuleAction> {
        if self.unencrypted {
            Some(RuleAction::SendUnencrypted)
        } else if let Some(reason) = &self.reject {
            Some(RuleAction::Reject {
                reason: reason.clone(),
            })
        } else if self.seal
            || self.rights_template.is_some()
            || self.branding_template.is_some()
            || self.remove_subject_tag
        {
            Some(RuleAction::Seal {
                rights_template: self.rights_template.clone(),
                branding_template: self.branding_template.clone(),
                remove_subject_tag: self.remove_subject_tag,
            })
        } else {
            None
        }
    }

    fn apply(&self, rule: &mut MailFlowRule) -> Result<(), Failure> {
        if let Some(c) = self.conditions()? {
            rule.conditions = c;
        }
        if let Some(a) = self.action() {
            rule.action = a;
        }
        rule.priority = self.priority;
        if let Some(s) = self.stop_processing {
            rule.stop_processing = s;
        }
        if let Some(e) = self.enabled {
            rule.enabled = e;
        }
        Ok(())
    }
}

fn rule_path(name: &str) -> String {
    format!("/mail-flow/rules/{}", segment(name))
}

fn get_rule(client: &Client, name: &str) -> Result<MailFlowRule, Failure> {
    client
        .call(Method::GET, &rule_path(name), Body::Empty)?
        .parse()
}

fn put_rule(client: &Client, json: bool, rule: &MailFlowRule) -> Result<String, Failure> {
    let answer = client.call(Method::PUT, &rule_path(&rule.name), Body::json(rule)?)?;
    output(&answer, json, show::rule)
}

/// Run `sealpost rules …`.
pub fn rules(client: &Client, json: bool, action: RulesAction) -> Result<String, Failure> {
    match action {
        RulesAction::Get { name: None } => {
            let answer = client.call(Method::GET, "/mail-flow/rules", Body::Empty)?;
            output(&answer, json, |v: &MailFlowRulesView| {
                if v.rules.is_empty() {
                    "No mail flow rules: every message goes on unchanged.\n".to_owned()
                } else {
                    v.rules
                        .iter()
                        .map(show::rule)
                        .collect::<Vec<_>>()
                        .join("\n")
                }
            })
        }
        RulesAction::Get { name: Some(name) } => {
            let answer = client.call(Method::GET, &rule_path(&name), Body::Empty)?;
            output(&answer, json, show::rule)
        }
        RulesAction::New { name, args } => {
            let action = args.action().ok_or_else(|| {
                usage("say what the rule does: --seal (or --rights-template/--branding-template), --unencrypted or --reject TEXT")
            })?;
            let mut rule = MailFlowRule {
                name,
                priority: None,
                enabled: true,
                stop_processing: false,
                conditions: Vec::new(),
                action,
            };
            args.apply(&mut rule)?;
            let answer = client.call(Method::POST, "/mail-flow/rules", Body::json(&rule)?)?;
            output(&answer, json, show::rule)
        }
        RulesAction::Set { name, args } => {
            let mut rule = get_rule(client, &name)?;
            args.apply(&mut rule)?;
            put_rule(client, json, &rule)
        }
        RulesAction::Enable { name } => {
            let mut rule = get_rule(client, &name)?;
            rule.enabled = true;
            rule.priority = None;
            put_rule(client, json, &rule)
        }
        RulesAction::Disable { name } => {
            let mut rule = get_rule(client, &name)?;
            rule.enabled = false;
            rule.priority = None;
            put_rule(client, json, &rule)
        }
        RulesAction::Remove { name } => {
            client.call(Method::DELETE, &rule_path(&name), Body::Empty)?;
            Ok(if json {
                "null\n".to_owned()
            } else {
                format!("Removed the rule {name:?}.\n")
            })
        }
        RulesAction::Simulate {
            file,
            mail_from,
            rcpt,
        } => {
            let raw = read_file(&file)?;
            let mut query = Vec::new();
            if let Some(f) = mail_from {
                query.push(format!("mail_from={}", segment(&f)));
            }
            if !rcpt.is_empty() {
                query.push(format!("rcpt={}", segment(&rcpt.join(","))));
            }
            let path = if query.is_empty() {
                "/mail-flow/simulate".to_owned()
            } else {
                format!("/mail-flow/simulate?{}", query.join("&"))
            };
            let answer = client.call(Method::POST, &path, Body::Raw("message/rfc822", raw))?;
            output(&answer, json, |s: &SimulationView| show::simulation(s))
        }
    }
}

/// Run `sealpost connector …`.
pub fn connector(client: &Client, json: bool, action: ConnectorAction) -> Result<String, Failure> {
    match action {
        ConnectorAction::Get => {
            let answer = client.call(Method::GET, "/mail-flow/connector", Body::Empty)?;
            output(&answer, json, show::connector)
        }
        ConnectorAction::Set { remote_addresses } => {
            let answer = client.call(
                Method::PUT,
                "/mail-flow/connector",
                Body::json(&InboundConnectorRequest { remote_addresses })?,
            )?;
            output(&answer, json, show::connector)
        }
        ConnectorAction::NewPassword => {
            let answer = client.call(Method::POST, "/mail-flow/connector/password", Body::Empty)?;
            output(&answer, json, |p: &SmtpPasswordResponse| {
                show::list(&[
                    ("Username", p.username.clone()),
                    ("Password", p.password.clone()),
                ]) + "Give these to your mail server now: the password is not shown again.\n"
            })
        }
        ConnectorAction::RemovePassword => {
            client.call(Method::DELETE, "/mail-flow/connector/password", Body::Empty)?;
            Ok(if json {
                "null\n".to_owned()
            } else {
                "Removed the SMTP AUTH password.\n".to_owned()
            })
        }
    }
}

/// Run `sealpost queue`.
pub fn queue(client: &Client, json: bool) -> Result<String, Failure> {
    let answer = client.call(Method::GET, "/mail-flow/queue", Body::Empty)?;
    output(&answer, json, |q: &MailQueueView| {
        if q.messages.is_empty() {
            return "The queue is empty.\n".to_owned();
        }
        q.messages
            .iter()
            .map(|m| {
                format!(
                    "{}  {}  {}  from {} to {}  attempts {}{}\n",
                    m.id,
                    m.received_at,
                    m.state,
                    if m.mail_from.is_empty() {
                        "<>"
                    } else {
                        &m.mail_from
                    },
                    m.recipients.join(", "),
                    m.attempts,
                    m.last_error
                        .as_deref()
                        .map(|e| format!("  last error: {e}"))
                        .unwrap_or_default()
                )
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_parse_like_exchange_parameters() {
        let c = condition("sent-to-scope=outside", false).unwrap();
        assert_eq!(c.test, RuleTest::RecipientInOrganisation);
        assert!(c.negate);
        let c = condition("sent-to-scope=outside", true).unwrap();
        assert!(!c.negate);
        let c = condition("header=X-Sealpost-Encrypt: yes", false).unwrap();
        assert_eq!(
            c.test,
            RuleTest::Header {
                name: "X-Sealpost-Encrypt".into(),
                value: "yes".into()
            }
        );
        let c = condition("words=top secret, confidential", true).unwrap();
        assert_eq!(
            c.test,
            RuleTest::SubjectOrBodyWords {
                words: vec!["top secret".into(), "confidential".into()]
            }
        );
        assert!(c.negate);
        assert_eq!(
            condition("size-over=1000", false).unwrap().test,
            RuleTest::SizeOver { bytes: 1000 }
        );
        for bad in [
            "nonsense",
            "sent-to",
            "sent-to-scope=elsewhere",
            "header=novalue",
            "size-over=big",
        ] {
            assert!(
                matches!(condition(bad, false), Err(Failure::Usage(_))),
                "{bad}"
            );
        }
    }
}
