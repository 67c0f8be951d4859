//! Issuing and checking emailed passcodes, for recipients (scoped to a message) and senders
//! (scoped to their tenant). The routes decide what to record and answer; the rules are here once:
//! a new code retires the previous one, a try is taken before comparing, the last wrong try burns
//! the code, and a right code is used at most once across nodes.

use crate::app::AppState;
use crate::domain::passcode::{self, MAX_ATTEMPTS, VALID_FOR};
use crate::mail::MailError;
use crate::mail::passcode::{PasscodeMail, Purpose, build};
use crate::secrets::{new_id, new_passcode};
use crate::store::portal::NewPasscode;
use crate::store::{StoreError, Tenant};

/// Make a code for `address` in `scope`, store its keyed hash (retiring any earlier one) and email
/// it. The outer error is the store's; the inner, the mail's.
pub async fn issue(
    state: &AppState,
    tenant: &Tenant,
    scope: &str,
    address: &str,
    purpose: Purpose<'_>,
    reference: &str,
) -> Result<Result<(), MailError>, StoreError> {
    let now = state.clock.now();
    let code = new_passcode();
    state
        .store
        .store_passcode(&NewPasscode {
            id: new_id(),
            scope: scope.to_owned(),
            address: address.to_owned(),
            code_hash: state.passcode_key.hash(scope, address, &code),
            created_at: now,
            expires_at: now + VALID_FOR,
        })
        .await?;
    let domain = tenant
        .domains
        .first()
        .map(ToString::to_string)
        .unwrap_or_else(|| "localhost".to_owned());
    let mail = build(&PasscodeMail {
        tenant_name: &tenant.name,
        tenant_domain: &domain,
        purpose,
        recipient: address,
        code: &code,
        reference,
    });
    Ok(match mail {
        Ok(mail) => state.mailer.send(&mail).await,
        Err(e) => Err(e),
    })
}

/// What became of a typed code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// Right, and now used: sign in.
    Accepted,
    /// There is no code that can be used (none asked for, expired, used or burned).
    NoCurrentCode,
    /// The code's tries were all taken.
    NoTriesLeft,
    /// Wrong; this was try `attempt` of [`MAX_ATTEMPTS`].
    Wrong {
        /// The try's number.
        attempt: u32,
    },
    /// Wrong on the last try: the code is burned.
    Burned,
    /// Right, but another request used it first.
    AlreadyUsed,
}

/// Check `typed` against the current code for `address` in `scope`.
pub async fn check(
    state: &AppState,
    scope: &str,
    address: &str,
    typed: &str,
) -> Result<Checked, StoreError> {
    let now = state.clock.now();
    let typed = passcode::normalize(typed);
    let Some(current) = state.store.current_passcode(scope, address, now).await? else {
        // The same keyed-hash work as a real comparison, so the answer takes as long.
        let _ = state.passcode_key.verify(
            scope,
            address,
            typed.as_deref().map_or("", String::as_str),
            &[0; 32],
        );
        return Ok(Checked::NoCurrentCode);
    };
    // Take the try before comparing, so parallel guesses cannot exceed the limit.
    let Some(attempt) = state
        .store
        .claim_passcode_attempt(&current.id, MAX_ATTEMPTS)
        .await?
    else {
        return Ok(Checked::NoTriesLeft);
    };
    let right = typed.as_ref().is_some_and(|code| {
        state
            .passcode_key
            .verify(scope, address, code, &current.code_hash)
    });
    if !right {
        if attempt >= MAX_ATTEMPTS {
            state.store.burn_passcode(&current.id, now).await?;
            return Ok(Checked::Burned);
        }
        return Ok(Checked::Wrong { attempt });
    }
    if !state.store.use_passcode(&current.id, now).await? {
        return Ok(Checked::AlreadyUsed);
    }
    Ok(Checked::Accepted)
}
