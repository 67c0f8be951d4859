//! Configuration: a TOML file, then `SEALPOST_*` environment variables on top, then defaults.
//!
//! Every setting and its default is listed in `docs/CONFIGURATION.md`; keep the two in step (a test
//! checks that each field below is mentioned there).

pub mod root_keys;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::domain::networks::Network;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines (the default on a terminal).
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

/// How the connection to the SMTP relay is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain SMTP, upgraded with STARTTLS (required; refused if the relay does not offer it).
    Starttls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
    /// No encryption: only for a relay on the same host or a test server.
    None,
}

/// A password that never appears in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// How much one outsider may make the server do (`[limits]` in the file, `SEALPOST_LIMIT_*` in
/// the environment). Counted in the database, so every node shares them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Passcode tries (recipients' and senders') from one client address in 10 minutes.
    pub sign_in_tries_per_client: u32,
    /// Passcode tries on one link (or one sender's sign-in) in 10 minutes.
    pub sign_in_tries_per_link: u32,
    /// Sender passcodes one client address may ask for in an hour.
    pub sender_passcodes_per_client: u32,
    /// Sender passcodes asked for addresses of one domain in an hour.
    pub sender_passcodes_per_domain: u32,
    /// New recipients all of a tenant's recipients may forward its messages to in a day.
    pub forward_recipients_per_tenant: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            sign_in_tries_per_client: 30,
            sign_in_tries_per_link: 15,
            sender_passcodes_per_client: 10,
            sender_passcodes_per_domain: 100,
            forward_recipients_per_tenant: 1000,
        }
    }
}

/// Large attachments sent through the API in windows (`[uploads]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Uploads {
    /// Largest attachment, in bytes.
    pub max_attachment_size: u64,
    /// Bytes the attachments of one tenant's drafts may declare in all.
    pub max_bytes_per_tenant: u64,
    /// Drafts one tenant may have at once.
    pub max_drafts_per_tenant: u32,
    /// Bytes the attachments of one recipient's reply drafts may declare in all (recipients'
    /// drafts together take at most half of the tenant's bytes and drafts).
    pub max_bytes_per_recipient: u64,
    /// Reply drafts one recipient may have at once.
    pub max_drafts_per_recipient: u32,
    /// Plaintext bytes per window: a multiple of 16 KiB, from 64 KiB to 64 MiB (at least 5 MiB
    /// with S3, whose parts must be).
    pub window_size: u64,
    /// Windows one node seals at once; each holds about one window of memory.
    pub windows_at_once: u32,
    /// Seconds one window may take to arrive (it holds a sealing slot meanwhile).
    pub window_seconds: u64,
}

