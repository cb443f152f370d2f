//! `PUT /images/{key}` and `GET /images/{key}`: originals.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use thumbnail_core::ThumbnailSpec;
use thumbnail_storage::Preset;

use crate::body::read_body;
use crate::error::ApiError;
use crate::middleware::{Deadline, work};
use crate::query::{Pairs, default_spec, spec_from_query};
use crate::respond::{encode_path, etag, put_header, serve_bytes};
use crate::{AppState, Handler, fail, key};

fn preset_for_spec(spec: ThumbnailSpec) -> Preset {
    Preset {
        name: spec.canonical(),
        spec,
    }
}

/// `PUT /images/{key}`: store the original, make and store its thumbnails, answer with one.
pub(crate) async fn put_image(
    State(s): State<AppState>,
    Extension(deadline): Extension<Deadline>,
    Path(raw): Path<String>,
    Query(q): Query<Pairs>,
    headers: HeaderMap,
    body: Body,
) -> Handler {
    let key = key(&raw)?;
    s.0.thumbnailer.check_source(&key).map_err(fail)?;
    let default = default_spec(&s);
    let wanted = spec_from_query(&s, default, &q)?;
    let job = s.0.gate.enter().await.map_err(fail)?;
    let start = Instant::now();
    let bytes = read_body(&s, &headers, body).await?;
    s.0.metrics.stage("read", start.elapsed().as_secs_f64());
    let mut thumbnailer = s.0.thumbnailer.clone();
    if let Some(spec) = wanted {
        thumbnailer.presets.push(preset_for_spec(spec));
    }
    // The thumbnails are made before anything is stored: bytes we cannot thumbnail are
    // refused with the store as it was.
    let report = thumbnailer
        .put_original(&key, bytes, work(deadline, job))
        .await
        .map_err(fail)?;
    s.0.metrics.stage("render", report.render_ms / 1000.0);
    s.0.metrics.stage("write", report.write_ms / 1000.0);
    tracing::info!(key = %key, source_bytes = report.source_bytes, thumbnails = report.written.len(),
        render_ms = report.render_ms, write_ms = report.write_ms, "stored");
    let chosen = if wanted.is_some() {
        report.written.last()
    } else {
        report.written.first()
    };
    let Some(thumb) = chosen else {
        return Err(fail(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "no_presets",
            "no presets are configured",
        )));
    };
    let mut resp = Response::new(Body::from(thumb.bytes.clone()));
    *resp.status_mut() = StatusCode::CREATED;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(thumb.content_type),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(thumb.bytes.len()));
    put_header(h, header::ETAG, &etag(&thumb.bytes));
    put_header(
        h,
        header::LOCATION,
        &format!("/images/{}", encode_path(key.as_str())),
    );
    put_header(h, "x-thumbnail-key", thumb.key.as_str());
    Ok(resp)
}

/// `GET /images/{key}`: the stored original.
pub(crate) async fn get_image(
    State(s): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Handler {
    let key = key(&raw)?;
    let obj =
        s.0.originals
            .get(&key, s.0.thumbnailer.limits.max_input_bytes)
            .await
            .map_err(fail)?;
    Ok(serve_bytes(
        &s,
        &headers,
        obj.bytes,
        obj.meta.content_type.as_deref(),
    ))
}
