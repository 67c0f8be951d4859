//! The default root key: 32 random bytes in `root.key` in the data directory, mode 0600, created
//! on first run. Back it up with the database: without it nothing can be opened.

use std::io::Write;
use std::path::{Path, PathBuf};

use sealpost_envelope::TenantDataKey;
use sealpost_envelope::keys::KEY_LEN;
use zeroize::Zeroizing;

use super::{KeyError, RootKeyProvider, unwrap_with, wrap_with};
use crate::secrets::fill_random;

/// A root key read from a local file.
pub struct LocalKeyFile {
    path: PathBuf,
    key: Zeroizing<[u8; KEY_LEN]>,
    destroyable: bool,
}

impl std::fmt::Debug for LocalKeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalKeyFile")
            .field("path", &self.path)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl LocalKeyFile {
    /// Open `path`, creating it with a fresh key (mode 0600) if it does not exist: the built-in
    /// `local` root key, which is never destroyed.
    pub fn open_or_create(path: &Path) -> Result<LocalKeyFile, KeyError> {
        if !path.exists() {
            LocalKeyFile::create(path)?;
        }
        LocalKeyFile::read(path, false)
    }

    /// Open a configured root key's file, which must exist (a missing file is a missing key, not
    /// a reason to make a new one). A purge may destroy it.
    pub fn open(path: &Path) -> Result<LocalKeyFile, KeyError> {
        LocalKeyFile::read(path, true)
    }

    /// Write a fresh key to `path` (mode 0600); refuses if the file exists.
    pub fn create(path: &Path) -> Result<(), KeyError> {
        let unavailable =
            |e: std::io::Error| KeyError::Unavailable(format!("{}: {e}", path.display()));
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        fill_random(key.as_mut());
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(unavailable)?;
        file.write_all(key.as_ref()).map_err(unavailable)?;
        file.sync_all().map_err(unavailable)
    }

    fn read(path: &Path, destroyable: bool) -> Result<LocalKeyFile, KeyError> {
        let unavailable =
            |e: std::io::Error| KeyError::Unavailable(format!("{}: {e}", path.display()));
        let bytes = Zeroizing::new(std::fs::read(path).map_err(unavailable)?);
        let key: [u8; KEY_LEN] = bytes.as_slice().try_into().map_err(|_| {
            KeyError::Unavailable(format!(
                "{} must hold exactly {KEY_LEN} bytes",
                path.display()
            ))
        })?;
        Ok(LocalKeyFile {
            path: path.to_owned(),
            key: Zeroizing::new(key),
            destroyable,
        })
    }
}

impl RootKeyProvider for LocalKeyFile {
    fn describe(&self) -> String {
        format!("key file {}", self.path.display())
    }

    /// Overwrite the file with zeros, flush it to disk and remove it (a configured root key only;
    /// the built-in `local` key wraps every tenant's own data key and is never destroyed). What
    /// the file system or its backups keep beyond that is outside Sealpost's reach.
    fn destroy(&self) -> Result<bool, KeyError> {
        if !self.destroyable {
            return Ok(false);
        }
        let failed = |e: std::io::Error| {
            KeyError::Unavailable(format!("destroying {}: {e}", self.path.display()))
        };
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .open(&self.path)
            .map_err(failed)?;
        file.write_all(&[0u8; KEY_LEN]).map_err(failed)?;
        file.sync_all().map_err(failed)?;
        drop(file);
        std::fs::remove_file(&self.path).map_err(failed)?;
        Ok(true)
    }

    fn wrap(
        &self,
        tenant_id: &str,
        version: u32,
        key: &TenantDataKey,
    ) -> Result<Vec<u8>, KeyError> {
        wrap_with(&self.key, tenant_id, version, key)
    }

    fn unwrap(
        &self,
        tenant_id: &str,
        version: u32,
        wrapped: &[u8],
    ) -> Result<TenantDataKey, KeyError> {
        unwrap_with(&self.key, tenant_id, version, wrapped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_is_created_once_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root.key");
        let a = LocalKeyFile::open_or_create(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let dk = TenantDataKey::generate();
        let w = a.wrap("t", 1, &dk).unwrap();
        let b = LocalKeyFile::open_or_create(&path).unwrap();
        assert_eq!(
            b.unwrap("t", 1, &w).unwrap().expose_secret(),
            dk.expose_secret()
        );
        assert!(!format!("{b:?}").contains(&hex::encode(*b.key)));
        std::fs::write(&path, b"short").unwrap();
        assert!(matches!(
            LocalKeyFile::open_or_create(&path),
            Err(KeyError::Unavailable(_))
        ));
    }
}
