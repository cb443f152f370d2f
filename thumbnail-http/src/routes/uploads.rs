//! `POST /uploads/{key}`: presigned uploads for originals too large for a request body.
//!
//! The answer is an S3 POST policy, not a presigned PUT: S3 itself refuses a body over the
//! engine's input limit or one that does not declare an image type, so the bucket never
//! holds, say, `text/html` under an upload URL we handed out. What arrives is judged again
//! on its upload event (see `thumbnail-lambda`), by its bytes.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use thumbnail_core::InputFormat;
use thumbnail_storage::UploadRules;

use crate::error::ApiError;
use crate::{AppState, Handler, fail, key};

/// The options of `POST /uploads/{key}` (a signed URL's own parameters are checked by auth).
#[derive(Debug, serde::Deserialize)]
pub(crate) struct UploadQuery {
    /// The one Content-Type the upload may declare (it is signed into the policy); without
    /// it, any `image/...` the form declares.
    content_type: Option<String>,
}

/// The types an upload may declare: those of the formats the engine reads (HEIF's own name
/// too, which phones use for HEIC).
fn image_type(asked: &str) -> Option<&'static str> {
    use InputFormat::*;
    let asked = asked.trim().to_ascii_lowercase();
    if asked == "image/heif" {
        return Some("image/heif");
    }
    [Jpeg, Png, Gif, WebP, Tiff, Bmp, Heic, Avif, Jxl]
        .into_iter()
        .map(InputFormat::mime)
        .find(|mime| *mime == asked)
}

/// `POST /uploads/{key}`: an upload form (URL and fields) to send a large original straight
/// to storage, bounded by the policy S3 enforces.
pub(crate) async fn post_upload(
    State(s): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<UploadQuery>,
) -> Handler {
    let key = key(&raw)?;
    s.0.thumbnailer.check_source(&key).map_err(fail)?;
    let max_bytes = s.0.thumbnailer.limits.max_input_bytes;
    let mut rules = UploadRules::new(max_bytes);
    if let Some(asked) = q.content_type.as_deref() {
        let Some(mime) = image_type(asked) else {
            return Err(fail(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_content_type",
                "content_type must be the type of an image this service reads \
                 (image/jpeg, image/png, image/gif, image/webp, image/tiff, image/bmp, \
                 image/heic, image/heif, image/avif or image/jxl)",
            )));
        };
        rules = rules.with_content_type(mime);
    }
    let p =
        s.0.originals
            .presign_post(&key, &rules, s.0.config.presign_expiry)
            .await
            .map_err(fail)?;
    let fields: BTreeMap<_, _> = p.fields.into_iter().collect();
    Ok((
        StatusCode::OK,
        axum::Json(serde_json::json!({
            "url": p.url,
            "method": "POST",
            "enctype": "multipart/form-data",
            "fields": fields,
            "file_field": "file",
            "content_type": rules.content_type.as_deref().unwrap_or("image/*"),
            "max_bytes": p.max_bytes,
            "expires_in": p.expires_in.as_secs(),
            "key": key.as_str(),
        })),
    )
        .into_response())
}
