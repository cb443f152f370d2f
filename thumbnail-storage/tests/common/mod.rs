//! Real backends for the tests: memory, a temporary folder, and buckets on the S3-compatible
//! server that `scripts/test.sh` starts.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use thumbnail_storage::{ObjectStoreBackend, S3Config, S3Store, Store, Timeouts};

pub const HOW: &str = "start one with scripts/test.sh, or by hand: \
    `pip install moto flask flask-cors && moto_server -H 127.0.0.1 -p 5000`, then \
    THUMBNAIL_TEST_S3_ENDPOINT=http://127.0.0.1:5000 AWS_ACCESS_KEY_ID=test \
    AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 cargo test";

/// The S3-compatible server's endpoint. Missing is a failure, not a skip.
pub fn s3_endpoint() -> String {
    let endpoint = std::env::var("THUMBNAIL_TEST_S3_ENDPOINT").unwrap_or_else(|_| {
        panic!("THUMBNAIL_TEST_S3_ENDPOINT is not set: no S3 server to test against; {HOW}")
    });
    for var in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
        assert!(std::env::var(var).is_ok(), "{var} is not set; {HOW}");
    }
    endpoint
}

/// A fresh bucket name for each use, so tests running in parallel never share one.
pub fn unique_bucket(tag: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "t-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A store on a new bucket of the test server (created here with the SDK client).
pub async fn s3_store(tag: &str, prefix: &str, timeouts: Timeouts) -> Arc<S3Store> {
    s3_store_at(&s3_endpoint(), tag, prefix, timeouts).await
}

pub async fn s3_store_at(
    endpoint: &str,
    tag: &str,
    prefix: &str,
    timeouts: Timeouts,
) -> Arc<S3Store> {
    let bucket = unique_bucket(tag);
    let store = S3Store::new(S3Config {
        bucket: bucket.clone(),
        prefix: prefix.to_string(),
        region: Some("us-east-1".into()),
        endpoint: Some(endpoint.to_string()),
        path_style: true,
        timeouts,
    })
    .await
    .unwrap();
    store
        .client()
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap_or_else(|e| panic!("cannot create bucket {bucket} at {endpoint}: {e:?}; {HOW}"));
    Arc::new(store)
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
    let corpus = std::env::var_os("THUMBNAIL_CORPUS").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
        std::path::PathBuf::from,
    );
    let path = corpus.join("photos/canon-40d-100x68.jpg");
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("the image corpus is missing ({}): {e}", path.display()))
}

/// Every file under `dir`, relative, sorted.
pub fn files_under(dir: &std::path::Path) -> Vec<String> {
    fn walk(base: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.sort();
    v
}
