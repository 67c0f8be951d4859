//! The admin and sender tasks from the command line, against a running server's admin API (local
//! or remote): one command per OME cmdlet an admin knows (see `docs/ADMIN.md` for the table).
//!
//! Every command takes `--server` (`SEALPOST_SERVER`), `--token` (`SEALPOST_TOKEN`) and `--json`.
//! Exit status: 0 done; 1 the server refused, or the check found a problem (the reason is on
//! standard error); 2 the command line or a file it names cannot be used; 3 the token was not
//! accepted; 4 the server could not be reached or failed.

pub mod client;
mod dkim;
mod key_policies;
mod mail_flow;
mod passkeys;
mod self_test;
mod show;
mod upload;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use clap::{Args, Subcommand, ValueEnum};
use sealpost_api::admin::{
    AttachmentRequest, AuditEventView, BrandingTemplateView, ForwardLimits, LocalizedText,
    MessageListView, MessageStatusView, PortalLogVerifyView, PortalLogView, RightsTemplateView,
    SendMessageRequest, TenantView, UpdateTenantRequest,
};
use serde_json::{Value, json};
use ureq::http::Method;

use client::{Answer, Body, Client, Failure, segment};

/// Where the server is and who is asking; every admin command takes these.
#[derive(Debug, Clone, Args)]
pub struct Connection {
    /// The server's URL.
    #[arg(
        long,
        env = "SEALPOST_SERVER",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub server: String,
    /// An admin token (`spa_…`). Prefer the environment variable: command lines are visible to
    /// other users of the machine.
    #[arg(long, env = "SEALPOST_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// Print the server's JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}

/// The admin commands (subcommands of `sealpost`).
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// The tenant's settings (Get-IRMConfiguration / Set-IRMConfiguration).
    Config {
        #[command(flatten)]
        conn: Connection,
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// End-to-end self-test: seal, store, release and open a test message (Test-IRMConfiguration).
    SelfTest {
        #[command(flatten)]
        conn: Connection,
        /// An address in one of the tenant's domains.
        #[arg(long)]
        sender: String,
        /// An address outside them. No mail is sent to it.
        #[arg(long)]
        recipient: String,
    },
    /// Branding templates (Get/New/Set/Remove-OMEConfiguration).
    Branding {
        #[command(flatten)]
        conn: Connection,
        #[command(subcommand)]
        action: BrandingAction,
    },
    /// Rights templates (Get-RMSTemplate, and your own).
    Rights {
        #[command(flatten)]
        conn: Connection,
        #[command(subcommand)]
        action: RightsAction,
    },
    /// Send a protected message, from flags or from an .eml file.
    Send {
        #[command(flatten)]
        conn: Connection,
        #[command(flatten)]
        message: SendArgs,
    },
    /// The tenant's messages, newest first.
    Messages {
        #[command(flatten)]
        conn: Connection,
    },
    /// A message's status: subject, revocation, expiry, each recipient (Get-OMEMessageStatus).
    Status {
        #[command(flatten)]
        conn: Connection,
        /// The message id.
        message_id: String,
    },
    /// Remove external access to a message, for everyone or one recipient
    /// (Set-OMEMessageRevocation -Revoke $true).
    Revoke {
        #[command(flatten)]
        conn: Connection,
        /// The message id.
        message_id: String,
        /// Only this recipient.
        #[arg(long)]
        recipient: Option<String>,
    },
    /// Portal tracking logs: on, off, search, verify (Set-IRMConfiguration
    /// -EnablePortalTrackingLogs).
    Tracking {
        #[command(flatten)]
        conn: Connection,
        #[command(subcommand)]
        action: TrackingAction,
    },
    /// The admin audit log: who did what, newest first.
    Audit {
        #[command(flatten)]
        conn: Connection,
    },
    /// Mail flow rules that seal mail sent through the SMTP listener (Get/New/Set/Remove/
    /// Enable/Disable-TransportRule), and a simulation of what they would do to a message.
    Rules {
        #[command(flatten)]
        conn: Connection,
        #[command(subcommand)]
        action: mail_flow::RulesAction,
    },
    /// Which of your mail servers may send through the SMTP listener (Get/Set-InboundConnector).
    Connector {
        #[command(flatten)]
        conn: Connection,
        #[command(subcommand)]
        action: mail_flow::ConnectorAction,
    },
    /// Messages the SMTP listener accepted and has not delivered yet, or gave up on
    /// (Get-QueueMessage).
    Queue {
        #[command(flatten)]
        conn: Connection,
    },
    /// DKIM keys that sign the mail Sealpost sends from the tenant's domains, and the DNS records
    /// to publish for them (New/Get/Remove-DkimSigningConfig).
    Dkim {
        #[command(flatten)]
        conn: Connection,
        #[command(subcommand)]
        action: dkim::DkimAction,
    },
    /// Recipients' passkeys: list them, remove one.
    Passkeys {
        #[command(flatten)]
        conn: Connection,
        #[command(subcommand)]
        action: passkeys::PasskeysAction,
    },
    /// Customer Key: data encryption policies over two root keys, key roll, purge, and which
    /// policy new messages use (New/Get/Set-DataEncryptionPolicy,
    /// Get/Set-M365DataAtRestEncryptionPolicyAssignment).
    #[command(name = "dep", alias = "data-encryption-policy")]
    Dep {
        #[command(flatten)]
        conn: Connection,
        #[command(subcommand)]
        action: key_policies::DepAction,
    },
}

/// `sealpost config …`
#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Show the tenant's settings.
    Get,
    /// Change settings; what is not given stays.
    Set {
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// Whether notices show the subject.
        #[arg(long)]
        show_subject_in_notice: Option<bool>,
        /// Whether the portal tracking log is kept.
        #[arg(long)]
        enable_portal_tracking_logs: Option<bool>,
        /// The full list of domains, comma-separated: proven ones listed stay, new ones wait for
        /// their DNS proof (`config verify-domain`).
        #[arg(long, value_delimiter = ',')]
        domains: Option<Vec<String>>,
        /// Days the portal log keeps its entries (0: for ever).
        #[arg(long)]
        portal_log_retention_days: Option<u32>,
    },
    /// Prove a pending domain: its TXT record (shown by `config get`) must be published.
    VerifyDomain {
        /// The domain.
        domain: String,
    },
}

