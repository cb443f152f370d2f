//! What a stored original is (format, upright size, alpha, colour profile, bytes), its
//! version and its ThumbHash placeholder: written next to the thumbnails whenever the
//! presets are made from the original, so reading it costs one small object.

use std::time::Instant;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thumbnail_core::{ImageInfo, InputFormat};

use crate::render::render_as;
use crate::{JobError, Key, PutOptions, StoreError, Thumbnailer, Work, bare_etag};

/// The folder (under the thumbnails' prefix) of the originals' [`Info`]; preset names cannot
/// start with `_`.
pub const INFO: &str = "_info";

/// What `GET /info/{key}` answers: facts about a stored original.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Info {
    /// `jpeg`, `png`, `gif`, `webp`, `tiff`, `bmp`, `heic`, `avif` or `jxl`.
    pub format: String,
    /// Its MIME type.
    pub mime: String,
    /// Width as displayed, after the EXIF orientation.
    pub width: u32,
    /// Height as displayed, after the EXIF orientation.
    pub height: u32,
    pub has_alpha: bool,
    /// The description of the embedded ICC profile, if there is one.
    pub icc: Option<String>,
    /// More than one frame (an animated GIF, WebP, PNG or JPEG XL): the thumbnails show the first.
    /// Absent from info stored before it existed, which reads as `false`.
    #[serde(default)]
    pub animated: bool,
    /// Size of the original in bytes.
    pub bytes: u64,
    /// Changes whenever the original does: `?v=` on a thumbnail URL (content-addressed URLs
    /// that caches may keep for a year).
    pub version: String,
    /// ThumbHash of the upright image, base64.
    pub thumbhash: String,
}

/// A short, URL-safe version of an original from its store ETag.
///
/// ```
/// use thumbnail_storage::version;
/// assert_eq!(version("\"abc\""), version("abc"));
/// assert_ne!(version("abc"), version("abd"));
/// assert_eq!(version("abc").len(), 16);
/// ```
pub fn version(etag: &str) -> String {
    let digest = Sha256::digest(bare_etag(etag).as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

impl Info {
    fn of(image: &ImageInfo, thumbhash: String, bytes: u64, etag: &str) -> Info {
        let (width, height) = image.upright_size();
        Info {
            format: match image.format {
                // Its name has a space; its file extension is what people call it.
                InputFormat::Jxl => "jxl".to_string(),
                f => f.name().to_ascii_lowercase(),
            },
            mime: image.format.mime().to_string(),
            width,
            height,
            has_alpha: image.has_alpha,
            icc: image.icc_description.clone(),
            animated: image.animated,
            bytes,
            version: version(etag),
            thumbhash,
        }
    }
}

impl Thumbnailer {
    /// Where the [`Info`] of `source` is stored: `{prefix}/_info/{source, flat}.json`
    /// ([`Key::flat`]: one file per key in one folder, so no key's info can collide with
    /// another's).
    pub fn info_key(&self, source: &Key) -> Result<Key, StoreError> {
        self.record_key(INFO, source)
    }

    /// `{prefix}/{folder}/{source, flat}.json`: where a small record about `source` lives.
    pub(crate) fn record_key(&self, folder: &str, source: &Key) -> Result<Key, StoreError> {
        let prefix = self.prefix.trim_matches('/');
        let flat = source.flat();
        if prefix.is_empty() {
            Key::new(format!("{folder}/{flat}.json"))
        } else {
            Key::new(format!("{prefix}/{folder}/{flat}.json"))
        }
    }

    /// The stored [`Info`] of `source` if it describes the original as it is now (one HEAD
    /// of the original and one small read); `None` when it must be made again.
    pub async fn stored_info(&self, source: &Key) -> Result<Option<Info>, JobError> {
        self.check_source(source)?;
        let original = self.source.head(source).await?;
        let current = version(original.etag.as_deref().unwrap_or_default());
        match self.dest.get(&self.info_key(source)?, 64 << 10).await {
            Ok(obj) => Ok(serde_json::from_slice::<Info>(&obj.bytes)
                .ok()
                .filter(|i| i.version == current)),
            Err(StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads `source`, decodes it for its placeholder alone and stores its [`Info`]: for
    /// originals stored before info existed, or written to the store behind our back.
    pub async fn make_info(&self, source: &Key, work: Work) -> Result<Info, JobError> {
        self.check_source(source)?;
        self.check_refused(source).await?;
        let original = self.source.get(source, self.limits.max_input_bytes).await?;
        let etag = original.meta.etag.unwrap_or_default();
        let size = original.bytes.len() as u64;
        let rendered = render_as(
            source.as_str(),
            original.bytes,
            Vec::new(),
            self.limits,
            self.timed(work),
            true,
        )
        .await?;
        let placeholder = rendered.placeholder.ok_or_else(|| JobError::Worker {
            key: source.to_string(),
            message: "no placeholder was made".into(),
        })?;
        self.write_info(source, &rendered.info, placeholder, size, &etag)
            .await
    }

    /// Stores the [`Info`] of the original `source` (`bytes` long, with store ETag `etag`).
    pub(crate) async fn write_info(
        &self,
        source: &Key,
        image: &ImageInfo,
        thumbhash: String,
        bytes: u64,
        etag: &str,
    ) -> Result<Info, JobError> {
        let info = Info::of(image, thumbhash, bytes, etag);
        let start = Instant::now();
        self.put_record(source, &self.info_key(source)?, &info)
            .await?;
        tracing::debug!(key = %source, ms = start.elapsed().as_secs_f64() * 1000.0, "info stored");
        Ok(info)
    }

    /// Stores `record` (about `source`) as JSON under `key`.
    pub(crate) async fn put_record(
        &self,
        source: &Key,
        key: &Key,
        record: &impl Serialize,
    ) -> Result<(), JobError> {
        let json = serde_json::to_vec(record).map_err(|e| JobError::Worker {
            key: source.to_string(),
            message: e.to_string(),
        })?;
        let options = PutOptions {
            content_type: Some("application/json".into()),
            ..PutOptions::default()
        };
        self.dest.put(key, Bytes::from(json), &options).await?;
        Ok(())
    }
}
