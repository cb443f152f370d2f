//! A local folder's files: reading one's bytes (for `ObjectStoreBackend::get`, and for a
//! caller that reads on a thread of its own, [`LocalObject`]), and which names a folder
//! keeps for itself (temporary files).

use bytes::Bytes;

use object_store::local::LocalFileSystem;

use crate::{Key, ObjectStoreBackend, Store, StoreError};

/// Reads `range` of a local file (at most `max_bytes` and one more, so an object that grew
/// past the cap is still refused) into a buffer the read itself fills: `object_store`'s own
/// read zero-fills the whole buffer first, 1.4% of a batch's instructions.
pub(crate) async fn read_file(
    file: std::fs::File,
    range: std::ops::Range<u64>,
    max_bytes: u64,
) -> object_store::Result<Bytes> {
    tokio::task::spawn_blocking(move || read_range(file, range, max_bytes))
        .await
        .map_err(std::io::Error::other)
        .and_then(|r| r)
        .map_err(|e| object_store::Error::Generic {
            store: "LocalFileSystem",
            source: Box::new(e),
        })
}

pub(crate) fn read_range(
    file: std::fs::File,
    range: std::ops::Range<u64>,
    max_bytes: u64,
) -> std::io::Result<Bytes> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = file;
    file.seek(SeekFrom::Start(range.start))?;
    let want = (range.end - range.start).min(max_bytes.saturating_add(1));
    let mut buf = Vec::with_capacity(usize::try_from(want).unwrap_or(usize::MAX));
    file.take(want).read_to_end(&mut buf)?;
    if (buf.len() as u64) < want {
        // The file shrank after it was opened: what was read is not the object.
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("the file ended after {} of {want} bytes", buf.len()),
        ));
    }
    Ok(Bytes::from(buf))
}

impl ObjectStoreBackend {
    /// `Store::open_local` of a local folder: opens the object as `get` would, refusing one
    /// over `max_bytes` unread.
    pub(crate) async fn open_file(
        &self,
        fs: &LocalFileSystem,
        key: &Key,
        max_bytes: u64,
    ) -> Result<LocalObject, StoreError> {
        let path = fs
            .path_to_filesystem(&self.path(key)?)
            .map_err(|e| self.err(key.as_str(), e))?;
        let opened = tokio::task::spawn_blocking(move || open_to_read(&path, max_bytes))
            .await
            .map_err(std::io::Error::other)
            .and_then(|r| r);
        let (file, size) = opened.map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => StoreError::NotFound {
                key: key.to_string(),
            },
            _ => self.err(
                key.as_str(),
                object_store::Error::Generic {
                    store: "LocalFileSystem",
                    source: Box::new(e),
                },
            ),
        })?;
        LocalObject::admit(file, key, size, max_bytes, self.url())
    }
}

/// Opens a local file to read it later: its size, and a hint to the kernel to start reading
/// it into its cache when it is not over `max_bytes`. A folder is not found, as in `get`.
fn open_to_read(path: &std::path::Path, max_bytes: u64) -> std::io::Result<(std::fs::File, u64)> {
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "is a directory",
        ));
    }
    if meta.len() <= max_bytes {
        will_need(&file);
    }
    Ok((file, meta.len()))
}