/// The fields of a branding template, each optional.
#[derive(Debug, Default, Args)]
pub struct BrandingFields {
    /// First line of the notice (≤ 1024).
    #[arg(long)]
    introduction_text: Option<String>,
    /// The notice's button (≤ 1024).
    #[arg(long)]
    read_button_text: Option<String>,
    /// Body text of the notice (≤ 1024).
    #[arg(long)]
    email_text: Option<String>,
    /// Disclaimer at the foot of the notice and portal (≤ 1024).
    #[arg(long)]
    disclaimer_text: Option<String>,
    /// Text on the portal's sign-in page (≤ 128).
    #[arg(long)]
    portal_text: Option<String>,
    /// `#RRGGBB` or a CSS colour name.
    #[arg(long)]
    background_color: Option<String>,
    /// A PNG or JPEG file for the logo (≤ 40 KB).
    #[arg(long, value_name = "FILE")]
    image: Option<PathBuf>,
    /// Link to your privacy statement.
    #[arg(long)]
    privacy_statement_url: Option<String>,
    /// One-time passcode sign-in.
    #[arg(long)]
    otp_enabled: Option<bool>,
    /// Sign-in with a social identity (stored for OME compatibility).
    #[arg(long)]
    social_id_sign_in: Option<bool>,
    /// Days until external access ends, 0–730 (0 = never; not on `default`).
    #[arg(long)]
    external_mail_expiry_in_days: Option<u32>,
    /// The language of the template's notices, e.g. `sv` (its translations are used, and
    /// Sealpost's own words are in it where Sealpost has them). Route each language's recipients
    /// to its template with a mail flow rule.
    #[arg(long)]
    language: Option<String>,
    /// A translation of a text field: FIELD:LANG=TEXT, e.g. `portal_text:sv=Logga in`. Repeat.
    #[arg(long = "translation", value_name = "FIELD:LANG=TEXT")]
    translations: Vec<String>,
}

