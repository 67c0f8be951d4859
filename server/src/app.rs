//! The HTTP application: state, router and the layers every response passes through.

use std::sync::Arc;

use axum::Router;
use axum::http::Request;
use tower_http::trace::TraceLayer;

use crate::clock::Clock;
use crate::config::Config;
use crate::keys::{LocalKeyFile, RootKeyProvider};
use crate::mail::Mailer;
use crate::store::Store;
use crate::store::sqlite::SqliteStore;
use crate::{routes, security_headers};

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The loaded configuration.
    pub config: Arc<Config>,
    /// Where everything is kept.
    pub store: Arc<dyn Store>,
    /// The root key that unlocks tenant data keys.
    pub keys: Arc<dyn RootKeyProvider>,
    /// Where notices go.
    pub mailer: Mailer,
    /// The time.
    pub clock: Clock,
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
    /// Open the data directory's database, blobs and root key, and the mailer, on the system clock.
    pub async fn open(config: Config) -> Result<AppState, StartError> {
        AppState::open_with_clock(config, Clock::system()).await
    }

    /// As [`AppState::open`], with a given clock (tests move time).
    pub async fn open_with_clock(config: Config, clock: Clock) -> Result<AppState, StartError> {
        prepare_data_dir(&config.data_dir)?;
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&config.data_dir).await?);
        let keys: Arc<dyn RootKeyProvider> = Arc::new(LocalKeyFile::open_or_create(
            &config.data_dir.join("root.key"),
        )?);
        let mailer = Mailer::from_config(&config, store.clone(), clock.clone())?;
        Ok(AppState {
            config: Arc::new(config),
            store,
            keys,
            mailer,
            clock,
        })
    }
}

/// The whole application. Tests call this and drive it with `oneshot`.
pub fn router(state: AppState) -> Router {
    let mut app = Router::new()
        .merge(routes::health::router())
        .nest("/api", routes::api::router())
        .merge(routes::dev_mailbox::router(state.config.dev_mailbox))
        .merge(routes::portal::router(&state.config.dist_dir))
        .with_state(state)
        // Log method and path only: query strings may one day carry tokens, and must never be logged.
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
            }),
        );
    for layer in security_headers::layers() {
        app = app.layer(layer);
    }
    app
}