impl Default for Uploads {
    fn default() -> Self {
        Uploads {
            max_attachment_size: 2 * 1024 * 1024 * 1024,
            max_bytes_per_tenant: 20 * 1024 * 1024 * 1024,
            max_drafts_per_tenant: 100,
            max_bytes_per_recipient: 4 * 1024 * 1024 * 1024,
            max_drafts_per_recipient: 2,
            window_size: 8 * 1024 * 1024,
            windows_at_once: 4,
            window_seconds: 600,
        }
    }
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// The URL people reach this server at (used in links in emails). Defaults to `http://{listen}`.
    pub public_url: Option<String>,
    /// Directory for the database, keys and sealed blobs. Created with mode 0700.
    pub data_dir: PathBuf,
    /// A directory to serve the portal from (Trunk's `dist/`) instead of the one the binary
    /// carries; for portal development.
    pub dist_dir: Option<PathBuf>,
    pub log_format: LogFormat,
    /// Log filter in `tracing` syntax, e.g. `info` or `sealpost=debug,tower_http=info`.
    pub log_filter: String,
    /// Keep outgoing mail in a development mailbox shown at `/dev/mailbox` instead of sending it.
    /// Never enable this on a server real people use.
    pub dev_mailbox: bool,
    /// SMTP relay that notices are sent through (required unless `dev_mailbox` is on).
    pub smtp_host: Option<String>,
    /// SMTP relay port.
    pub smtp_port: u16,
    /// `starttls`, `tls` or `none`.
    pub smtp_tls: SmtpTls,
    /// SMTP user name, if the relay needs one.
    pub smtp_username: Option<String>,
    pub smtp_password: Option<Secret>,
    /// Largest message accepted for sealing, in bytes of content (bodies plus attachments).
    pub max_message_size: u64,
    /// A header your reverse proxy sets to the client's address (e.g. `X-Forwarded-For`; its last
    /// address is used). Without it, the connection's peer address is logged.
    pub client_address_header: Option<String>,
    /// Seconds a client has to send a request's headers; also the longest a kept-alive connection
    /// may sit idle.
    pub http_header_timeout_seconds: u64,
    /// Seconds a request body may stop arriving before the request ends.
    pub http_body_timeout_seconds: u64,
    /// Seconds an answer may wait for a client that does not read it before the connection ends.
    pub http_write_timeout_seconds: u64,
    /// Most HTTP connections open at once; one more is answered 503 and closed.
    pub http_max_connections: usize,
    /// Most HTTP connections from one client address (an IPv6 /64 counts as one) when clients
    /// connect directly; not applied with `client_address_header` (every connection is then the
    /// proxy's).
    pub http_max_connections_per_client: usize,
    /// Most requests of one client address handled at once (behind a reverse proxy too, by
    /// `client_address_header`); one more is answered 429.
    pub http_max_requests_per_client: usize,
    /// What one outsider may make the server do.
    pub limits: Limits,
    /// Attachments sent in windows.
    pub uploads: Uploads,
    /// The bearer token `/metrics` asks for. Unset: `/metrics` answers only clients on the same
    /// machine (loopback).
    pub metrics_token: Option<Secret>,
    /// Where the SMTP listener (the smart host for tenants' mail servers) listens, e.g.
    /// `0.0.0.0:2525`. Unset: no listener.
    pub smtp_listen: Option<SocketAddr>,
    /// The name the listener greets with and sends non-delivery reports from. Defaults to the
    /// public URL's host.
    pub smtp_listen_hostname: Option<String>,
    /// PEM certificate chain for STARTTLS on the listener (with `smtp_listen_key`). Without
    /// both, STARTTLS and SMTP AUTH are not offered.
    pub smtp_listen_cert: Option<PathBuf>,
    /// PEM private key for `smtp_listen_cert`.
    pub smtp_listen_key: Option<PathBuf>,
    /// Largest message the listener accepts, in bytes as received (encoded).
    pub smtp_listen_max_size: u64,
    /// The DNS server (`address:port`) domain proofs ask for TXT records. Unset: the system's
    /// resolver (`/etc/resolv.conf`).
    pub dns_server: Option<SocketAddr>,
    /// Let tenants list connector networks wider than /16 (IPv4) or /48 (IPv6).
    pub connector_allow_broad_networks: bool,
    /// TCP load balancers in front of the listener (addresses or networks such as `10.0.0.5` or
    /// `10.0.0.0/24`) that start every connection with a PROXY protocol header (v1 or v2), so
    /// connection limits and connector allow-lists see the real client. A connection from one of
    /// them without a valid header is closed; from anywhere else, a header is not expected.
    pub smtp_listen_proxy_from: Vec<String>,
    /// The database: unset, SQLite in the data directory (one node); or a PostgreSQL URL,
    /// `postgres://user:password@host:5432/sealpost` (several nodes; add `?sslmode=verify-full`
    /// for TLS). Never logged.
    pub database_url: Option<Secret>,
    /// Most connections a node opens to PostgreSQL.
    pub database_max_connections: u32,
    /// Where sealed parts are kept: `directory` (`blobs/` in the data directory) or `s3`.
    pub blob_store: BlobStoreKind,
    /// The S3-compatible endpoint, e.g. `https://s3.eu-north-1.amazonaws.com` or
    /// `http://127.0.0.1:9000` (plain http only for a store on the same host or network).
    /// Unset: AWS.
    pub s3_endpoint: Option<String>,
    /// The bucket (required with `blob_store = "s3"`).
    pub s3_bucket: Option<String>,
    /// The region.
    pub s3_region: String,
    /// A key prefix inside the bucket, e.g. `sealpost/`.
    pub s3_prefix: String,
    /// Access key id.
    pub s3_access_key_id: Option<String>,
    /// Secret access key (never logged).
    pub s3_secret_access_key: Option<Secret>,
    /// Root keys that data encryption policies may name (`[[root_keys]]` tables; the file only).
    /// The built-in `local` root key (`root.key` in the data directory) is always there.
    pub root_keys: Vec<RootKeyConfig>,
    /// OpenID Connect providers recipients may sign in with where a branding template allows
    /// social sign-in (`[[identity_providers]]` tables; the file only). Each is registered with
    /// the redirect URI `{public_url}/api/sign-in/callback`.
    pub identity_providers: Vec<IdentityProviderConfig>,
    /// Where each data encryption policy's availability key is made and kept (the
    /// `[availability_key]` table; the file only). Unset: policies have none, and cannot be
    /// recovered if both their root keys are lost.
    pub availability_key: Option<AvailabilityKeyConfig>,
}

/// The `[availability_key]` table: the operator's store of availability keys, one per data
/// encryption policy (a key file in `directory`, or a key in a PKCS#11 token), which can open the
/// policy's data key when neither of the tenant's root keys answers, through an explicit, audited
/// recovery only.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityKeyConfig {
    /// `file` or `pkcs11`.
    pub provider: RootKeyKind,
    /// For `file`: the directory the key files are made in (not the data directory, whose backups
    /// go with the database's).
    pub directory: Option<PathBuf>,
    /// For `pkcs11`: the module, e.g. `/usr/lib/softhsm/libsofthsm2.so`.
    pub module: Option<PathBuf>,
    /// For `pkcs11`: the token's label.
    pub token: Option<String>,
    /// For `pkcs11`: a file holding the user PIN.
    pub pin_file: Option<PathBuf>,
    /// For `pkcs11`: an environment variable holding the user PIN.
    pub pin_env: Option<String>,
}

/// One `[[identity_providers]]` table: an OpenID Connect provider (Google, Microsoft and Yahoo are
/// ordinary ones).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityProviderConfig {
    /// The name it has in URLs and logs (letters, digits, `-`, `_`; at most 32), e.g. `google`.
    pub id: String,
    /// What the portal's button says after "Sign in with", e.g. `Google`.
    pub name: String,
    /// The issuer, e.g. `https://accounts.google.com`; its discovery document is read from
    /// `{issuer}/.well-known/openid-configuration`. `https` unless the host is loopback.
    pub issuer: String,
    /// The client id Sealpost is registered under.
    pub client_id: String,
    /// The client secret (never logged).
    pub client_secret: Secret,
}

/// Where sealed parts are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlobStoreKind {
    /// `blobs/` in the data directory (one node).
    Directory,
    /// An S3-compatible object store (several nodes).
    S3,
}

/// Which kind of key provider holds a root key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RootKeyKind {
    /// A 32-byte key file, created on first use with mode 0600.
    File,
    /// A non-extractable AES-256 key in a PKCS#11 token (an HSM).
    Pkcs11,
}