/// `sealpost branding …`
#[derive(Debug, Subcommand)]
pub enum BrandingAction {
    /// List the templates, or show one with every field.
    Get {
        /// A template's identity; all if absent.
        identity: Option<String>,
    },
    /// Create a template (New-OMEConfiguration).
    New {
        /// Its identity (name).
        identity: String,
        #[command(flatten)]
        fields: BrandingFields,
    },
    /// Change a template: given fields change, `--clear` ones go back to the default
    /// (Set-OMEConfiguration).
    Set {
        /// The template's identity.
        identity: String,
        #[command(flatten)]
        fields: BrandingFields,
        /// A field to clear, e.g. `image` or `background_color`. Repeat.
        #[arg(long, value_name = "FIELD")]
        clear: Vec<String>,
    },
    /// Remove a template (Remove-OMEConfiguration).
    Remove {
        /// The template's identity.
        identity: String,
    },
}

/// `sealpost rights …`
#[derive(Debug, Subcommand)]
pub enum RightsAction {
    /// List the templates, or show one.
    Get {
        /// A template's name; all if absent.
        name: Option<String>,
    },
    /// Create your own template.
    New {
        /// Its name.
        name: String,
        /// Rights, comma-separated: view, reply, reply_all, forward, print, copy, download.
        #[arg(long, value_delimiter = ',', required = true)]
        rights: Vec<String>,
        /// What it is for.
        #[arg(long, default_value = "")]
        description: String,
        #[command(flatten)]
        forward: ForwardLimitArgs,
    },
    /// Replace your own template's rights, description and forward limits.
    Set {
        /// Its name.
        name: String,
        /// Rights, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        rights: Vec<String>,
        /// What it is for.
        #[arg(long, default_value = "")]
        description: String,
        #[command(flatten)]
        forward: ForwardLimitArgs,
    },
    /// Remove your own template.
    Remove {
        /// Its name.
        name: String,
    },
}

/// A rights template's forward limits; each omitted one takes its default.
#[derive(Debug, Args)]
pub struct ForwardLimitArgs {
    /// Most new recipients one forward may name (1–500, default 10).
    #[arg(long)]
    forward_recipients: Option<u32>,
    /// Most new recipients one recipient may forward one message to in a day (1–5000, default 50).
    #[arg(long)]
    forward_recipients_per_day: Option<u32>,
    /// How many forwards deep a chain may go (1–10, default 3).
    #[arg(long)]
    forward_depth: Option<u32>,
}

impl ForwardLimitArgs {
    fn limits(&self) -> ForwardLimits {
        let d = ForwardLimits::default();
        ForwardLimits {
            recipients_per_forward: self.forward_recipients.unwrap_or(d.recipients_per_forward),
            recipients_per_day: self
                .forward_recipients_per_day
                .unwrap_or(d.recipients_per_day),
            depth: self.forward_depth.unwrap_or(d.depth),
        }
    }
}

