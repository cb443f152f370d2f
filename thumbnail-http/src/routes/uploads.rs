//! `POST /uploads/{key}`: presigned uploads for originals too large for a request body.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;

use crate::{AppState, Handler, fail, key};

/// The options of `POST /uploads/{key}` (a signed URL's own parameters are checked by auth).
#[derive(Debug, serde::Deserialize)]
pub(crate) struct UploadQuery {
    /// The Content-Type the upload will send (it is signed into the URL).
    content_type: Option<String>,
}

/// `POST /uploads/{key}`: a presigned URL to upload a large original straight to storage.
pub(crate) async fn post_upload(
    State(s): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<UploadQuery>,
) -> Handler {
    let key = key(&raw)?;
    s.0.thumbnailer.check_source(&key).map_err(fail)?;
    let content_type = q.content_type.as_deref();
    let p =
        s.0.originals
            .presign_put(&key, content_type, s.0.config.presign_expiry)
            .await
            .map_err(fail)?;
    let headers: BTreeMap<_, _> = p.headers.into_iter().collect();
    Ok((
        StatusCode::OK,
        axum::Json(serde_json::json!({
            "url": p.url,
            "method": p.method,
            "headers": headers,
            "expires_in": p.expires_in.as_secs(),
            "key": key.as_str(),
        })),
    )
        .into_response())
}
