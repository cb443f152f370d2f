//! `GET /thumbnails/...` (stored, made on first request) and `POST /thumbnail` (nothing stored).

use std::time::Instant;

use axum::body::Body;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use thumbnail_core::ThumbnailSpec;
use thumbnail_storage::{Key, Preset, Report, StoreError, render};

use crate::auth::Access;
use crate::body::admit_body;
use crate::error::ApiError;
use crate::middleware::{Deadline, work};
use crate::negotiate::{negotiate, vary_accept};
use crate::query::{Pairs, default_spec, spec_from_query};
use crate::respond::{etag, put_header, serve_bytes};
use crate::{AppState, Handler, fail, key};

/// `GET /thumbnails/{key}`: the default preset's thumbnail; `?preset=NAME` another preset's;
/// any other options (`size`, `width`, `height`, `dpr`, `fit`, `format`, ...) over the
/// preset's, made from the stored original on the first request and stored under
/// [`thumbnail_storage::Thumbnailer::sized_key`] for the next ones. The preset never comes
/// from the key's path, so no key can shadow another.
pub(crate) async fn get_thumbnail(
    State(s): State<AppState>,
    Extension(deadline): Extension<Deadline>,
    Extension(access): Extension<Access>,
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
    let asked = spec_from_query(&s, preset.spec, &options)?;
    let (spec, auto) = negotiate(asked.unwrap_or(preset.spec), &headers);
    let mut resp = if asked.is_none() && !auto {
        thumbnail_of(&s, deadline, preset, &original, &headers).await?
    } else if let Some(same) = t.presets.iter().find(|p| p.spec == spec) {
        thumbnail_of(&s, deadline, same, &original, &headers).await?
    } else {
        if access == Access::Anonymous {
            allowed_anonymously(&s, &spec)?;
        }
        size_of(&s, deadline, &original, &spec, &headers).await?
    };
    if auto {
        vary_accept(resp.headers_mut());
    }
    Ok(resp)
}

/// Without credentials, a client may have made only what the operator chose: any preset's
/// options in any output format, at the preset's size or one of `--allow-sizes`. That
/// bounds what anonymous clients can add to the store.
fn allowed_anonymously(s: &AppState, spec: &ThumbnailSpec) -> Result<(), ApiError> {
    let sizes = &s.0.config.allow_sizes;
    let ok = s.0.thumbnailer.presets.iter().any(|p| {
        let size = (spec.width, spec.height);
        let same_options = spec
            .with_size(p.spec.width, p.spec.height)
            .with_format(p.spec.format)
            == p.spec;
        same_options && (size == (p.spec.width, p.spec.height) || sizes.contains(&size))
    });
    if ok {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "size_not_allowed",
        "without credentials only the presets and the allowed sizes can be made: use a signed URL or an API key",
    ))
}

/// A size asked for by the client: the stored one, or made now from the original (once,
/// however many requests ask for it at the same time).
async fn size_of(
    s: &AppState,
    deadline: Deadline,
    original: &Key,
    spec: &ThumbnailSpec,
    headers: &HeaderMap,
) -> Handler {
    let t = &s.0.on_request;
    let stored = t.sized_key(original, spec).map_err(fail)?;
    if let Some(resp) = stored_thumbnail(s, &stored, headers).await? {
        return Ok(resp);
    }
    let _flight = s.0.flights.enter(&stored).await;
    // Made by the request this one waited for.
    if let Some(resp) = stored_thumbnail(s, &stored, headers).await? {
        return Ok(resp);
    }
    let max = s.0.config.max_derivatives;
    if t.sizes(original).await.map_err(fail)?.len() >= max {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "too_many_sizes",
            format!("{original} has {max} sizes made on request already, the most allowed here"),
        ));
    }
    let job = s.0.gate.enter().await.map_err(fail)?;
    let report = t
        .render_size(original, spec, work(deadline, job, None))
        .await
        .map_err(fail)?;
    respond_made(s, report, headers)
}

/// The thumbnail stored under `key`, if there is one.
async fn stored_thumbnail(
    s: &AppState,
    key: &Key,
    headers: &HeaderMap,
) -> Result<Option<Response>, ApiError> {
    let t = &s.0.thumbnailer;
    match t.dest.get(key, t.limits.max_input_bytes).await {
        Ok(obj) => Ok(Some(serve_bytes(
            s,
            headers,
            obj.bytes,
            obj.meta.content_type.as_deref(),
        ))),
        Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(fail(e)),
    }
}

/// The response of a thumbnail just made, its stages counted in the metrics.
fn respond_made(s: &AppState, report: Report, headers: &HeaderMap) -> Handler {
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

async fn thumbnail_of(
    s: &AppState,
    deadline: Deadline,
    preset: &Preset,
    original: &Key,
    headers: &HeaderMap,
) -> Handler {
    let t = &s.0.thumbnailer;
    let out = t.output_key(original, preset).map_err(fail)?;
    if let Some(resp) = stored_thumbnail(s, &out, headers).await? {
        return Ok(resp);
    }
    if !t.source.exists(original).await.map_err(fail)? {
        return Err(fail(ApiError::not_found(format!("thumbnail {out}"))));
    }
    let _flight = s.0.flights.enter(&out).await;
    if let Some(resp) = stored_thumbnail(s, &out, headers).await? {
        return Ok(resp);
    }
    let job = s.0.gate.enter().await.map_err(fail)?;
    let mut one = t.clone();
    one.presets = vec![preset.clone()];
    let report = one
        .process_with(original, work(deadline, job, None))
        .await
        .map_err(fail)?;
    respond_made(s, report, headers)
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
    let asked = spec_from_query(&s, default, &q)?.unwrap_or(default);
    let (spec, auto) = negotiate(asked, &headers);
    let (body, job) = admit_body(&s, &headers, body).await?;
    let t = &s.0.on_request;
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
    if auto {
        vary_accept(h);
    }
    Ok(resp)
}
