//! `GET /thumbnails/...` (stored, made on first request) and `POST /thumbnail` (nothing stored).

use std::time::Instant;

use axum::body::Body;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use thumbnail_core::ThumbnailSpec;
use thumbnail_storage::{Key, Preset, Report, StoreError, bare_etag, render, version};

use crate::auth::Access;
use crate::body::admit_body;
use crate::error::ApiError;
use crate::middleware::{Deadline, work};
use crate::negotiate::{negotiate, vary_accept};
use crate::query::{Pairs, default_spec, spec_from_query};
use crate::respond::{etag, put_header, serve_bytes, thumbnail_cache_headers};
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
    let (named, options): (Pairs, Pairs) =
        q.into_iter().partition(|(k, _)| k == "preset" || k == "v");
    let last = |name: &str| named.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v);
    let preset = match last("preset") {
        Some(name) => t
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
    if access == Access::Anonymous && !t.presets.iter().any(|p| p.spec == spec) {
        allowed_anonymously(&s, &spec)?;
    }
    let pinned = match last("v") {
        Some(v) => pinned_source(&s, &original, v).await?,
        None => None,
    };
    let at = Target {
        original: &original,
        pinned: pinned.as_deref(),
        headers: &headers,
    };
    let mut resp = if asked.is_none() && !auto {
        thumbnail_of(&s, deadline, preset, &at).await?
    } else if let Some(same) = t.presets.iter().find(|p| p.spec == spec) {
        thumbnail_of(&s, deadline, same, &at).await?
    } else {
        size_of(&s, deadline, &spec, &at).await?
    };
    if resp.status().is_success() || resp.status() == StatusCode::NOT_MODIFIED {
        thumbnail_cache_headers(&s, access, pinned.is_some(), resp.headers_mut());
    }
    if auto {
        vary_accept(resp.headers_mut());
    }
    Ok(resp)
}

/// What a thumbnail is asked of: the original's key, the original's ETag when the URL's
/// `?v=` names it as it is now, and the request's headers.
struct Target<'a> {
    original: &'a Key,
    pinned: Option<&'a str>,
    headers: &'a HeaderMap,
}

/// `?v=`: the original's ETag if `v` is its version now. A thumbnail answered for it may be
/// cached for a year ([`crate::respond::IMMUTABLE`]): the URL changes with the original.
/// Any other `v` (an older version, a typo) is answered as without it, cached as usual.
async fn pinned_source(s: &AppState, original: &Key, v: &str) -> Result<Option<String>, ApiError> {
    let meta = s.0.thumbnailer.source.head(original).await.map_err(fail)?;
    let etag = meta.etag.unwrap_or_default();
    Ok((version(&etag) == v).then(|| bare_etag(&etag).to_string()))
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
    spec: &ThumbnailSpec,
    at: &Target<'_>,
) -> Handler {
    let (t, original) = (&s.0.on_request, at.original);
    let stored = t.sized_key(original, spec).map_err(fail)?;
    if let Some(resp) = stored_thumbnail(s, &stored, at).await? {
        return Ok(resp);
    }
    let _flight = s.0.flights.enter(&stored).await;
    // Made by the request this one waited for.
    if let Some(resp) = stored_thumbnail(s, &stored, at).await? {
        return Ok(resp);
    }
    let max = s.0.config.max_derivatives;
    let sizes = t.sizes(original).await.map_err(fail)?;
    // A stale size is made again in its place: it does not count as one more.
    if sizes.len() >= max && !sizes.contains(&stored) {
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
    respond_made(s, report, at.headers)
}

/// The thumbnail stored under `key`, if there is one (and, for a pinned original, if it was
/// made from that original where the store records it: one made from an earlier version is
/// made again).
async fn stored_thumbnail(
    s: &AppState,
    key: &Key,
    at: &Target<'_>,
) -> Result<Option<Response>, ApiError> {
    let t = &s.0.thumbnailer;
    match t.dest.get(key, t.limits.max_input_bytes).await {
        Ok(obj) => {
            let made_from = obj.meta.source_etag.as_deref().map(bare_etag);
            if at.pinned.is_some() && made_from.is_some() && made_from != at.pinned {
                return Ok(None);
            }
            Ok(Some(serve_bytes(
                s,
                at.headers,
                obj.bytes,
                obj.meta.content_type.as_deref(),
            )))
        }
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
    at: &Target<'_>,
) -> Handler {
    let (t, original) = (&s.0.thumbnailer, at.original);
    let out = t.output_key(original, preset).map_err(fail)?;
    if let Some(resp) = stored_thumbnail(s, &out, at).await? {
        return Ok(resp);
    }
    if !t.source.exists(original).await.map_err(fail)? {
        return Err(fail(ApiError::not_found(format!("thumbnail {out}"))));
    }
    let _flight = s.0.flights.enter(&out).await;
    if let Some(resp) = stored_thumbnail(s, &out, at).await? {
        return Ok(resp);
    }
    let job = s.0.gate.enter().await.map_err(fail)?;
    let mut one = t.clone();
    one.presets = vec![preset.clone()];
    let report = one
        .process_with(original, work(deadline, job, None))
        .await
        .map_err(fail)?;
    respond_made(s, report, at.headers)
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