/// Asks the kernel to read `file` into its cache in the background: a file not yet cached
/// (a camera's card, a network disk) is then read while the images before it render.
#[cfg(target_os = "linux")]
pub(crate) fn will_need(file: &std::fs::File) {
    use nix::fcntl::{PosixFadviseAdvice, posix_fadvise};
    // Only a hint: a filesystem that ignores it is read when the caller reads.
    let _ = posix_fadvise(file, 0, 0, PosixFadviseAdvice::POSIX_FADV_WILLNEED);
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn will_need(_file: &std::fs::File) {}

/// An object of a local folder, opened and not yet read: see [`crate::Store::open_local`].
///
/// Reading it where its bytes will be used saves a hand-off between threads and a trip of
/// the bytes through another core's cache: a batch's render thread reads its next input
/// itself, just before it decodes it.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use bytes::Bytes;
/// use thumbnail_storage::{Key, ObjectStoreBackend, PutOptions, Store};
///
/// let dir = tempfile::tempdir().unwrap();
/// let store = ObjectStoreBackend::local(dir.path()).unwrap();
/// let key = Key::new("in/photo.jpg").unwrap();
/// store.put(&key, Bytes::from_static(b"bytes"), &PutOptions::default()).await.unwrap();
///
/// let file = store.open_local(&key, 1 << 20).await.unwrap().unwrap();
/// assert_eq!(file.size(), 5);
/// // The read blocks: on a thread of the caller's, off the runtime.
/// let bytes = std::thread::spawn(move || file.read()).join().unwrap().unwrap();
/// assert_eq!(bytes, "bytes");
/// // Memory and S3 have no local objects: read them with `get`.
/// assert!(ObjectStoreBackend::memory().open_local(&key, 10).await.is_none());
/// # });
/// ```
#[derive(Debug)]
pub struct LocalObject {
    pub(crate) file: std::fs::File,
    pub(crate) key: Key,
    pub(crate) size: u64,
    /// The store's URL, for messages.
    pub(crate) store: String,
}

impl LocalObject {
    /// The opened file of `key`, of `size` bytes, unless it is over `max_bytes`.
    pub(crate) fn admit(
        file: std::fs::File,
        key: &Key,
        size: u64,
        max_bytes: u64,
        store: &str,
    ) -> Result<LocalObject, StoreError> {
        if size > max_bytes {
            return Err(StoreError::TooLarge {
                key: key.to_string(),
                size,
                limit: max_bytes,
            });
        }
        Ok(LocalObject {
            file,
            key: key.clone(),
            size,
            store: store.to_string(),
        })
    }

    /// The object's size when it was opened.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Reads the whole object on the calling thread (it blocks): the bytes
    /// [`crate::Store::get`] would have returned, with the same refusals.
    pub fn read(self) -> Result<Bytes, StoreError> {
        let LocalObject {
            file,
            key,
            size,
            store,
        } = self;
        // The open refused a size over the cap, and no more than that size is read.
        read_range(file, 0..size, size).map_err(|e| StoreError::Other {
            store,
            message: format!("reading {key}: {e}"),
        })
    }
}

/// What a local folder cannot hold, refused as an invalid key before the filesystem sees it:
/// a segment over 255 bytes (the usual file-name limit), and a name ending in `#` and digits,
/// which `object_store` keeps for its temporary files.
pub(crate) fn local_key_check(key: &Key) -> Result<(), StoreError> {
    let bad = |reason| StoreError::InvalidKey {
        key: key.to_string(),
        reason,
    };
    for segment in key.as_str().split('/') {
        if segment.len() > 255 {
            return Err(bad(
                "a segment is longer than 255 bytes, the filesystem's limit",
            ));
        }
        if is_temporary(segment) {
            return Err(bad(
                "a segment ends in '#' and digits, kept for temporary files",
            ));
        }
    }
    Ok(())
}

/// Whether a file name is a temporary file's, `name#N` (digits only after the `#`): what a
/// write in progress leaves beside its object.
pub(crate) fn is_temporary(name: &str) -> bool {
    name.rsplit_once('#')
        .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Deletes `name#N` files (object_store's staging files for a write in progress) last
/// modified before `cutoff`, below `dir`.
pub(crate) fn remove_temporaries(
    dir: &std::path::Path,
    cutoff: std::time::SystemTime,
    removed: &mut usize,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            remove_temporaries(&entry.path(), cutoff, removed)?;
            continue;
        }
        let name = entry.file_name();
        let staging = name.to_str().is_some_and(is_temporary);
        if staging && kind.is_file() && entry.metadata()?.modified()? < cutoff {
            std::fs::remove_file(entry.path())?;
            *removed += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_of(len: usize) -> std::fs::File {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(&vec![7u8; len]).unwrap();
        f
    }

    #[tokio::test]
    async fn reads_the_range_and_at_most_one_byte_over_the_cap() {
        let b = read_file(file_of(1000), 0..1000, 5000).await.unwrap();
        assert_eq!(b.len(), 1000);
        let b = read_file(file_of(1000), 100..400, 5000).await.unwrap();
        assert_eq!(b.len(), 300);
        // Over the cap: one byte more than the cap is read, so the caller can refuse it.
        let b = read_file(file_of(1000), 0..1000, 10).await.unwrap();
        assert_eq!(b.len(), 11);
    }

    #[tokio::test]
    async fn a_file_shorter_than_its_listed_size_is_an_error() {
        let e = read_file(file_of(100), 0..1000, 5000).await.unwrap_err();
        assert!(
            e.to_string().contains("ended after 100 of 1000 bytes"),
            "{e}"
        );
    }
}
