//! What the outbox stores: every mail Sealpost writes itself (notices, passcodes, non-delivery
//! reports), kept sealed until a worker has handed it to the relay. Rows are written in the same
//! transaction as what causes them ([`super::NewMessage::notices`],
//! [`super::portal::NewPasscode::mail`], the SMTP queue's report), so a crash loses neither the
//! cause nor its mail.

use async_trait::async_trait;

use super::StoreResult;

/// Why a mail is in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A recipient's notice of a protected message; its state is the recipient's notice state.
    Notice,
    /// A one-time passcode: worthless, and dropped, once the code has expired.
    Passcode,
    /// A non-delivery report to the sender of mail the SMTP listener accepted.
    Bounce,
}

impl Purpose {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Notice => "notice",
            Purpose::Passcode => "passcode",
            Purpose::Bounce => "bounce",
        }
    }

    /// From the stored form.
    pub fn parse(s: &str) -> Option<Purpose> {
        match s {
            "notice" => Some(Purpose::Notice),
            "passcode" => Some(Purpose::Passcode),
            "bounce" => Some(Purpose::Bounce),
            _ => None,
        }
    }
}

/// A mail to keep until it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMail {
    pub id: String,
    /// The tenant it is sent for.
    pub tenant_id: String,
    pub purpose: Purpose,
    /// The message a notice is for; a passcode's scope (its message, or the senders' scope).
    pub message_id: Option<String>,
    /// The envelope recipient (one per mail).
    pub recipient: String,
    /// The envelope sender; empty for a non-delivery report.
    pub mail_from: String,
    /// The whole RFC 5322 message, sealed under the server's mail key.
    pub sealed: Vec<u8>,
    /// When it was written.
    pub created_at: i64,
    /// After this it is not sent (a passcode's expiry).
    pub expires_at: Option<i64>,
    /// Failed tries so far.
    pub attempts: u32,
}

/// How a try to send a claimed mail ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The relay took it: forget it.
    Sent {
        /// When.
        at: i64,
    },
    /// Not now (the relay is down, or answered 4xx): try again at `next_attempt_at`.
    Deferred {
        /// When it was tried.
        at: i64,
        /// The relay's words.
        reason: String,
        /// The next try.
        next_attempt_at: i64,
    },
    /// Never (a 5xx, or given up after days of trying): forget it.
    Bounced {
        /// When.
        at: i64,
        /// The relay's words, or why it was given up on.
        reason: String,
    },
    /// Too late to be of use (a passcode past its expiry): forget it.
    Expired {
        /// When it was found so.
        at: i64,
    },
}

/// How many mails wait, and for how long the oldest has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Depth {
    /// Mails not yet sent.
    pub waiting: u64,
    /// When the oldest of them was written.
    pub oldest: Option<i64>,
}

/// Storage for the outbox.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Keep a mail on its own (what causes it is already stored).
    async fn enqueue_outbox(&self, mail: &OutboxMail, next_attempt_at: i64) -> StoreResult<()>;
    /// Take the next mail due at `now` (only `only`, when given, whether due or not), leased to
    /// `holder` until `lease_until` so that no other worker sends it meanwhile.
    async fn claim_outbox(
        &self,
        now: i64,
        lease_until: i64,
        holder: &str,
        only: Option<&str>,
    ) -> StoreResult<Option<OutboxMail>>;
    /// Record how a try went, in one transaction with the recipient's notice state: a sent,
    /// bounced or expired mail is deleted, a deferred one waits for its next try. Only while
    /// `holder` holds the lease: otherwise `Conflict("lease_lost")`.
    async fn settle_outbox(&self, id: &str, holder: &str, outcome: &Outcome) -> StoreResult<()>;
    /// Give up every lease `holder` has (a node starting again after a crash).
    async fn release_outbox_leases(&self, holder: &str) -> StoreResult<u64>;
    /// When the next mail is due (`None`: the outbox is empty).
    async fn next_outbox_due(&self) -> StoreResult<Option<i64>>;
    /// How many mails wait (every tenant).
    async fn outbox_depth(&self) -> StoreResult<Depth>;
}
