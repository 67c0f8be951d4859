//! Where sealed parts are kept: the local [`BlobDir`] (the embedded default) or an S3-compatible
//! object store ([`S3Blobs`], for several nodes), chosen by `blob_store` in the configuration. The
//! database stores call these the same way either way.

use std::collections::HashSet;

use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use super::SealedPart;
use super::blobs::{self, BlobDir};
pub use super::s3::ByteStream;
use super::s3::S3Blobs;
use crate::config::{BlobStoreKind, Config};

/// The configured blob store.
#[derive(Debug, Clone)]
pub enum BlobStore {
    /// `blobs/` in the data directory.
    Dir(BlobDir),
    /// An S3 bucket.
    S3(S3Blobs),
}

/// A message's parts written and not yet visible (directory), or already stored (S3).
#[derive(Debug)]
pub enum Staged {
    /// In the staging directory; dropping it removes them.
    Dir(blobs::Staged),
    /// PUT to the bucket.
    S3,
}

/// A part being uploaded window by window.
#[derive(Debug, Clone, Copy)]
pub struct Upload<'a> {
    pub tenant_id: &'a str,
    pub message_id: &'a str,
    /// `attachment-N`.
    pub part: &'a str,
    /// S3: the multipart upload.
    pub upload_id: Option<&'a str>,
}

impl Upload<'_> {
    fn s3_upload(&self) -> std::io::Result<&str> {
        self.upload_id
            .ok_or_else(|| std::io::Error::other("the multipart upload was not begun"))
    }
}

fn joined<T>(r: Result<std::io::Result<T>, tokio::task::JoinError>) -> std::io::Result<T> {
    r.map_err(std::io::Error::other)?
}

impl BlobStore {
    /// The store the configuration names.
    pub fn open(config: &Config) -> std::io::Result<BlobStore> {
        Ok(match config.blob_store {
            BlobStoreKind::Directory => {
                BlobStore::Dir(BlobDir::open(&config.data_dir.join("blobs"))?)
            }
            BlobStoreKind::S3 => BlobStore::S3(S3Blobs::open(config)?),
        })
    }

    /// Write every part of a message where readers cannot see it yet (directory), or PUT them (S3).
    pub async fn stage(
        &self,
        tenant_id: &str,
        message_id: &str,
        parts: &[SealedPart],
    ) -> std::io::Result<Staged> {
        match self {
            BlobStore::Dir(d) => {
                let (d, parts) = (d.clone(), parts.to_vec());
                joined(tokio::task::spawn_blocking(move || d.stage(&parts)).await).map(Staged::Dir)
            }
            BlobStore::S3(s) => s
                .put(tenant_id, message_id, parts)
                .await
                .map(|()| Staged::S3),
        }
    }

    /// Make staged parts visible under the message (directory: one rename; S3: already are).
    pub async fn publish(
        &self,
        staged: Staged,
        tenant_id: &str,
        message_id: &str,
    ) -> std::io::Result<()> {
        match (self, staged) {
            (BlobStore::Dir(d), Staged::Dir(staged)) => {
                let (d, t, m) = (d.clone(), tenant_id.to_owned(), message_id.to_owned());
                joined(tokio::task::spawn_blocking(move || d.publish(staged, &t, &m)).await)
            }
            (BlobStore::S3(_), Staged::S3) => Ok(()),
            _ => Err(std::io::Error::other("staged in another blob store")),
        }
    }

    /// Remove a message's parts (none is fine).
    pub async fn remove(&self, tenant_id: &str, message_id: &str) -> std::io::Result<()> {
        match self {
            BlobStore::Dir(d) => {
                let (d, t, m) = (d.clone(), tenant_id.to_owned(), message_id.to_owned());
                joined(tokio::task::spawn_blocking(move || d.remove(&t, &m)).await)
            }
            BlobStore::S3(s) => s.remove(tenant_id, message_id).await,
        }
    }

    /// Remove some parts of a message (none there is fine).
    pub async fn remove_parts(
        &self,
        tenant_id: &str,
        message_id: &str,
        parts: &[&str],
    ) -> std::io::Result<()> {
        match self {
            BlobStore::Dir(d) => {
                let (d, t, m) = (d.clone(), tenant_id.to_owned(), message_id.to_owned());
                let parts: Vec<String> = parts.iter().map(|p| (*p).to_owned()).collect();
                joined(tokio::task::spawn_blocking(move || d.remove_parts(&t, &m, &parts)).await)
            }
            BlobStore::S3(s) => s.remove_parts(tenant_id, message_id, parts).await,
        }
    }

    /// Begin uploading a part window by window (a draft's attachment, sealed straight to where
    /// the message's part will be). S3: a multipart upload, whose id is returned.
    pub async fn begin_upload(
        &self,
        tenant_id: &str,
        message_id: &str,
        part: &str,
    ) -> std::io::Result<Option<String>> {
        match self {
            BlobStore::Dir(_) => Ok(None),
            BlobStore::S3(s) => s.begin_upload(tenant_id, message_id, part).await.map(Some),
        }
    }

