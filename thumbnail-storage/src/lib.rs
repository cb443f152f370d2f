//! # thumbnail-storage
//!
//! One [`Store`] trait for originals and thumbnails, with backends for S3 and S3-compatible
//! servers ([`S3Store`], on the official `aws-sdk-s3`), a local folder and memory (on
//! `object_store`). [`open`] picks the backend from a URL, the same way in every front end. [`Thumbnailer`] is the step every
//! front end shares: read an original, make its thumbnails, write them under deterministic keys.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use bytes::Bytes;
//! use thumbnail_storage::{open, Key, PutOptions, Timeouts};
//!
//! let store = open("memory://", &Timeouts::default()).await?;
//! let key = Key::new("photos/cat.jpg")?;
//! store.put(&key, Bytes::from_static(b"..."), &PutOptions::default()).await?;
//! assert_eq!(store.get(&key, 1024).await?.bytes, Bytes::from_static(b"..."));
//! assert!(store.get(&key, 2).await.is_err()); // over the size cap
//! # Ok::<(), thumbnail_storage::StoreError>(())
//! # }).unwrap();
//! ```

#![forbid(unsafe_code)]

#[cfg(target_os = "linux")]
mod beneath;
mod cores;
mod error;
#[cfg(target_os = "linux")]
mod folder;
mod info;
mod key;
mod local_read;
mod objects;
mod post_policy;
mod presets;
mod refusal;
mod render;
mod s3;
mod sdk;
mod sizes;
mod thumbnailer;
mod url;

use std::fmt;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;

pub use crate::cores::{Cores, Lease};
pub use crate::error::{StoreError, Timeouts, source_chain};
pub use crate::info::{INFO, Info, version};
pub use crate::key::{Key, MAX_KEY_BYTES};
pub use crate::local_read::LocalObject;
pub use crate::objects::ObjectStoreBackend;
pub use crate::post_policy::{PresignedPost, UploadRules};
pub use crate::presets::{Preset, PresetError, parse_presets};
pub use crate::refusal::{REFUSED, Refusal};
pub use crate::render::{DEFAULT_IMAGE_TIMEOUT, Work, earliest, render, render_blocking};
pub use crate::s3::{S3Config, S3Store};
pub use crate::sdk::aws_sdk_config;
pub use crate::thumbnailer::{JobError, Report, SIZES, Thumbnailer, Written};
pub use crate::url::{open, open_s3};

/// What a store knows about one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// The key, relative to the store's own prefix.
    pub key: Key,
    pub size: u64,
    pub content_type: Option<String>,
    pub cache_control: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<SystemTime>,
    /// For a thumbnail: the ETag of the original it was made from (user metadata
    /// [`SOURCE_ETAG`]), where the backend keeps metadata (S3, memory; not a local folder).
    pub source_etag: Option<String>,
}

/// An object read whole.
#[derive(Debug, Clone)]
pub struct Object {
    pub bytes: Bytes,
    pub meta: ObjectMeta,
}

/// An object read as a stream of chunks, in constant memory.
pub struct ObjectStream {
    pub meta: ObjectMeta,
    /// The bytes served: `start..end` of `meta.size` (all of them without a range).
    pub range: std::ops::Range<u64>,
    pub body: futures::stream::BoxStream<'static, Result<Bytes, StoreError>>,
}

impl fmt::Debug for ObjectStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectStream")
            .field("meta", &self.meta)
            .field("range", &self.range)
            .finish_non_exhaustive()
    }
}

/// Metadata written with an object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PutOptions {
    pub content_type: Option<String>,
    pub cache_control: Option<String>,
    /// Stored as user metadata [`SOURCE_ETAG`] where the backend keeps metadata.
    pub source_etag: Option<String>,
}

/// The user-metadata name (`x-amz-meta-source-etag` on S3) under which a thumbnail records
/// the ETag of its original, so an event for an original already thumbnailed is skipped.
pub const SOURCE_ETAG: &str = "source-etag";

/// An ETag as one comparable string: without quotes or a weak marker (S3 events carry it
/// bare, `HeadObject` quoted).
///
/// ```
/// assert_eq!(thumbnail_storage::bare_etag("\"abc\""), "abc");
/// assert_eq!(thumbnail_storage::bare_etag("W/\"abc\""), "abc");
/// ```
pub fn bare_etag(etag: &str) -> &str {
    etag.trim().trim_start_matches("W/").trim_matches('"')
}

/// How a presigned download is answered: S3 sends these in place of what the object was
/// stored with, so a client never gets a type the bytes were not checked to be.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Answer {
    pub content_type: Option<String>,
    pub content_disposition: Option<String>,
}

