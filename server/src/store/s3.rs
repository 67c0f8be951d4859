//! Sealed parts in an S3-compatible object store, for several nodes that share them:
//! `{prefix}{tenant}/{message}/{part}`, one object per part.
//!
//! A message's parts are all PUT before the database commit (each PUT is atomic: an object is
//! whole or absent) and deleted if the commit fails. Readers look only for parts of messages the
//! database lists, so a half-written message is never seen. What a crash leaves between the PUTs
//! and the commit is removed by [`S3Blobs::sweep`], but only once it is an hour old: another node
//! may be between its PUTs and its commit right now.

use std::collections::HashSet;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, ObjectStore, PutPayload};

use super::SealedPart;
use super::blobs::safe_name;
use crate::config::Config;

/// How old an object no message refers to must be before a sweep removes it.
const ORPHAN_AGE: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// A stream of a part's bytes.
pub type ByteStream =
    std::pin::Pin<Box<dyn futures_util::Stream<Item = std::io::Result<Bytes>> + Send>>;

/// The object store.
#[derive(Debug, Clone)]
pub struct S3Blobs {
    store: Arc<dyn ObjectStore>,
    /// The same store, for multipart uploads resumed across requests and nodes.
    multipart: Arc<AmazonS3>,
    prefix: String,
}

fn io(e: object_store::Error) -> std::io::Error {
    match e {
        object_store::Error::NotFound { .. } => {
            std::io::Error::new(std::io::ErrorKind::NotFound, e.to_string())
        }
        other => std::io::Error::other(other.to_string()),
    }
}

