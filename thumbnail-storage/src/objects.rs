//! Local folders and memory through `object_store`.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, GetOptions, GetResultPayload, ObjectStore, ObjectStoreExt, PutPayload,
};

use crate::error::source_chain;
use crate::local_read::{local_key_check, remove_temporaries};
use crate::{
    Key, LocalObject, Object, ObjectMeta, ObjectStream, PutOptions, SOURCE_ETAG, Store, StoreError,
    mime_from_extension,
};

/// A store backed by any `object_store` implementation.
///
/// Local folders write each object to a temporary file beside it and rename it into place
/// (`rename(2)` is atomic), with fsync, so a reader sees the old object or the new one and a
/// crash leaves one of them; they keep no metadata, so the content type is read from the
/// object's bytes. Memory keeps content type and cache control.
#[derive(Debug, Clone)]
pub struct ObjectStoreBackend {
    inner: Arc<dyn ObjectStore>,
    pub(crate) url: String,
    /// Whether the backend stores attributes (content type, cache control).
    keeps_attributes: bool,
    /// The folder of a local store.
    root: Option<std::path::PathBuf>,
    /// The same store as `inner` when it is a local folder, for paths of its objects.
    local: Option<Arc<LocalFileSystem>>,
    /// A local folder's own descriptor: on Linux every object of a folder is reached through
    /// it, never through a link (`beneath.rs`).
    #[cfg(target_os = "linux")]
    folder: Option<Arc<crate::beneath::Beneath>>,
}

impl ObjectStoreBackend {
    /// A folder on the local filesystem, created if missing.
    pub fn local(root: &std::path::Path) -> Result<Self, StoreError> {
        let url = format!("file://{}", root.display());
        std::fs::create_dir_all(root).map_err(|e| StoreError::InvalidUrl {
            url: url.clone(),
            reason: format!("cannot create the folder: {e}"),
        })?;
        let root = root.canonicalize().map_err(|e| StoreError::InvalidUrl {
            url: url.clone(),
            reason: e.to_string(),
        })?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(&root)
            .map_err(|e| StoreError::InvalidUrl {
                url: url.clone(),
                reason: e.to_string(),
            })?
            .with_fsync(true)
            .with_automatic_cleanup(false);
        let fs = Arc::new(fs);
        #[cfg(target_os = "linux")]
        let folder = crate::beneath::Beneath::open(&root).map_err(|e| StoreError::InvalidUrl {
            url: url.clone(),
            reason: format!("cannot open the folder: {e}"),
        })?;
        Ok(ObjectStoreBackend {
            inner: fs.clone(),
            url: format!("file://{}", root.display()),
            keeps_attributes: false,
            root: Some(root),
            local: Some(fs),
            #[cfg(target_os = "linux")]
            folder: Some(Arc::new(folder)),
        })
    }

    /// An empty in-memory store (tests, and a server that must not touch the disk).
    pub fn memory() -> Self {
        // Each memory store is a different place: its URL says which, so that comparing
        // locations (own outputs, shared stores) never confuses two of them.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ObjectStoreBackend {
            inner: Arc::new(object_store::memory::InMemory::new()),
            url: format!("memory://{id}"),
            keeps_attributes: true,
            root: None,
            local: None,
            #[cfg(target_os = "linux")]
            folder: None,
        }
    }

    /// A local folder's descriptor, once `key` is one a folder can hold: its objects are
    /// read and written through it, not through `inner` (which would follow links).
    #[cfg(target_os = "linux")]
    fn folder_for(&self, key: &Key) -> Result<Option<&Arc<crate::beneath::Beneath>>, StoreError> {
        let Some(folder) = &self.folder else {
            return Ok(None);
        };
        local_key_check(key)?;
        Ok(Some(folder))
    }

    pub(crate) fn path(&self, key: &Key) -> Result<Path, StoreError> {
        if self.root.is_some() {
            local_key_check(key)?;
        }
        Path::parse(key.as_str()).map_err(|e| StoreError::InvalidKey {
            key: key.to_string(),
            reason: if e.to_string().contains("empty") {
                "has an empty path segment"
            } else {
                "not a valid object path"
            },
        })
    }

    pub(crate) fn err(&self, key: &str, e: object_store::Error) -> StoreError {
        let store = self.url.clone();
        match e {
            object_store::Error::NotFound { .. } => StoreError::NotFound {
                key: key.to_string(),
            },
            object_store::Error::InvalidPath { .. } => StoreError::InvalidKey {
                key: key.to_string(),
                reason: "not a valid object path",
            },
            object_store::Error::NotSupported { .. }
            | object_store::Error::NotImplemented { .. } => StoreError::Unsupported {
                what: "this operation",
                store,
            },
            other => {
                let message = source_chain(&other);
                let lower = message.to_ascii_lowercase();
                let conflict = |reason| StoreError::Conflict {
                    key: key.to_string(),
                    reason,
                };
                if lower.contains("is a directory") {
                    return conflict("a folder of that name holds other objects");
                }
                if lower.contains("not a directory") || lower.contains("file exists") {
                    return conflict("an object stands where one of its folders would be");
                }
                if lower.contains("file name too long") {
                    return StoreError::InvalidKey {
                        key: key.to_string(),
                        reason: "a segment is longer than the filesystem allows",
                    };
                }
                if lower.contains("permission denied") || lower.contains("forbidden") {
                    StoreError::AccessDenied {
                        key: key.to_string(),
                        message,
                    }
                } else if lower.contains("timed out")
                    || lower.contains("connect")
                    || lower.contains("temporarily")
                    || lower.contains("503")
                {
                    StoreError::Unavailable { store, message }
                } else {
                    StoreError::Other { store, message }
                }
            }
        }
    }

    fn meta(
        &self,
        key: Key,
        m: &object_store::ObjectMeta,
        attributes: Option<&Attributes>,
    ) -> ObjectMeta {
        let attr = |a: Attribute| attributes.and_then(|x| x.get(&a)).map(|v| v.to_string());
        ObjectMeta {
            content_type: attr(Attribute::ContentType),
            cache_control: attr(Attribute::CacheControl),
            source_etag: attr(Attribute::Metadata(SOURCE_ETAG.into())),
            key,
            size: m.size,
            etag: m.e_tag.clone(),
            last_modified: Some(SystemTime::from(m.last_modified)),
        }
    }

    /// For a backend without attributes: the content type from the first bytes (magic
    /// numbers), else from the key's extension.
    pub(crate) fn guess_type(key: &Key, head: &[u8]) -> Option<String> {
        thumbnail_core::sniff(head)
            .ok()
            .map(|f| f.mime())
            .or_else(|| mime_from_extension(key.as_str()))
            .map(str::to_string)
    }
}

