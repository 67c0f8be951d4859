//! Issuing and checking emailed passcodes, for recipients (scoped to a message) and senders
//! (scoped to their tenant). The routes decide what to record and answer; the rules are here once:
//! a new code retires the previous one, a try is taken before comparing, the last wrong try burns
//! the code, and a right code is used at most once across nodes.

use crate::domain::passcode::{self, MAX_ATTEMPTS, MAX_PER_WINDOW, RATE_WINDOW, VALID_FOR};
use crate::mail::passcode::{PasscodeMail, Purpose, build};
use crate::secrets::{new_id, new_passcode};
use crate::services::error::{RefusalKind, ServiceError};
use crate::services::limits::{self, Limit};
use crate::services::outbox;
use crate::state::AppState;
use crate::store::portal::NewPasscode;
use crate::store::{StoreError, Tenant};
use sealpost_api::ErrorCode;

/// Make a code for `address` in `scope` and store its keyed hash (retiring any earlier one) with
/// the mail that carries it (in `language`; English if `None`), in the outbox, then try that mail
/// at once. `true`: it was sent now; `false`: the relay did not take it yet, and the outbox tries
/// again while the code is valid.
pub async fn issue(
    state: &AppState,
    tenant: &Tenant,
    scope: &str,
    address: &str,
    purpose: Purpose<'_>,
    reference: &str,
    language: Option<&str>,
) -> Result<bool, ServiceError> {
    let now = state.clock.now();
    let code = new_passcode();
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
        language,
    })
    .map_err(|e| ServiceError::Internal(format!("the passcode mail could not be built: {e}")))?;
    let expires_at = now + VALID_FOR;
    let mail = outbox::prepare(
        state,
        outbox::Cause {
            tenant_id: &tenant.id,
            purpose: outbox::Purpose::Passcode,
            message_id: Some(scope),
            expires_at: Some(expires_at),
        },
        &mail,
    )?;
    let id = mail.id.clone();
    state
        .store
        .store_passcode(&NewPasscode {
            id: new_id(),
            scope: scope.to_owned(),
            address: address.to_owned(),
            code_hash: state.passcode_key.hash(scope, address, &code),
            created_at: now,
            expires_at,
            mail: Some(mail),
        })
        .await?;
    Ok(outbox::try_now(state, std::slice::from_ref(&id)).await)
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

/// Count a passcode try against the limits per client and per `target` (a link's token hash, or a
/// sender's address), before it is checked: a flood of guesses is refused with
/// `too_many_attempts` long before the codes' own five tries would matter, and refused tries are
/// counted, not logged one by one.
pub async fn count_try(state: &AppState, client: &str, target: &[u8]) -> Result<(), ServiceError> {
    let limits = &state.config.limits;
    let per_client = Limit {
        name: "sign-in tries per client",
        max: limits.sign_in_tries_per_client,
        window: TRIES_WINDOW,
    };
    let per_target = Limit {
        name: "sign-in tries per link",
        max: limits.sign_in_tries_per_link,
        window: TRIES_WINDOW,
    };
    let client = limits::client_subject(client);
    limits::take_all(
        state,
        &[(per_client, &client), (per_target, target)],
        ErrorCode::TooManyAttempts.as_str(),
        "Too many passcode tries from here. Wait {minutes} minutes, then try again.",
    )
    .await
}

/// The window sign-in tries are counted in.
pub const TRIES_WINDOW: i64 = 10 * 60;

/// Count a passcode request under `rate_key`. `Some` is the refusal when the hourly limit is
/// reached: `too_many_passcodes`, with the seconds until one more is allowed.
pub async fn over_limit(
    state: &AppState,
    rate_key: &[u8; 32],
) -> Result<Option<ServiceError>, ServiceError> {
    let now = state.clock.now();
    let Some(oldest) = state
        .store
        .count_rate_event(rate_key, now, now - RATE_WINDOW, MAX_PER_WINDOW)
        .await?
    else {
        return Ok(None);
    };
    let wait = (oldest + RATE_WINDOW - now).max(1);
    Ok(Some(ServiceError::TooMany {
        code: ErrorCode::TooManyPasscodes.as_str(),
        message: format!(
            "You have asked for {MAX_PER_WINDOW} passcodes in the last hour. Use the newest one, or ask again in {} minutes.",
            (wait + 59) / 60
        ),
        retry_after: wait,
    }))
}

/// The one answer to every passcode that does not sign in, whatever the reason.
pub fn invalid() -> ServiceError {
    ServiceError::refused(
        RefusalKind::NotSignedIn,
        ErrorCode::PasscodeInvalid.as_str(),
        "That passcode is not valid. It may be mistyped, older than 15 minutes, already used, or used up after 5 wrong tries. Ask for a new one.",
    )
}