impl S3Blobs {
    /// From the `s3_*` settings (`s3_bucket` is required; `s3_endpoint` for anything but AWS).
    pub fn open(config: &Config) -> std::io::Result<S3Blobs> {
        let bucket = config
            .s3_bucket
            .as_deref()
            .ok_or_else(|| std::io::Error::other("blob_store = \"s3\" needs s3_bucket"))?;
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(&config.s3_region);
        if let Some(endpoint) = &config.s3_endpoint {
            builder = builder
                .with_endpoint(endpoint)
                // Buckets as paths (https://host/bucket/key), as self-hosted stores expect.
                .with_virtual_hosted_style_request(false)
                // Plain http only when the endpoint says so (a store on the same host or network).
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if let Some(id) = &config.s3_access_key_id {
            builder = builder.with_access_key_id(id);
        }
        if let Some(secret) = &config.s3_secret_access_key {
            builder = builder.with_secret_access_key(&secret.0);
        }
        let store = builder
            .build()
            .map_err(|e| std::io::Error::other(format!("the S3 settings: {e}")))?;
        let prefix = config.s3_prefix.trim_matches('/').to_owned();
        let multipart = Arc::new(store);
        Ok(S3Blobs {
            store: multipart.clone(),
            multipart,
            prefix,
        })
    }

    /// `{prefix}/{segments joined by /}`, each segment checked as a blob name.
    fn path(&self, segments: &[&str]) -> std::io::Result<ObjectPath> {
        let mut key = self.prefix.clone();
        for s in segments {
            if !key.is_empty() {
                key.push('/');
            }
            key.push_str(safe_name(s)?);
        }
        Ok(ObjectPath::from(key))
    }

    fn key(&self, tenant_id: &str, message_id: &str, part: &str) -> std::io::Result<ObjectPath> {
        self.path(&[tenant_id, message_id, part])
    }

    /// PUT every part of a message.
    pub async fn put(
        &self,
        tenant_id: &str,
        message_id: &str,
        parts: &[SealedPart],
    ) -> std::io::Result<()> {
        for part in parts {
            let key = self.key(tenant_id, message_id, &part.name)?;
            self.store
                .put(&key, PutPayload::from(part.bytes.clone()))
                .await
                .map_err(io)?;
        }
        Ok(())
    }

    /// Begin a multipart upload of one part (a draft's attachment); returns its id.
    pub async fn begin_upload(
        &self,
        tenant_id: &str,
        message_id: &str,
        part: &str,
    ) -> std::io::Result<String> {
        let key = self.key(tenant_id, message_id, part)?;
        self.multipart.create_multipart(&key).await.map_err(io)
    }

    /// Store window `number` (from 0) of a multipart upload; returns its ETag. Storing a window
    /// again replaces it.
    pub async fn put_window(
        &self,
        tenant_id: &str,
        message_id: &str,
        part: &str,
        upload_id: &str,
        number: usize,
        bytes: Vec<u8>,
    ) -> std::io::Result<String> {
        let key = self.key(tenant_id, message_id, part)?;
        let id = upload_id.to_owned();
        self.multipart
            .put_part(&key, &id, number, PutPayload::from(bytes))
            .await
            .map(|p| p.content_id)
            .map_err(io)
    }

    /// Make the object from every window stored, in order.
    pub async fn finish_upload(
        &self,
        tenant_id: &str,
        message_id: &str,
        part: &str,
        upload_id: &str,
        etags: &[String],
    ) -> std::io::Result<()> {
        let key = self.key(tenant_id, message_id, part)?;
        let parts = etags
            .iter()
            .map(|e| PartId {
                content_id: e.clone(),
            })
            .collect();
        self.multipart
            .complete_multipart(&key, &upload_id.to_owned(), parts)
            .await
            .map(|_| ())
            .map_err(io)
    }

    /// Give up a multipart upload and what it stored.
    pub async fn abort_upload(
        &self,
        tenant_id: &str,
        message_id: &str,
        part: &str,
        upload_id: &str,
    ) -> std::io::Result<()> {
        let key = self.key(tenant_id, message_id, part)?;
        match self
            .multipart
            .abort_multipart(&key, &upload_id.to_owned())
            .await
        {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(io(e)),
        }
    }

    /// A part's length, if it is there.
    pub async fn len(
        &self,
        tenant_id: &str,
        message_id: &str,
        part: &str,
    ) -> std::io::Result<Option<u64>> {
        let key = self.key(tenant_id, message_id, part)?;
        match self.store.head(&key).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    /// Delete some parts of a message (none there is fine).
    pub async fn remove_parts(
        &self,
        tenant_id: &str,
        message_id: &str,
        parts: &[&str],
    ) -> std::io::Result<()> {
        for part in parts {
            let key = self.key(tenant_id, message_id, part)?;
            match self.store.delete(&key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(io(e)),
            }
        }
        Ok(())
    }

    /// Delete every part of a message.
    pub async fn remove(&self, tenant_id: &str, message_id: &str) -> std::io::Result<()> {
        let prefix = self.path(&[tenant_id, message_id])?;
        let keys: Vec<ObjectPath> = self
            .store
            .list(Some(&prefix))
            .map_ok(|m| m.location)
            .try_collect()
            .await
            .map_err(io)?;
        for key in keys {
            match self.store.delete(&key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(io(e)),
            }
        }
        Ok(())
    }

    /// One whole part.
    pub async fn read(
        &self,
        tenant_id: &str,
        message_id: &str,
        part: &str,
    ) -> std::io::Result<Vec<u8>> {
        let key = self.key(tenant_id, message_id, part)?;
        let got = self.store.get(&key).await.map_err(io)?;
        Ok(got.bytes().await.map_err(io)?.to_vec())
    }

    /// `len` bytes of a part from `first`, as they arrive.
    pub async fn read_range(
        &self,
        tenant_id: &str,
        message_id: &str,
        part: &str,
        first: u64,
        len: u64,
    ) -> std::io::Result<ByteStream> {
        let key = self.key(tenant_id, message_id, part)?;
        if len == 0 {
            return Ok(Box::pin(futures_util::stream::empty()));
        }
        let options = GetOptions {
            range: Some(GetRange::Bounded(first..first + len)),
            ..GetOptions::default()
        };
        let got = self.store.get_opts(&key, options).await.map_err(io)?;
        Ok(Box::pin(got.into_stream().map(|r| r.map_err(io))))
    }

    /// Delete the parts of messages `known` does not list, once they are an hour old.
    pub async fn sweep(&self, known: &HashSet<(String, String)>) -> std::io::Result<usize> {
        let prefix = (!self.prefix.is_empty()).then(|| ObjectPath::from(self.prefix.as_str()));
        let objects: Vec<object_store::ObjectMeta> = self
            .store
            .list(prefix.as_ref())
            .try_collect()
            .await
            .map_err(io)?;
        let cutoff = chrono::Utc::now() - ORPHAN_AGE;
        let skip = usize::from(!self.prefix.is_empty()) * self.prefix.split('/').count();
        let mut removed = 0;
        for o in objects {
            let segments: Vec<String> = o.location.parts().map(|p| p.as_ref().to_owned()).collect();
            let Some([tenant, message, _]) = segments
                .get(skip..)
                .and_then(|s| <&[String; 3]>::try_from(s).ok())
            else {
                continue;
            };
            if o.last_modified < cutoff && !known.contains(&(tenant.clone(), message.clone())) {
                match self.store.delete(&o.location).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => removed += 1,
                    Err(e) => return Err(io(e)),
                }
            }
        }
        Ok(removed)
    }

    /// Whether the bucket answers with these credentials.
    pub async fn check(&self) -> std::io::Result<()> {
        let prefix = (!self.prefix.is_empty()).then(|| ObjectPath::from(self.prefix.as_str()));
        self.store
            .list_with_delimiter(prefix.as_ref())
            .await
            .map(|_| ())
            .map_err(io)
    }
}