#[async_trait]
impl Store for ObjectStoreBackend {
    fn url(&self) -> &str {
        &self.url
    }

    async fn get(&self, key: &Key, max_bytes: u64) -> Result<Object, StoreError> {
        #[cfg(target_os = "linux")]
        if let Some(folder) = self.folder_for(key)? {
            return self.folder_get(folder, key, max_bytes).await;
        }
        let path = self.path(key)?;
        let result = self
            .inner
            .get_opts(&path, GetOptions::default())
            .await
            .map_err(|e| self.err(key.as_str(), e))?;
        if result.meta.size > max_bytes {
            // The payload (a file handle or a stream) is dropped unread.
            return Err(StoreError::TooLarge {
                key: key.to_string(),
                size: result.meta.size,
                limit: max_bytes,
            });
        }
        let mut meta = self.meta(key.clone(), &result.meta, Some(&result.attributes));
        let bytes = match result.payload {
            GetResultPayload::File(file, _) => {
                crate::local_read::read_file(file, result.range, max_bytes).await
            }
            GetResultPayload::Stream(_) => result.bytes().await,
        }
        .map_err(|e| self.err(key.as_str(), e))?;
        if bytes.len() as u64 > max_bytes {
            return Err(StoreError::TooLarge {
                key: key.to_string(),
                size: bytes.len() as u64,
                limit: max_bytes,
            });
        }
        if !self.keeps_attributes {
            meta.content_type = Self::guess_type(key, &bytes);
        }
        meta.size = bytes.len() as u64;
        Ok(Object { bytes, meta })
    }

    /// Opens a local object as `get` would, refusing one over `max_bytes` unread, and asks
    /// the kernel to start reading it in the background (the caller reads it later).
    async fn open_local(
        &self,
        key: &Key,
        max_bytes: u64,
    ) -> Option<Result<LocalObject, StoreError>> {
        #[cfg(target_os = "linux")]
        match self.folder_for(key) {
            Ok(Some(folder)) => return Some(self.folder_open(folder, key, max_bytes).await),
            Err(e) => return Some(Err(e)),
            Ok(None) => {}
        }
        let fs = self.local.as_ref()?;
        Some(self.open_file(fs, key, max_bytes).await)
    }

    async fn stream(
        &self,
        key: &Key,
        range: Option<std::ops::Range<u64>>,
    ) -> Result<ObjectStream, StoreError> {
        #[cfg(target_os = "linux")]
        if let Some(folder) = self.folder_for(key)? {
            return self.folder_stream(folder, key, range).await;
        }
        let path = self.path(key)?;
        let options = GetOptions {
            range: range.map(object_store::GetRange::Bounded),
            ..GetOptions::default()
        };
        let result = self
            .inner
            .get_opts(&path, options)
            .await
            .map_err(|e| self.err(key.as_str(), e))?;
        let mut meta = self.meta(key.clone(), &result.meta, Some(&result.attributes));
        if !self.keeps_attributes {
            meta.content_type = mime_from_extension(key.as_str()).map(str::to_string);
        }
        let served = result.range.clone();
        let (store, name) = (self.clone(), key.to_string());
        let body = result
            .into_stream()
            .map_err(move |e| store.err(&name, e))
            .boxed();
        Ok(ObjectStream {
            meta,
            range: served,
            body,
        })
    }

