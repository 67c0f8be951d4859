//! The sender's side of the portal (`/api/sender/*`): a person in one of a tenant's domains signs
//! in with a passcode sent to their own address, sees the protected messages they sent, and removes
//! external access ("Remove external access") for everyone or one recipient.
//!
//! Like the recipient API, every `POST` and `DELETE` carries the
//! [`CSRF_HEADER`](crate::recipient::CSRF_HEADER), and the session is a `__Host-` cookie.

use serde::{Deserialize, Serialize};

use crate::admin::MessageStatusView;

/// `POST /api/sender/passcode`: email a passcode to this address. The answer is a
/// [`PasscodeResponse`](crate::recipient::PasscodeResponse), the same whether or not the address
/// belongs to a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SenderPasscodeRequest {
    /// The sender's own address.
    pub address: String,
}

/// `POST /api/sender/session`: sign in with the emailed passcode.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SenderSignInRequest {
    /// The address the code was sent to.
    pub address: String,
    /// The 8-digit passcode (spaces are ignored).
    pub passcode: String,
}

impl core::fmt::Debug for SenderSignInRequest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SenderSignInRequest")
            .field("address", &self.address)
            .field("passcode", &"[redacted]")
            .finish()
    }
}

/// `GET /api/sender/session` and the answer to signing in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SenderSessionView {
    /// The signed-in sender.
    pub address: String,
    /// Their organisation's name.
    pub tenant_name: String,
    /// When the session ends at the latest (RFC 3339).
    pub expires_at: String,
    /// The session ends after this long without use.
    pub idle_timeout_seconds: u32,
}

/// `GET /api/sender/messages`: what the signed-in sender sent, newest first, and the answer to a
/// revocation (the whole list again, so the page shows the new state of everything).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentMessagesView {
    /// The signed-in sender.
    pub address: String,
    /// Their messages, newest first (at most 100), each as `Get-OMEMessageStatus` reports it.
    pub messages: Vec<MessageStatusView>,
}
