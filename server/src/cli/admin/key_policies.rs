//! `sealpost dep …`: data encryption policies (`New-/Get-/Set-DataEncryptionPolicy`), the tenant's
//! and each sender's assignment (`Set-/Get-M365DataAtRestEncryptionPolicyAssignment`,
//! `Set-Mailbox -DataEncryptionPolicy`), recovery with the availability key, and the roll back to
//! service-managed keys, against the admin API.

use clap::Subcommand;
use sealpost_api::key_policies::{
    ConfirmPurge, NewDataEncryptionPolicy, PolicyAssignment, PurgeResult,
    RecoverDataEncryptionPolicy, ReplaceRootKey, SetDataEncryptionPolicy,
};
use ureq::http::Method;

use super::client::{Body, Client, Failure, segment};
use super::{output, show};

/// `sealpost dep …`
#[derive(Debug, Subcommand)]
pub enum DepAction {
    /// List the policies and the root keys they can name, or show one (Get-DataEncryptionPolicy).
    Get {
        /// A policy's name or id; all if absent.
        name: Option<String>,
    },
    /// Create a policy over two root keys the server is configured with (New-DataEncryptionPolicy
    /// -AzureKeyIDs A,B).
    New {
        /// Its name (no spaces).
        name: String,
        /// A root key by name; give exactly two.
        #[arg(long = "root-key", value_name = "NAME", num_args = 1, required = true)]
        root_keys: Vec<String>,
        /// What it is for.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Change a policy (Set-DataEncryptionPolicy): one of --refresh, --replace, or a purge request.
    Set {
        /// Its name or id.
        name: String,
        /// A new description.
        #[arg(long)]
        description: Option<String>,
        /// Roll the data key: new messages get a new version at once; existing message keys are
        /// re-wrapped under it in the background (-Refresh).
        #[arg(long)]
        refresh: bool,
        /// Replace this root key … (-Replace)
        #[arg(long, value_name = "OLD", requires = "with")]
        replace: Option<String>,
        /// … with this one.
        #[arg(long, value_name = "NEW", requires = "replace")]
        with: Option<String>,
        /// Request a permanent data purge (with the reason and the contact), or withdraw one with
        /// `false` (-PermanentDataPurgeRequested).
        #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
        permanent_data_purge_requested: Option<bool>,
        /// Why (-PermanentDataPurgeReason).
        #[arg(long, value_name = "TEXT")]
        permanent_data_purge_reason: Option<String>,
        /// Whom to ask about it (-PermanentDataPurgeContact).
        #[arg(long, value_name = "TEXT")]
        permanent_data_purge_contact: Option<String>,
    },
    /// Carry out a requested purge: destroys the policy's keys; its messages can never be opened
    /// again. Cannot be undone.
    Purge {
        /// Its name.
        name: String,
        /// The policy's name again, to confirm.
        #[arg(long, value_name = "NAME")]
        confirm: String,
    },
    /// When neither of a policy's root keys answers, open its data key with the server's
    /// availability key and wrap it under two new root keys, which take the old ones' place.
    /// Refused while either old one answers. Audited with the reason.
    Recover {
        /// The policy's name or id.
        name: String,
        /// A new root key by name; give exactly two.
        #[arg(long = "root-key", value_name = "NAME", num_args = 1, required = true)]
        root_keys: Vec<String>,
        /// Why (kept in the audit log).
        #[arg(long, value_name = "TEXT")]
        reason: String,
    },
    /// Roll back to service-managed keys: the tenant's messages under policies (or, with
    /// `--sender`, that sender's, as Set-Mailbox -DataEncryptionPolicy $null does) are re-wrapped
    /// under the tenant's own data key in the background; new ones are sealed there too. With
    /// `--status`, only show how far it is.
    RollBack {
        /// Only this sender address of the tenant's.
        #[arg(long)]
        sender: Option<String>,
        /// Show progress instead of starting one.
        #[arg(long)]
        status: bool,
    },
    /// Show which policy new messages are sealed under
    /// (Get-M365DataAtRestEncryptionPolicyAssignment); with `--sender`, one sender's policy and
    /// whether all its messages are under it (Get-MailboxStatistics | fl DataEncryptionPolicyID,
    /// IsEncrypted).
    Assignment {
        /// One sender address of the tenant's.
        #[arg(long)]
        sender: Option<String>,
    },
    /// Seal new messages under a policy, or with `--none` under the tenant's own data key
    /// (Set-M365DataAtRestEncryptionPolicyAssignment -DataEncryptionPolicy NAME); with `--sender`,
    /// only that sender's, winning over the tenant's (Set-Mailbox -DataEncryptionPolicy NAME;
    /// `--none`: back to the tenant's choice).
    Assign {
        /// The policy's name.
        #[arg(required_unless_present = "none")]
        name: Option<String>,
        /// Go back to the tenant's own data key (for new messages; existing ones keep theirs).
        #[arg(long, conflicts_with = "name")]
        none: bool,
        /// Only this sender address of the tenant's.
        #[arg(long)]
        sender: Option<String>,
    },
}

fn sender_path(address: &str) -> String {
    format!(
        "/data-encryption-policy-assignment/senders/{}",
        segment(address)
    )
}

fn policy_path(name: &str) -> String {
    format!("/data-encryption-policies/{}", segment(name))
}

/// Run `sealpost dep …`.
pub fn run(client: &Client, json: bool, action: DepAction) -> Result<String, Failure> {
    match action {
        DepAction::Get { name: None } => {
            let answer = client.call(Method::GET, "/data-encryption-policies", Body::Empty)?;
            output(&answer, json, show::policies)
        }
        DepAction::Get { name: Some(name) } => {
            let answer = client.call(Method::GET, &policy_path(&name), Body::Empty)?;
            output(&answer, json, show::policy)
        }
        DepAction::New {
            name,
            root_keys,
            description,
        } => {
            let body = Body::json(&NewDataEncryptionPolicy {
                name,
                description,
                root_keys,
            })?;
            let answer = client.call(Method::POST, "/data-encryption-policies", body)?;
            output(&answer, json, show::policy)
        }
        DepAction::Set {
            name,
            description,
            refresh,
            replace,
            with,
            permanent_data_purge_requested,
            permanent_data_purge_reason,
            permanent_data_purge_contact,
        } => {
            let req = SetDataEncryptionPolicy {
                description,
                roll: refresh,
                replace: replace
                    .zip(with)
                    .map(|(old, new)| ReplaceRootKey { old, new }),
                permanent_data_purge_requested,
                permanent_data_purge_reason,
                permanent_data_purge_contact,
            };
            if req == SetDataEncryptionPolicy::default() {
                return Err(Failure::Usage(
                    "say what to change: --description, --refresh, --replace OLD --with NEW, or --permanent-data-purge-requested".into(),
                ));
            }
            let answer = client.call(Method::PATCH, &policy_path(&name), Body::json(&req)?)?;
            output(&answer, json, show::policy)
        }
        DepAction::Purge { name, confirm } => {
            let answer = client.call(
                Method::POST,
                &format!("{}/purge", policy_path(&name)),
                Body::json(&ConfirmPurge { confirm })?,
            )?;
            output(&answer, json, |r: &PurgeResult| {
                let mut out = show::policy(&r.policy);
                out.push_str(&format!(
                    "Destroyed {} data key version(s) and {} message key(s); root keys destroyed in their provider: {}; availability key destroyed: {}.\n",
                    r.data_keys_destroyed,
                    r.message_keys_destroyed,
                    if r.root_keys_destroyed.is_empty() {
                        "none".to_owned()
                    } else {
                        r.root_keys_destroyed.join(", ")
                    },
                    if r.availability_key_destroyed { "yes" } else { "none to destroy" }
                ));
                out
            })
        }
        DepAction::Recover {
            name,
            root_keys,
            reason,
        } => {
            let answer = client.call(
                Method::POST,
                &format!("{}/recover", policy_path(&name)),
                Body::json(&RecoverDataEncryptionPolicy { root_keys, reason })?,
            )?;
            output(&answer, json, show::policy)
        }
        DepAction::RollBack {
            sender: Some(sender),
            status,
        } => {
            let answer = if status {
                client.call(Method::GET, &sender_path(&sender), Body::Empty)?
            } else {
                client.call(
                    Method::POST,
                    &format!("{}/roll-back", sender_path(&sender)),
                    Body::Empty,
                )?
            };
            output(&answer, json, show::sender_policy)
        }
        DepAction::RollBack {
            sender: None,
            status,
        } => {
            let method = if status { Method::GET } else { Method::POST };
            let answer = client.call(
                method,
                "/data-encryption-policy-assignment/roll-back",
                Body::Empty,
            )?;
            output(&answer, json, show::roll_back)
        }
        DepAction::Assignment {
            sender: Some(sender),
        } => {
            let answer = client.call(Method::GET, &sender_path(&sender), Body::Empty)?;
            output(&answer, json, show::sender_policy)
        }
        DepAction::Assignment { sender: None } => {
            let answer = client.call(
                Method::GET,
                "/data-encryption-policy-assignment",
                Body::Empty,
            )?;
            output(&answer, json, show::assignment)
        }
        DepAction::Assign { name, none, sender } => {
            let body = Body::json(&PolicyAssignment {
                data_encryption_policy: if none { None } else { name },
            })?;
            match sender {
                Some(sender) => {
                    let answer = client.call(Method::PUT, &sender_path(&sender), body)?;
                    output(&answer, json, show::sender_policy)
                }
                None => {
                    let answer =
                        client.call(Method::PUT, "/data-encryption-policy-assignment", body)?;
                    output(&answer, json, show::assignment)
                }
            }
        }
    }
}
