//! The one hand-off from async code into the engine, and what the work may take and hold.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use thumbnail_core::{Limits, Processed, ThumbnailSpec};

use crate::{Cores, JobError};

/// The default of [`Thumbnailer::image_timeout`] and of the front ends' `--image-timeout`.
pub const DEFAULT_IMAGE_TIMEOUT: Duration = Duration::from_secs(30);

/// What one image's work may take, and what it holds while it runs.
///
/// The work runs on a blocking thread that outlives a caller who stops waiting (a request
/// past its deadline, a client gone). The deadline stops the work itself, and `hold` (a job
/// slot, say) is dropped only once the work has ended, so a slot never frees while its CPU is
/// still busy.
#[derive(Default)]
pub struct Work {
    /// When the engine must stop (the earlier of this and the image timeout applies).
    pub deadline: Option<Instant>,
    /// Dropped when the work has ended.
    pub hold: Option<Box<dyn Send>>,
    /// Where the work's threads come from: it leases up to `Limits::max_threads` idle cores
    /// while it runs. `None`: `Limits::max_threads` as given.
    pub cores: Option<Arc<Cores>>,
}

impl std::fmt::Debug for Work {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Work")
            .field("deadline", &self.deadline)
            .field("hold", &self.hold.is_some())
            .field("cores", &self.cores)
            .finish()
    }
}

/// The earlier of two optional deadlines.
pub fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Makes `specs`' thumbnails of `bytes` on a blocking thread (image work is CPU-bound), under
/// `limits` with the deadline of `work`, releasing `work.hold` when the work ends. `label`
/// names the image in errors. The one hand-off from async code into the engine: the
/// thumbnailer, the HTTP API and the batch CLI all call it.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::time::{Duration, Instant};
/// use thumbnail_core::{ErrorKind, Limits, ThumbnailSpec};
/// use thumbnail_storage::{JobError, Work, render};
///
/// # let mut bmp = b"BM".to_vec();
/// # bmp.extend(78u32.to_le_bytes()); bmp.extend([0; 4]); bmp.extend(54u32.to_le_bytes());
/// # bmp.extend(40u32.to_le_bytes()); bmp.extend(3i32.to_le_bytes()); bmp.extend(2i32.to_le_bytes());
/// # bmp.extend(1u16.to_le_bytes()); bmp.extend(24u16.to_le_bytes()); bmp.extend([0; 24]);
/// # bmp.extend([0u8; 24]);
/// let bytes = bytes::Bytes::from(bmp);
/// let specs = vec![ThumbnailSpec::default()];
/// let out = render("a.bmp", bytes.clone(), specs.clone(), Limits::default(), Work::default()).await?;
/// assert_eq!(out.thumbnails[0].width, 100);
/// assert_eq!(out.info.width, 3);
///
/// // Past its deadline the engine stops and says so.
/// let late = Work { deadline: Some(Instant::now() - Duration::from_secs(1)), ..Work::default() };
/// let err = render("a.bmp", bytes, specs, Limits::default(), late).await.unwrap_err();
/// assert!(matches!(err, JobError::Image { ref source, .. } if source.kind() == ErrorKind::DeadlineExceeded));
/// # Ok::<(), JobError>(())
/// # }).unwrap();
/// ```
pub async fn render(
    label: &str,
    bytes: Bytes,
    specs: Vec<ThumbnailSpec>,
    limits: Limits,
    work: Work,
) -> Result<Processed, JobError> {
    render_as(label, bytes, specs, limits, work, false).await
}

/// [`render`], with the ThumbHash placeholder when `placeholder` is set.
pub(crate) async fn render_as(
    label: &str,
    bytes: Bytes,
    specs: Vec<ThumbnailSpec>,
    limits: Limits,
    work: Work,
    placeholder: bool,
) -> Result<Processed, JobError> {
    let key = label.to_string();
    tokio::task::spawn_blocking(move || run(&key, &bytes, &specs, limits, work, placeholder))
        .await
        .map_err(|e| JobError::Worker {
            key: label.to_string(),
            message: e.to_string(),
        })?
}

/// [`render`] on the calling thread, for callers that keep threads of their own for image
/// work (the batch CLI's render threads: a thread that never waits between images keeps its
/// core, where a hand-off to a pool thread may land beside another render).
///
/// ```
/// use thumbnail_core::{Limits, ThumbnailSpec};
/// use thumbnail_storage::{Work, render_blocking};
///
/// # let mut bmp = b"BM".to_vec();
/// # bmp.extend(78u32.to_le_bytes()); bmp.extend([0; 4]); bmp.extend(54u32.to_le_bytes());
/// # bmp.extend(40u32.to_le_bytes()); bmp.extend(3i32.to_le_bytes()); bmp.extend(2i32.to_le_bytes());
/// # bmp.extend(1u16.to_le_bytes()); bmp.extend(24u16.to_le_bytes()); bmp.extend([0; 24]);
/// # bmp.extend([0u8; 24]);
/// let specs = [ThumbnailSpec::default()];
/// let out = render_blocking("a.bmp", &bmp, &specs, Limits::default(), Work::default())?;
/// assert_eq!(out.thumbnails[0].height, 100);
/// # Ok::<(), thumbnail_storage::JobError>(())
/// ```
pub fn render_blocking(
    label: &str,
    bytes: &[u8],
    specs: &[ThumbnailSpec],
    limits: Limits,
    work: Work,
) -> Result<Processed, JobError> {
    run(label, bytes, specs, limits, work, false)
}

/// The engine's run under `work`: its deadline, its cores, and `hold` until the end.
fn run(
    label: &str,
    bytes: &[u8],
    specs: &[ThumbnailSpec],
    limits: Limits,
    work: Work,
    placeholder: bool,
) -> Result<Processed, JobError> {
    let limits = limits.with_deadline(earliest(limits.deadline, work.deadline));
    // Cores are leased when the work starts, not while it waits for a thread.
    let lease = work.cores.map(|c| c.lease(limits.max_threads as usize));
    // A lease holds at most what it was asked for.
    let limits = match &lease {
        Some(lease) => limits.with_max_threads(lease.threads()),
        None => limits,
    };
    let out = if placeholder {
        thumbnail_core::process_with_placeholder(bytes, specs, &limits)
    } else {
        thumbnail_core::process(bytes, specs, &limits)
    };
    drop((work.hold, lease));
    out.map_err(|e| JobError::Image {
        key: label.to_string(),
        source: e,
    })
}
