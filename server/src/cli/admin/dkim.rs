//! `sealpost dkim …`: the tenant's DKIM keys, and the TXT records to publish for them.

use clap::Subcommand;
use sealpost_api::admin::{DkimKeyView, NewDkimKeyRequest};
use ureq::http::Method;

use super::client::{Body, Client, Failure, segment};
use super::output;

/// `sealpost dkim …`
#[derive(Debug, Subcommand)]
pub enum DkimAction {
    /// Make a key for a proven domain; mail from it is signed with it at once, so publish the
    /// record it prints straight away.
    New {
        /// One of the tenant's proven domains.
        #[arg(long)]
        domain: String,
        /// `ed25519` or `rsa` (2048 bits). Make one of each: receivers that do not check Ed25519
        /// yet check the RSA signature.
        #[arg(long, default_value = "rsa")]
        algorithm: String,
        /// The selector; `sealpost-{algorithm}-{date}` if absent.
        #[arg(long)]
        selector: Option<String>,
    },
    /// The keys, one line each.
    List {
        /// Only this domain's keys.
        #[arg(long)]
        domain: Option<String>,
    },
    /// The TXT records to publish, exactly, one per key.
    ShowDns {
        /// Only this domain's records.
        #[arg(long)]
        domain: Option<String>,
    },
    /// Remove a key: mail is no longer signed with it (leave its record published for a few days).
    Remove {
        /// The key's domain.
        #[arg(long)]
        domain: String,
        /// The key's selector.
        #[arg(long)]
        selector: String,
    },
}

/// Where a key's record goes and what it holds, as a zone file line: the value in quoted strings
/// of at most 255 characters, as DNS holds a long TXT record (an RSA key's is about 400).
fn dns_line(k: &DkimKeyView) -> String {
    let strings: Vec<String> = k
        .record_value
        .as_bytes()
        .chunks(255)
        .map(|c| format!("\"{}\"", String::from_utf8_lossy(c)))
        .collect();
    format!("{}. IN TXT {}\n", k.record_name, strings.join(" "))
}

fn key_line(k: &DkimKeyView) -> String {
    format!(
        "{}  {}  {}  made {}  record at {}\n",
        k.domain, k.selector, k.algorithm, k.created_at, k.record_name
    )
}

fn listing(client: &Client, domain: Option<&str>) -> Result<super::client::Answer, Failure> {
    let path = match domain {
        Some(d) => format!("/tenant/dkim?domain={}", segment(d)),
        None => "/tenant/dkim".to_owned(),
    };
    client.call(Method::GET, &path, Body::Empty)
}

/// Carry out a `dkim` command.
pub fn run(client: &Client, json: bool, action: DkimAction) -> Result<String, Failure> {
    match action {
        DkimAction::New {
            domain,
            algorithm,
            selector,
        } => {
            let request = NewDkimKeyRequest {
                domain,
                algorithm,
                selector,
            };
            let answer = client.call(Method::POST, "/tenant/dkim", Body::json(&request)?)?;
            output(&answer, json, |k: &DkimKeyView| {
                format!(
                    "Made {} key {} for {}. Publish this TXT record now:\n\n{}",
                    k.algorithm,
                    k.selector,
                    k.domain,
                    dns_line(k)
                )
            })
        }
        DkimAction::List { domain } => output(
            &listing(client, domain.as_deref())?,
            json,
            |l: &Vec<DkimKeyView>| {
                if l.is_empty() {
                    "No DKIM keys: mail is sent unsigned. Make one with `sealpost dkim new`.\n"
                        .to_owned()
                } else {
                    l.iter().map(key_line).collect()
                }
            },
        ),
        DkimAction::ShowDns { domain } => output(
            &listing(client, domain.as_deref())?,
            json,
            |l: &Vec<DkimKeyView>| l.iter().map(dns_line).collect(),
        ),
        DkimAction::Remove { domain, selector } => {
            client.call(
                Method::DELETE,
                &format!("/tenant/dkim/{}/{}", segment(&domain), segment(&selector)),
                Body::Empty,
            )?;
            Ok(if json {
                "{}\n".to_owned()
            } else {
                format!("Removed {selector} for {domain}: mail is no longer signed with it.\n")
            })
        }
    }
}