/// `sealpost send …`
#[derive(Debug, Args)]
pub struct SendArgs {
    /// A whole message (RFC 5322) to send as it is; the flags below then only choose templates
    /// and expiry.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["from", "to", "cc", "subject", "text", "text_file", "html_file", "attach"])]
    eml: Option<PathBuf>,
    /// Sender (in one of the tenant's domains).
    #[arg(long, required_unless_present = "eml")]
    from: Option<String>,
    /// A recipient. Repeat.
    #[arg(long, required_unless_present = "eml")]
    to: Vec<String>,
    /// A Cc recipient. Repeat.
    #[arg(long)]
    cc: Vec<String>,
    /// Subject.
    #[arg(long, default_value = "")]
    subject: String,
    /// Plain-text body.
    #[arg(long, conflicts_with = "text_file")]
    text: Option<String>,
    /// Plain-text body from a file.
    #[arg(long, value_name = "FILE")]
    text_file: Option<PathBuf>,
    /// HTML body from a file.
    #[arg(long, value_name = "FILE")]
    html_file: Option<PathBuf>,
    /// A file to attach. Repeat.
    #[arg(long, value_name = "FILE")]
    attach: Vec<PathBuf>,
    /// Branding template (default: `default`).
    #[arg(long)]
    branding: Option<String>,
    /// Rights template (default: `Encrypt`).
    #[arg(long)]
    rights: Option<String>,
    /// Days until external access ends (0 = never; default: the branding template's).
    #[arg(long)]
    expires_in_days: Option<u32>,
}

/// `on` or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    /// Keep the log.
    On,
    /// Stop keeping it (what was logged stays).
    Off,
}

