//! The server's half of the self-test (`Test-IRMConfiguration -Sender -Recipient`): each step runs
//! the code real mail runs — the same sealing, storage, key unwrapping and key release — on a test
//! message that is removed again at the end. The caller finishes by opening what comes back.
//!
//! The mail relay is checked by connecting, never by sending: nobody gets mail from a self-test.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use sealpost_api::admin::{SelfTestRequest, SelfTestResponse, SelfTestStepView};
use sealpost_envelope::release::PUBLIC_KEY_LEN;
use sealpost_envelope::{
    MessageId, Part, ReleaseBinding, WrapBinding, seal_release, wrap_message_key,
};

use crate::domain::address::EmailAddress;
use crate::domain::branding::DEFAULT_TEMPLATE;
use crate::domain::composed::ComposedMessage;
use crate::domain::rights::{ENCRYPT, Rights};
use crate::secrets::{hash_secret, new_id};
use crate::services::error::ServiceError;
use crate::services::rights::resolve_rights;
use crate::services::sealing;
use crate::services::sending::message_key;
use crate::state::AppState;
use crate::store::{NewMessage, NewRecipient, Tenant};

/// The test message's subject.
pub const SUBJECT: &str = "Sealpost self-test";

/// The steps so far.
#[derive(Debug, Default)]
struct Steps(Vec<SelfTestStepView>);

impl Steps {
    /// Record a step; returns whether it worked.
    fn record<T, E: std::fmt::Display>(
        &mut self,
        name: &str,
        outcome: Result<T, E>,
        detail: impl FnOnce(&T) -> String,
    ) -> Option<T> {
        let (ok, detail, value) = match outcome {
            Ok(v) => (true, detail(&v), Some(v)),
            Err(e) => (false, e.to_string(), None),
        };
        self.0.push(SelfTestStepView {
            name: name.to_owned(),
            ok,
            detail,
        });
        value
    }
}

/// Run the server's steps for `tenant`.
pub async fn run(
    state: &AppState,
    tenant: &Tenant,
    req: &SelfTestRequest,
) -> Result<SelfTestResponse, ServiceError> {
    let id = new_id();
    let binding = new_id();
    let mut steps = Steps::default();
    let mut answer = SelfTestResponse {
        message_id: id.clone(),
        binding: binding.clone(),
        steps: Vec::new(),
        release: None,
        manifest: None,
        body: None,
    };

    let addresses = steps.record(
        "Sender and recipient",
        addresses(tenant, req),
        |(from, to)| format!("{from} (in {}) to {to} (outside)", from.domain()),
    );
    let templates = steps.record("Templates", templates(state, tenant).await, |r: &Rights| {
        format!(
            "branding template {DEFAULT_TEMPLATE}, rights template {ENCRYPT} ({})",
            r.names().join(", ")
        )
    });
    steps.record("Mail relay", state.mailer.check().await, Clone::clone);
    if let Some((from, _)) = &addresses {
        let domain = from.domain().to_string();
        steps.record(
            "DKIM records",
            crate::services::dkim::check_published(state, tenant, &domain).await,
            Clone::clone,
        );
    }
    let public_key = steps.record(
        "Public key",
        BASE64URL
            .decode(req.public_key.trim())
            .ok()
            .filter(|k| k.len() == PUBLIC_KEY_LEN)
            .ok_or("it must be 32 bytes of X25519 in base64url"),
        |_| "an X25519 key to release the message key to".to_owned(),
    );
    let (Some((from, to)), Some(rights), Some(public_key)) = (addresses, templates, public_key)
    else {
        answer.steps = steps.0;
        return Ok(answer);
    };

    let message_id = MessageId::parse(&id).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let composed = ComposedMessage {
        from,
        to: vec![to.clone()],
        cc: Vec::new(),
        display_only: Default::default(),
        subject: SUBJECT.to_owned(),
        text: Some(format!(
            "This message tests Sealpost end to end. Test value: {}",
            req.nonce
        )),
        html: None,
        attachments: Vec::new(),
    };
    let now = state.clock.now();
    let sealing_key =
        crate::services::key_policies::key_for_sealing(state, tenant, composed.from.as_str())
            .await
            .map_err(why);
    let data_key = steps.record(
        "Tenant key",
        sealing_key,
        |(policy, version, _)| match policy {
            None => format!("the tenant's own data key, version {version}, unwrapped"),
            Some(_) => format!(
                "the data encryption policy's data key, version {version}, unwrapped by a root key"
            ),
        },
    );
    let Some((policy_id, key_version, data_key)) = data_key else {
        answer.steps = steps.0;
        return Ok(answer);
    };
    let sealed = steps.record(
        "Seal",
        sealing::seal(&message_id, &composed, now).and_then(|(key, parts)| {
            let wrapped = wrap_message_key(
                &data_key,
                &key,
                &WrapBinding {
                    tenant_id: &tenant.id,
                    message_id: &message_id,
                    key_version,
                },
            )?;
            Ok((wrapped, parts))
        }),
        |(_, parts)| format!("{} parts sealed with a new message key", parts.len()),
    );
    drop(data_key);
    let Some((wrapped, parts)) = sealed else {
        answer.steps = steps.0;
        return Ok(answer);
    };
    let names: Vec<String> = parts.iter().map(|p| p.name.clone()).collect();
    let stored = state
        .store
        .store_message(&NewMessage {
            id: id.clone(),
            tenant_id: tenant.id.clone(),
            sender: composed.from.to_string(),
            branding_template: DEFAULT_TEMPLATE.to_owned(),
            rights_template: ENCRYPT.to_owned(),
            rights: rights.to_stored(),
            wrapped_key: wrapped.to_vec(),
            policy_id,
            key_version,
            size: composed.size(),
            created_at: now,
            expires_at: None,
            recipients: vec![NewRecipient {
                address: to.to_string(),
                kind: "to",
                link_token_hash: hash_secret(&new_id()),
            }],
            parts: parts.clone(),
            draft: None,
            parent: None,
            // Nobody gets mail from a self-test.
            notices: Vec::new(),
        })
        .await;
    let stored = steps.record("Store", stored, |()| {
        format!("message {id} stored whole ({} parts)", names.len())
    });
    if stored.is_some() {
        let read_back = read_back(state, tenant, &id, &parts).await;
        if let Some((manifest, body)) = steps.record("Read back", read_back, |_| {
            "every sealed part read back unchanged".to_owned()
        }) {
            let release = release(state, tenant, &id, &to, &binding, &public_key).await;
            if let Some(release) = steps.record("Key release", release, |_| {
                format!("the message key was released to the given key, bound to {to}")
            }) {
                answer.release = Some(BASE64URL.encode(release));
                answer.manifest = Some(BASE64URL.encode(manifest));
                answer.body = Some(BASE64URL.encode(body));
            }
        }
        let removed = state.store.delete_message(&tenant.id, &id).await;
        steps.record("Clean up", removed, |()| {
            "the test message was removed".to_owned()
        });
    }
    answer.steps = steps.0;
    Ok(answer)
}

