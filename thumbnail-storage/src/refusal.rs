//! Originals that arrived behind the API's back (a presigned upload, any S3 writer) and
//! proved not to be an image we read: recorded once, on their upload event, so that no
//! request makes thumbnails of them again or reads them whole to find that out.

use serde::{Deserialize, Serialize};

use crate::info::version;
use crate::{JobError, Key, StoreError, Thumbnailer};

/// The folder (under the thumbnails' prefix) of the [`Refusal`] records; preset names cannot
/// start with `_`.
pub const REFUSED: &str = "_refused";

/// Why one version of an original has no thumbnails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Refusal {
    /// The original's [`version`] that was refused; a new upload under the key is judged anew.
    pub version: String,
    /// What the engine said of the bytes.
    pub reason: String,
}

impl Thumbnailer {
    /// Where the [`Refusal`] of `source` is stored: `{prefix}/_refused/{source, flat}.json`.
    pub fn refusal_key(&self, source: &Key) -> Result<Key, StoreError> {
        self.record_key(REFUSED, source)
    }

    /// Records that the version of `source` whose store ETag is `etag` is not an image we
    /// read, for `reason`. Its earlier thumbnails go first: they show an original that is no
    /// longer there.
    pub async fn refuse(&self, source: &Key, etag: &str, reason: &str) -> Result<(), JobError> {
        self.delete_thumbnails(source).await?;
        let record = Refusal {
            version: version(etag),
            reason: reason.to_string(),
        };
        self.put_record(source, &self.refusal_key(source)?, &record)
            .await?;
        Ok(())
    }

    /// [`JobError::Refused`] when the original `source` as stored now was refused: one small
    /// read where nothing was refused, a HEAD of the original more where something was.
    pub(crate) async fn check_refused(&self, source: &Key) -> Result<(), JobError> {
        let record = match self.dest.get(&self.refusal_key(source)?, 64 << 10).await {
            Ok(obj) => obj,
            Err(StoreError::NotFound { .. }) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let Ok(refusal) = serde_json::from_slice::<Refusal>(&record.bytes) else {
            return Ok(());
        };
        let original = self.source.head(source).await?;
        if version(original.etag.as_deref().unwrap_or_default()) != refusal.version {
            return Ok(());
        }
        Err(JobError::Refused {
            key: source.to_string(),
            reason: refusal.reason,
        })
    }
}
