//! Real backends for the tests: memory, a temporary folder, and buckets on the S3-compatible
//! server that `scripts/test.sh` starts.
#![allow(dead_code, unused_imports)]

use std::sync::Arc;

use thumbnail_storage::{ObjectStoreBackend, S3Store, Store, Timeouts};

pub use thumbnail_testkit::{HOW, files_under, s3_endpoint};

pub async fn s3_store(tag: &str, prefix: &str, timeouts: Timeouts) -> Arc<S3Store> {
    Arc::new(thumbnail_testkit::s3_store(tag, prefix, timeouts).await)
}

pub async fn s3_store_at(
    endpoint: &str,
    tag: &str,
    prefix: &str,
    timeouts: Timeouts,
) -> Arc<S3Store> {
    Arc::new(thumbnail_testkit::s3_store_at(endpoint, tag, prefix, timeouts).await)
}

/// Which backend a fixture is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Memory,
    Local,
    S3,
}

/// A store plus what a test needs to look behind it.
pub struct Fixture {
    pub kind: Kind,
    pub store: Arc<dyn Store>,
    /// The local backend's root (and the folder around it).
    pub dir: Option<tempfile::TempDir>,
    pub s3: Option<Arc<S3Store>>,
}

pub async fn fixture(kind: Kind) -> Fixture {
    match kind {
        Kind::Memory => Fixture {
            kind,
            store: Arc::new(ObjectStoreBackend::memory()),
            dir: None,
            s3: None,
        },
        Kind::Local => {
            let dir = tempfile::tempdir().unwrap();
            let store = Arc::new(ObjectStoreBackend::local(&dir.path().join("root")).unwrap());
            Fixture {
                kind,
                store,
                dir: Some(dir),
                s3: None,
            }
        }
        Kind::S3 => {
            let s3 = s3_store("suite", "some/prefix", Timeouts::default()).await;
            Fixture {
                kind,
                store: s3.clone(),
                dir: None,
                s3: Some(s3),
            }
        }
    }
}

/// A small real JPEG (from the shared corpus), so content sniffing has something real.
pub fn jpeg() -> Vec<u8> {
    thumbnail_testkit::corpus_file("photos/canon-40d-100x68.jpg")
}
