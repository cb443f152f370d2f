//! Sizes asked for by clients rather than named by presets: made on request (or with an
//! upload) from the stored original, stored under a key derived from the canonical spec, and
//! removed with the original or when it is replaced.

use thumbnail_core::ThumbnailSpec;

use crate::Report;
use crate::thumbnailer::{Job, SIZES, Work, Written};
use crate::{JobError, Key, StoreError, Thumbnailer};

impl Thumbnailer {
    /// Where the thumbnail of `source` for a size asked for by the client (not a preset) is
    /// stored: `{prefix}/_sizes/{source, flat}/{canonical spec}.{ext}` ([`Key::flat`]: `a/b`
    /// is `a%2Fb`), one folder per original so
    /// that replacing or deleting the original finds them all. The key is derived from the
    /// spec alone, so it is known before anything is read, and a changed preset (another
    /// spec) can never be answered with a thumbnail made for the old one.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use std::sync::Arc;
    /// use thumbnail_core::{OutputFormat, ThumbnailSpec};
    /// use thumbnail_storage::{Key, ObjectStoreBackend, Preset, Thumbnailer};
    ///
    /// let store = Arc::new(ObjectStoreBackend::memory());
    /// let t = Thumbnailer::new(store.clone(), store, vec![Preset::default_preset()]);
    /// let spec = ThumbnailSpec::sized(320, 0).with_format(OutputFormat::WebP);
    /// let key = t.sized_key(&Key::new("cat.jpg").unwrap(), &spec).unwrap();
    /// assert_eq!(key.as_str(), "thumbnails/_sizes/cat.jpg/320x0-cover-centre-webp-q80-ffffffff.webp");
    /// # });
    /// ```
    pub fn sized_key(&self, source: &Key, spec: &ThumbnailSpec) -> Result<Key, StoreError> {
        let (folder, name) = (self.sizes_folder(source), spec.canonical());
        Key::new(format!("{folder}/{name}.{}", spec.format.extension()))
    }

    /// The keys of every size stored for `source`.
    pub async fn sizes(&self, source: &Key) -> Result<Vec<Key>, JobError> {
        let listed = self.dest.list(&self.sizes_folder(source)).await?;
        Ok(listed.into_iter().map(|o| o.key).collect())
    }

    /// Makes `spec`'s thumbnail of the stored original `source` and stores it under
    /// [`Thumbnailer::sized_key`], recording the original's ETag: what a first request for a
    /// size does. The presets are not touched. The report's one [`Written`] is the thumbnail;
    /// a missing original is [`StoreError::NotFound`].
    pub async fn render_size(
        &self,
        source: &Key,
        spec: &ThumbnailSpec,
        work: Work,
    ) -> Result<Report, JobError> {
        let job = Job {
            presets: false,
            sizes: std::slice::from_ref(spec),
            ..Job::presets()
        };
        self.render_stored(source, work, job).await
    }

    /// Removes every thumbnail of `source`: each preset's, every size made for it, its info
    /// and any refusal. The original is left as it is.
    pub async fn delete_thumbnails(&self, source: &Key) -> Result<(), JobError> {
        self.check_source(source)?;
        let mut keys = Vec::new();
        for preset in &self.presets {
            keys.push(self.output_key(source, preset)?);
        }
        keys.extend(self.sizes(source).await?);
        keys.push(self.info_key(source)?);
        keys.push(self.refusal_key(source)?);
        for key in &keys {
            self.dest.delete(key).await?;
        }
        Ok(())
    }

    /// Removes the sizes of `source` that were not just written: they were made from an
    /// earlier version of the original, and must not be served for the new one.
    pub(crate) async fn prune_sizes(
        &self,
        source: &Key,
        written: &[Written],
    ) -> Result<(), JobError> {
        for key in self.sizes(source).await? {
            if !written.iter().any(|w| w.key == key) {
                self.dest.delete(&key).await?;
            }
        }
        Ok(())
    }

    /// `{prefix}/_sizes/{source, flat}`: a folder per key whose name is no other key's
    /// ([`Key::flat`]), so listing it finds the sizes of `source` and never those of
    /// `source/...`, and none of them can be a prefix of another key's.
    fn sizes_folder(&self, source: &Key) -> String {
        let prefix = self.prefix.trim_matches('/');
        let flat = source.flat();
        if prefix.is_empty() {
            format!("{SIZES}/{flat}")
        } else {
            format!("{prefix}/{SIZES}/{flat}")
        }
    }
}
