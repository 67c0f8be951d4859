//! The root keys this server knows, by name: the built-in `local` key file, and every
//! `[[root_keys]]` entry of the configuration (a key file or a key in a PKCS#11 token).
//!
//! A configured key that cannot be reached when the server starts (a token not inserted, a PIN
//! file missing) does not stop the server: it is reported, and tried again whenever it is needed,
//! so a policy whose other root key is reachable keeps working (that is why a policy has two). A
//! key that stops answering is dropped and opened afresh on the next use.

use std::sync::{Arc, Mutex};

use super::{AvailabilityKeys, KeyError, LocalKeyFile, Pkcs11RootKey, RootKeyProvider};
use crate::config::root_keys::{AvailabilitySpec, LOCAL, RootKeySpec};

impl RootKeySpec {
    fn provider_name(&self) -> &'static str {
        match self {
            RootKeySpec::File(_) => "file",
            RootKeySpec::Pkcs11(_) => "pkcs11",
        }
    }

    pub(super) fn open(&self, create: bool) -> Result<Arc<dyn RootKeyProvider>, KeyError> {
        Ok(match self {
            RootKeySpec::File(path) => {
                if create && !path.exists() {
                    LocalKeyFile::create(path)?;
                }
                Arc::new(LocalKeyFile::open(path)?)
            }
            RootKeySpec::Pkcs11(loc) => Arc::new(Pkcs11RootKey::open(loc, create)?),
        })
    }
}

/// A root key as operators and admins see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootKeyInfo {
    pub name: String,
    /// `local`, `file` or `pkcs11`.
    pub provider: &'static str,
    /// Whether it answered just now.
    pub available: bool,
    /// Why not, if it did not.
    pub problem: Option<String>,
}

struct Entry {
    name: String,
    spec: RootKeySpec,
    open: Mutex<Option<Arc<dyn RootKeyProvider>>>,
}

/// Every root key, by name.
pub struct RootKeys {
    local: Arc<LocalKeyFile>,
    configured: Vec<Entry>,
    availability: AvailabilityKeys,
}

impl std::fmt::Debug for RootKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RootKeys")
            .field("local", &self.local)
            .field(
                "configured",
                &self.configured.iter().map(|e| &e.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl RootKeys {
    /// The built-in key and the configured ones (opened when first needed).
    pub fn new(
        local: Arc<LocalKeyFile>,
        configured: Vec<(String, RootKeySpec)>,
        availability: Option<AvailabilitySpec>,
    ) -> RootKeys {
        let configured = configured
            .into_iter()
            .map(|(name, spec)| Entry {
                name,
                spec,
                open: Mutex::new(None),
            })
            .collect();
        RootKeys {
            local,
            configured,
            availability: AvailabilityKeys::new(availability),
        }
    }

    /// The operator's availability keys.
    pub fn availability(&self) -> &AvailabilityKeys {
        &self.availability
    }

    /// Try every configured key once and log (without key material) each that does not answer;
    /// the server starts all the same, and tries again when a key is needed.
    pub fn report(&self) {
        for k in self.list() {
            if let Some(problem) = k.problem {
                tracing::error!(root_key = %k.name, error = %problem, "a configured root key is not available");
            }
        }
        if !self.configured.is_empty() && !self.availability.configured() {
            tracing::warn!(
                "no [availability_key] store is configured: a data encryption policy whose two root keys are both lost cannot be recovered"
            );
        }
    }

    /// Make a configured key that does not exist yet (a key file, or a non-extractable AES-256
    /// key in the token), and open it. An existing key is opened, never replaced.
    pub fn create(&self, name: &str) -> Result<Arc<dyn RootKeyProvider>, KeyError> {
        let entry = self.entry(name)?;
        let provider = entry.spec.open(true)?;
        *lock(&entry.open)? = Some(provider.clone());
        Ok(provider)
    }

    fn entry(&self, name: &str) -> Result<&Entry, KeyError> {
        self.configured
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| KeyError::Unavailable(format!("no root key is configured as {name:?}")))
    }

    /// Whether a root key of this name is configured (or is `local`).
    pub fn knows(&self, name: &str) -> bool {
        name == LOCAL || self.configured.iter().any(|e| e.name == name)
    }

    /// The root key called `name`, opening it if it is not open.
    pub fn get(&self, name: &str) -> Result<Arc<dyn RootKeyProvider>, KeyError> {
        if name == LOCAL {
            return Ok(self.local.clone());
        }
        let entry = self.entry(name)?;
        let mut open = lock(&entry.open)?;
        if let Some(p) = open.as_ref() {
            return Ok(p.clone());
        }
        let provider = entry.spec.open(false)?;
        *open = Some(provider.clone());
        Ok(provider)
    }

    /// Forget an open key that stopped answering, so the next use opens it afresh.
    pub fn forget(&self, name: &str) {
        if let Ok(entry) = self.entry(name)
            && let Ok(mut open) = lock(&entry.open)
        {
            *open = None;
        }
    }

    /// Destroy a configured root key where its provider allows (`Ok(false)` where it does not).
    pub fn destroy(&self, name: &str) -> Result<bool, KeyError> {
        if name == LOCAL {
            return Ok(false);
        }
        let provider = self.get(name)?;
        let destroyed = provider.destroy()?;
        self.forget(name);
        Ok(destroyed)
    }

    /// Every root key and whether it answers now.
    pub fn list(&self) -> Vec<RootKeyInfo> {
        let mut out = vec![RootKeyInfo {
            name: LOCAL.to_owned(),
            provider: "local",
            available: true,
            problem: None,
        }];
        for e in &self.configured {
            let problem = self.get(&e.name).err().map(|err| err.to_string());
            out.push(RootKeyInfo {
                name: e.name.clone(),
                provider: e.spec.provider_name(),
                available: problem.is_none(),
                problem,
            });
        }
        out
    }
}

fn lock<T>(m: &Mutex<T>) -> Result<std::sync::MutexGuard<'_, T>, KeyError> {
    m.lock()
        .map_err(|_| KeyError::Unavailable("the root key registry is poisoned".into()))
}
