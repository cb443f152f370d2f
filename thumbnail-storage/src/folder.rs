//! The local-folder side of [`ObjectStoreBackend`]: every object reached through
//! [`Beneath`], never through a link (see `beneath.rs`).

use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use futures::StreamExt;

use crate::beneath::{self, Beneath};
use crate::{Key, LocalObject, Object, ObjectMeta, ObjectStoreBackend, ObjectStream, StoreError};

/// Bytes a stream reads at a time.
const CHUNK: usize = 64 << 10;

impl ObjectStoreBackend {
    /// Runs `f` on the blocking pool with the folder, mapping its errors for `key`.
    async fn on_folder<T: Send + 'static>(
        &self,
        folder: &Arc<Beneath>,
        key: &str,
        f: impl FnOnce(&Beneath) -> std::io::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let folder = folder.clone();
        let result = tokio::task::spawn_blocking(move || f(&folder))
            .await
            .map_err(std::io::Error::other)
            .and_then(|r| r);
        result.map_err(|e| self.io_err(key, e))
    }

    pub(crate) fn io_err(&self, key: &str, e: std::io::Error) -> StoreError {
        let conflict = |reason| StoreError::Conflict {
            key: key.to_string(),
            reason,
        };
        match e.kind() {
            std::io::ErrorKind::NotFound => StoreError::NotFound {
                key: key.to_string(),
            },
            std::io::ErrorKind::NotADirectory => {
                conflict("an object stands where one of its folders would be")
            }
            std::io::ErrorKind::IsADirectory | std::io::ErrorKind::DirectoryNotEmpty => {
                conflict("a folder of that name holds other objects")
            }
            std::io::ErrorKind::InvalidFilename => StoreError::InvalidKey {
                key: key.to_string(),
                reason: "a segment is longer than the filesystem allows",
            },
            std::io::ErrorKind::PermissionDenied => StoreError::AccessDenied {
                key: key.to_string(),
                message: e.to_string(),
            },
            _ => StoreError::Other {
                store: self.url.clone(),
                message: format!("{key}: {e}"),
            },
        }
    }

    fn folder_meta(&self, key: Key, stat: &nix::sys::stat::FileStat) -> ObjectMeta {
        ObjectMeta {
            key,
            size: size_of(stat),
            content_type: None,
            cache_control: None,
            etag: Some(beneath::etag(stat)),
            last_modified: Some(beneath::modified(stat)),
            source_etag: None,
        }
    }

    /// Opens, checks and reads the object in one trip to the blocking pool.
    pub(crate) async fn folder_get(
        &self,
        folder: &Arc<Beneath>,
        key: &Key,
        max_bytes: u64,
    ) -> Result<Object, StoreError> {
        let name = key.as_str().to_string();
        let (stat, bytes) = self
            .on_folder(folder, key.as_str(), move |f| {
                let file = f.open_file(&name)?;
                let stat = beneath::stat(&file)?;
                let size = size_of(&stat);
                // Over the cap: refused unread.
                let bytes = (size <= max_bytes)
                    .then(|| crate::local_read::read_range(file, 0..size, size))
                    .transpose()?;
                Ok((stat, bytes))
            })
            .await?;
        let Some(bytes) = bytes else {
            return Err(StoreError::TooLarge {
                key: key.to_string(),
                size: size_of(&stat),
                limit: max_bytes,
            });
        };
        let mut meta = self.folder_meta(key.clone(), &stat);
        meta.content_type = Self::guess_type(key, &bytes);
        Ok(Object { bytes, meta })
    }

    /// Opens a regular file to read, refusing one over `max_bytes` unread.
    pub(crate) async fn folder_open(
        &self,
        folder: &Arc<Beneath>,
        key: &Key,
        max_bytes: u64,
    ) -> Result<LocalObject, StoreError> {
        let name = key.as_str().to_string();
        let (file, stat) = self
            .on_folder(folder, key.as_str(), move |f| {
                let file = f.open_file(&name)?;
                let stat = beneath::stat(&file)?;
                // The kernel starts reading what will be read (the hint may block a while).
                if size_of(&stat) <= max_bytes {
                    crate::local_read::will_need(&file);
                }
                Ok((file, stat))
            })
            .await?;
        LocalObject::admit(file, key, size_of(&stat), max_bytes, &self.url)
    }

    pub(crate) async fn folder_head(
        &self,
        folder: &Arc<Beneath>,
        key: &Key,
    ) -> Result<ObjectMeta, StoreError> {
        let name = key.as_str().to_string();
        let (stat, head) = self
            .on_folder(folder, key.as_str(), move |f| {
                let file = f.open_file(&name)?;
                Ok((beneath::stat(&file)?, beneath::head_bytes(&file, 32)?))
            })
            .await?;
        let mut meta = self.folder_meta(key.clone(), &stat);
        meta.content_type = Self::guess_type(key, &head);
        Ok(meta)
    }

    pub(crate) async fn folder_stream(
        &self,
        folder: &Arc<Beneath>,
        key: &Key,
        range: Option<std::ops::Range<u64>>,
    ) -> Result<ObjectStream, StoreError> {
        let name = key.as_str().to_string();
        let start = range.as_ref().map_or(0, |r| r.start);
        let (file, stat) = self
            .on_folder(folder, key.as_str(), move |f| {
                use std::io::{Seek, SeekFrom};
                let mut file = f.open_file(&name)?;
                let stat = beneath::stat(&file)?;
                file.seek(SeekFrom::Start(start))?;
                Ok((file, stat))
            })
            .await?;
        let mut meta = self.folder_meta(key.clone(), &stat);
        meta.content_type = crate::mime_from_extension(key.as_str()).map(str::to_string);
        let range = range.unwrap_or(0..meta.size);
        let (store, name) = (self.clone(), key.to_string());
        let body = futures::stream::try_unfold((file, range.start, range.end), move |state| {
            let (store, name) = (store.clone(), name.clone());
            async move {
                let (mut file, at, end) = state;
                if at >= end {
                    return Ok(None);
                }
                let want = usize::try_from(end - at).unwrap_or(CHUNK).min(CHUNK);
                let read = tokio::task::spawn_blocking(move || {
                    use std::io::Read;
                    let mut buf = vec![0; want];
                    let n = file.read(&mut buf)?;
                    buf.truncate(n);
                    Ok::<_, std::io::Error>((file, buf))
                })
                .await
                .map_err(std::io::Error::other)
                .and_then(|r| r);
                let (file, buf) = read.map_err(|e| store.io_err(&name, e))?;
                if buf.is_empty() {
                    return Err(StoreError::Other {
                        store: store.url.clone(),
                        message: format!("{name}: the file ended at {at} of {end} bytes"),
                    });
                }
                let next = at + buf.len() as u64;
                Ok(Some((Bytes::from(buf), (file, next, end))))
            }
        })
        .boxed();
        Ok(ObjectStream { meta, range, body })
    }

    pub(crate) async fn folder_put(
        &self,
        folder: &Arc<Beneath>,
        key: &Key,
        body: Bytes,
    ) -> Result<ObjectMeta, StoreError> {
        let name = key.as_str().to_string();
        let stat = self
            .on_folder(folder, key.as_str(), move |f| {
                let file = f.put(&name, &body)?;
                beneath::stat(&file)
            })
            .await?;
        Ok(self.folder_meta(key.clone(), &stat))
    }

    pub(crate) async fn folder_delete(
        &self,
        folder: &Arc<Beneath>,
        key: &Key,
    ) -> Result<(), StoreError> {
        let name = key.as_str().to_string();
        self.on_folder(folder, key.as_str(), move |f| f.delete(&name))
            .await
    }

    pub(crate) async fn folder_list(
        &self,
        folder: &Arc<Beneath>,
        prefix: &str,
    ) -> Result<Vec<ObjectMeta>, StoreError> {
        let at = prefix.trim_matches('/').to_string();
        let listed = self.on_folder(folder, prefix, move |f| f.list(&at)).await?;
        let mut out: Vec<ObjectMeta> = listed
            .into_iter()
            .filter_map(|l| Some(self.folder_meta(Key::new(l.key).ok()?, &l.stat)))
            .collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    pub(crate) async fn folder_clean(
        &self,
        folder: &Arc<Beneath>,
        cutoff: SystemTime,
    ) -> Result<usize, StoreError> {
        self.on_folder(folder, "", move |f| f.clean(cutoff)).await
    }

    pub(crate) async fn folder_check(&self, folder: &Arc<Beneath>) -> Result<(), StoreError> {
        self.on_folder(folder, "", |f| f.check()).await
    }
}

fn size_of(stat: &nix::sys::stat::FileStat) -> u64 {
    u64::try_from(stat.st_size).unwrap_or(0)
}