    /// Store window `number` of an upload, the sealed bytes from `offset` of the part; returns
    /// the window's ETag (S3). Storing a window again replaces it.
    pub async fn write_window(
        &self,
        upload: &Upload<'_>,
        number: usize,
        offset: u64,
        bytes: Vec<u8>,
        last: bool,
    ) -> std::io::Result<Option<String>> {
        match self {
            BlobStore::Dir(d) => {
                let d = d.clone();
                let (t, m, p) = (
                    upload.tenant_id.to_owned(),
                    upload.message_id.to_owned(),
                    upload.part.to_owned(),
                );
                joined(
                    tokio::task::spawn_blocking(move || {
                        d.write_window(&t, &m, &p, offset, &bytes, last)
                    })
                    .await,
                )
                .map(|()| None)
            }
            BlobStore::S3(s) => {
                let id = upload.s3_upload()?;
                s.put_window(
                    upload.tenant_id,
                    upload.message_id,
                    upload.part,
                    id,
                    number,
                    bytes,
                )
                .await
                .map(Some)
            }
        }
    }

    /// S3: whether the upload was completed already (its object is there with `len` bytes): a
    /// last window whose completion was not recorded. The directory is written in place, so a
    /// window there is simply written again.
    pub async fn upload_completed(&self, upload: &Upload<'_>, len: u64) -> std::io::Result<bool> {
        match self {
            BlobStore::Dir(_) => Ok(false),
            BlobStore::S3(s) => s
                .len(upload.tenant_id, upload.message_id, upload.part)
                .await
                .map(|l| l == Some(len)),
        }
    }

    /// Every window is stored: make the part whole (S3: complete the multipart upload).
    pub async fn finish_upload(
        &self,
        upload: &Upload<'_>,
        etags: &[String],
    ) -> std::io::Result<()> {
        match self {
            BlobStore::Dir(_) => Ok(()),
            BlobStore::S3(s) => {
                s.finish_upload(
                    upload.tenant_id,
                    upload.message_id,
                    upload.part,
                    upload.s3_upload()?,
                    etags,
                )
                .await
            }
        }
    }

    /// Give up an unfinished upload (S3: abort it, so its windows are not kept).
    pub async fn abort_upload(&self, upload: &Upload<'_>) -> std::io::Result<()> {
        match (self, upload.upload_id) {
            (BlobStore::S3(s), Some(id)) => {
                s.abort_upload(upload.tenant_id, upload.message_id, upload.part, id)
                    .await
            }
            _ => Ok(()),
        }
    }

    /// One whole part.
    pub async fn read(
        &self,
        tenant_id: &str,
        message_id: &str,
        part: &str,
    ) -> std::io::Result<Vec<u8>> {
        match self {
            BlobStore::Dir(d) => {
                let (d, t, m, p) = (
                    d.clone(),
                    tenant_id.to_owned(),
                    message_id.to_owned(),
                    part.to_owned(),
                );
                joined(tokio::task::spawn_blocking(move || d.read(&t, &m, &p)).await)
            }
            BlobStore::S3(s) => s.read(tenant_id, message_id, part).await,
        }
    }

    /// `len` bytes of a part from `first`, streamed.
    pub async fn read_range(
        &self,
        tenant_id: &str,
        message_id: &str,
        part: &str,
        first: u64,
        len: u64,
    ) -> std::io::Result<ByteStream> {
        match self {
            BlobStore::Dir(d) => {
                let mut file = tokio::fs::File::open(d.path(tenant_id, message_id, part)?).await?;
                file.seek(std::io::SeekFrom::Start(first)).await?;
                // 64 KiB reads: a 4 MiB window in 64 writes rather than 1,024.
                Ok(Box::pin(ReaderStream::with_capacity(
                    file.take(len),
                    64 * 1024,
                )))
            }
            BlobStore::S3(s) => s.read_range(tenant_id, message_id, part, first, len).await,
        }
    }

    /// Remove what an interrupted write left: parts of messages `known` does not list.
    pub async fn sweep(&self, known: HashSet<(String, String)>) -> std::io::Result<usize> {
        match self {
            BlobStore::Dir(d) => {
                let d = d.clone();
                joined(
                    tokio::task::spawn_blocking(move || {
                        d.sweep(|t, m| known.contains(&(t.to_owned(), m.to_owned())))
                    })
                    .await,
                )
            }
            BlobStore::S3(s) => s.sweep(&known).await,
        }
    }

    /// Whether the store is there and usable (for `/readyz`).
    pub async fn check(&self) -> std::io::Result<()> {
        match self {
            BlobStore::Dir(d) => {
                let d = d.clone();
                joined(tokio::task::spawn_blocking(move || d.check()).await)
            }
            BlobStore::S3(s) => s.check().await,
        }
    }
}
