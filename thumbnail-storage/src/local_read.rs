//! Reading a local file's bytes for `ObjectStoreBackend::get`.

use bytes::Bytes;

/// Reads `range` of a local file (at most `max_bytes` and one more, so an object that grew
/// past the cap is still refused) into a buffer the read itself fills: `object_store`'s own
/// read zero-fills the whole buffer first, 1.4% of a batch's instructions.
pub(crate) async fn read_file(
    file: std::fs::File,
    range: std::ops::Range<u64>,
    max_bytes: u64,
) -> object_store::Result<Bytes> {
    let read = move || {
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
    };
    tokio::task::spawn_blocking(read)
        .await
        .map_err(std::io::Error::other)
        .and_then(|r| r)
        .map_err(|e| object_store::Error::Generic {
            store: "LocalFileSystem",
            source: Box::new(e),
        })
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
