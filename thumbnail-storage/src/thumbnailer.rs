//! The step every front end shares: original in, thumbnails out, under deterministic keys.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use thumbnail_core::{Limits, Processed, ThumbnailSpec};

pub(crate) use crate::render::Work;
use crate::render::{DEFAULT_IMAGE_TIMEOUT, earliest, render_as};
use crate::{Cores, Key, Preset, PutOptions, Store, StoreError, bare_etag};

/// Reads originals from one store and writes their thumbnails to another (or the same one,
/// under a prefix).
///
/// A thumbnail's key is `{prefix}/{preset}/{original key}`: the same original and preset
/// always give the same key, so a retried event overwrites its earlier output instead of
/// adding a copy. Anything already under that prefix is refused as an original, so a
/// same-bucket setup cannot feed on its own output.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::sync::Arc;
/// use thumbnail_storage::{Key, ObjectStoreBackend, Preset, Thumbnailer};
///
/// let store = Arc::new(ObjectStoreBackend::memory());
/// let t = Thumbnailer::new(store.clone(), store, vec![Preset::default_preset()]);
/// let original = Key::new("photos/cat.jpg").unwrap();
/// assert_eq!(
///     t.output_key(&original, &t.presets[0]).unwrap().as_str(),
///     "thumbnails/default/photos/cat.jpg"
/// );
/// assert!(t.check_source(&Key::new("thumbnails/default/photos/cat.jpg").unwrap()).is_err());
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct Thumbnailer {
    pub source: Arc<dyn Store>,
    pub dest: Arc<dyn Store>,
    pub presets: Vec<Preset>,
    pub limits: Limits,
    /// Longest one original's image work may take; the engine stops itself there.
    pub image_timeout: Option<Duration>,
    /// Folder of `dest` the thumbnails go to.
    pub prefix: String,
    /// Cache-Control stored with each thumbnail.
    pub cache_control: String,
    /// Idle cores a big image's work may run on (see [`Work::cores`]); `None`: one thread.
    pub cores: Option<Arc<Cores>>,
}

/// One thumbnail written.
#[derive(Debug, Clone)]
pub struct Written {
    pub preset: String,
    pub key: Key,
    pub bytes: Bytes,
    pub width: u32,
    pub height: u32,
    pub content_type: &'static str,
    pub etag: Option<String>,
}

/// What one original cost, for logs and metrics.
#[derive(Debug, Clone)]
pub struct Report {
    pub source: Key,
    pub source_bytes: usize,
    pub written: Vec<Written>,
    pub read_ms: f64,
    pub render_ms: f64,
    pub write_ms: f64,
}

/// Why an original produced no thumbnails.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The key is one of our own outputs.
    #[error("{key} is under the thumbnail prefix {prefix:?}: not processed again")]
    OwnOutput { key: String, prefix: String },

    /// The bytes are not an image we can thumbnail (permanent: retrying will not help).
    #[error("{key}: {source}")]
    Image {
        key: String,
        #[source]
        source: thumbnail_core::Error,
    },

    #[error(transparent)]
    Store(#[from] StoreError),

    /// This version of the original was found not to be an image on its upload event
    /// ([`Thumbnailer::refuse`]); permanent until it is uploaded again.
    #[error("{key} is not an image this service reads ({reason}); upload it again as one")]
    Refused { key: String, reason: String },

    /// The image worker did not finish (it panicked or was cancelled).
    #[error("{key}: image worker failed: {message}")]
    Worker { key: String, message: String },
}

impl JobError {
    /// Whether retrying later may succeed (the store was unavailable).
    pub fn is_transient(&self) -> bool {
        matches!(self, JobError::Store(e) if e.is_transient())
    }
}

