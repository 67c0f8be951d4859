//! `sealpost serve`: bind, print the URL, serve until SIGTERM or Ctrl-C, then finish in-flight
//! requests and exit.

use std::path::Path;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::app::{AppState, router};
use crate::config::Config;

/// Create the data directory, readable only by this user.
fn prepare_data_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot restrict the data directory {}", dir.display()))?;
    }
    Ok(())
}

/// Run the server until a shutdown signal.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    prepare_data_dir(&config.data_dir)?;
    if !config.dist_dir.join("index.html").is_file() {
        tracing::warn!(
            dist_dir = %config.dist_dir.display(),
            "the portal is not built here; run `trunk build --release` (the README's run command does)"
        );
    }
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let local = listener.local_addr()?;
    let url = match &config.public_url {
        Some(url) => url.clone(),
        None => format!("http://{local}"),
    };
    tracing::info!(%local, "listening");
    println!("Sealpost is running at {url}/  (Ctrl-C to stop)");
    axum::serve(listener, router(AppState::new(config)))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the server stopped with an error")?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
