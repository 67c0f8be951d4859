//! The command line: `sealpost serve` and the tools that sit beside it.
//!
//! Exit status: 0 success; 1 the command failed (the reason is on standard error); 2 the command
//! line itself was wrong (from `clap`).

pub mod admin;
pub mod demo;
pub mod envelope;
pub mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::cli::admin::AdminCommand;
use crate::clock::Clock;
use crate::config::Config;
use crate::domain::address::Domain;
use crate::keys::LocalKeyFile;
use crate::services::tenants::{create_tenant, new_token};
use crate::services::tracking::{HEAD_FORMAT, parse_head, verify_chain};
use crate::state::prepare_data_dir;
use crate::store::{Store, StoreError, Tenant};
use crate::telemetry;

/// Sealpost: encrypted mail for recipients outside your organisation.
#[derive(Debug, Parser)]
#[command(name = "sealpost", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: the portal and the API.
    Serve {
        /// Configuration file (TOML). Environment variables `SEALPOST_*` override it.
        #[arg(long, env = "SEALPOST_CONFIG")]
        config: Option<PathBuf>,
        /// Allow the development mailbox on an address other than loopback. It shows every
        /// link and passcode to anyone who can reach the server: never on a real server.
        #[arg(long)]
        insecure_dev_mailbox: bool,
    },
    /// Run with the development mailbox, a demo tenant and a demo message (the README's first command).
    Demo {
        /// Configuration file (TOML). Environment variables `SEALPOST_*` override it.
        #[arg(long, env = "SEALPOST_CONFIG")]
        config: Option<PathBuf>,
        /// Allow the demo (and its development mailbox) on an address other than loopback.
        #[arg(long)]
        insecure_dev_mailbox: bool,
    },
    /// Create tenants and admin tokens (works on the data directory; the server may be running).
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// The root keys this server is configured with (`[[root_keys]]`), for data encryption
    /// policies: whether each answers, and making one that does not exist yet.
    #[command(subcommand, name = "root-key")]
    RootKey(RootKeyCommand),
    /// The portal tracking log.
    #[command(subcommand, name = "portal-log")]
    PortalLog(PortalLogCommand),
    /// Raw Cobblestone-256 on stdin/stdout, for interop checks and debugging.
    #[command(subcommand)]
    Envelope(EnvelopeCommand),
    /// The admin commands, against a running server's API.
    #[command(flatten)]
    Admin(Box<AdminCommand>),
}

/// `sealpost tenant ...`
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant and print its first admin token.
    Create {
        /// Display name, e.g. "Contoso".
        #[arg(long)]
        name: String,
        /// A mail domain of the tenant (repeat for several).
        #[arg(long = "domain", required = true)]
        domains: Vec<String>,
        /// Configuration file (TOML).
        #[arg(long, env = "SEALPOST_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Issue a new admin token for the tenant owning a domain (for when every token is lost).
    Token {
        /// One of the tenant's domains.
        #[arg(long)]
        domain: String,
        /// What the token is for.
        #[arg(long, default_value = "operator")]
        label: String,
        /// Configuration file (TOML).
        #[arg(long, env = "SEALPOST_CONFIG")]
        config: Option<PathBuf>,
    },
}

/// `sealpost root-key ...`
#[derive(Debug, Subcommand)]
pub enum RootKeyCommand {
    /// List the root keys and whether each answers now (and why not).
    List {
        /// Configuration file (TOML).
        #[arg(long, env = "SEALPOST_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Make a configured root key that does not exist yet: a key file (mode 0600), or a sensitive,
    /// non-extractable AES-256 key in the token. An existing key is left as it is.
    Create {
        /// Its name in the configuration.
        name: String,
        /// Configuration file (TOML).
        #[arg(long, env = "SEALPOST_CONFIG")]
        config: Option<PathBuf>,
    },
}

/// `sealpost portal-log ...`
#[derive(Debug, Subcommand)]
pub enum PortalLogCommand {
    /// Check that no entry of a tenant's portal log was changed, removed or reordered. Prints the
    /// head (`SEQ:HASH`); record it, and pass it as `--head` later to detect a cut-off tail.
    Verify {
        /// One of the tenant's domains.
        #[arg(long)]
        domain: String,
        /// A head printed by an earlier run, `SEQ:HASH`, that must still be in the chain.
        #[arg(long)]
        head: Option<String>,
        /// Configuration file (TOML).
        #[arg(long, env = "SEALPOST_CONFIG")]
        config: Option<PathBuf>,
    },
}

/// `sealpost envelope ...`
#[derive(Debug, Subcommand)]
pub enum EnvelopeCommand {
    /// Encrypt standard input to standard output.
    Seal {
        /// The 32-byte input key, as 64 hex digits.
        #[arg(long)]
        key_hex: String,
        /// The context, as hex (may be empty).
        #[arg(long, default_value = "")]
        context_hex: String,
    },
    /// Decrypt standard input to standard output; exits 1 with the error class if it is invalid.
    Open {
        /// The 32-byte input key, as 64 hex digits.
        #[arg(long)]
        key_hex: String,
        /// The context, as hex (may be empty).
        #[arg(long, default_value = "")]
        context_hex: String,
    },
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("sealpost: {message}");
    ExitCode::from(1)
}

/// Load the configuration, start logging and a runtime, and run `job` on it.
fn with_runtime<F, Fut>(config: Option<PathBuf>, job: F) -> ExitCode
where
    F: FnOnce(Config) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let config = match Config::load(config.as_deref()) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    telemetry::init(&config);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => return fail(format!("cannot start the runtime: {e}")),
    };
    match runtime.block_on(job(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("{e:#}")),
    }
}

