//! A root key inside a PKCS#11 token (an HSM; SoftHSM2 in the tests): an AES-256 key that is
//! sensitive and never extractable, so its bytes never leave the token. Tenant data keys are
//! wrapped and unwrapped *inside* the token with AES-256-GCM (`CKM_AES_GCM`), binding the tenant and
//! the key version as associated data, exactly as the local key file does in software.
//!
//! ```text
//! wrapped = 0x02 || nonce (12, random) || AES-256-GCM(root, nonce, aad, data key) (32 + 16)
//! ```
//!
//! The module, the token's label and the key's label come from the configuration; the user PIN
//! from a file or an environment variable, never the command line. One PKCS#11 context is kept per
//! module for the whole process (a module may be initialised only once), shared by every root key
//! in it, so two tokens of one HSM can hold a policy's two root keys.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as P11Error, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::object::{Attribute, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use sealpost_envelope::TenantDataKey;
use sealpost_envelope::keys::KEY_LEN;
use zeroize::Zeroizing;

use super::{KeyError, RootKeyProvider, aad};
use crate::config::root_keys::{PinSource, Pkcs11Location};
use crate::secrets::fill_random;

/// The layout byte of a data key wrapped in a token.
const WRAP_VERSION: u8 = 0x02;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Length of a data key wrapped in a token.
pub const WRAPPED_LEN: usize = 1 + NONCE_LEN + KEY_LEN + TAG_LEN;

impl PinSource {
    fn read(&self) -> Result<Zeroizing<String>, KeyError> {
        let pin = match self {
            PinSource::File(path) => {
                Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
                    KeyError::Unavailable(format!("the PIN file {}: {e}", path.display()))
                })?)
            }
            PinSource::Env(name) => Zeroizing::new(std::env::var(name).map_err(|_| {
                KeyError::Unavailable(format!("the PIN variable {name} is not set"))
            })?),
        };
        let trimmed = pin.trim_end_matches(['\r', '\n']);
        if trimmed.is_empty() {
            return Err(KeyError::Unavailable("the token PIN is empty".into()));
        }
        Ok(Zeroizing::new(trimmed.to_owned()))
    }
}

/// The process's PKCS#11 contexts, one per module.
fn context(module: &Path) -> Result<Pkcs11, KeyError> {
    static CONTEXTS: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    let mut contexts = CONTEXTS
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .map_err(|_| KeyError::Unavailable("the PKCS#11 registry is poisoned".into()))?;
    if let Some(ctx) = contexts.get(module) {
        return Ok(ctx.clone());
    }
    let unavailable = |e: P11Error| {
        KeyError::Unavailable(format!("the PKCS#11 module {}: {e}", module.display()))
    };
    let ctx = Pkcs11::new(module).map_err(unavailable)?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(P11Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(unavailable(e)),
    }
    contexts.insert(module.to_owned(), ctx.clone());
    Ok(ctx)
}

/// The slot holding the token labelled `label`.
fn slot(ctx: &Pkcs11, label: &str) -> Result<Slot, KeyError> {
    let slots = ctx
        .get_slots_with_token()
        .map_err(|e| KeyError::Unavailable(format!("listing PKCS#11 tokens: {e}")))?;
    slots
        .into_iter()
        .find(|s| {
            ctx.get_token_info(*s)
                .is_ok_and(|info| info.label().trim_end() == label)
        })
        .ok_or_else(|| KeyError::Unavailable(format!("no PKCS#11 token is labelled {label:?}")))
}

/// A root key held in a PKCS#11 token.
pub struct Pkcs11RootKey {
    location: Pkcs11Location,
    // A PKCS#11 session is used by one thread at a time.
    session: Mutex<Session>,
    key: ObjectHandle,
}

impl std::fmt::Debug for Pkcs11RootKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11RootKey")
            .field("module", &self.location.module)
            .field("token", &self.location.token)
            .field("key", &self.location.key)
            .finish()
    }
}

impl Pkcs11RootKey {
    /// Sign in to the token and find the root key; with `create`, make it (AES-256, sensitive,
    /// never extractable) if the token has no key of that label.
    pub fn open(location: &Pkcs11Location, create: bool) -> Result<Pkcs11RootKey, KeyError> {
        Pkcs11RootKey::find(location, create)?.ok_or_else(|| {
            KeyError::Unavailable(format!(
                "token {:?} has no key labelled {:?}",
                location.token, location.key
            ))
        })
    }

