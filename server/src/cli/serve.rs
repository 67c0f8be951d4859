//! `sealpost serve` and `sealpost demo`: bind, open the data directory, print the URL, serve until
//! SIGTERM or Ctrl-C, then finish in-flight requests and exit.

use std::future::Future;
use std::io::Write as _;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::cli::demo;
use crate::config::Config;
use crate::http::router;
use crate::http::routes::portal::PortalFiles;
use crate::services::mail_flow;
use crate::smtp;
use crate::state::AppState;

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
    let portal = PortalFiles::from_config(config.dist_dir.as_deref());
    if !portal.has_portal() {
        match &config.dist_dir {
            Some(dir) => tracing::warn!(
                dist_dir = %dir.display(),
                "the portal is not built there; run `trunk build --release`"
            ),
            None => tracing::warn!(
                "this binary carries no portal (it was built before `trunk build --release`); build it again after, or set dist_dir"
            ),
        }
    }
    Ok(AppState::open(config).await?)
}

/// The development mailbox shows every link token and passcode to whoever can reach it, so it is
/// served only on a loopback address unless the operator insists.
fn check_dev_mailbox(config: &Config, insecure: bool) -> anyhow::Result<()> {
    if !config.dev_mailbox || config.listen.ip().is_loopback() {
        return Ok(());
    }
    if !insecure {
        anyhow::bail!(
            "the development mailbox shows every link and passcode to anyone who can reach {}; listen on 127.0.0.1, turn dev_mailbox off and configure a mail relay, or pass --insecure-dev-mailbox if this machine is truly private",
            config.listen
        );
    }
    let warning = format!(
        "WARNING: the development mailbox is on at {} (not loopback): anyone who can reach it reads every link and passcode. Never do this on a server real people use.",
        config.listen
    );
    tracing::warn!("{warning}");
    let _ = writeln!(std::io::stderr(), "{warning}");
    Ok(())
}

/// Run the server until a shutdown signal.
pub async fn serve(config: Config, insecure_dev_mailbox: bool) -> anyhow::Result<()> {
    let stop = shutdown_signal();
    check_dev_mailbox(&config, insecure_dev_mailbox)?;
    let (listener, config) = bind(config).await?;
    let state = open(config).await?;
    println!(
        "Sealpost is running at {}/  (Ctrl-C to stop)",
        state.config.public_url()
    );
    run_with(listener, state, true, stop).await
}

/// Run with the development mailbox on and a demo tenant and message, for a first look.
pub async fn demo(mut config: Config, insecure_dev_mailbox: bool) -> anyhow::Result<()> {
    let stop = shutdown_signal();
    config.dev_mailbox = true;
    check_dev_mailbox(&config, insecure_dev_mailbox)?;
    let smtp_default = config.smtp_listen.is_none();
    if smtp_default {
        config.smtp_listen = Some(std::net::SocketAddr::from(([127, 0, 0, 1], DEMO_SMTP_PORT)));
    }
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
    run_with(listener, state, !smtp_default, stop).await
}

/// The demo's SMTP listener port, unless `smtp_listen` says otherwise.
const DEMO_SMTP_PORT: u16 = 2525;

/// Serve; `smtp_required`: a listener that cannot bind stops the server (else it is skipped with a
/// warning, for the demo's default port).
async fn run_with(
    listener: TcpListener,
    state: AppState,
    smtp_required: bool,
    stop: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    // Before anything can claim a mail: the leases a crash left are this node's to take back.
    crate::services::outbox::take_back_leases(&state).await;
    if let Err(e) = start_mail_flow(&state).await {
        if smtp_required {
            return Err(e);
        }
        tracing::warn!(error = %e, "the demo runs without its SMTP listener");
    }
    // Sends what the outbox holds: mail that could not go at once, or that a crash left.
    tokio::spawn(crate::services::outbox::run(state.clone()));
    // Re-wraps message keys while a key roll is in progress (and finishes one a crash left).
    crate::services::key_policies::roll::spawn(state.clone());
    // Prunes each tenant's portal log to its retention.
    tokio::spawn(crate::services::tracking::prune_hourly(
        state.store.clone(),
        state.clock.clone(),
    ));
    // Removes drafts nobody sent in time, with what was uploaded for them.
    tokio::spawn(crate::services::uploads::sweep_every_minute(state.clone()));
    let after_answer = state.after_answer.clone();
    let limits = crate::http::listener::Limits::from_config(&state.config);
    crate::http::listener::serve(listener, router(state), limits, stop).await;
    // A passcode promised in an answer is still written to the outbox; a relay that hangs cannot hold the stop.
    after_answer.close();
    if tokio::time::timeout(std::time::Duration::from_secs(10), after_answer.wait())
        .await
        .is_err()
    {
        tracing::warn!("stopped before every passcode was written to the outbox");
    }
    tracing::info!("stopped");
    Ok(())
}

/// The mail queue worker, always (it finishes what a previous run accepted), and the SMTP
/// listener when one is configured.
async fn start_mail_flow(state: &AppState) -> anyhow::Result<()> {
    tokio::spawn(mail_flow::queue::run(state.clone()));
    if let Some(addr) = state.config.smtp_listen {
        let tls = smtp::tls_acceptor(&state.config)?;
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen for SMTP on {addr}"))?;
        let local = listener.local_addr()?;
        tracing::info!(%local, starttls = tls.is_some(), "listening for SMTP");
        // Not println!: a closed standard output must not stop the server.
        let _ = writeln!(
            std::io::stdout(),
            "  SMTP smart host for tenants' mail servers: {local}{}",
            if tls.is_some() { " (STARTTLS)" } else { "" }
        );
        tokio::spawn(smtp::run(listener, state.clone(), tls));
    }
    Ok(())
}

/// Listen for SIGTERM and Ctrl-C from now on, and resolve when one comes. Called before the
/// listener is bound, so a signal that arrives before the server is serving still stops it
/// cleanly instead of killing the process.
fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let (mut terminate, mut interrupt) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let terminate = async {
                match terminate.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let interrupt = async {
                match interrupt.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = terminate => {},
                () = interrupt => {},
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        tracing::info!("shutting down");
    }
}
