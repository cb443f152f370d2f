//! Test support for the integration tests of every crate: where the image corpus is, and
//! buckets on the S3-compatible server that `scripts/test.sh` starts. A missing corpus or
//! server fails the test that needs it; nothing here skips.
//!
//! ```no_run
//! let photo = thumbnail_testkit::corpus_file("photos/canon-40d-100x68.jpg");
//! assert!(!photo.is_empty());
//! ```

pub mod hostile;

use std::path::{Path, PathBuf};
#[cfg(feature = "s3")]
use std::sync::atomic::{AtomicUsize, Ordering};

#[cfg(feature = "s3")]
use thumbnail_storage::{S3Config, S3Store, Timeouts};

#[cfg(feature = "s3")]
/// How to provide the S3 server when it is missing.
pub const HOW: &str = "start one with scripts/test.sh, or by hand: \
    `pip install moto flask flask-cors && moto_server -H 127.0.0.1 -p 5000`, then \
    THUMBNAIL_TEST_S3_ENDPOINT=http://127.0.0.1:5000 AWS_ACCESS_KEY_ID=test \
    AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 cargo test";

/// The shared corpus: `$THUMBNAIL_CORPUS`, else `../shared/corpus` next to the repository.
/// A missing corpus fails the test that asked for it.
pub fn corpus() -> PathBuf {
    try_corpus().unwrap_or_else(|e| panic!("{e}"))
}

/// [`corpus`] for tools, which report a missing corpus instead of panicking.
pub fn try_corpus() -> Result<PathBuf, String> {
    let dir = std::env::var_os("THUMBNAIL_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
        PathBuf::from,
    );
    if dir.join("MANIFEST.tsv").is_file() {
        Ok(dir)
    } else {
        Err(format!(
            "the image corpus is missing at {} (set THUMBNAIL_CORPUS)",
            dir.display()
        ))
    }
}

/// A corpus file's path, checked to exist.
pub fn corpus_path(rel: &str) -> PathBuf {
    let p = corpus().join(rel);
    assert!(p.is_file(), "corpus file {} is missing", p.display());
    p
}

