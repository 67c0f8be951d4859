//! What every service and adapter can reach ([`AppState`]), and how it is opened from the
//! configuration: the data directory, the database, the blob store, the root keys and the mailer.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;
use crate::domain::passcode::PasscodeKey;
use crate::keys::{KeyError, LocalKeyFile, RootKeyProvider, RootKeys};
use crate::mail::Mailer;
use crate::store::Store;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The loaded configuration.
    pub config: Arc<Config>,
    /// Where everything is kept.
    pub store: Arc<dyn Store>,
    /// The built-in root key (`local`), which unlocks each tenant's own data key and the server's
    /// keys.
    pub keys: Arc<dyn RootKeyProvider>,
    /// Every root key by name, for data encryption policies.
    pub root_keys: Arc<RootKeys>,
    /// Where notices go.
    pub mailer: Mailer,
    /// The time.
    pub clock: Clock,
    /// The key passcodes are hashed with (the same on every node).
    pub passcode_key: Arc<PasscodeKey>,
    /// The key the outbox seals kept mail with (the same on every node).
    pub mail_key: Arc<sealpost_envelope::TenantDataKey>,
    /// Wakes the outbox worker when a mail could not be sent at once.
    pub outbox: Arc<tokio::sync::Notify>,
    /// Wakes the mail queue worker when the SMTP listener has queued a message.
    pub mail_queue: Arc<tokio::sync::Notify>,
    /// Wakes the key roll worker when a roll starts.
    pub key_roll: Arc<tokio::sync::Notify>,
    /// What `/metrics` reports.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// This node's id (`node.id` in the data directory, made once): who holds a queue lease.
    pub node_id: String,
    /// Work a request goes on with after its answer has gone (a passcode's mail and its tracking):
    /// shutdown lets it finish, and tests wait for it instead of sleeping.
    pub after_answer: tokio_util::task::TaskTracker,
    /// Replies and forwards being read and sent, one at a time per recipient session.
    pub answers_running: crate::connections::OneAtATime,
    /// Requests being handled, per client address (`http_max_requests_per_client`).
    pub requests_in_flight: crate::connections::PerClient,
    /// Identity providers' discovery documents and keys, as last read.
    pub providers: Arc<crate::identity::ProviderCache>,
    /// Policies' data keys as their root keys last unwrapped them (kept for seconds).
    pub data_keys: Arc<crate::keys::cache::DataKeyCache>,
    /// Upload windows this node may seal at once (`uploads.windows_at_once`, half of them at
    /// most for one tenant): each holds one window of memory.
    pub upload_windows: Arc<crate::connections::Slots>,
    /// Where key releases and refusals are recorded, many to one durable commit.
    pub decisions: crate::store::decisions::DecisionWriter,
}

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory could not be prepared.
    #[error("cannot prepare the data directory {0}: {1}")]
    DataDir(String, std::io::Error),
    /// The database could not be opened.
    #[error("cannot open the database: {0}")]
    Store(#[from] crate::store::StoreError),
    /// The root key could not be read or created.
    #[error(transparent)]
    Keys(#[from] crate::keys::KeyError),
    /// The blob store cannot be used.
    #[error("cannot open the blob store: {0}")]
    Blobs(std::io::Error),
    /// The configuration cannot be used.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// Mail is not configured.
    #[error(transparent)]
    Mail(#[from] crate::mail::MailError),
}

/// Create the data directory, readable only by this user.
pub fn prepare_data_dir(dir: &std::path::Path) -> Result<(), StartError> {
    let fail = |e| StartError::DataDir(dir.display().to_string(), e);
    std::fs::create_dir_all(dir).map_err(fail)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(fail)?;
    }
    Ok(())
}

impl AppState {
    /// Wait until all work started after an answer so far has finished.
    pub async fn settle(&self) {
        self.after_answer.close();
        self.after_answer.wait().await;
        self.after_answer.reopen();
    }

    /// Open the data directory's database, blobs and root key, and the mailer, on the system clock.
    pub async fn open(config: Config) -> Result<AppState, StartError> {
        AppState::open_with_clock(config, Clock::system()).await
    }

    /// As [`AppState::open`], with a given clock (tests move time).
    pub async fn open_with_clock(config: Config, clock: Clock) -> Result<AppState, StartError> {
        prepare_data_dir(&config.data_dir)?;
        let blobs =
            crate::store::blob_store::BlobStore::open(&config).map_err(StartError::Blobs)?;
        let store = crate::store::open(&config, blobs).await?;
        let local = Arc::new(LocalKeyFile::open_or_create(
            &config.data_dir.join("root.key"),
        )?);
        let root_keys = Arc::new(RootKeys::new(
            local.clone(),
            config.root_key_specs()?,
            config.availability_spec()?,
        ));
        root_keys.report();
        let keys: Arc<dyn RootKeyProvider> = local;
        let mailer = Mailer::from_config(&config, store.clone(), clock.clone())?;
        let node_id = node_id(&config.data_dir)?;
        let passcode_key = Arc::new(PasscodeKey::from_bytes(
            *server_key(store.as_ref(), keys.as_ref(), PASSCODE_KEY, clock.now())
                .await?
                .expose_secret(),
        ));
        let mail_key =
            Arc::new(server_key(store.as_ref(), keys.as_ref(), MAIL_KEY, clock.now()).await?);
        let config_max_requests_per_client = config.http_max_requests_per_client;
        let windows = usize::try_from(config.uploads.windows_at_once).unwrap_or(1);
        let upload_windows = Arc::new(crate::connections::Slots::new(windows, windows / 2));
        let metrics = Arc::new(crate::metrics::Metrics::new());
        let data_keys = Arc::new(crate::keys::cache::DataKeyCache::default());
        tokio::spawn(crate::keys::cache::sweep_every(
            Arc::downgrade(&data_keys),
            clock.clone(),
        ));
        Ok(AppState {
            config: Arc::new(config),
            decisions: crate::store::decisions::DecisionWriter::spawn(
                store.clone(),
                metrics.clone(),
            ),
            store,
            keys,
            root_keys,
            mailer,
            clock,
            passcode_key,
            mail_key,
            outbox: Arc::new(tokio::sync::Notify::new()),
            mail_queue: Arc::new(tokio::sync::Notify::new()),
            key_roll: Arc::new(tokio::sync::Notify::new()),
            metrics,
            data_keys,
            upload_windows,
            node_id,
            after_answer: tokio_util::task::TaskTracker::new(),
            answers_running: crate::connections::OneAtATime::default(),
            requests_in_flight: crate::connections::PerClient::new(config_max_requests_per_client),
            providers: Arc::default(),
        })
    }
}

/// This node's id: read from `node.id` in the data directory, written there (random) the first
/// time. Stable across restarts, different for every data directory.
fn node_id(data_dir: &std::path::Path) -> Result<String, StartError> {
    let path = data_dir.join("node.id");
    let fail = |e| StartError::DataDir(path.display().to_string(), e);
    let fresh = || {
        let id = crate::secrets::new_id();
        std::fs::write(&path, format!("{id}\n")).map_err(fail)?;
        Ok(id)
    };
    match std::fs::read_to_string(&path) {
        Ok(id) if !id.trim().is_empty() => Ok(id.trim().to_owned()),
        Ok(_) => fresh(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => fresh(),
        Err(e) => Err(fail(e)),
    }
}

/// The name of the passcode MAC key among the server keys.
const PASSCODE_KEY: &str = "passcode-mac";
/// The name of the key the outbox seals kept mail with.
const MAIL_KEY: &str = "outbox-mail";

/// A key the server keeps for itself, wrapped by the root key and stored in the database so that
/// every node uses the same one. The first node to start creates it. The root key wraps it as it
/// wraps tenant data keys, bound to the name `server:{name}` (never a tenant id, which is hex).
async fn server_key(
    store: &dyn Store,
    root: &dyn RootKeyProvider,
    name: &str,
    now: i64,
) -> Result<sealpost_envelope::TenantDataKey, StartError> {
    let bound = format!("server:{name}");
    let wrapped = match store.server_key(name).await? {
        Some(w) => w,
        None => {
            let fresh = sealpost_envelope::TenantDataKey::generate();
            let wrapped = root.wrap(&bound, 1, &fresh)?;
            store.put_server_key(name, &wrapped, now).await?
        }
    };
    root.unwrap(&bound, 1, &wrapped).map_err(|e| match e {
        KeyError::Corrupt => StartError::Keys(KeyError::Unavailable(format!(
            "the server key {name:?} does not open with this root key (was root.key replaced, \
             or, on a node sharing a database, not copied from the first node?)"
        ))),
        other => StartError::Keys(other),
    })
}
