//! `PUT`, `GET` and `DELETE /images/{key}`: originals.

use axum::body::Body;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;

use crate::auth::Access;
use crate::body::admit_body;
use crate::error::ApiError;
use crate::middleware::{Deadline, work};
use crate::query::{Pairs, default_spec, spec_from_query};
use crate::respond::{cache_headers, encode_path, etag, not_modified, put_header, unchanged};
use crate::served;
use crate::{AppState, Handler, fail, key};

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
    let (body, job) = admit_body(&s, &headers, body).await?;
    // The thumbnails are made before anything is stored: bytes we cannot thumbnail are
    // refused with the store as it was.
    // A size from the query is capped like one asked for on GET (its auto side included).
    let t = if wanted.is_some() {
        &s.0.on_request
    } else {
        &s.0.thumbnailer
    };
    let report = t
        .put_original(
            &key,
            body.bytes,
            work(deadline, job, Some(body.budget)),
            wanted.as_slice(),
        )
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

/// `GET /images/{key}`: the stored original, streamed from the store in constant memory,
/// under the limit of original reads at once; its ETag is the store's, `Range` is honoured.
pub(crate) async fn get_image(
    State(s): State<AppState>,
    Extension(access): Extension<Access>,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Handler {
    let key = key(&raw)?;
    s.0.auth.check_original(access)?;
    let permit = s.0.reads.clone().try_acquire_owned().map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            format!(
                "{} originals are being read; try again shortly",
                s.0.config.max_original_reads
            ),
        )
        .retry_after(1)
    })?;
    let range_header = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let redirect_over = s.0.config.redirect_originals_over;
    // One HEAD answers both the range's bounds and whether the original is too large to pass.
    let size = match range_header.is_some() || redirect_over.is_some() {
        true => Some(s.0.originals.head(&key).await.map_err(fail)?.size),
        false => None,
    };
    let range = match (range_header, size) {
        (Some(text), Some(size)) => match byte_range(text, size) {
            Wanted::All => None,
            Wanted::Range(r) => Some(r),
            Wanted::Unsatisfiable => return Ok(unsatisfiable(size)),
        },
        _ => None,
    };
    if let (Some(limit), Some(size)) = (redirect_over, size)
        && size > limit
        && let Some(resp) = redirect(&s, &key, size).await?
    {
        return Ok(resp);
    }
    let ranged = range.is_some();
    let obj = s.0.originals.stream(&key, range).await.map_err(fail)?;
    let tag = obj.meta.etag.as_deref().map(quoted);
    let (meta, served) = (obj.meta, obj.range);
    let mut resp = match &tag {
        Some(tag) if not_modified(&headers, tag) => unchanged(),
        _ => {
            // The type is what the first bytes prove, whatever the object was stored as.
            let (head, body) = if served.start == 0 {
                served::peek(obj.body).await
            } else {
                let store = s.0.originals.as_ref();
                let head = served::read_head(store, &key, meta.size)
                    .await
                    .map_err(fail)?;
                (head, obj.body)
            };
            // The permit goes with the stream: it is given back when the last byte is sent or
            // the client goes away.
            let body = body.inspect(move |_| {
                let _ = &permit;
            });
            let mut r = Response::new(Body::from_stream(body));
            let h = r.headers_mut();
            served::put_type(h, &head);
            h.insert(
                header::CONTENT_LENGTH,
                HeaderValue::from(served.end - served.start),
            );
            if ranged {
                *r.status_mut() = StatusCode::PARTIAL_CONTENT;
                let (a, b, size) = (served.start, served.end - 1, meta.size);
                put_header(
                    r.headers_mut(),
                    header::CONTENT_RANGE,
                    &format!("bytes {a}-{b}/{size}"),
                );
            }
            r
        }
    };
    let h = resp.headers_mut();
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(tag) = &tag {
        put_header(h, header::ETAG, tag);
    }
    cache_headers(&s, h);
    Ok(resp)
}