/// `sealpost tracking …`
#[derive(Debug, Subcommand)]
pub enum TrackingAction {
    /// Turn the portal tracking log on or off.
    Set {
        /// `on` or `off`.
        state: Switch,
    },
    /// Search the log, newest first.
    Search {
        /// One message.
        #[arg(long)]
        message: Option<String>,
        /// One recipient.
        #[arg(long)]
        recipient: Option<String>,
        /// At or after (RFC 3339).
        #[arg(long)]
        from: Option<String>,
        /// Before (RFC 3339).
        #[arg(long)]
        to: Option<String>,
        /// At most this many (default 100, at most 1000).
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Check that no entry was changed, removed or reordered; prints the head to record.
    Verify {
        /// A head printed by an earlier verify (`SEQ:HASH`) that must still be in the chain.
        #[arg(long)]
        head: Option<String>,
    },
}

/// Run an admin command; prints to standard output, the reason for a failure to standard error.
pub fn run(command: AdminCommand) -> ExitCode {
    match dispatch(command) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err((failure, printed)) => {
            if let Some(out) = printed {
                print!("{out}");
            }
            eprintln!("sealpost: {failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}

type Outcome = Result<String, (Failure, Option<String>)>;

fn dispatch(command: AdminCommand) -> Outcome {
    let conn = match &command {
        AdminCommand::Config { conn, .. }
        | AdminCommand::SelfTest { conn, .. }
        | AdminCommand::Branding { conn, .. }
        | AdminCommand::Rights { conn, .. }
        | AdminCommand::Send { conn, .. }
        | AdminCommand::Messages { conn }
        | AdminCommand::Status { conn, .. }
        | AdminCommand::Revoke { conn, .. }
        | AdminCommand::Tracking { conn, .. }
        | AdminCommand::Audit { conn }
        | AdminCommand::Rules { conn, .. }
        | AdminCommand::Connector { conn, .. }
        | AdminCommand::Queue { conn }
        | AdminCommand::Dep { conn, .. }
        | AdminCommand::Dkim { conn, .. }
        | AdminCommand::Passkeys { conn, .. } => conn.clone(),
    };
    let client = Client::new(&conn.server, conn.token.as_deref()).map_err(|e| (e, None))?;
    execute(&client, conn.json, command)
}

fn plain(r: Result<String, Failure>) -> Outcome {
    r.map_err(|e| (e, None))
}

fn pretty(v: &Value) -> String {
    format!("{}\n", serde_json::to_string_pretty(v).unwrap_or_default())
}

/// Print `answer` as JSON, or as `human` of its parsed form.
fn output<T: serde::de::DeserializeOwned>(
    answer: &Answer,
    json: bool,
    human: impl FnOnce(&T) -> String,
) -> Result<String, Failure> {
    let mut out = if json {
        pretty(&answer.json()?)
    } else {
        human(&answer.parse()?)
    };
    if let Some(w) = &answer.warning
        && !json
    {
        out.push_str(&format!("WARNING: {w}\n"));
    }
    Ok(out)
}

fn execute(client: &Client, json: bool, command: AdminCommand) -> Outcome {
    match command {
        AdminCommand::Config { action, .. } => plain(config(client, json, action)),
        AdminCommand::SelfTest {
            sender, recipient, ..
        } => {
            let report = self_test::run(client, &sender, &recipient).map_err(|e| (e, None))?;
            let out = if json {
                pretty(&serde_json::to_value(&report).unwrap_or_default())
            } else {
                report.human()
            };
            match report.reason {
                None => Ok(out),
                Some(reason) => Err((
                    Failure::Failed(format!("self-test failed: {reason}")),
                    Some(out),
                )),
            }
        }
        AdminCommand::Branding { action, .. } => plain(branding(client, json, action)),
        AdminCommand::Rights { action, .. } => plain(rights(client, json, action)),
        AdminCommand::Send { message, .. } => plain(send(client, json, message)),
        AdminCommand::Messages { .. } => plain(
            client
                .call(Method::GET, "/messages", Body::Empty)
                .and_then(|a| {
                    output(&a, json, |l: &MessageListView| {
                        l.messages.iter().map(show::message_line).collect()
                    })
                }),
        ),
        AdminCommand::Status { message_id, .. } => plain(
            client
                .call(
                    Method::GET,
                    &format!("/messages/{}", segment(&message_id)),
                    Body::Empty,
                )
                .and_then(|a| output(&a, json, show::status)),
        ),
        AdminCommand::Revoke {
            message_id,
            recipient,
            ..
        } => {
            let path = match &recipient {
                None => format!("/messages/{}/revoke", segment(&message_id)),
                Some(r) => format!(
                    "/messages/{}/recipients/{}/revoke",
                    segment(&message_id),
                    segment(r)
                ),
            };
            plain(
                client
                    .call(Method::POST, &path, Body::Empty)
                    .and_then(|a| output(&a, json, show::status)),
            )
        }
        AdminCommand::Tracking { action, .. } => tracking(client, json, action),
        AdminCommand::Rules { action, .. } => plain(mail_flow::rules(client, json, action)),
        AdminCommand::Connector { action, .. } => plain(mail_flow::connector(client, json, action)),
        AdminCommand::Queue { .. } => plain(mail_flow::queue(client, json)),
        AdminCommand::Dep { action, .. } => plain(key_policies::run(client, json, action)),
        AdminCommand::Dkim { action, .. } => plain(dkim::run(client, json, action)),
        AdminCommand::Passkeys { action, .. } => plain(passkeys::run(client, json, action)),
        AdminCommand::Audit { .. } => plain(
            client
                .call(Method::GET, "/audit", Body::Empty)
                .and_then(|a| {
                    output(&a, json, |l: &Vec<AuditEventView>| {
                        l.iter().map(show::audit_line).collect()
                    })
                }),
        ),
    }
}

fn config(client: &Client, json: bool, action: ConfigAction) -> Result<String, Failure> {
    let answer = match action {
        ConfigAction::Get => client.call(Method::GET, "/tenant", Body::Empty)?,
        ConfigAction::VerifyDomain { domain } => client.call(
            Method::POST,
            &format!("/tenant/domains/{}/verify", segment(&domain)),
            Body::Empty,
        )?,
        ConfigAction::Set {
            name,
            show_subject_in_notice,
            enable_portal_tracking_logs,
            domains,
            portal_log_retention_days,
        } => {
            let patch = UpdateTenantRequest {
                name,
                domains,
                show_subject_in_notice,
                enable_portal_tracking_logs,
                portal_log_retention_days,
            };
            if patch == UpdateTenantRequest::default() {
                return Err(Failure::Usage(
                    "say what to change, e.g. --show-subject-in-notice false".into(),
                ));
            }
            client.call(Method::PATCH, "/tenant", Body::json(&patch)?)?
        }
    };
    output(&answer, json, show::tenant)
}

fn read_file(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))
}

const TEXT_FIELDS: [&str; 5] = [
    "introduction_text",
    "read_button_text",
    "email_text",
    "disclaimer_text",
    "portal_text",
];

/// The template the flags give (`identity` left empty: `new` names it, `set` sends a merge patch).
fn branding_fields(f: BrandingFields) -> Result<BrandingTemplateView, Failure> {
    let mut translations: BTreeMap<&str, BTreeMap<String, String>> = BTreeMap::new();
    for t in &f.translations {
        let bad = || {
            Failure::Usage(format!(
                "--translation {t:?} must be FIELD:LANG=TEXT, e.g. portal_text:sv=Logga in, with FIELD one of {}",
                TEXT_FIELDS.join(", ")
            ))
        };
        let (field, rest) = t.split_once(':').ok_or_else(bad)?;
        let (lang, text) = rest.split_once('=').ok_or_else(bad)?;
        let field = TEXT_FIELDS.iter().find(|f| **f == field).ok_or_else(bad)?;
        translations
            .entry(field)
            .or_default()
            .insert(lang.to_owned(), text.to_owned());
    }
    let mut text = |name: &str, value: Option<String>| -> Result<Option<LocalizedText>, Failure> {
        match (value, translations.remove(name)) {
            (Some(text), None) => Ok(Some(LocalizedText::Plain(text))),
            (Some(text), Some(translations)) => {
                Ok(Some(LocalizedText::Translated { text, translations }))
            }
            (None, Some(_)) => Err(Failure::Usage(format!(
                "a --translation for {name} needs --{} with the default text too",
                name.replace('_', "-")
            ))),
            (None, None) => Ok(None),
        }
    };
    Ok(BrandingTemplateView {
        identity: String::new(),
        introduction_text: text("introduction_text", f.introduction_text)?,
        read_button_text: text("read_button_text", f.read_button_text)?,
        email_text: text("email_text", f.email_text)?,
        disclaimer_text: text("disclaimer_text", f.disclaimer_text)?,
        portal_text: text("portal_text", f.portal_text)?,
        background_color: f.background_color,
        image_base64: f
            .image
            .map(|p| read_file(&p))
            .transpose()?
            .map(|b| BASE64.encode(b)),
        privacy_statement_url: f.privacy_statement_url,
        otp_enabled: f.otp_enabled,
        social_id_sign_in: f.social_id_sign_in,
        external_mail_expiry_in_days: f.external_mail_expiry_in_days,
        language: f.language,
    })
}

fn branding(client: &Client, json: bool, action: BrandingAction) -> Result<String, Failure> {
    match action {
        BrandingAction::Get { identity: None } => {
            let answer = client.call(Method::GET, "/branding-templates", Body::Empty)?;
            output(&answer, json, |l: &Vec<BrandingTemplateView>| {
                l.iter().map(|b| format!("{}\n", b.identity)).collect()
            })
        }
        BrandingAction::Get { identity: Some(id) } => {
            let answer = client.call(
                Method::GET,
                &format!("/branding-templates/{}", segment(&id)),
                Body::Empty,
            )?;
            output(&answer, json, show::branding)
        }
        BrandingAction::New { identity, fields } => {
            let body = BrandingTemplateView {
                identity,
                ..branding_fields(fields)?
            };
            let answer = client.call(Method::POST, "/branding-templates", Body::json(&body)?)?;
            output(&answer, json, show::branding)
        }
        BrandingAction::Set {
            identity,
            fields,
            clear,
        } => {
            let Value::Object(mut patch) = Body::value(&branding_fields(fields)?)? else {
                return Err(Failure::Usage("a template is a JSON object".into()));
            };
            patch.remove("identity");
            for field in clear {
                let field = field.replace('-', "_");
                let field = if field == "image" {
                    "image_base64".to_owned()
                } else {
                    field
                };
                patch.insert(field, Value::Null);
            }
            if patch.is_empty() {
                return Err(Failure::Usage(
                    "say what to change, e.g. --portal-text \"…\" or --clear image".into(),
                ));
            }
            let answer = client.call(
                Method::PATCH,
                &format!("/branding-templates/{}", segment(&identity)),
                Body::Json(Value::Object(patch)),
            )?;
            output(&answer, json, show::branding)
        }
        BrandingAction::Remove { identity } => {
            client.call(
                Method::DELETE,
                &format!("/branding-templates/{}", segment(&identity)),
                Body::Empty,
            )?;
            Ok(if json {
                pretty(&json!({ "removed": identity }))
            } else {
                format!("Removed the branding template {identity}.\n")
            })
        }
    }
}

fn rights(client: &Client, json: bool, action: RightsAction) -> Result<String, Failure> {
    let template =
        |name: &str, rights: Vec<String>, description: String, forward: &ForwardLimitArgs| {
            Body::json(&RightsTemplateView {
                name: name.to_owned(),
                description,
                rights,
                built_in: false,
                forward_limits: forward.limits(),
            })
        };
    match action {
        RightsAction::Get { name: None } => {
            let answer = client.call(Method::GET, "/rights-templates", Body::Empty)?;
            output(&answer, json, |l: &Vec<RightsTemplateView>| {
                l.iter()
                    .map(|r| format!("{}: {}\n", r.name, r.rights.join(", ")))
                    .collect()
            })
        }
        RightsAction::Get { name: Some(name) } => {
            let answer = client.call(
                Method::GET,
                &format!("/rights-templates/{}", segment(&name)),
                Body::Empty,
            )?;
            output(&answer, json, show::rights)
        }
        RightsAction::New {
            name,
            rights,
            description,
            forward,
        } => {
            let answer = client.call(
                Method::POST,
                "/rights-templates",
                template(&name, rights, description, &forward)?,
            )?;
            output(&answer, json, show::rights)
        }
        RightsAction::Set {
            name,
            rights,
            description,
            forward,
        } => {
            let answer = client.call(
                Method::PUT,
                &format!("/rights-templates/{}", segment(&name)),
                template(&name, rights, description, &forward)?,
            )?;
            output(&answer, json, show::rights)
        }
        RightsAction::Remove { name } => {
            client.call(
                Method::DELETE,
                &format!("/rights-templates/{}", segment(&name)),
                Body::Empty,
            )?;
            Ok(if json {
                pretty(&json!({ "removed": name }))
            } else {
                format!("Removed the rights template {name}.\n")
            })
        }
    }
}

/// A content type for an attachment, from its name.
fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "txt" => "text/plain",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "zip" => "application/zip",
        "eml" => "message/rfc822",
        _ => "application/octet-stream",
    }
}

