//! Sealed parts on disk: `blobs/{tenant}/{message}/{part}`, written through a staging directory so
//! a message's parts appear all at once or not at all.
//!
//! Writing a message: [`BlobDir::stage`] writes and syncs every part under `blobs/.staging/`;
//! [`Staged::publish`] renames the whole directory into place (one atomic rename); the database
//! commit follows. A crash before the rename leaves only staging, which [`BlobDir::sweep`] clears
//! at start; a crash between rename and commit leaves a directory no row refers to, which the sweep
//! also removes. Readers only look for parts of messages the database knows, so they never see a
//! half-written message.
//!
//! Names are checked before they become paths: ids are `[0-9a-z]` and part names are ours.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::SealedPart;
use crate::secrets::new_id;

const STAGING: &str = ".staging";

/// The blob directory.
#[derive(Debug, Clone)]
pub struct BlobDir {
    root: PathBuf,
}

/// Parts written to staging and not yet published. Dropping it removes them.
#[derive(Debug)]
pub struct Staged {
    dir: Option<PathBuf>,
}

pub(crate) fn safe_name(name: &str) -> std::io::Result<&str> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(name)
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "unsafe blob name",
        ))
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

impl BlobDir {
    /// Open (and create) the blob directory.
    pub fn open(root: &Path) -> std::io::Result<BlobDir> {
        create_private_dir(&root.join(STAGING))?;
        Ok(BlobDir {
            root: root.to_owned(),
        })
    }

    /// Whether the directory is there and a file can be made in it (for readiness checks).
    pub fn check(&self) -> std::io::Result<()> {
        let probe = self.root.join(STAGING).join(format!(".ready-{}", new_id()));
        std::fs::write(&probe, b"")?;
        std::fs::remove_file(&probe)
    }

    fn message_dir(&self, tenant_id: &str, message_id: &str) -> std::io::Result<PathBuf> {
        Ok(self
            .root
            .join(safe_name(tenant_id)?)
            .join(safe_name(message_id)?))
    }

    /// Write and sync every part into a fresh staging directory.
    pub fn stage(&self, parts: &[SealedPart]) -> std::io::Result<Staged> {
        let dir = self.root.join(STAGING).join(new_id());
        create_private_dir(&dir)?;
        let staged = Staged {
            dir: Some(dir.clone()),
        };
        for part in parts {
            let mut f = std::fs::File::create_new(dir.join(safe_name(&part.name)?))?;
            f.write_all(&part.bytes)?;
            f.sync_all()?;
        }
        sync_dir(&dir)?;
        Ok(staged)
    }

    /// Move staged parts into place as `tenant_id/message_id` (one rename), or, for a draft whose
    /// attachments are already there, into that directory part by part.
    pub fn publish(
        &self,
        mut staged: Staged,
        tenant_id: &str,
        message_id: &str,
    ) -> std::io::Result<()> {
        let target = self.message_dir(tenant_id, message_id)?;
        let parent = target
            .parent()
            .ok_or_else(|| std::io::Error::other("blob path has no parent"))?;
        create_private_dir(parent)?;
        let dir = staged
            .dir
            .take()
            .ok_or_else(|| std::io::Error::other("already published"))?;
        if target.is_dir() {
            staged.dir = Some(dir.clone());
            for entry in std::fs::read_dir(&dir)? {
                let entry = entry?;
                std::fs::rename(entry.path(), target.join(entry.file_name()))?;
            }
            return sync_dir(&target);
        }
        if let Err(e) = std::fs::rename(&dir, &target) {
            staged.dir = Some(dir);
            return Err(e);
        }
        sync_dir(parent)
    }