fn addresses(
    tenant: &Tenant,
    req: &SelfTestRequest,
) -> Result<(EmailAddress, EmailAddress), String> {
    let from = EmailAddress::parse("sender", &req.sender).map_err(|e| e.to_string())?;
    let to = EmailAddress::parse("recipient", &req.recipient).map_err(|e| e.to_string())?;
    if !from.is_in(&tenant.domains) {
        return Err(format!(
            "{from} is not in one of this tenant's domains, so it cannot send protected mail"
        ));
    }
    if to.is_in(&tenant.domains) {
        return Err(format!(
            "{to} is inside the organisation; Sealpost protects mail to people outside it"
        ));
    }
    Ok((from, to))
}

async fn templates(state: &AppState, tenant: &Tenant) -> Result<Rights, String> {
    state
        .store
        .branding_template(&tenant.id, DEFAULT_TEMPLATE)
        .await
        .map_err(|e| format!("the default branding template cannot be read: {e}"))?;
    let rights = resolve_rights(state.store.as_ref(), &tenant.id, ENCRYPT)
        .await
        .map_err(|e| format!("the {ENCRYPT} rights template cannot be read: {e}"))?;
    Ok(rights.rights)
}

/// Read every part back from storage and compare; returns the manifest and the text body.
async fn read_back(
    state: &AppState,
    tenant: &Tenant,
    id: &str,
    parts: &[crate::store::SealedPart],
) -> Result<(Vec<u8>, Vec<u8>), String> {
    for p in parts {
        let got = state
            .store
            .read_part(&tenant.id, id, &p.name)
            .await
            .map_err(|e| format!("{}: {e}", p.name))?;
        if got != p.bytes {
            return Err(format!("{} came back changed", p.name));
        }
    }
    let find = |part: Part| {
        let name = part.name();
        parts
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.bytes.clone())
            .ok_or_else(|| format!("{name} is missing"))
    };
    Ok((find(Part::Manifest)?, find(Part::Body(0))?))
}

/// Unwrap the stored message key the way a key request does and release it to `public_key`.
async fn release(
    state: &AppState,
    tenant: &Tenant,
    id: &str,
    to: &EmailAddress,
    binding: &str,
    public_key: &[u8],
) -> Result<Vec<u8>, String> {
    let stored = state
        .store
        .message(&tenant.id, id)
        .await
        .map_err(|e| e.to_string())?;
    let (message_id, key) = message_key(state, tenant, &stored).await.map_err(why)?;
    seal_release(
        public_key,
        &key,
        &ReleaseBinding {
            message_id: &message_id,
            recipient: to.as_str(),
            session: binding.as_bytes(),
        },
    )
    .map_err(|e| format!("the key could not be sealed to the given public key: {e}"))
}

/// A step's failure as the report says it: a refusal's own sentence, else what failed.
fn why(e: ServiceError) -> String {
    match e {
        ServiceError::Refused { message, .. }
        | ServiceError::Conflict { message, .. }
        | ServiceError::TooMany { message, .. }
        | ServiceError::Unavailable { message, .. } => message,
        ServiceError::Key(refusal) => ServiceError::key_text(refusal).to_owned(),
        other => other.to_string(),
    }
}
