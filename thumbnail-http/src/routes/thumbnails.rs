//! `GET /thumbnails/...` (stored, made on first request) and `POST /thumbnail` (nothing stored).

use std::time::Instant;

use axum::body::Body;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use thumbnail_storage::{Key, Preset, StoreError, render};

use crate::body::admit_body;
use crate::error::ApiError;
use crate::middleware::{Deadline, work};
use crate::query::{Pairs, default_spec, spec_from_query};
use crate::respond::{etag, put_header, serve_bytes};
use crate::{AppState, Handler, fail, key};

/// `GET /thumbnails/{key}`: the default preset's thumbnail; `?preset=NAME` another preset's;
/// the options of `PUT /images/{key}?size=...` the size that PUT stored. The preset never comes
/// from the key's path, so no key can shadow another. A missing preset thumbnail of an
/// existing original is made on the spot.
pub(crate) async fn get_thumbnail(
    State(s): State<AppState>,
    Extension(deadline): Extension<Deadline>,
    Path(raw): Path<String>,
    Query(q): Query<Pairs>,
    headers: HeaderMap,
) -> Handler {
    let t = &s.0.thumbnailer;
    let original = key(&raw)?;
    let (named, options): (Pairs, Pairs) = q.into_iter().partition(|(k, _)| k == "preset");
    let preset = match named.last() {
        Some((_, name)) => t
            .presets
            .iter()
            .find(|p| &p.name == name)
            .ok_or_else(|| ApiError::not_found(format!("preset {name:?}")))?,
        None => t
            .presets
            .first()
            .ok_or_else(|| ApiError::not_found("preset"))?,
    };
    let Some(spec) = spec_from_query(&s, preset.spec, &options)? else {
        return thumbnail_of(&s, deadline, preset, &original, &headers).await;
    };
    if let Some(same) = t.presets.iter().find(|p| p.spec == spec) {
        return thumbnail_of(&s, deadline, same, &original, &headers).await;
    }
    // A size stored by PUT ?size=...: served when it exists, not made here.
    let stored = t.sized_key(&original, &spec).map_err(fail)?;
    let obj = t
        .dest
        .get(&stored, t.limits.max_input_bytes)
        .await
        .map_err(fail)?;
    Ok(serve_bytes(
        &s,
        &headers,
        obj.bytes,
        obj.meta.content_type.as_deref(),
    ))
}

async fn thumbnail_of(
    s: &AppState,
    deadline: Deadline,
    preset: &Preset,
    original: &Key,
    headers: &HeaderMap,
) -> Handler {
    let t = &s.0.thumbnailer;
    let out = t.output_key(original, preset).map_err(fail)?;
    match t.dest.get(&out, t.limits.max_input_bytes).await {
        Ok(obj) => {
            return Ok(serve_bytes(
                s,
                headers,
                obj.bytes,
                obj.meta.content_type.as_deref(),
            ));
        }
        Err(StoreError::NotFound { .. }) => {}
        Err(e) => return Err(fail(e)),
    }
    if !t.source.exists(original).await.map_err(fail)? {
        return Err(fail(ApiError::not_found(format!("thumbnail {out}"))));
    }
    let job = s.0.gate.enter().await.map_err(fail)?;
    let mut one = t.clone();
    one.presets = vec![preset.clone()];
    let report = one
        .process_with(original, work(deadline, job, None))
        .await
        .map_err(fail)?;
    s.0.metrics.stage("read", report.read_ms / 1000.0);
    s.0.metrics.stage("render", report.render_ms / 1000.0);
    s.0.metrics.stage("write", report.write_ms / 1000.0);
    let w = report
        .written
        .into_iter()
        .next()
        .ok_or_else(|| fail(ApiError::not_found("thumbnail")))?;
    Ok(serve_bytes(s, headers, w.bytes, Some(w.content_type)))
}

/// `POST /thumbnail`: the body's thumbnail, nothing stored.
pub(crate) async fn post_thumbnail(
    State(s): State<AppState>,
    Extension(deadline): Extension<Deadline>,
    Query(q): Query<Pairs>,
    headers: HeaderMap,
    body: Body,
) -> Handler {
    let default = default_spec(&s);
    let spec = spec_from_query(&s, default, &q)?.unwrap_or(default);
    let (body, job) = admit_body(&s, &headers, body).await?;
    let t = &s.0.thumbnailer;
    let start = Instant::now();
    let thumb = render(
        "body",
        body.bytes,
        vec![spec],
        t.limits,
        t.timed(work(deadline, job, Some(body.budget))),
    )
    .await
    .map_err(fail)?
    .thumbnails
    .pop()
    .ok_or_else(|| fail(ApiError::not_found("thumbnail")))?;
    s.0.metrics.stage("render", start.elapsed().as_secs_f64());
    let tag = etag(&thumb.bytes);
    let len = thumb.bytes.len();
    let mut resp = Response::new(Body::from(thumb.bytes));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(thumb.format.mime()),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    put_header(h, header::ETAG, &tag);
    Ok(resp)
}
