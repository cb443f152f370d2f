//! The batch's three stages: inputs read ahead on the runtime, rendered on threads of their
//! own, and written back on the runtime.
//!
//! A render thread takes the next input as soon as it finishes one, already read unless it
//! is large (see [`Batch::room`]), and never waits on a write, so it keeps its core: a
//! hand-off to a pool thread for every image let the kernel place two renders on one core
//! while the other idled (up to 30 ms at a time, seen with `perf sched`). Reads overlap the
//! renders, and the first stage is the only one that waits on a store. A file of a local
//! folder is only opened ahead, its reading left to the kernel's cache, and the render thread
//! reads it itself: on every core busy, a read on the runtime took CPU from the renders and
//! sent the bytes through another core's cache.

use std::io::Write;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use thumbnail_core::{Limits, Thumbnail, ThumbnailSpec};
use thumbnail_storage::{Cores, JobError, PutOptions, Work, render_blocking};
use tokio::runtime::{Handle, Runtime};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use super::hopper::{Hopper, Next, Ready};
use super::placement::move_to_core;
use super::progress::Report;
use super::read::{Input, read};
use super::{Job, Target};

/// What every stage shares.
pub(super) struct Batch {
    spec: ThumbnailSpec,
    limits: Limits,
    image_timeout: Duration,
    cores: Arc<Cores>,
    pub report: Report,
    resume: bool,
    hopper: Hopper,
    /// Render threads (fewer start when there are fewer inputs).
    threads: usize,
    /// Inputs in memory, one per render thread, whatever their size.
    slots: Arc<Semaphore>,
    /// Inputs read ahead beyond those: at most one per render thread ...
    ahead: Arc<Semaphore>,
    /// ... and [`READ_AHEAD`] per render thread in all, in KiB.
    ahead_kib: Arc<Semaphore>,
    /// Thumbnails made and not yet stored.
    writes: Arc<Semaphore>,
}

/// Bytes of inputs each render thread may have read ahead of it.
const READ_AHEAD: u64 = 4 << 20;

impl Batch {
    /// A batch of `threads` render threads, with its bounds: a slot, a read-ahead of
    /// [`READ_AHEAD`] and a thumbnail being written per render thread.
    pub(super) fn new(
        spec: ThumbnailSpec,
        limits: Limits,
        image_timeout: Duration,
        report: Report,
        resume: bool,
        threads: usize,
    ) -> Batch {
        let kib = usize::try_from(READ_AHEAD / 1024).unwrap_or(usize::MAX);
        Batch {
            spec,
            limits,
            image_timeout,
            cores: Cores::new(threads),
            report,
            resume,
            hopper: Hopper::default(),
            threads,
            slots: Arc::new(Semaphore::new(threads)),
            ahead: Arc::new(Semaphore::new(threads)),
            ahead_kib: Arc::new(Semaphore::new(kib.saturating_mul(threads))),
            writes: Arc::new(Semaphore::new(threads)),
        }
    }

    /// Room in memory for an input of `size` bytes (0: unknown) until it has been rendered:
    /// a render thread's slot, or, when every slot is taken, a place read ahead if its size
    /// is known and fits. A camera's JPEG is read while the one before it renders; a 25 MB
    /// TIFF or a stream waits for a slot, so read-ahead adds at most [`READ_AHEAD`] per
    /// thread to the memory of the inputs being rendered.
    async fn room(&self, size: u64) -> Option<Vec<OwnedSemaphorePermit>> {
        if let Ok(slot) = self.slots.clone().try_acquire_owned() {
            return Some(vec![slot]);
        }
        let kib = u32::try_from(size.div_ceil(1024))
            .ok()
            .filter(|_| size > 0 && size <= READ_AHEAD);
        let Some(kib) = kib else {
            return self
                .slots
                .clone()
                .acquire_owned()
                .await
                .ok()
                .map(|s| vec![s]);
        };
        let ahead = async {
            let place = self.ahead.clone().acquire_owned().await?;
            let bytes = self.ahead_kib.clone().acquire_many_owned(kib).await?;
            Ok::<_, tokio::sync::AcquireError>(vec![place, bytes])
        };
        tokio::select! {
            slot = self.slots.clone().acquire_owned() => slot.ok().map(|s| vec![s]),
            ahead = ahead => ahead.ok(),
        }
    }
}

/// Runs the batch's stages over `jobs` until every thumbnail is written or has failed.
pub(super) fn run(batch: &Arc<Batch>, rt: &Runtime, jobs: Vec<Job>) -> Result<(), String> {
    let renderers = batch.threads.min(jobs.len().max(1));
    let feeding = rt.spawn(feed(batch.clone(), jobs));
    render_threads(batch, rt.handle(), renderers)?;
    rt.block_on(async {
        feeding.await.map_err(|e| e.to_string())?;
        // Every write has ended once all its permits are back.
        let writes = u32::try_from(batch.threads).unwrap_or(u32::MAX);
        let _ = batch.writes.acquire_many(writes).await;
        Ok(())
    })
}