fn send(client: &Client, json: bool, a: SendArgs) -> Result<String, Failure> {
    let answer = if let Some(eml) = &a.eml {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some(b) = &a.branding {
            query.append_pair("branding_template", b);
        }
        if let Some(r) = &a.rights {
            query.append_pair("rights_template", r);
        }
        if let Some(d) = a.expires_in_days {
            query.append_pair("expires_in_days", &d.to_string());
        }
        let query = query.finish();
        let path = if query.is_empty() {
            "/messages".to_owned()
        } else {
            format!("/messages?{query}")
        };
        client.call(
            Method::POST,
            &path,
            Body::Raw("message/rfc822", read_file(eml)?),
        )?
    } else {
        let text = match (&a.text, &a.text_file) {
            (Some(t), _) => Some(t.clone()),
            (None, Some(p)) => Some(
                String::from_utf8(read_file(p)?)
                    .map_err(|_| Failure::Usage(format!("{} is not UTF-8 text", p.display())))?,
            ),
            (None, None) => None,
        };
        let html = a
            .html_file
            .as_deref()
            .map(|p| {
                read_file(p).and_then(|b| {
                    String::from_utf8(b)
                        .map_err(|_| Failure::Usage(format!("{} is not UTF-8", p.display())))
                })
            })
            .transpose()?;
        let mut attachments = Vec::new();
        let mut large = Vec::new();
        for path in &a.attach {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("attachment")
                .to_owned();
            let size = std::fs::metadata(path)
                .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))?
                .len();
            if size > upload::INLINE_LIMIT {
                large.push(upload::LargeFile {
                    path,
                    name,
                    content_type: content_type(path),
                });
                continue;
            }
            attachments.push(AttachmentRequest {
                name,
                content_type: Some(content_type(path).to_owned()),
                content_base64: BASE64.encode(read_file(path)?),
                content_id: None,
            });
        }
        let body = SendMessageRequest {
            // clap requires --from unless --eml is given, and this is the other branch.
            from: a.from.unwrap_or_default(),
            to: a.to,
            cc: a.cc,
            subject: a.subject,
            text,
            html,
            attachments,
            branding_template: a.branding,
            rights_template: a.rights,
            expires_in_days: a.expires_in_days,
        };
        if large.is_empty() {
            client.call(Method::POST, "/messages", Body::json(&body)?)?
        } else {
            upload::send(client, &body, &large)?
        }
    };
    output(&answer, json, |m: &MessageStatusView| {
        format!("Sent.\n{}", show::status(m))
    })
}