/// `DELETE /images/{key}`: the original and every thumbnail of it (presets and sizes); 204
/// whether or not there was anything to delete, as S3 answers, so a retry is safe.
pub(crate) async fn delete_image(State(s): State<AppState>, Path(raw): Path<String>) -> Handler {
    let key = key(&raw)?;
    s.0.thumbnailer.check_source(&key).map_err(fail)?;
    s.0.thumbnailer.delete_original(&key).await.map_err(fail)?;
    tracing::info!(key = %key, "deleted with its thumbnails");
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A 307 to a presigned URL of the store, where it can presign: the client reads the
/// original from the store, not through us, answered with the type its first bytes prove.
async fn redirect(
    s: &AppState,
    key: &thumbnail_storage::Key,
    size: u64,
) -> Result<Option<Response>, ApiError> {
    let store = s.0.originals.as_ref();
    let head = served::read_head(store, key, size).await.map_err(fail)?;
    let url = match store
        .presign_get(key, s.0.config.presign_expiry, &served::answer(&head))
        .await
    {
        Ok(url) => url,
        Err(thumbnail_storage::StoreError::Unsupported { .. }) => return Ok(None),
        Err(e) => return Err(fail(e)),
    };
    let mut resp = StatusCode::TEMPORARY_REDIRECT.into_response();
    let h = resp.headers_mut();
    put_header(h, header::LOCATION, &url);
    // The URL expires: nobody may keep this answer.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(Some(resp))
}

/// A store's ETag as an HTTP entity tag (S3's come quoted; local ones do not).
fn quoted(tag: &str) -> String {
    if tag.starts_with('"') || tag.starts_with("W/") {
        tag.to_string()
    } else {
        format!("\"{tag}\"")
    }
}

/// What a `Range` header asks of an object of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
enum Wanted {
    /// No usable range (none, another unit, several ranges): the whole object.
    All,
    Range(std::ops::Range<u64>),
    /// A range that starts past the end: 416.
    Unsatisfiable,
}

/// `bytes=a-b`, `bytes=a-` and `bytes=-n` (RFC 9110 14.1.2); several ranges are answered with
/// the whole object, which the RFC allows.
fn byte_range(text: &str, size: u64) -> Wanted {
    let Some(spec) = text.trim().strip_prefix("bytes=") else {
        return Wanted::All;
    };
    if spec.contains(',') {
        return Wanted::All;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Wanted::All;
    };
    let (a, b) = (a.trim(), b.trim());
    let parsed = |v: &str| v.parse::<u64>().ok();
    let range = match (a.is_empty(), b.is_empty()) {
        (true, false) => match parsed(b) {
            Some(0) => return Wanted::Unsatisfiable,
            Some(n) => size.saturating_sub(n)..size,
            None => return Wanted::All,
        },
        (false, _) => match (
            parsed(a),
            if b.is_empty() {
                Some(u64::MAX)
            } else {
                parsed(b)
            },
        ) {
            (Some(a), Some(b)) if a <= b => a..b.saturating_add(1).min(size),
            _ => return Wanted::All,
        },
        (true, true) => return Wanted::All,
    };
    if range.start >= size {
        Wanted::Unsatisfiable
    } else {
        Wanted::Range(range)
    }
}

fn unsatisfiable(size: u64) -> Response {
    let mut r = ApiError::new(
        StatusCode::RANGE_NOT_SATISFIABLE,
        "range_not_satisfiable",
        format!("the object is {size} bytes"),
    )
    .into_response();
    put_header(
        r.headers_mut(),
        header::CONTENT_RANGE,
        &format!("bytes */{size}"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(byte_range("bytes=0-9", 100), Wanted::Range(0..10));
        assert_eq!(byte_range("bytes=90-", 100), Wanted::Range(90..100));
        assert_eq!(byte_range("bytes=-10", 100), Wanted::Range(90..100));
        assert_eq!(byte_range("bytes=-500", 100), Wanted::Range(0..100));
        assert_eq!(byte_range("bytes=50-500", 100), Wanted::Range(50..100));
        assert_eq!(byte_range("bytes=100-", 100), Wanted::Unsatisfiable);
        assert_eq!(byte_range("bytes=0-1,5-6", 100), Wanted::All);
        assert_eq!(byte_range("bytes=9-3", 100), Wanted::All);
        assert_eq!(byte_range("items=0-1", 100), Wanted::All);
    }
}