/// What one call of `render_and_write` makes, stores and removes.
pub(crate) struct Job<'a> {
    /// Every preset's thumbnail.
    pub presets: bool,
    /// Sizes asked for by clients, stored under [`Thumbnailer::sized_key`].
    pub sizes: &'a [ThumbnailSpec],
    /// The bytes are a new original: stored first, once they proved to be an image.
    pub store_original: bool,
    /// Sizes of the original that were not written now are stale: removed.
    pub prune: bool,
    /// The original's ETag, recorded with each thumbnail.
    pub source_etag: Option<String>,
}

impl Job<'_> {
    pub(crate) fn presets() -> Self {
        Job {
            presets: true,
            sizes: &[],
            store_original: false,
            prune: false,
            source_etag: None,
        }
    }

    pub(crate) fn of_source(self, source_etag: Option<String>) -> Self {
        Job {
            source_etag,
            ..self
        }
    }
}

/// The folder (under the thumbnails' prefix) of sizes asked for by clients rather than named
/// by presets; preset names cannot start with `_`, so it never collides with one.
pub const SIZES: &str = "_sizes";

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

impl Thumbnailer {
    /// Defaults: thumbnails under `thumbnails/`, default limits, a one-day cache lifetime.
    pub fn new(source: Arc<dyn Store>, dest: Arc<dyn Store>, presets: Vec<Preset>) -> Self {
        Thumbnailer {
            source,
            dest,
            presets,
            limits: Limits::default(),
            image_timeout: Some(DEFAULT_IMAGE_TIMEOUT),
            prefix: "thumbnails".into(),
            cache_control: "public, max-age=86400".into(),
            cores: None,
        }
    }

    /// This thumbnailer lending its images' work the idle ones of `cores`.
    pub fn with_cores(self, cores: Arc<Cores>) -> Self {
        Thumbnailer {
            cores: Some(cores),
            ..self
        }
    }

    /// This thumbnailer with other engine limits.
    pub fn with_limits(self, limits: Limits) -> Self {
        Thumbnailer { limits, ..self }
    }

    /// This thumbnailer with another per-image timeout (`None`: only the caller's deadline).
    pub fn with_image_timeout(self, image_timeout: Option<Duration>) -> Self {
        Thumbnailer {
            image_timeout,
            ..self
        }
    }

    /// This thumbnailer writing under another folder of the destination store.
    pub fn with_prefix(self, prefix: impl Into<String>) -> Self {
        Thumbnailer {
            prefix: prefix.into(),
            ..self
        }
    }

    /// This thumbnailer storing another Cache-Control with each thumbnail.
    pub fn with_cache_control(self, cache_control: impl Into<String>) -> Self {
        Thumbnailer {
            cache_control: cache_control.into(),
            ..self
        }
    }

    /// `work` with its deadline brought forward to this thumbnailer's image timeout from now,
    /// and this thumbnailer's cores unless it has its own.
    pub fn timed(&self, work: Work) -> Work {
        let own = self.image_timeout.map(|t| Instant::now() + t);
        Work {
            deadline: earliest(work.deadline, own),
            cores: work.cores.or_else(|| self.cores.clone()),
            ..work
        }
    }

    /// The key of `source`'s thumbnail for `preset`.
    pub fn output_key(&self, source: &Key, preset: &Preset) -> Result<Key, StoreError> {
        source.under(&format!(
            "{}/{}",
            self.prefix.trim_matches('/'),
            preset.name
        ))
    }

    /// Refuses originals that are our own outputs, and keys that would take the place of the
    /// thumbnails' folder (at any depth) when both share a store.
    pub fn check_source(&self, source: &Key) -> Result<(), JobError> {
        let outputs = format!(
            "{}/",
            self.dest
                .location(self.prefix.trim_matches('/'))
                .trim_end_matches('/')
        );
        let here = self.source.location(source.as_str());
        // Under the thumbnails' folder, or the folder itself or one above it (a file there
        // would stand where the folder must be).
        if here.starts_with(&outputs) || outputs.starts_with(&format!("{here}/")) {
            return Err(JobError::OwnOutput {
                key: source.to_string(),
                prefix: self.prefix.clone(),
            });
        }
        Ok(())
    }