/// Runs `n` render threads until the inputs run out; fewer if the system refuses some.
fn render_threads(batch: &Arc<Batch>, runtime: &Handle, n: usize) -> Result<(), String> {
    std::thread::scope(|scope| {
        let mut started = 0;
        for k in 0..n {
            let thread = std::thread::Builder::new()
                .name(format!("render-{k}"))
                .spawn_scoped(scope, move || render_thread(batch, runtime, k));
            match thread {
                Ok(_) => started += 1,
                Err(e) if started == 0 => return Err(format!("starting a render thread: {e}")),
                Err(e) => {
                    tracing::warn!("rendering on {started} threads, not {n}: {e}");
                    break;
                }
            }
        }
        Ok(())
    })
}

/// The first stage: reads the jobs' inputs into the hopper as [`Batch::room`] allows, and
/// closes it once every read has ended. Skips and failures are reported here.
async fn feed(batch: Arc<Batch>, jobs: Vec<Job>) {
    let mut reads = JoinSet::new();
    for (i, job) in jobs.into_iter().enumerate() {
        let target = match job.target {
            Ok(target) => target,
            Err(e) => {
                batch.report.record(i, &job.label, Err(e));
                continue;
            }
        };
        let Some(held) = batch.room(job.size).await else {
            break;
        };
        let batch = batch.clone();
        batch.hopper.reading(i);
        reads.spawn(async move {
            let cap = batch.limits.max_input_bytes;
            match fetch(&job.source, &target, cap, batch.image_timeout, batch.resume).await {
                Ok(Some(input)) => batch.hopper.push(Ready {
                    i,
                    label: job.label,
                    target,
                    input,
                    held,
                }),
                Ok(None) => {
                    batch.hopper.forget(i);
                    batch.report.record(i, &job.label, Ok(false));
                }
                Err(e) => {
                    batch.hopper.forget(i);
                    batch.report.record(i, &job.label, Err(e));
                }
            }
        });
        while reads.try_join_next().is_some() {}
    }
    while reads.join_next().await.is_some() {}
    batch.hopper.close();
}

/// An input, read or opened; `None` when skipped because its thumbnail exists.
async fn fetch(
    source: &super::Source,
    target: &Target,
    cap: u64,
    timeout: Duration,
    resume: bool,
) -> Result<Option<Input>, String> {
    if let (true, Target::Object(store, key)) = (resume, target)
        && store.exists(key).await.map_err(|e| e.to_string())?
    {
        return Ok(None);
    }
    read(source, cap, timeout).await.map(Some)
}

/// The second stage, on a thread of its own: renders inputs until none are left, handing
/// each thumbnail to the runtime to be written.
fn render_thread(batch: &Arc<Batch>, runtime: &Handle, k: usize) {
    move_to_core(k);
    while let Some(Next { ready, last, slept }) = batch.hopper.take() {
        if slept {
            move_to_core(k);
        }
        // An image runs on several threads only once nothing waits behind it: until then
        // each render thread keeps its own core busy.
        let limits = if last {
            batch.limits
        } else {
            batch.limits.with_max_threads(1)
        };
        let Ready {
            i,
            label,
            target,
            input,
            held,
        } = ready;
        let bytes = match input.bytes() {
            Ok(bytes) => bytes,
            Err(e) => {
                batch.report.record(i, &label, Err(e));
                continue;
            }
        };
        let work = Work {
            deadline: Some(Instant::now() + batch.image_timeout),
            cores: Some(batch.cores.clone()),
            ..Work::default()
        };
        // A panic is this image's failure, as it is on a pool thread: the batch goes on.
        let rendered = std::panic::catch_unwind(AssertUnwindSafe(|| {
            render_blocking(&label, &bytes, &[batch.spec], limits, work)
        }))
        .unwrap_or_else(|panic| {
            Err(JobError::Worker {
                key: label.clone(),
                message: panic_message(panic.as_ref()),
            })
        });
        drop((bytes, held));
        let thumb = match rendered.map(|mut p| p.thumbnails.pop()) {
            Ok(Some(thumb)) => thumb,
            Ok(None) => {
                batch
                    .report
                    .record(i, &label, Err("no thumbnail was made".into()));
                continue;
            }
            Err(e) => {
                batch.report.record(i, &label, Err(image_error(e)));
                continue;
            }
        };
        // Waits only when writes have fallen behind by a thumbnail per thread.
        let permit = match batch.writes.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => match runtime.block_on(batch.writes.clone().acquire_owned()) {
                Ok(permit) => {
                    move_to_core(k);
                    permit
                }
                Err(_) => return,
            },
        };
        let report = batch.report.clone();
        runtime.spawn(async move {
            let outcome = write_one(target, thumb).await;
            report.record(i, &label, outcome);
            drop(permit);
        });
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let what = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message");
    format!("the image's work panicked: {what}")
}

fn image_error(e: JobError) -> String {
    match e {
        JobError::Image { source, .. } => source.to_string(),
        other => other.to_string(),
    }
}

/// Writes a rendered thumbnail; `Ok(true)` once it is stored.
async fn write_one(target: Target, thumb: Thumbnail) -> Result<bool, String> {
    match target {
        Target::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(&thumb.bytes)
                .and_then(|()| out.flush())
                .map_err(|e| format!("writing standard output: {e}"))
        }
        Target::Object(store, key) => {
            let options = PutOptions {
                content_type: Some(thumb.mime().to_string()),
                ..PutOptions::default()
            };
            store
                .put(&key, Bytes::from(thumb.bytes), &options)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    }?;
    Ok(true)
}