    async fn clean_temporaries(&self, older_than: Duration) -> Result<usize, StoreError> {
        #[cfg(target_os = "linux")]
        if let Some(folder) = &self.folder {
            return self
                .folder_clean(folder, SystemTime::now() - older_than)
                .await;
        }
        let Some(root) = self.root.clone() else {
            return Ok(0);
        };
        let url = self.url.clone();
        tokio::task::spawn_blocking(move || {
            let cutoff = SystemTime::now() - older_than;
            let mut removed = 0;
            remove_temporaries(&root, cutoff, &mut removed).map_err(|e| StoreError::Other {
                store: url,
                message: format!("cleaning temporary files: {e}"),
            })?;
            Ok(removed)
        })
        .await
        .map_err(|e| StoreError::Other {
            store: self.url.clone(),
            message: e.to_string(),
        })?
    }

    async fn put(
        &self,
        key: &Key,
        body: Bytes,
        options: &PutOptions,
    ) -> Result<ObjectMeta, StoreError> {
        #[cfg(target_os = "linux")]
        if let Some(folder) = self.folder_for(key)? {
            return self.folder_put(folder, key, body).await;
        }
        let path = self.path(key)?;
        let mut attributes = Attributes::new();
        if self.keeps_attributes {
            if let Some(ct) = &options.content_type {
                attributes.insert(Attribute::ContentType, ct.clone().into());
            }
            if let Some(cc) = &options.cache_control {
                attributes.insert(Attribute::CacheControl, cc.clone().into());
            }
            if let Some(etag) = &options.source_etag {
                attributes.insert(Attribute::Metadata(SOURCE_ETAG.into()), etag.clone().into());
            }
        }
        let size = body.len() as u64;
        let content_type = if self.keeps_attributes {
            options.content_type.clone()
        } else {
            Self::guess_type(key, &body)
        };
        let opts = object_store::PutOptions {
            attributes,
            ..Default::default()
        };
        let out = self
            .inner
            .put_opts(&path, PutPayload::from(body), opts)
            .await
            .map_err(|e| self.err(key.as_str(), e))?;
        Ok(ObjectMeta {
            key: key.clone(),
            size,
            content_type,
            cache_control: if self.keeps_attributes {
                options.cache_control.clone()
            } else {
                None
            },
            etag: out.e_tag,
            last_modified: Some(SystemTime::now()),
            source_etag: options
                .source_etag
                .clone()
                .filter(|_| self.keeps_attributes),
        })
    }

    async fn head(&self, key: &Key) -> Result<ObjectMeta, StoreError> {
        #[cfg(target_os = "linux")]
        if let Some(folder) = self.folder_for(key)? {
            return self.folder_head(folder, key).await;
        }
        let path = self.path(key)?;
        if self.keeps_attributes {
            // A head request that also returns the attributes.
            let result = self
                .inner
                .get_opts(
                    &path,
                    GetOptions {
                        head: true,
                        ..Default::default()
                    },
                )
                .await
                .map_err(|e| self.err(key.as_str(), e))?;
            return Ok(self.meta(key.clone(), &result.meta, Some(&result.attributes)));
        }
        let m = self
            .inner
            .head(&path)
            .await
            .map_err(|e| self.err(key.as_str(), e))?;
        let mut meta = self.meta(key.clone(), &m, None);
        let sniff_len = m.size.min(32);
        let head = if sniff_len == 0 {
            Bytes::new()
        } else {
            self.inner
                .get_range(&path, 0..sniff_len)
                .await
                .map_err(|e| self.err(key.as_str(), e))?
        };
        meta.content_type = Self::guess_type(key, &head);
        Ok(meta)
    }

    async fn delete(&self, key: &Key) -> Result<(), StoreError> {
        #[cfg(target_os = "linux")]
        if let Some(folder) = self.folder_for(key)? {
            return self.folder_delete(folder, key).await;
        }
        let path = self.path(key)?;
        match self.inner.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.err(key.as_str(), e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError> {
        #[cfg(target_os = "linux")]
        if let Some(folder) = &self.folder {
            return self.folder_list(folder, prefix).await;
        }
        let folder = prefix.trim_matches('/');
        let path = if folder.is_empty() {
            None
        } else {
            Some(Path::parse(folder).map_err(|_| StoreError::InvalidKey {
                key: folder.to_string(),
                reason: "not a valid folder",
            })?)
        };
        let items: Vec<object_store::ObjectMeta> = self
            .inner
            .list(path.as_ref())
            .try_collect()
            .await
            .map_err(|e| self.err(prefix, e))?;
        let mut out: Vec<ObjectMeta> = items
            .iter()
            .filter_map(|m| {
                let key = Key::new(m.location.as_ref()).ok()?;
                Some(self.meta(key, m, None))
            })
            .collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    async fn check(&self) -> Result<(), StoreError> {
        #[cfg(target_os = "linux")]
        if let Some(folder) = &self.folder {
            return self.folder_check(folder).await;
        }
        // Listing nothing in particular proves the store answers.
        let mut stream = self.inner.list(None);
        match stream.try_next().await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.err("", e)),
        }
    }
}