    /// Reads `source` and writes every preset's thumbnail.
    pub async fn process(&self, source: &Key) -> Result<Report, JobError> {
        self.process_with(source, Work::default()).await
    }

    /// [`Thumbnailer::process`] within `work`'s deadline, holding what it holds.
    pub async fn process_with(&self, source: &Key, work: Work) -> Result<Report, JobError> {
        self.render_stored(source, work, Job::presets()).await
    }

    /// Reads the stored original `source` and does `job` with it, recording its ETag.
    pub(crate) async fn render_stored(
        &self,
        source: &Key,
        work: Work,
        job: Job<'_>,
    ) -> Result<Report, JobError> {
        self.check_source(source)?;
        if !job.prune {
            // On request, not on the upload event that judges the original anew.
            self.check_refused(source).await?;
        }
        let start = Instant::now();
        let original = self.source.get(source, self.limits.max_input_bytes).await?;
        let read_ms = ms(start);
        let (judged, etag) = (job.prune, original.meta.etag.clone());
        let job = job.of_source(original.meta.etag);
        let mut report = match self
            .render_and_write(source, original.bytes, work, job)
            .await
        {
            Ok(report) => report,
            Err(JobError::Image { key, source: why }) if judged => {
                // The upload event judges this version, by the very bytes it read.
                let reason = why.to_string();
                self.refuse(source, etag.as_deref().unwrap_or_default(), &reason)
                    .await?;
                return Err(JobError::Image { key, source: why });
            }
            Err(e) => return Err(e),
        };
        report.read_ms = read_ms;
        Ok(report)
    }

    /// Writes every preset's thumbnail of an original already in hand.
    pub async fn process_bytes(&self, source: &Key, bytes: Bytes) -> Result<Report, JobError> {
        self.process_bytes_with(source, bytes, Work::default())
            .await
    }

    /// [`Thumbnailer::process_bytes`] within `work`'s deadline, holding what it holds.
    pub async fn process_bytes_with(
        &self,
        source: &Key,
        bytes: Bytes,
        work: Work,
    ) -> Result<Report, JobError> {
        self.render_and_write(source, bytes, work, Job::presets())
            .await
    }

    /// [`Thumbnailer::process_with`] for an original that was just stored in place of
    /// another (an upload event): the sizes made from what was there before are removed, so
    /// none is ever served for the new original; they are made again on request. Bytes that
    /// are not an image we read are recorded as refused ([`Thumbnailer::refuse`]) before the
    /// [`JobError::Image`] is returned.
    pub async fn process_replaced(&self, source: &Key, work: Work) -> Result<Report, JobError> {
        let job = Job {
            prune: true,
            ..Job::presets()
        };
        self.render_stored(source, work, job).await
    }

    /// Whether every preset's thumbnail of `source` was made from the original whose ETag is
    /// `etag` (recorded in the thumbnail's metadata): then an event for that original (the S3
    /// event of an HTTP upload, a retried event) has nothing to do. False where the store
    /// keeps no metadata.
    pub async fn is_current(&self, source: &Key, etag: &str) -> Result<bool, JobError> {
        let etag = bare_etag(etag);
        if etag.is_empty() {
            return Ok(false);
        }
        for preset in &self.presets {
            let meta = match self.dest.head(&self.output_key(source, preset)?).await {
                Ok(meta) => meta,
                Err(StoreError::NotFound { .. }) => return Ok(false),
                Err(e) => return Err(e.into()),
            };
            if meta.source_etag.as_deref().map(bare_etag) != Some(etag) {
                return Ok(false);
            }
        }
        Ok(!self.presets.is_empty())
    }