impl Answer {
    /// Answered as `content_type`, or, when `None`, as bytes to save
    /// (`application/octet-stream`, `Content-Disposition: attachment`).
    pub fn new(content_type: Option<&str>) -> Self {
        match content_type {
            Some(ct) => Answer {
                content_type: Some(ct.to_string()),
                content_disposition: None,
            },
            None => Answer {
                content_type: Some("application/octet-stream".into()),
                content_disposition: Some("attachment".into()),
            },
        }
    }
}

/// A place objects live: a bucket and prefix, a folder, memory.
///
/// Every method takes a validated [`Key`], so a backend never sees `..`, an absolute path or
/// a control character.
#[async_trait]
pub trait Store: Send + Sync + fmt::Debug {
    /// The URL the store was opened from (credentials never appear in it).
    fn url(&self) -> &str;

    /// Reads a whole object, refusing one over `max_bytes` before reading its body.
    async fn get(&self, key: &Key, max_bytes: u64) -> Result<Object, StoreError>;

    /// Opens an object of a local folder for the caller to [`LocalObject::read`] on a thread
    /// of its own, refusing one over `max_bytes` before reading it: `None` for a store that is
    /// not a local folder (its objects are read with [`Store::get`]).
    async fn open_local(
        &self,
        key: &Key,
        max_bytes: u64,
    ) -> Option<Result<LocalObject, StoreError>> {
        let _ = (key, max_bytes);
        None
    }

    /// Writes an object atomically: readers see the old object or the new one, never part of
    /// it. Overwrites.
    async fn put(
        &self,
        key: &Key,
        body: Bytes,
        options: &PutOptions,
    ) -> Result<ObjectMeta, StoreError>;

    /// Streams an object, or the bytes `range` of it (`start..end`, end exclusive, within
    /// its size: check against [`Store::head`] first), without holding it in memory.
    async fn stream(
        &self,
        key: &Key,
        range: Option<std::ops::Range<u64>>,
    ) -> Result<ObjectStream, StoreError>;

    /// Metadata of an object; [`StoreError::NotFound`] when there is none.
    async fn head(&self, key: &Key) -> Result<ObjectMeta, StoreError>;

    /// Whether the object exists.
    async fn exists(&self, key: &Key) -> Result<bool, StoreError> {
        match self.head(key).await {
            Ok(_) => Ok(true),
            Err(StoreError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Deletes an object; deleting one that does not exist succeeds.
    async fn delete(&self, key: &Key) -> Result<(), StoreError>;

    /// Every object in the folder `prefix` (segment-wise; `""` for all), sorted by key.
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError>;

    /// A presigned upload (an S3 POST policy) that the store itself holds to `rules`, where
    /// the backend has them (S3).
    async fn presign_post(
        &self,
        key: &Key,
        rules: &UploadRules,
        expires_in: Duration,
    ) -> Result<PresignedPost, StoreError> {
        let _ = (key, rules, expires_in);
        Err(StoreError::Unsupported {
            what: "presigned uploads",
            store: self.url().to_string(),
        })
    }

    /// A short-lived URL a plain HTTP client can read the object from without credentials,
    /// answered as `answer` says, where the backend has them (S3).
    async fn presign_get(
        &self,
        key: &Key,
        expires_in: Duration,
        answer: &Answer,
    ) -> Result<String, StoreError> {
        let _ = (key, expires_in, answer);
        Err(StoreError::Unsupported {
            what: "presigned downloads",
            store: self.url().to_string(),
        })
    }

    /// Removes what interrupted writes left behind (a local folder's temporary files, when a
    /// process was killed mid-write) that is older than `older_than`; returns how many.
    async fn clean_temporaries(&self, older_than: Duration) -> Result<usize, StoreError> {
        let _ = older_than;
        Ok(0)
    }

    /// Whether the store can be reached (for readiness probes).
    async fn check(&self) -> Result<(), StoreError>;

    /// Where `key` lives, as one string comparable across stores: `url/key`.
    fn location(&self, key: &str) -> String {
        format!(
            "{}/{}",
            self.url().trim_end_matches('/'),
            key.trim_start_matches('/')
        )
    }
}

/// The MIME type for a key's extension, for backends that keep no content type (a folder).
pub fn mime_from_extension(key: &str) -> Option<&'static str> {
    let ext = key.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "tif" | "tiff" => "image/tiff",
        "bmp" => "image/bmp",
        "avif" => "image/avif",
        "heic" | "heif" => "image/heic",
        "jxl" => "image/jxl",
        _ => return None,
    })
}
