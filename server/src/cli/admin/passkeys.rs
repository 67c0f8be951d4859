//! `sealpost passkeys …`: recipients' passkeys with the tenant.

use clap::Subcommand;
use sealpost_api::admin::RecipientPasskeyView;
use ureq::http::Method;

use super::client::{Body, Client, Failure, segment};
use super::output;

/// `sealpost passkeys …`
#[derive(Debug, Subcommand)]
pub enum PasskeysAction {
    /// The passkeys, one line each.
    List {
        /// Only this recipient address's passkeys.
        #[arg(long)]
        address: Option<String>,
    },
    /// Remove a passkey: it no longer signs in (the recipient signs in with an emailed code or an
    /// identity provider instead).
    Remove {
        /// The passkey's id (from `list`).
        id: String,
    },
}

fn line(p: &RecipientPasskeyView) -> String {
    format!(
        "{}  {}  {}  made {}  {}\n",
        p.id,
        p.address,
        p.name,
        p.created_at,
        p.last_used_at
            .as_deref()
            .map_or("never used".to_owned(), |at| format!("last used {at}"))
    )
}

/// Carry out a `passkeys` command.
pub fn run(client: &Client, json: bool, action: PasskeysAction) -> Result<String, Failure> {
    match action {
        PasskeysAction::List { address } => {
            let path = match address {
                Some(a) => format!("/tenant/passkeys?address={}", segment(&a)),
                None => "/tenant/passkeys".to_owned(),
            };
            let answer = client.call(Method::GET, &path, Body::Empty)?;
            output(&answer, json, |l: &Vec<RecipientPasskeyView>| {
                if l.is_empty() {
                    "No passkeys.\n".to_owned()
                } else {
                    l.iter().map(line).collect()
                }
            })
        }
        PasskeysAction::Remove { id } => {
            client.call(
                Method::DELETE,
                &format!("/tenant/passkeys/{}", segment(&id)),
                Body::Empty,
            )?;
            Ok(if json {
                "{}\n".to_owned()
            } else {
                format!("Removed passkey {id}: it no longer signs in.\n")
            })
        }
    }
}