    /// As [`Pkcs11RootKey::open`], with `None` when the token answers but has no such key (and
    /// `create` is false).
    pub fn find(
        location: &Pkcs11Location,
        create: bool,
    ) -> Result<Option<Pkcs11RootKey>, KeyError> {
        let ctx = context(&location.module)?;
        let slot = slot(&ctx, &location.token)?;
        let token = &location.token;
        let session = ctx
            .open_rw_session(slot)
            .map_err(|e| KeyError::Unavailable(format!("opening token {token:?}: {e}")))?;
        let pin = location.pin.read()?;
        match session.login(UserType::User, Some(&AuthPin::from(pin.as_str()))) {
            Ok(()) | Err(P11Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(P11Error::Pkcs11(RvError::PinIncorrect, _)) => {
                return Err(KeyError::Unavailable(format!(
                    "the PIN for token {token:?} is not right"
                )));
            }
            Err(e) => {
                return Err(KeyError::Unavailable(format!(
                    "signing in to token {token:?}: {e}"
                )));
            }
        }
        let template = [
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::AES),
            Attribute::Label(location.key.as_bytes().to_vec()),
        ];
        let found = session
            .find_objects(&template)
            .map_err(|e| KeyError::Unavailable(format!("searching token {token:?}: {e}")))?;
        let key = match found.as_slice() {
            [key] => *key,
            [] if create => session
                .generate_key(
                    &Mechanism::AesKeyGen,
                    &[
                        Attribute::Token(true),
                        Attribute::Private(true),
                        Attribute::Sensitive(true),
                        Attribute::Extractable(false),
                        Attribute::Encrypt(true),
                        Attribute::Decrypt(true),
                        Attribute::ValueLen((KEY_LEN as u64).into()),
                        Attribute::Label(location.key.as_bytes().to_vec()),
                    ],
                )
                .map_err(|e| {
                    KeyError::Unavailable(format!("making a root key in token {token:?}: {e}"))
                })?,
            [] => return Ok(None),
            _ => {
                return Err(KeyError::Unavailable(format!(
                    "token {token:?} has several keys labelled {:?}",
                    location.key
                )));
            }
        };
        Ok(Some(Pkcs11RootKey {
            location: location.clone(),
            session: Mutex::new(session),
            key,
        }))
    }

    /// Where the key is.
    pub fn location(&self) -> &Pkcs11Location {
        &self.location
    }

    fn session(&self) -> Result<std::sync::MutexGuard<'_, Session>, KeyError> {
        self.session
            .lock()
            .map_err(|_| KeyError::Unavailable("the token session is poisoned".into()))
    }
}

impl RootKeyProvider for Pkcs11RootKey {
    fn describe(&self) -> String {
        format!(
            "PKCS#11 token {:?}, key {:?}",
            self.location.token, self.location.key
        )
    }

    /// Destroy the root key in the token (a data purge). Nothing it wrapped opens again.
    fn destroy(&self) -> Result<bool, KeyError> {
        let session = self.session()?;
        session.destroy_object(self.key).map_err(|e| {
            KeyError::Unavailable(format!(
                "destroying the root key in token {:?}: {e}",
                self.location.token
            ))
        })?;
        Ok(true)
    }

    fn wrap(
        &self,
        tenant_id: &str,
        version: u32,
        key: &TenantDataKey,
    ) -> Result<Vec<u8>, KeyError> {
        let aad = aad(tenant_id, version);
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce);
        let mut iv = nonce;
        let params = GcmParams::new(&mut iv, &aad, ((TAG_LEN * 8) as u64).into())
            .map_err(|e| KeyError::Unavailable(format!("AES-GCM parameters: {e}")))?;
        let sealed = self
            .session()?
            .encrypt(&Mechanism::AesGcm(params), self.key, key.expose_secret())
            .map_err(|e| {
                KeyError::Unavailable(format!("wrapping in token {:?}: {e}", self.location.token))
            })?;
        if sealed.len() != KEY_LEN + TAG_LEN {
            return Err(KeyError::Unavailable(
                "the token answered AES-GCM with an unexpected length".into(),
            ));
        }
        let mut wrapped = Vec::with_capacity(WRAPPED_LEN);
        wrapped.push(WRAP_VERSION);
        wrapped.extend_from_slice(&nonce);
        wrapped.extend_from_slice(&sealed);
        Ok(wrapped)
    }

    fn unwrap(
        &self,
        tenant_id: &str,
        version: u32,
        wrapped: &[u8],
    ) -> Result<TenantDataKey, KeyError> {
        if wrapped.len() != WRAPPED_LEN || wrapped[0] != WRAP_VERSION {
            return Err(KeyError::Corrupt);
        }
        let aad = aad(tenant_id, version);
        let mut iv = [0u8; NONCE_LEN];
        iv.copy_from_slice(&wrapped[1..1 + NONCE_LEN]);
        let params = GcmParams::new(&mut iv, &aad, ((TAG_LEN * 8) as u64).into())
            .map_err(|e| KeyError::Unavailable(format!("AES-GCM parameters: {e}")))?;
        let session = self.session()?;
        let opened = session.decrypt(
            &Mechanism::AesGcm(params),
            self.key,
            &wrapped[1 + NONCE_LEN..],
        );
        let opened = match opened {
            Ok(bytes) => Zeroizing::new(bytes),
            Err(P11Error::Pkcs11(
                RvError::EncryptedDataInvalid | RvError::EncryptedDataLenRange,
                _,
            )) => return Err(KeyError::Corrupt),
            // Tokens differ in how they report a tag that does not verify (SoftHSM2 answers
            // CKR_GENERAL_ERROR): when the session still answers, the data was at fault.
            Err(_) if session.get_session_info().is_ok() => return Err(KeyError::Corrupt),
            Err(e) => {
                return Err(KeyError::Unavailable(format!(
                    "unwrapping in token {:?}: {e}",
                    self.location.token
                )));
            }
        };
        drop(session);
        let key: [u8; KEY_LEN] = opened
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::Corrupt)?;
        Ok(TenantDataKey::from_bytes(key))
    }
}