/// A corpus file's bytes.
pub fn corpus_file(rel: &str) -> Vec<u8> {
    let p = corpus_path(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

/// The HEIC test files `testkit/heif/make-fixtures.py` makes (grids, transforms, alpha,
/// 10-bit, Display P3, PQ, hostile containers) and their reference decodes, made on first use
/// in `target/heif-fixtures` (or `$THUMBNAIL_HEIF_FIXTURES`). The script needs heif-enc and
/// heif-convert (Debian's libheif-examples), Pillow and numpy, which `scripts/test.sh`
/// installs; when it cannot run, the test that asked fails.
pub fn heif_fixture(name: &str) -> PathBuf {
    static MADE: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    made_fixture(
        &MADE,
        "heif",
        "heif-enc, heif-convert, avifenc, Pillow and numpy",
    )
    .join(name)
}

/// The JPEG XL test files `testkit/jxl/make-fixtures.py` makes with cjxl (lossy, alpha, gray,
/// lossless, a transcoded JPEG with its orientation, an animation, 48 MP) and djxl's decodes
/// of them, in `target/jxl-fixtures` (or `$THUMBNAIL_JXL_FIXTURES`). The script needs Debian's
/// libjxl-tools and Pillow, which `scripts/test.sh` installs.
pub fn jxl_fixture(name: &str) -> PathBuf {
    static MADE: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    made_fixture(&MADE, "jxl", "cjxl, djxl and Pillow").join(name)
}

/// Runs `testkit/{kind}/make-fixtures.py` once per process (it does nothing when its output is
/// up to date) and gives its folder; panics with what the script needs when it fails.
fn made_fixture(
    made: &'static std::sync::OnceLock<Result<PathBuf, String>>,
    kind: &str,
    needs: &str,
) -> &'static Path {
    let dir = made.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let var = format!("THUMBNAIL_{}_FIXTURES", kind.to_uppercase());
        let dir = std::env::var_os(var).map_or_else(
            || root.join(format!("target/{kind}-fixtures")),
            PathBuf::from,
        );
        let script = format!("testkit/{kind}/make-fixtures.py");
        let out = std::process::Command::new("python3")
            .arg(root.join(&script))
            .arg(&dir)
            .env("THUMBNAIL_CORPUS", try_corpus()?)
            .output()
            .map_err(|e| format!("running python3 {script}: {e}"))?;
        if out.status.success() {
            Ok(dir)
        } else {
            Err(format!(
                "{script} failed (it needs {needs}; scripts/test.sh installs them): {}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    });
    match dir {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    }
}

#[cfg(feature = "s3")]
mod strict_s3;
#[cfg(feature = "s3")]
pub use strict_s3::strict_s3;

#[cfg(feature = "s3")]
fn env_var(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| panic!("{var} is not set; {HOW}"))
}

#[cfg(feature = "s3")]
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

#[cfg(feature = "s3")]
/// A fresh bucket name for each use, so tests running in parallel never share one.
pub fn unique_bucket(tag: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "t-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(feature = "s3")]
/// A store on a new bucket of the server at `endpoint` (the bucket is created here).
pub async fn s3_store_at(endpoint: &str, tag: &str, prefix: &str, timeouts: Timeouts) -> S3Store {
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
    .unwrap_or_else(|e| panic!("S3 client for {endpoint}: {e}"));
    store
        .client()
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap_or_else(|e| panic!("cannot create bucket {bucket} at {endpoint}: {e:?}; {HOW}"));
    store
}

#[cfg(feature = "s3")]
/// A store on a new bucket of the test server.
pub async fn s3_store(tag: &str, prefix: &str, timeouts: Timeouts) -> S3Store {
    s3_store_at(&s3_endpoint(), tag, prefix, timeouts).await
}

/// Every key in a store, sorted.
#[cfg(feature = "s3")]
pub async fn keys(store: &dyn thumbnail_storage::Store) -> Vec<String> {
    let mut v: Vec<String> = store
        .list("")
        .await
        .unwrap_or_else(|e| panic!("listing {}: {e}", store.url()))
        .into_iter()
        .map(|o| o.key.as_str().to_string())
        .collect();
    v.sort();
    v
}

/// Every file under `dir`, relative, sorted.
pub fn files_under(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else if let Ok(rel) = p.strip_prefix(base) {
                out.push(rel.display().to_string());
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.sort();
    v
}

/// Counting the heap: a test binary that installs [`Counting`] as its global allocator can
/// measure the peak of live heap bytes while some code runs.
///
/// ```no_run
/// #[global_allocator]
/// static ALLOCATOR: thumbnail_testkit::Counting = thumbnail_testkit::Counting;
///
/// let (v, peak) = thumbnail_testkit::peak_during(|| vec![0u8; 1 << 20]);
/// assert!(peak >= 1 << 20 && v.len() == 1 << 20);
/// ```
pub struct Counting;

static LIVE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static PEAK: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator, which upholds the
// GlobalAlloc contract; the counters are atomics and never affect what is returned.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        use std::sync::atomic::Ordering::SeqCst;
        // SAFETY: the caller's layout is passed through as GlobalAlloc::alloc requires.
        let p = unsafe { std::alloc::System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), SeqCst) + layout.size();
            PEAK.fetch_max(now, SeqCst);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: `ptr` came from `alloc` above with this `layout`, as the caller guarantees.
        unsafe { std::alloc::System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), std::sync::atomic::Ordering::SeqCst);
    }
}

/// A measurement in progress: [`Measurement::peak`] is the largest heap growth since
/// [`Measurement::start`]. Only meaningful when nothing else allocates meanwhile (see
/// [`peak_during`] for tests running in parallel).
pub struct Measurement {
    base: usize,
}

impl Measurement {
    pub fn start() -> Measurement {
        let base = LIVE.load(std::sync::atomic::Ordering::SeqCst);
        PEAK.store(base, std::sync::atomic::Ordering::SeqCst);
        Measurement { base }
    }

    pub fn peak(&self) -> usize {
        PEAK.load(std::sync::atomic::Ordering::SeqCst)
            .saturating_sub(self.base)
    }
}

static MEASURING: std::sync::Mutex<()> = std::sync::Mutex::new(());

std::thread_local! {
    static ALONE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Holds every other measuring test of the binary off until dropped: for a test that
/// allocates a lot outside its measurements (making its input, say), which would otherwise
/// count in a measurement running on another thread. [`peak_during`] inside it just measures.
pub struct Alone(#[allow(dead_code)] std::sync::MutexGuard<'static, ()>);

impl Drop for Alone {
    fn drop(&mut self) {
        ALONE.with(|a| a.set(false));
    }
}

/// See [`Alone`].
pub fn alone() -> Alone {
    let guard = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    ALONE.with(|a| a.set(true));
    Alone(guard)
}

/// Peak heap growth while `f` runs, one measurement at a time across the binary's threads.
pub fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let _one_at_a_time = if ALONE.with(|a| a.get()) {
        None
    } else {
        Some(MEASURING.lock().unwrap_or_else(|e| e.into_inner()))
    };
    let m = Measurement::start();
    let out = f();
    (out, m.peak())
}

/// A `multipart/form-data` body as a browser sends an upload form: every field in order, then
/// the file (named `file`). Returns the request's Content-Type and its body.
pub fn form(fields: &[(String, String)], file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----thumbnail-testkit-7d4a1f";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"upload\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}