    /// Remove a message's parts (after a failed commit, or a purge).
    pub fn remove(&self, tenant_id: &str, message_id: &str) -> std::io::Result<()> {
        match std::fs::remove_dir_all(self.message_dir(tenant_id, message_id)?) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Remove some parts of a message (none there is fine).
    pub fn remove_parts(
        &self,
        tenant_id: &str,
        message_id: &str,
        parts: &[String],
    ) -> std::io::Result<()> {
        let dir = self.message_dir(tenant_id, message_id)?;
        for part in parts {
            match std::fs::remove_file(dir.join(safe_name(part)?)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    /// Write `bytes` at `offset` of a part being uploaded (a draft's attachment, kept where the
    /// message's part will be), and sync. A window written again is the same bytes (same
    /// plaintext, key and nonces), so a late or repeated write changes nothing; after the `last`
    /// window the file is cut to its end, dropping whatever a failed attempt left past it. A part
    /// shorter than `offset` has lost stored bytes: refused.
    pub fn write_window(
        &self,
        tenant_id: &str,
        message_id: &str,
        part: &str,
        offset: u64,
        bytes: &[u8],
        last: bool,
    ) -> std::io::Result<()> {
        use std::io::{Seek, SeekFrom};
        let dir = self.message_dir(tenant_id, message_id)?;
        if !dir.is_dir() {
            let parent = dir
                .parent()
                .ok_or_else(|| std::io::Error::other("blob path has no parent"))?;
            create_private_dir(&dir)?;
            sync_dir(parent)?;
        }
        let path = dir.join(safe_name(part)?);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(offset == 0)
            .truncate(false)
            .open(&path)?;
        if f.metadata()?.len() < offset {
            return Err(std::io::Error::other(
                "the stored part is shorter than its received windows",
            ));
        }
        f.seek(SeekFrom::Start(offset))?;
        f.write_all(bytes)?;
        if last {
            f.set_len(offset + bytes.len() as u64)?;
        }
        f.sync_all()?;
        if offset == 0 {
            sync_dir(&dir)?;
        }
        Ok(())
    }

    /// Where a published part is kept (for reading ranges of it).
    pub fn path(&self, tenant_id: &str, message_id: &str, part: &str) -> std::io::Result<PathBuf> {
        Ok(self
            .message_dir(tenant_id, message_id)?
            .join(safe_name(part)?))
    }

    /// Read one part.
    pub fn read(&self, tenant_id: &str, message_id: &str, part: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(
            self.message_dir(tenant_id, message_id)?
                .join(safe_name(part)?),
        )
    }

    /// Clear staging and every message directory `known` does not recognise. Run at start, before
    /// serving, when no write can be in flight.
    pub fn sweep(&self, known: impl Fn(&str, &str) -> bool) -> std::io::Result<usize> {
        let mut removed = 0;
        for entry in std::fs::read_dir(self.root.join(STAGING))? {
            std::fs::remove_dir_all(entry?.path())?;
            removed += 1;
        }
        for tenant in std::fs::read_dir(&self.root)? {
            let tenant = tenant?;
            let tenant_name = tenant.file_name().to_string_lossy().into_owned();
            if tenant_name == STAGING || !tenant.file_type()?.is_dir() {
                continue;
            }
            for message in std::fs::read_dir(tenant.path())? {
                let message = message?;
                let message_name = message.file_name().to_string_lossy().into_owned();
                if !known(&tenant_name, &message_name) {
                    std::fs::remove_dir_all(message.path())?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            // Best effort: whatever is left is removed by the next start's sweep.
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(name: &str) -> SealedPart {
        SealedPart {
            name: name.into(),
            bytes: name.as_bytes().to_vec(),
        }
    }

    #[test]
    fn parts_appear_only_when_published_and_staging_is_cleaned_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobDir::open(dir.path()).unwrap();
        let staged = blobs.stage(&[part("manifest"), part("body-0")]).unwrap();
        assert!(blobs.read("t1", "m1", "manifest").is_err());
        blobs.publish(staged, "t1", "m1").unwrap();
        assert_eq!(blobs.read("t1", "m1", "body-0").unwrap(), b"body-0");
        let abandoned = blobs.stage(&[part("manifest")]).unwrap();
        drop(abandoned);
        assert_eq!(
            std::fs::read_dir(dir.path().join(STAGING)).unwrap().count(),
            0
        );
    }

    #[test]
    fn sweep_removes_staging_and_messages_the_database_does_not_know() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobDir::open(dir.path()).unwrap();
        blobs
            .publish(blobs.stage(&[part("manifest")]).unwrap(), "t1", "kept")
            .unwrap();
        blobs
            .publish(blobs.stage(&[part("manifest")]).unwrap(), "t1", "orphan")
            .unwrap();
        // A crash mid-stage: the directory survives because Drop never ran.
        let crashed = blobs.stage(&[part("manifest")]).unwrap();
        std::mem::forget(crashed);
        let removed = blobs.sweep(|t, m| t == "t1" && m == "kept").unwrap();
        assert_eq!(removed, 2);
        assert!(blobs.read("t1", "kept", "manifest").is_ok());
        assert!(blobs.read("t1", "orphan", "manifest").is_err());
        assert_eq!(
            std::fs::read_dir(dir.path().join(STAGING)).unwrap().count(),
            0
        );
    }

    #[test]
    fn names_never_become_paths_outside_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobDir::open(dir.path()).unwrap();
        for bad in ["../x", ".staging", "a/b", "", "A"] {
            assert!(blobs.read(bad, "m", "manifest").is_err(), "{bad}");
            assert!(blobs.read("t", "m", bad).is_err(), "{bad}");
        }
    }
}