fn tracking(client: &Client, json: bool, action: TrackingAction) -> Outcome {
    match action {
        TrackingAction::Set { state } => {
            let on = state == Switch::On;
            let patch = UpdateTenantRequest {
                enable_portal_tracking_logs: Some(on),
                ..UpdateTenantRequest::default()
            };
            plain(
                Body::json(&patch)
                    .and_then(|body| client.call(Method::PATCH, "/tenant", body))
                    .and_then(|a| {
                        output(&a, json, |t: &TenantView| {
                            format!(
                                "Portal tracking logs are {} for {}.\n",
                                if t.enable_portal_tracking_logs {
                                    "on"
                                } else {
                                    "off"
                                },
                                t.name
                            )
                        })
                    }),
            )
        }
        TrackingAction::Search {
            message,
            recipient,
            from,
            to,
            limit,
        } => {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in [
                ("message", message),
                ("recipient", recipient),
                ("from", from),
                ("to", to),
                ("limit", limit.map(|l| l.to_string())),
            ] {
                if let Some(v) = v {
                    query.append_pair(k, &v);
                }
            }
            let query = query.finish();
            let path = if query.is_empty() {
                "/portal-log".to_owned()
            } else {
                format!("/portal-log?{query}")
            };
            plain(client.call(Method::GET, &path, Body::Empty).and_then(|a| {
                output(&a, json, |l: &PortalLogView| {
                    if l.entries.is_empty() {
                        "No entries match.\n".to_owned()
                    } else {
                        l.entries.iter().map(show::log_line).collect()
                    }
                })
            }))
        }
        TrackingAction::Verify { head } => {
            let path = match &head {
                Some(h) => format!("/portal-log/verify?head={}", segment(h)),
                None => "/portal-log/verify".to_owned(),
            };
            let answer = client
                .call(Method::GET, &path, Body::Empty)
                .map_err(|e| (e, None))?;
            let view: PortalLogVerifyView = answer.parse().map_err(|e| (e, None))?;
            let out = if json {
                answer.json().map(|v| pretty(&v)).map_err(|e| (e, None))?
            } else if view.intact {
                let entries = view.entries.unwrap_or(0);
                format!(
                    "The portal log is intact: {entries} entries. Head: {entries}:{}\n",
                    view.head_hash.as_deref().unwrap_or("")
                )
            } else {
                String::new()
            };
            if view.intact {
                Ok(out)
            } else {
                Err((
                    Failure::Failed(format!(
                        "the portal log has been tampered with: {}",
                        view.problem.as_deref().unwrap_or("the chain is broken")
                    )),
                    json.then_some(out),
                ))
            }
        }
    }
}