    /// Stores a new original and its thumbnails: every preset's, and one for each of `sizes`
    /// (under [`Thumbnailer::sized_key`]). The thumbnails are made first, so bytes that are
    /// not an image we can thumbnail (or are over a limit) are refused before anything is
    /// written; then the original (under the content type its header gave), then each
    /// thumbnail. Sizes made for an earlier version of the original are removed.
    pub async fn put_original(
        &self,
        source: &Key,
        bytes: Bytes,
        work: Work,
        sizes: &[ThumbnailSpec],
    ) -> Result<Report, JobError> {
        let job = Job {
            sizes,
            store_original: true,
            prune: true,
            ..Job::presets()
        };
        self.render_and_write(source, bytes, work, job).await
    }

    /// Deletes an original and every thumbnail of it. The thumbnails go first: a failure part
    /// way leaves the original, and trying again finishes the job, rather than leaving
    /// thumbnails of an original that is gone.
    pub async fn delete_original(&self, source: &Key) -> Result<(), JobError> {
        self.delete_thumbnails(source).await?;
        self.source.delete(source).await?;
        Ok(())
    }

    pub(crate) async fn render_and_write(
        &self,
        source: &Key,
        bytes: Bytes,
        work: Work,
        job: Job<'_>,
    ) -> Result<Report, JobError> {
        let (sizes, mut source_etag) = (job.sizes, job.source_etag);
        let presets = if job.presets { &self.presets[..] } else { &[] };
        self.check_source(source)?;
        let start = Instant::now();
        let mut specs: Vec<_> = presets.iter().map(|p| p.spec).collect();
        specs.extend_from_slice(sizes);
        // Whenever the presets are made from an original, its info is made with them.
        let mut rendered = render_as(
            source.as_str(),
            bytes.clone(),
            specs,
            self.limits,
            self.timed(work),
            job.presets,
        )
        .await?;
        let render_ms = ms(start);
        let size = bytes.len();
        if job.store_original {
            let options = PutOptions {
                content_type: Some(rendered.info.format.mime().to_string()),
                ..PutOptions::default()
            };
            source_etag = self.source.put(source, bytes, &options).await?.etag;
        }
        let start = Instant::now();
        let mut targets = Vec::new();
        for p in presets {
            targets.push((p.name.clone(), self.output_key(source, p)?));
        }
        for spec in sizes {
            targets.push((spec.canonical(), self.sized_key(source, spec)?));
        }
        let source_etag = source_etag.map(|e| bare_etag(&e).to_string());
        let (image, placeholder) = (rendered.info.clone(), rendered.placeholder.take());
        let written = self.write(targets, rendered, source_etag.clone()).await?;
        // Only a new original makes the old sizes stale: a thumbnail made later from the same
        // original (a first GET, the S3 event of an HTTP upload) must not remove them.
        if job.prune {
            self.prune_sizes(source, &written).await?;
        }
        if let (Some(placeholder), Some(etag)) = (placeholder, &source_etag) {
            self.write_info(source, &image, placeholder, size as u64, etag)
                .await?;
        }
        Ok(Report {
            source: source.clone(),
            source_bytes: size,
            written,
            read_ms: 0.0,
            render_ms,
            write_ms: ms(start),
        })
    }

    /// Writes each thumbnail of `rendered` to its `(name, key)` target.
    async fn write(
        &self,
        targets: Vec<(String, Key)>,
        rendered: Processed,
        source_etag: Option<String>,
    ) -> Result<Vec<Written>, JobError> {
        let writes = targets
            .into_iter()
            .zip(rendered.thumbnails)
            .map(|((name, key), thumb)| {
                let source_etag = source_etag.clone();
                async move {
                    let bytes = Bytes::from(thumb.bytes);
                    let options = PutOptions {
                        content_type: Some(thumb.format.mime().to_string()),
                        cache_control: Some(self.cache_control.clone()),
                        source_etag,
                    };
                    let meta = self.dest.put(&key, bytes.clone(), &options).await?;
                    Ok::<_, StoreError>(Written {
                        preset: name,
                        key,
                        bytes,
                        width: thumb.width,
                        height: thumb.height,
                        content_type: thumb.format.mime(),
                        etag: meta.etag,
                    })
                }
            });
        Ok(futures::future::try_join_all(writes).await?)
    }
}