async fn open_admin(config: &Config) -> anyhow::Result<(std::sync::Arc<dyn Store>, LocalKeyFile)> {
    prepare_data_dir(&config.data_dir)?;
    let blobs = crate::store::blob_store::BlobStore::open(config)?;
    let store = crate::store::open(config, blobs).await?;
    let keys = LocalKeyFile::open_or_create(&config.data_dir.join("root.key"))?;
    Ok((store, keys))
}

/// Every root key of the configuration, without opening the database.
fn root_keys(config: &Config) -> anyhow::Result<crate::keys::RootKeys> {
    prepare_data_dir(&config.data_dir)?;
    let local = std::sync::Arc::new(LocalKeyFile::open_or_create(
        &config.data_dir.join("root.key"),
    )?);
    Ok(crate::keys::RootKeys::new(
        local,
        config.root_key_specs()?,
        config.availability_spec()?,
    ))
}

async fn tenant_by_domain(store: &dyn Store, domain: &str) -> anyhow::Result<Tenant> {
    let domain = Domain::parse("domain", domain)?;
    store
        .tenant_by_domain(domain.as_str())
        .await
        .map_err(|e| match e {
            StoreError::NotFound => anyhow::anyhow!("no tenant has the domain {domain}"),
            other => other.into(),
        })
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Serve {
            config,
            insecure_dev_mailbox,
        } => with_runtime(config, move |c| serve::serve(c, insecure_dev_mailbox)),
        Command::Demo {
            config,
            insecure_dev_mailbox,
        } => with_runtime(config, move |c| serve::demo(c, insecure_dev_mailbox)),
        Command::Tenant(TenantCommand::Create {
            name,
            domains,
            config,
        }) => with_runtime(config, |config| async move {
            let (store, keys) = open_admin(&config).await?;
            let now = Clock::system().now();
            let (tenant, secret) =
                create_tenant(store.as_ref(), &keys, &name, &domains, now).await?;
            println!("Created tenant {} ({})", tenant.name, tenant.id);
            println!(
                "Admin token (shown once; store it now): {}",
                secret.as_str()
            );
            Ok(())
        }),
        Command::RootKey(RootKeyCommand::List { config }) => {
            with_runtime(config, |config| async move {
                let roots = root_keys(&config)?;
                for k in roots.list() {
                    match &k.problem {
                        None => println!("{}  {}  available", k.name, k.provider),
                        Some(p) => println!("{}  {}  NOT AVAILABLE: {p}", k.name, k.provider),
                    }
                }
                match roots.availability().describe() {
                    Some(at) => println!("availability keys: one per policy, {at}"),
                    None => println!(
                        "availability keys: none kept ([availability_key] is not configured)"
                    ),
                }
                Ok(())
            })
        }
        Command::RootKey(RootKeyCommand::Create { name, config }) => {
            with_runtime(config, |config| async move {
                let roots = root_keys(&config)?;
                if name == crate::keys::LOCAL {
                    anyhow::bail!(
                        "the built-in root key \"local\" is made when the server first starts"
                    );
                }
                let key = roots.create(&name)?;
                println!("Root key {name} is ready: {}", key.describe());
                Ok(())
            })
        }
        Command::Tenant(TenantCommand::Token {
            domain,
            label,
            config,
        }) => with_runtime(config, |config| async move {
            let (store, _) = open_admin(&config).await?;
            let tenant = tenant_by_domain(store.as_ref(), &domain).await?;
            let (token, secret, hash) = new_token(&tenant.id, &label, Clock::system().now())?;
            store.create_token(&token, &hash).await?;
            println!(
                "New admin token for {} (shown once; store it now): {}",
                tenant.name,
                secret.as_str()
            );
            Ok(())
        }),
        Command::PortalLog(PortalLogCommand::Verify {
            domain,
            head,
            config,
        }) => with_runtime(config, |config| async move {
            let expect = head
                .as_deref()
                .map(|h| parse_head(h).ok_or_else(|| anyhow::anyhow!(HEAD_FORMAT)))
                .transpose()?;
            let (store, _) = open_admin(&config).await?;
            let tenant = tenant_by_domain(store.as_ref(), &domain).await?;
            match verify_chain(store.as_ref(), &tenant.id, expect).await? {
                Ok(head) => {
                    println!(
                        "The portal log of {} is intact: {} entries. Head: {}:{}",
                        tenant.name,
                        head.entries,
                        head.entries,
                        hex::encode(head.hash)
                    );
                    Ok(())
                }
                Err(broken) => Err(anyhow::anyhow!(
                    "the portal log of {} has been tampered with: {broken}",
                    tenant.name
                )),
            }
        }),
        Command::Admin(cmd) => admin::run(*cmd),
        Command::Envelope(cmd) => {
            let stdin = std::io::stdin().lock();
            let stdout = std::io::stdout().lock();
            let result = match cmd {
                EnvelopeCommand::Seal {
                    key_hex,
                    context_hex,
                } => envelope::seal(&key_hex, &context_hex, stdin, stdout),
                EnvelopeCommand::Open {
                    key_hex,
                    context_hex,
                } => envelope::open(&key_hex, &context_hex, stdin, stdout),
            };
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(e),
            }
        }
    }
}