/// One `[[root_keys]]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootKeyConfig {
    /// The name policies use for it (letters, digits, `-`, `_`, `.`; not `local`).
    pub name: String,
    /// `file` or `pkcs11`.
    pub provider: RootKeyKind,
    /// For `file`: the key file.
    pub path: Option<PathBuf>,
    /// For `pkcs11`: the module, e.g. `/usr/lib/softhsm/libsofthsm2.so`.
    pub module: Option<PathBuf>,
    /// For `pkcs11`: the token's label.
    pub token: Option<String>,
    /// For `pkcs11`: the key's label in the token.
    pub key_label: Option<String>,
    /// For `pkcs11`: a file holding the user PIN.
    pub pin_file: Option<PathBuf>,
    /// For `pkcs11`: an environment variable holding the user PIN.
    pub pin_env: Option<String>,
    /// The tenant it belongs to: its id, or one of its proven domains. Only that tenant's
    /// policies may name it; unset, no tenant's may.
    #[serde(default)]
    pub tenant: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            data_dir: PathBuf::from("data"),
            dist_dir: None,
            log_format: LogFormat::Pretty,
            log_filter: "info".to_owned(),
            dev_mailbox: false,
            smtp_host: None,
            smtp_port: 587,
            smtp_tls: SmtpTls::Starttls,
            smtp_username: None,
            smtp_password: None,
            max_message_size: 25 * 1024 * 1024,
            client_address_header: None,
            http_header_timeout_seconds: 10,
            http_body_timeout_seconds: 30,
            http_write_timeout_seconds: 60,
            http_max_connections: 1024,
            http_max_connections_per_client: 64,
            http_max_requests_per_client: 32,
            limits: Limits::default(),
            uploads: Uploads::default(),
            metrics_token: None,
            smtp_listen: None,
            smtp_listen_hostname: None,
            smtp_listen_cert: None,
            smtp_listen_key: None,
            smtp_listen_max_size: 36 * 1024 * 1024,
            smtp_listen_proxy_from: Vec::new(),
            connector_allow_broad_networks: false,
            dns_server: None,
            database_url: None,
            database_max_connections: 10,
            blob_store: BlobStoreKind::Directory,
            s3_endpoint: None,
            s3_bucket: None,
            s3_region: "us-east-1".to_owned(),
            s3_prefix: String::new(),
            s3_access_key_id: None,
            s3_secret_access_key: None,
            root_keys: Vec::new(),
            identity_providers: Vec::new(),
            availability_key: None,
        }
    }
}

/// A configuration that cannot be used, with a sentence saying why.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has unknown or mistyped settings.
    #[error("the configuration file {path} is not valid: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's explanation.
        message: String,
    },
    /// A `[[root_keys]]` table cannot be used.
    #[error("the root key settings are not valid: {0}")]
    RootKey(String),
    /// A setting (from the file or the environment) has a value that cannot be used.
    #[error("the setting {name} is not valid: {message}")]
    Setting {
        /// The setting.
        name: &'static str,
        /// Why.
        message: String,
    },
    /// An environment variable has a value of the wrong kind.
    #[error("the environment variable {name} is not valid: {message}")]
    Env {
        /// The variable.
        name: &'static str,
        /// Why.
        message: String,
    },
}

