//! The operator's availability keys: one per data encryption policy, made with the policy, in a
//! directory of key files or a PKCS#11 token of the operator's (never the data directory). Each
//! version of the policy's data key is also wrapped under it, so that when neither of the
//! tenant's root keys answers (a token lost, a vault deleted) an explicit, audited recovery can
//! still open it. Nothing else ever uses it: key release and sealing only try the tenant's root
//! keys. A purge destroys it, which is what makes the purge final.

use std::sync::Arc;

use super::{KeyError, LocalKeyFile, Pkcs11RootKey, RootKeyProvider};
use crate::config::root_keys::{AvailabilitySpec, RootKeySpec};

/// Where the availability keys are, if the operator keeps any.
#[derive(Debug)]
pub struct AvailabilityKeys {
    spec: Option<AvailabilitySpec>,
}

impl AvailabilityKeys {
    /// Availability keys kept as `spec` says; `None`: none are kept.
    pub fn new(spec: Option<AvailabilitySpec>) -> AvailabilityKeys {
        AvailabilityKeys { spec }
    }

    /// Whether the operator keeps availability keys.
    pub fn configured(&self) -> bool {
        self.spec.is_some()
    }

    /// Where, for operators (never key material).
    pub fn describe(&self) -> Option<String> {
        self.spec.as_ref().map(AvailabilitySpec::describe)
    }

    /// A new name for a policy's availability key (its file's stem, or its label in the token):
    /// the policy's id and a random part, so that two nodes making one at once never make two
    /// keys of one name (the one stored wins; the other is destroyed).
    pub fn new_name(policy_id: &str) -> String {
        let mut random = [0u8; 6];
        crate::secrets::fill_random(&mut random);
        format!("sealpost-availability-{policy_id}-{}", hex::encode(random))
    }

    fn spec(&self, name: &str) -> Result<RootKeySpec, KeyError> {
        self.spec
            .as_ref()
            .map(|s| s.key(name))
            .ok_or_else(|| KeyError::Unavailable("no availability key store is configured".into()))
    }

    /// Make the availability key `name`, or open it if it was made already (a policy's key made
    /// by an attempt that did not finish is taken up, not left behind).
    pub fn create(&self, name: &str) -> Result<Arc<dyn RootKeyProvider>, KeyError> {
        if let Some(AvailabilitySpec::Directory(dir)) = &self.spec {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                builder.mode(0o700);
            }
            builder
                .create(dir)
                .map_err(|e| KeyError::Unavailable(format!("{}: {e}", dir.display())))?;
        }
        self.spec(name)?.open(true)
    }

    /// Open the availability key `name`, which must exist.
    pub fn get(&self, name: &str) -> Result<Arc<dyn RootKeyProvider>, KeyError> {
        self.spec(name)?.open(false)
    }

    /// Destroy the availability key `name`: `Ok(false)` if it is not there (destroyed already).
    pub fn destroy(&self, name: &str) -> Result<bool, KeyError> {
        match self.spec(name)? {
            RootKeySpec::File(path) => {
                if !path.exists() {
                    return Ok(false);
                }
                LocalKeyFile::open(&path)?.destroy()
            }
            RootKeySpec::Pkcs11(location) => match Pkcs11RootKey::find(&location, false)? {
                Some(key) => key.destroy(),
                None => Ok(false),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealpost_envelope::TenantDataKey;

    #[test]
    fn each_policy_gets_its_own_key_file_which_a_purge_destroys() {
        let dir = tempfile::tempdir().unwrap();
        let keys = AvailabilityKeys::new(Some(AvailabilitySpec::Directory(
            dir.path().join("availability"),
        )));
        let (n1, n2) = (
            AvailabilityKeys::new_name("p1"),
            AvailabilityKeys::new_name("p2"),
        );
        assert_ne!(n1, AvailabilityKeys::new_name("p1"));
        let a = keys.create(&n1).unwrap();
        let b = keys.create(&n2).unwrap();
        let dk = TenantDataKey::generate();
        let w = a.wrap("dep:t:p1", 1, &dk).unwrap();
        assert!(b.unwrap("dep:t:p1", 1, &w).is_err(), "one key per policy");
        // Made again: the same key, taken up.
        let again = keys.create(&n1).unwrap();
        assert_eq!(
            again.unwrap("dep:t:p1", 1, &w).unwrap().expose_secret(),
            dk.expose_secret()
        );
        assert!(keys.destroy(&n1).unwrap());
        assert!(!keys.destroy(&n1).unwrap());
        assert!(keys.get(&n1).is_err());
        assert!(keys.get(&n2).is_ok());

        let none = AvailabilityKeys::new(None);
        assert!(!none.configured());
        assert!(none.create("x").is_err());
    }
}
