//! Mail: building branded notices ([`notice`]), passcode mail ([`passcode`]) and non-delivery
//! reports ([`bounce`]), reading messages handed to us as RFC 5322 ([`inbound`]), and sending over
//! SMTP or into the development mailbox ([`Mailer`]).

pub mod bounce;
pub mod inbound;
pub mod notice;
pub mod parse;
pub mod passcode;
pub mod trace;
pub mod words;

use std::sync::Arc;
use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::clock::Clock;
use crate::config::{Config, SmtpTls};
use crate::store::{DevMail, Store};

/// Why a mail could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The configuration cannot send mail.
    #[error("mail is not configured: {0}")]
    Config(String),
    /// The message could not be built.
    #[error("the notice could not be built: {0}")]
    Build(String),
    /// The relay could not be reached or refused it for now.
    #[error("{0}")]
    Transport(String),
    /// The relay refused it for good (a 5xx answer).
    #[error("{0}")]
    Rejected(String),
}

impl MailError {
    /// Whether trying again later cannot help.
    pub fn is_permanent(&self) -> bool {
        matches!(self, MailError::Rejected(_) | MailError::Build(_))
    }
}

fn transport_error(e: &lettre::transport::smtp::Error) -> MailError {
    if e.is_permanent() {
        MailError::Rejected(e.to_string())
    } else {
        MailError::Transport(e.to_string())
    }
}

/// Where mail goes.
#[derive(Clone)]
pub enum Mailer {
    /// An SMTP relay.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// The development mailbox, kept in the database and shown at `/dev/mailbox`.
    DevMailbox {
        /// Where it is kept.
        store: Arc<dyn Store>,
        /// For the time it arrived.
        clock: Clock,
    },
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mailer::Smtp(_) => f.write_str("Mailer::Smtp"),
            Mailer::DevMailbox { .. } => f.write_str("Mailer::DevMailbox"),
        }
    }
}

impl Mailer {
    /// The mailer the configuration asks for: the development mailbox when enabled, else SMTP.
    pub fn from_config(
        config: &Config,
        store: Arc<dyn Store>,
        clock: Clock,
    ) -> Result<Mailer, MailError> {
        if config.dev_mailbox {
            return Ok(Mailer::DevMailbox { store, clock });
        }
        let host = config.smtp_host.as_deref().ok_or_else(|| {
            MailError::Config(
                "set smtp_host (SEALPOST_SMTP_HOST) to your mail relay, or turn on dev_mailbox for a trial".into(),
            )
        })?;
        let tls = |h: &str| {
            TlsParameters::new(h.to_owned())
                .map_err(|e| MailError::Config(format!("TLS for {h}: {e}")))
        };
        let tls = match config.smtp_tls {
            SmtpTls::None => Tls::None,
            SmtpTls::Starttls => Tls::Required(tls(host)?),
            SmtpTls::Tls => Tls::Wrapper(tls(host)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(config.smtp_port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(30)));
        if let Some(user) = &config.smtp_username {
            let password = config
                .smtp_password
                .as_ref()
                .map(|p| p.0.clone())
                .unwrap_or_default();
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        Ok(Mailer::Smtp(builder.build()))
    }

    /// Whether mail can go out now, without sending any: a connection to the relay (with its TLS
    /// and sign-in) or the development mailbox. Says where mail goes.
    pub async fn check(&self) -> Result<String, MailError> {
        match self {
            Mailer::Smtp(transport) => match transport.test_connection().await {
                Ok(true) => Ok("the mail relay accepted a connection".to_owned()),
                Ok(false) => Err(MailError::Transport(
                    "the mail relay did not answer as an SMTP server".to_owned(),
                )),
                Err(e) => Err(MailError::Transport(e.to_string())),
            },
            Mailer::DevMailbox { .. } => {
                Ok("the development mailbox keeps mail instead of sending it".to_owned())
            }
        }
    }

    /// Send a message exactly as given, byte for byte, with the given envelope (an empty sender
    /// for a bounce): mail the rules leave unencrypted, and everything the outbox holds.
    pub async fn send_raw(
        &self,
        from: Option<&str>,
        to: &[String],
        raw: &[u8],
    ) -> Result<(), MailError> {
        let address = |a: &str| {
            a.parse::<lettre::Address>()
                .map_err(|e| MailError::Build(format!("{a:?}: {e}")))
        };
        let envelope = lettre::address::Envelope::new(
            from.map(address).transpose()?,
            to.iter().map(|a| address(a)).collect::<Result<_, _>>()?,
        )
        .map_err(|e| MailError::Build(e.to_string()))?;
        match self {
            // lettre ends the data with CRLF.CRLF itself; the message's own last CRLF is that
            // first CRLF, or the relay would receive one blank line more than we did.
            Mailer::Smtp(transport) => transport
                .send_raw(&envelope, raw.strip_suffix(b"\r\n").unwrap_or(raw))
                .await
                .map(|_| ())
                .map_err(|e| transport_error(&e)),
            Mailer::DevMailbox { store, clock } => {
                let subject = crate::mail::parse::headers(raw)
                    .and_then(|m| m.subject().map(str::to_owned))
                    .unwrap_or_default();
                let mail = DevMail {
                    id: 0,
                    at: clock.now(),
                    from: from.unwrap_or_default().to_owned(),
                    to: to.join(", "),
                    subject,
                    raw: raw.to_vec(),
                };
                store
                    .dev_mailbox_put(&mail)
                    .await
                    .map(|_| ())
                    .map_err(|e| MailError::Transport(e.to_string()))
            }
        }
    }
}