impl Config {
    /// Load from an optional file and the process environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        Self::load_with(file, |name| std::env::var(name).ok())
    }

    /// Load from an optional file and an environment given as a lookup function (for tests).
    pub fn load_with(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                toml::from_str(&text).map_err(|e| ConfigError::Parse {
                    path: path.to_owned(),
                    message: e.message().to_owned(),
                })?
            }
            None => Config::default(),
        };
        if let Some(v) = env("SEALPOST_LISTEN") {
            config.listen = v.parse().map_err(|_| ConfigError::Env {
                name: "SEALPOST_LISTEN",
                message: format!("expected an address like 127.0.0.1:8080, got {v:?}"),
            })?;
        }
        if let Some(v) = env("SEALPOST_PUBLIC_URL") {
            config.public_url = Some(v);
        }
        if let Some(v) = env("SEALPOST_DATA_DIR") {
            config.data_dir = PathBuf::from(v);
        }
        if let Some(v) = env("SEALPOST_DIST_DIR") {
            config.dist_dir = Some(PathBuf::from(v));
        }
        if let Some(v) = env("SEALPOST_LOG_FORMAT") {
            config.log_format = match v.as_str() {
                "pretty" => LogFormat::Pretty,
                "json" => LogFormat::Json,
                _ => {
                    return Err(ConfigError::Env {
                        name: "SEALPOST_LOG_FORMAT",
                        message: format!("expected \"pretty\" or \"json\", got {v:?}"),
                    });
                }
            };
        }
        if let Some(v) = env("SEALPOST_LOG") {
            config.log_filter = v;
        }
        if let Some(v) = env("SEALPOST_DEV_MAILBOX") {
            config.dev_mailbox = match v.as_str() {
                "1" | "true" | "yes" => true,
                "0" | "false" | "no" => false,
                _ => {
                    return Err(ConfigError::Env {
                        name: "SEALPOST_DEV_MAILBOX",
                        message: format!("expected true or false, got {v:?}"),
                    });
                }
            };
        }
        if let Some(v) = env("SEALPOST_SMTP_HOST") {
            config.smtp_host = Some(v);
        }
        if let Some(v) = env("SEALPOST_SMTP_PORT") {
            config.smtp_port = v.parse().map_err(|_| ConfigError::Env {
                name: "SEALPOST_SMTP_PORT",
                message: format!("expected a port number, got {v:?}"),
            })?;
        }
        if let Some(v) = env("SEALPOST_SMTP_TLS") {
            config.smtp_tls = match v.as_str() {
                "starttls" => SmtpTls::Starttls,
                "tls" => SmtpTls::Tls,
                "none" => SmtpTls::None,
                _ => {
                    return Err(ConfigError::Env {
                        name: "SEALPOST_SMTP_TLS",
                        message: format!("expected starttls, tls or none, got {v:?}"),
                    });
                }
            };
        }
        if let Some(v) = env("SEALPOST_SMTP_USERNAME") {
            config.smtp_username = Some(v);
        }
        if let Some(v) = env("SEALPOST_SMTP_PASSWORD") {
            config.smtp_password = Some(Secret(v));
        }
        if let Some(v) = env("SEALPOST_MAX_MESSAGE_SIZE") {
            config.max_message_size = v.parse().map_err(|_| ConfigError::Env {
                name: "SEALPOST_MAX_MESSAGE_SIZE",
                message: format!("expected a number of bytes, got {v:?}"),
            })?;
        }
        if let Some(v) = env("SEALPOST_CLIENT_ADDRESS_HEADER") {
            config.client_address_header = Some(v);
        }
        for (name, target) in [
            (
                "SEALPOST_HTTP_HEADER_TIMEOUT_SECONDS",
                &mut config.http_header_timeout_seconds,
            ),
            (
                "SEALPOST_HTTP_BODY_TIMEOUT_SECONDS",
                &mut config.http_body_timeout_seconds,
            ),
            (
                "SEALPOST_HTTP_WRITE_TIMEOUT_SECONDS",
                &mut config.http_write_timeout_seconds,
            ),
        ] {
            if let Some(v) = env(name) {
                *target = v.parse().map_err(|_| ConfigError::Env {
                    name,
                    message: format!("expected a number of seconds, got {v:?}"),
                })?;
            }
        }
        for (name, target) in [
            (
                "SEALPOST_HTTP_MAX_CONNECTIONS",
                &mut config.http_max_connections,
            ),
            (
                "SEALPOST_HTTP_MAX_CONNECTIONS_PER_CLIENT",
                &mut config.http_max_connections_per_client,
            ),
            (
                "SEALPOST_HTTP_MAX_REQUESTS_PER_CLIENT",
                &mut config.http_max_requests_per_client,
            ),
        ] {
            if let Some(v) = env(name) {
                *target = v.parse().map_err(|_| ConfigError::Env {
                    name,
                    message: format!("expected a number of connections, got {v:?}"),
                })?;
            }
        }
        for (name, target) in [
            (
                "SEALPOST_LIMIT_SIGN_IN_TRIES_PER_CLIENT",
                &mut config.limits.sign_in_tries_per_client,
            ),
            (
                "SEALPOST_LIMIT_SIGN_IN_TRIES_PER_LINK",
                &mut config.limits.sign_in_tries_per_link,
            ),
            (
                "SEALPOST_LIMIT_SENDER_PASSCODES_PER_CLIENT",
                &mut config.limits.sender_passcodes_per_client,
            ),
            (
                "SEALPOST_LIMIT_SENDER_PASSCODES_PER_DOMAIN",
                &mut config.limits.sender_passcodes_per_domain,
            ),
            (
                "SEALPOST_LIMIT_FORWARD_RECIPIENTS_PER_TENANT",
                &mut config.limits.forward_recipients_per_tenant,
            ),
        ] {
            if let Some(v) = env(name) {
                *target = v.parse().map_err(|_| ConfigError::Env {
                    name,
                    message: format!("expected a whole number, got {v:?}"),
                })?;
            }
        }
        for (name, target) in [
            (
                "SEALPOST_UPLOAD_MAX_ATTACHMENT_SIZE",
                &mut config.uploads.max_attachment_size,
            ),
            (
                "SEALPOST_UPLOAD_MAX_BYTES_PER_TENANT",
                &mut config.uploads.max_bytes_per_tenant,
            ),
            (
                "SEALPOST_UPLOAD_MAX_BYTES_PER_RECIPIENT",
                &mut config.uploads.max_bytes_per_recipient,
            ),
            (
                "SEALPOST_UPLOAD_WINDOW_SIZE",
                &mut config.uploads.window_size,
            ),
            (
                "SEALPOST_UPLOAD_WINDOW_SECONDS",
                &mut config.uploads.window_seconds,
            ),
        ] {
            if let Some(v) = env(name) {
                *target = v.parse().map_err(|_| ConfigError::Env {
                    name,
                    message: format!("expected a number of bytes, got {v:?}"),
                })?;
            }
        }
        for (name, target) in [
            (
                "SEALPOST_UPLOAD_MAX_DRAFTS_PER_TENANT",
                &mut config.uploads.max_drafts_per_tenant,
            ),
            (
                "SEALPOST_UPLOAD_MAX_DRAFTS_PER_RECIPIENT",
                &mut config.uploads.max_drafts_per_recipient,
            ),
            (
                "SEALPOST_UPLOAD_WINDOWS_AT_ONCE",
                &mut config.uploads.windows_at_once,
            ),
        ] {
            if let Some(v) = env(name) {
                *target = v.parse().map_err(|_| ConfigError::Env {
                    name,
                    message: format!("expected a whole number, got {v:?}"),
                })?;
            }
        }
        if let Some(v) = env("SEALPOST_SMTP_LISTEN") {
            config.smtp_listen = Some(v.parse().map_err(|_| ConfigError::Env {
                name: "SEALPOST_SMTP_LISTEN",
                message: format!("expected an address like 0.0.0.0:2525, got {v:?}"),
            })?);
        }
        if let Some(v) = env("SEALPOST_SMTP_LISTEN_HOSTNAME") {
            config.smtp_listen_hostname = Some(v);
        }
        if let Some(v) = env("SEALPOST_SMTP_LISTEN_CERT") {
            config.smtp_listen_cert = Some(PathBuf::from(v));
        }
        if let Some(v) = env("SEALPOST_SMTP_LISTEN_KEY") {
            config.smtp_listen_key = Some(PathBuf::from(v));
        }
        if let Some(v) = env("SEALPOST_SMTP_LISTEN_MAX_SIZE") {
            config.smtp_listen_max_size = v.parse().map_err(|_| ConfigError::Env {
                name: "SEALPOST_SMTP_LISTEN_MAX_SIZE",
                message: format!("expected a number of bytes, got {v:?}"),
            })?;
        }
        if let Some(v) = env("SEALPOST_DNS_SERVER") {
            config.dns_server = Some(v.parse().map_err(|_| ConfigError::Env {
                name: "SEALPOST_DNS_SERVER",
                message: format!("expected an address like 192.0.2.53:53, got {v:?}"),
            })?);
        }
        if let Some(v) = env("SEALPOST_METRICS_TOKEN") {
            config.metrics_token = Some(Secret(v));
        }
        if let Some(v) = env("SEALPOST_CONNECTOR_ALLOW_BROAD_NETWORKS") {
            config.connector_allow_broad_networks = match v.as_str() {
                "1" | "true" => true,
                "0" | "false" => false,
                _ => {
                    return Err(ConfigError::Env {
                        name: "SEALPOST_CONNECTOR_ALLOW_BROAD_NETWORKS",
                        message: format!("expected true or false, got {v:?}"),
                    });
                }
            };
        }
        if let Some(v) = env("SEALPOST_SMTP_LISTEN_PROXY_FROM") {
            config.smtp_listen_proxy_from = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(v) = env("SEALPOST_BLOB_STORE") {
            config.blob_store = match v.as_str() {
                "directory" => BlobStoreKind::Directory,
                "s3" => BlobStoreKind::S3,
                _ => {
                    return Err(ConfigError::Env {
                        name: "SEALPOST_BLOB_STORE",
                        message: format!("expected directory or s3, got {v:?}"),
                    });
                }
            };
        }
        if let Some(v) = env("SEALPOST_S3_ENDPOINT") {
            config.s3_endpoint = Some(v);
        }
        if let Some(v) = env("SEALPOST_S3_BUCKET") {
            config.s3_bucket = Some(v);
        }
        if let Some(v) = env("SEALPOST_S3_REGION") {
            config.s3_region = v;
        }
        if let Some(v) = env("SEALPOST_S3_PREFIX") {
            config.s3_prefix = v;
        }
        if let Some(v) = env("SEALPOST_S3_ACCESS_KEY_ID") {
            config.s3_access_key_id = Some(v);
        }
        if let Some(v) = env("SEALPOST_DATABASE_URL") {
            config.database_url = Some(Secret(v));
        }
        if let Some(v) = env("SEALPOST_DATABASE_MAX_CONNECTIONS") {
            config.database_max_connections = v.parse().map_err(|_| ConfigError::Env {
                name: "SEALPOST_DATABASE_MAX_CONNECTIONS",
                message: format!("expected a number of connections, got {v:?}"),
            })?;
        }
        if let Some(v) = env("SEALPOST_S3_SECRET_ACCESS_KEY") {
            config.s3_secret_access_key = Some(Secret(v));
        }
        config.root_key_specs()?;
        config.availability_spec()?;
        config.smtp_proxies()?;
        config.check_identity_providers()?;
        config.check_uploads()?;
        // An empty portal directory, from the file or the environment, is none: never the
        // working directory (which may hold root.key).
        config.dist_dir = config.dist_dir.filter(|dir| !dir.as_os_str().is_empty());
        Ok(config)
    }

    /// Whether the `[uploads]` settings can be used.
    pub fn check_uploads(&self) -> Result<(), ConfigError> {
        const KIB: u64 = 1024;
        let u = &self.uploads;
        let chunk = sealpost_envelope::chunked::CHUNK_SIZE as u64;
        let min = if self.blob_store == BlobStoreKind::S3 {
            5 * KIB * KIB
        } else {
            64 * KIB
        };
        if !u.window_size.is_multiple_of(chunk)
            || u.window_size < min
            || u.window_size > 64 * KIB * KIB
        {
            return Err(ConfigError::Setting {
                name: "uploads.window_size",
                message: format!(
                    "{} is not a multiple of 16 KiB from {} KiB to 64 MiB",
                    u.window_size,
                    min / KIB
                ),
            });
        }
        if self.blob_store == BlobStoreKind::S3
            && u.max_attachment_size.div_ceil(u.window_size) > 10_000
        {
            return Err(ConfigError::Setting {
                name: "uploads.window_size",
                message: "an S3 multipart upload has at most 10,000 parts: with this window \
                          size, uploads.max_attachment_size needs more"
                    .into(),
            });
        }
        if !(1..=3600).contains(&u.window_seconds) {
            return Err(ConfigError::Setting {
                name: "uploads.window_seconds",
                message: format!("{} is not from 1 to 3600", u.window_seconds),
            });
        }
        if u.windows_at_once == 0 {
            return Err(ConfigError::Setting {
                name: "uploads.windows_at_once",
                message: "at least one window must be allowed".into(),
            });
        }
        Ok(())
    }

    /// The identity providers' settings, checked: valid, distinct ids and an issuer URL that is
    /// `https` (or `http` on loopback, for a provider on the same machine).
    pub fn check_identity_providers(&self) -> Result<(), ConfigError> {
        let bad = |message: String| ConfigError::Setting {
            name: "identity_providers",
            message,
        };
        for (i, p) in self.identity_providers.iter().enumerate() {
            let id_ok = !p.id.is_empty()
                && p.id.len() <= 32
                && p.id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !id_ok {
                return Err(bad(format!(
                    "the id {:?} is not letters, digits, - and _ (at most 32)",
                    p.id
                )));
            }
            if self.identity_providers[..i].iter().any(|o| o.id == p.id) {
                return Err(bad(format!("two providers have the id {:?}", p.id)));
            }
            if p.name.trim().is_empty() || p.name.chars().count() > 64 {
                return Err(bad(format!(
                    "the provider {:?} needs a name of at most 64 characters",
                    p.id
                )));
            }
            let url = url::Url::parse(&p.issuer)
                .map_err(|e| bad(format!("the issuer of {:?} is not a URL: {e}", p.id)))?;
            let loopback = match url.host() {
                Some(url::Host::Domain(d)) => d == "localhost",
                Some(url::Host::Ipv4(a)) => a.is_loopback(),
                Some(url::Host::Ipv6(a)) => a.is_loopback(),
                None => false,
            };
            if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
                return Err(bad(format!(
                    "the issuer of {:?} must be an https URL (http only on this machine)",
                    p.id
                )));
            }
        }
        Ok(())
    }

    /// The load balancers trusted to send a PROXY protocol header, checked.
    pub fn smtp_proxies(&self) -> Result<Vec<Network>, ConfigError> {
        self.smtp_listen_proxy_from
            .iter()
            .map(|n| {
                Network::parse("smtp_listen_proxy_from", n).map_err(|e| ConfigError::Setting {
                    name: "smtp_listen_proxy_from",
                    message: e.message,
                })
            })
            .collect()
    }

    /// The configured root keys, checked: valid and distinct names, and each one's settings.
    pub fn root_key_specs(&self) -> Result<Vec<(String, root_keys::RootKeySpec)>, ConfigError> {
        let mut out: Vec<(String, root_keys::RootKeySpec)> = Vec::new();
        for c in &self.root_keys {
            if !root_keys::valid_name(&c.name) {
                return Err(ConfigError::RootKey(format!(
                    "{:?} cannot name a root key: use up to 64 letters, digits, '-', '_' or '.', and not \"local\" (the built-in key)",
                    c.name
                )));
            }
            if out.iter().any(|(n, _)| *n == c.name) {
                return Err(ConfigError::RootKey(format!(
                    "two root keys are named {:?}",
                    c.name
                )));
            }
            let spec = root_keys::RootKeySpec::from_config(c).map_err(ConfigError::RootKey)?;
            out.push((c.name.clone(), spec));
        }
        Ok(out)
    }

    /// Where availability keys are kept, checked; `None` if the operator keeps none.
    pub fn availability_spec(&self) -> Result<Option<root_keys::AvailabilitySpec>, ConfigError> {
        match &self.availability_key {
            None => Ok(None),
            Some(c) => root_keys::AvailabilitySpec::from_config(c, &self.data_dir)
                .map(Some)
                .map_err(ConfigError::RootKey),
        }
    }

    /// The SMTP listener's host name: as configured, else the public URL's host.
    pub fn smtp_listen_hostname(&self) -> String {
        self.smtp_listen_hostname.clone().unwrap_or_else(|| {
            url::Url::parse(&self.public_url())
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_else(|| "localhost".to_owned())
        })
    }

    /// The public URL, defaulting to `http://{listen}`.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_listen_on_loopback() {
        let c = Config::load_with(None, env(&[])).unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.public_url(), "http://127.0.0.1:8080");
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sealpost.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9000\"\ndev_mailbox = true\n").unwrap();
        let c =
            Config::load_with(Some(&file), env(&[("SEALPOST_LISTEN", "127.0.0.1:9100")])).unwrap();
        assert_eq!(c.listen.port(), 9100);
        assert!(c.dev_mailbox);
    }

    #[test]
    fn the_portal_is_the_one_built_in_unless_a_directory_is_named() {
        assert_eq!(Config::default().dist_dir, None);
        let c = Config::load_with(None, env(&[("SEALPOST_DIST_DIR", "/srv/dist")])).unwrap();
        assert_eq!(c.dist_dir, Some(PathBuf::from("/srv/dist")));
        // an empty value is no directory, not the working directory (which may hold root.key)
        let c = Config::load_with(None, env(&[("SEALPOST_DIST_DIR", "")])).unwrap();
        assert_eq!(c.dist_dir, None);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sealpost.toml");
        std::fs::write(&file, "dist_dir = \"\"\n").unwrap();
        assert_eq!(
            Config::load_with(Some(&file), env(&[])).unwrap().dist_dir,
            None
        );
    }

    #[test]
    fn the_smtp_password_never_shows_in_debug_output() {
        let c = Config::load_with(None, env(&[("SEALPOST_SMTP_PASSWORD", "hunter2")])).unwrap();
        assert_eq!(c.smtp_password, Some(Secret("hunter2".into())));
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn unknown_settings_and_bad_values_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sealpost.toml");
        std::fs::write(&file, "listne = \"x\"\n").unwrap();
        let err = Config::load_with(Some(&file), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("listne"), "{err}");
        let err = Config::load_with(None, env(&[("SEALPOST_LISTEN", "nowhere")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("SEALPOST_LISTEN"), "{err}");
    }

    #[test]
    fn root_keys_are_checked_when_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sealpost.toml");
        let load = |text: &str| {
            std::fs::write(&file, text).unwrap();
            Config::load_with(Some(&file), env(&[])).map_err(|e| e.to_string())
        };
        let ok = load(
            "[[root_keys]]\nname = \"vault-a\"\nprovider = \"pkcs11\"\nmodule = \"/usr/lib/softhsm/libsofthsm2.so\"\ntoken = \"A\"\nkey_label = \"root\"\npin_env = \"PIN_A\"\n\n[[root_keys]]\nname = \"backup\"\nprovider = \"file\"\npath = \"/srv/backup.key\"\n",
        )
        .unwrap();
        assert_eq!(ok.root_key_specs().unwrap().len(), 2);
        for (text, says) in [
            (
                "[[root_keys]]\nname = \"local\"\nprovider = \"file\"\npath = \"/x\"\n",
                "built-in",
            ),
            (
                "[[root_keys]]\nname = \"a b\"\nprovider = \"file\"\npath = \"/x\"\n",
                "cannot name",
            ),
            (
                "[[root_keys]]\nname = \"a\"\nprovider = \"file\"\n",
                "needs `path`",
            ),
            (
                "[[root_keys]]\nname = \"a\"\nprovider = \"pkcs11\"\nmodule = \"/m\"\ntoken = \"T\"\nkey_label = \"k\"\n",
                "pin_file",
            ),
            (
                "[[root_keys]]\nname = \"a\"\nprovider = \"pkcs11\"\nmodule = \"/m\"\ntoken = \"T\"\nkey_label = \"k\"\npin_file = \"/p\"\npin_env = \"P\"\n",
                "exactly one",
            ),
            (
                "[[root_keys]]\nname = \"a\"\nprovider = \"file\"\npath = \"/x\"\n[[root_keys]]\nname = \"a\"\nprovider = \"file\"\npath = \"/y\"\n",
                "two root keys",
            ),
            (
                "[[root_keys]]\nname = \"a\"\nprovider = \"pkcs11\"\nmodule = \"/m\"\ntoken = \"T\"\nkey_label = \"k\"\npin = \"1234\"\n",
                "pin",
            ),
        ] {
            let err = load(text).unwrap_err();
            assert!(err.contains(says), "{text}: {err}");
        }
    }

    #[test]
    fn the_availability_key_store_is_checked_when_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let load = |toml: &str| {
            let path = dir.path().join("sealpost.toml");
            std::fs::write(&path, format!("data_dir = \"{}\"\n{toml}", data.display())).unwrap();
            Config::load_with(Some(&path), |_| None)
        };
        let ok = load(
            "[availability_key]\nprovider = \"pkcs11\"\nmodule = \"/m\"\ntoken = \"T\"\npin_env = \"P\"\n",
        )
        .unwrap();
        assert!(matches!(
            ok.availability_spec().unwrap(),
            Some(root_keys::AvailabilitySpec::Pkcs11 { .. })
        ));
        for (toml, why) in [
            (
                format!("[availability_key]\nprovider = \"file\"\ndirectory = \"{}\"\n", data.join("avail").display()),
                "outside the data directory",
            ),
            (
                format!(
                    "[availability_key]\nprovider = \"file\"\ndirectory = \"{}\"\n",
                    dir.path().join("other/../data/./avail").display()
                ),
                "outside the data directory",
            ),
            ("[availability_key]\nprovider = \"file\"\n".to_owned(), "needs `directory`"),
            (
                "[availability_key]\nprovider = \"pkcs11\"\nmodule = \"/m\"\ntoken = \"T\"\n".to_owned(),
                "exactly one of `pin_file` and `pin_env`",
            ),
            (
                "[availability_key]\nprovider = \"pkcs11\"\nmodule = \"/m\"\ntoken = \"T\"\npin_env = \"P\"\ndirectory = \"/x\"\n".to_owned(),
                "does not go with it",
            ),
        ] {
            let e = load(&toml).unwrap_err().to_string();
            assert!(e.contains(why), "{toml}: {e}");
        }
    }

    #[test]
    fn upload_windows_must_be_whole_chunks_and_large_enough_for_s3() {
        let load = |toml: &str, env: &[(&str, &str)]| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("sealpost.toml");
            std::fs::write(&path, toml).unwrap();
            let env: Vec<(String, String)> = env
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect();
            Config::load_with(Some(&path), |name| {
                env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
            })
        };
        let ok = load("[uploads]\nwindow_size = 65536\nwindows_at_once = 2\n", &[]).unwrap();
        assert_eq!(ok.uploads.window_size, 65536);
        assert_eq!(
            load("", &[("SEALPOST_UPLOAD_WINDOW_SIZE", "16777216")])
                .unwrap()
                .uploads
                .window_size,
            16 << 20
        );
        for (toml, env) in [
            ("[uploads]\nwindow_size = 65537\n", None),
            ("[uploads]\nwindow_size = 16384\n", None),
            ("[uploads]\nwindow_size = 134217728\n", None),
            ("[uploads]\nwindows_at_once = 0\n", None),
            (
                "blob_store = \"s3\"\ns3_bucket = \"b\"\n[uploads]\nwindow_size = 1048576\n",
                None,
            ),
            (
                "blob_store = \"s3\"\ns3_bucket = \"b\"\n[uploads]\nwindow_size = 5242880\nmax_attachment_size = 60000000000\n",
                None,
            ),
            ("", Some(("SEALPOST_UPLOAD_WINDOW_SIZE", "lots"))),
        ] {
            let env: Vec<(&str, &str)> = env.into_iter().collect();
            let e = load(toml, &env).unwrap_err().to_string();
            assert!(e.contains("uploads") || e.contains("UPLOAD"), "{toml}: {e}");
        }
    }

    #[test]
    fn every_setting_is_documented() {
        let doc = include_str!("../../docs/CONFIGURATION.md");
        for name in [
            "listen",
            "public_url",
            "data_dir",
            "dist_dir",
            "log_format",
            "log_filter",
            "dev_mailbox",
            "smtp_host",
            "smtp_port",
            "smtp_tls",
            "smtp_username",
            "smtp_password",
            "max_message_size",
            "SEALPOST_SMTP_HOST",
            "SEALPOST_SMTP_PORT",
            "SEALPOST_SMTP_TLS",
            "SEALPOST_SMTP_USERNAME",
            "SEALPOST_SMTP_PASSWORD",
            "SEALPOST_MAX_MESSAGE_SIZE",
            "SEALPOST_LISTEN",
            "SEALPOST_PUBLIC_URL",
            "SEALPOST_DATA_DIR",
            "SEALPOST_DIST_DIR",
            "SEALPOST_LOG_FORMAT",
            "SEALPOST_LOG",
            "SEALPOST_DEV_MAILBOX",
            "SEALPOST_CONFIG",
            "smtp_listen",
            "smtp_listen_hostname",
            "smtp_listen_cert",
            "smtp_listen_key",
            "smtp_listen_max_size",
            "smtp_listen_proxy_from",
            "dns_server",
            "SEALPOST_DNS_SERVER",
            "metrics_token",
            "SEALPOST_METRICS_TOKEN",
            "connector_allow_broad_networks",
            "SEALPOST_CONNECTOR_ALLOW_BROAD_NETWORKS",
            "SEALPOST_SMTP_LISTEN_PROXY_FROM",
            "http_header_timeout_seconds",
            "http_body_timeout_seconds",
            "http_write_timeout_seconds",
            "SEALPOST_HTTP_WRITE_TIMEOUT_SECONDS",
            "http_max_connections",
            "http_max_connections_per_client",
            "SEALPOST_HTTP_HEADER_TIMEOUT_SECONDS",
            "SEALPOST_HTTP_BODY_TIMEOUT_SECONDS",
            "SEALPOST_HTTP_MAX_CONNECTIONS",
            "http_max_requests_per_client",
            "SEALPOST_HTTP_MAX_REQUESTS_PER_CLIENT",
            "SEALPOST_HTTP_MAX_CONNECTIONS_PER_CLIENT",
            "limits",
            "sign_in_tries_per_client",
            "sign_in_tries_per_link",
            "sender_passcodes_per_client",
            "sender_passcodes_per_domain",
            "SEALPOST_LIMIT_SIGN_IN_TRIES_PER_CLIENT",
            "SEALPOST_LIMIT_SIGN_IN_TRIES_PER_LINK",
            "SEALPOST_LIMIT_SENDER_PASSCODES_PER_CLIENT",
            "SEALPOST_LIMIT_SENDER_PASSCODES_PER_DOMAIN",
            "forward_recipients_per_tenant",
            "SEALPOST_LIMIT_FORWARD_RECIPIENTS_PER_TENANT",
            "max_attachment_size",
            "max_bytes_per_tenant",
            "max_drafts_per_tenant",
            "max_bytes_per_recipient",
            "max_drafts_per_recipient",
            "window_size",
            "windows_at_once",
            "window_seconds",
            "SEALPOST_UPLOAD_WINDOW_SECONDS",
            "SEALPOST_UPLOAD_MAX_ATTACHMENT_SIZE",
            "SEALPOST_UPLOAD_MAX_BYTES_PER_TENANT",
            "SEALPOST_UPLOAD_MAX_DRAFTS_PER_TENANT",
            "SEALPOST_UPLOAD_MAX_BYTES_PER_RECIPIENT",
            "SEALPOST_UPLOAD_MAX_DRAFTS_PER_RECIPIENT",
            "SEALPOST_UPLOAD_WINDOW_SIZE",
            "SEALPOST_UPLOAD_WINDOWS_AT_ONCE",
            "SEALPOST_SMTP_LISTEN",
            "SEALPOST_SMTP_LISTEN_HOSTNAME",
            "SEALPOST_SMTP_LISTEN_CERT",
            "SEALPOST_SMTP_LISTEN_KEY",
            "SEALPOST_SMTP_LISTEN_MAX_SIZE",
            "blob_store",
            "s3_endpoint",
            "s3_bucket",
            "s3_region",
            "s3_prefix",
            "s3_access_key_id",
            "s3_secret_access_key",
            "database_url",
            "database_max_connections",
            "SEALPOST_DATABASE_URL",
            "SEALPOST_DATABASE_MAX_CONNECTIONS",
            "SEALPOST_BLOB_STORE",
            "SEALPOST_S3_ENDPOINT",
            "SEALPOST_S3_BUCKET",
            "SEALPOST_S3_REGION",
            "SEALPOST_S3_PREFIX",
            "SEALPOST_S3_ACCESS_KEY_ID",
            "SEALPOST_S3_SECRET_ACCESS_KEY",
            "root_keys",
            "name",
            "provider",
            "path",
            "module",
            "token",
            "key_label",
            "pin_file",
            "pin_env",
            "availability_key",
            "directory",
        ] {
            assert!(
                doc.contains(&format!("`{name}`")),
                "docs/CONFIGURATION.md lacks `{name}`"
            );
        }
    }
}
