//! `sealpost serve` and `sealpost demo`: bind, open the data directory, print the URL, serve until
//! SIGTERM or Ctrl-C, then finish in-flight requests and exit.

use anyhow::Context;
use tokio::net::TcpListener;

use crate::app::{AppState, router};
use crate::config::Config;
use crate::demo;

/// Bind the listener and fill in the public URL from the bound address if none is configured.
async fn bind(mut config: Config) -> anyhow::Result<(TcpListener, Config)> {
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let local = listener.local_addr()?;
    if config.public_url.is_none() {
        config.public_url = Some(format!("http://{local}"));
    }
    tracing::info!(%local, "listening");
    Ok((listener, config))
}

async fn open(config: Config) -> anyhow::Result<AppState> {
    if !config.dist_dir.join("index.html").is_file() {
        tracing::warn!(
            dist_dir = %config.dist_dir.display(),
            "the portal is not built here; run `trunk build --release` (the README's run command does)"
        );
    }
    Ok(AppState::open(config).await?)
}

/// Run the server until a shutdown signal.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let (listener, config) = bind(config).await?;
    let state = open(config).await?;
    println!(
        "Sealpost is running at {}/  (Ctrl-C to stop)",
        state.config.public_url()
    );
    run(listener, state).await
}

/// Run with the development mailbox on and a demo tenant and message, for a first look.
pub async fn demo(mut config: Config) -> anyhow::Result<()> {
    config.dev_mailbox = true;
    let (listener, config) = bind(config).await?;
    let state = open(config).await?;
    let seeded = demo::seed(&state).await?;
    let url = state.config.public_url();
    println!("Sealpost demo is running at {url}/  (Ctrl-C to stop)");
    if let Some(link) = &seeded.link {
        println!("  Open the demo message: {link}");
    }
    println!("  Development mailbox (the notice and your passcode arrive here): {url}/dev/mailbox");
    println!("  Demo tenant: {} ({})", seeded.tenant_name, seeded.domain);
    println!(
        "  Admin token for the API, new for this run: {}",
        seeded.admin_token.as_str()
    );
    run(listener, state).await
}

async fn run(listener: TcpListener, state: AppState) -> anyhow::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
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
