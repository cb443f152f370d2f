//! `GET /info/{key}`: what a stored original is, and its placeholder.

use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

use crate::auth::Access;
use crate::middleware::{Deadline, work};
use crate::respond::{encode_path, not_modified, put_header, thumbnail_cache_headers, unchanged};
use crate::{AppState, Handler, fail, key};

/// `GET /info/{key}`: the original's format, upright size, alpha, ICC profile, bytes, version
/// and ThumbHash, as stored with its thumbnails (a small read); made from the original, once,
/// when it was stored some other way or has changed since. `thumbnail` is the default
/// thumbnail's versioned URL, which caches may keep for a year.
pub(crate) async fn get_info(
    State(s): State<AppState>,
    Extension(deadline): Extension<Deadline>,
    Extension(access): Extension<Access>,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Handler {
    let original = key(&raw)?;
    let t = &s.0.thumbnailer;
    let info = match t.stored_info(&original).await.map_err(fail)? {
        Some(info) => info,
        None => {
            let _flight =
                s.0.flights
                    .enter(&t.info_key(&original).map_err(fail)?)
                    .await;
            match t.stored_info(&original).await.map_err(fail)? {
                Some(info) => info,
                None => {
                    let job = s.0.gate.enter().await.map_err(fail)?;
                    let start = std::time::Instant::now();
                    let made = t
                        .make_info(&original, work(deadline, job, None))
                        .await
                        .map_err(fail)?;
                    s.0.metrics.stage("render", start.elapsed().as_secs_f64());
                    made
                }
            }
        }
    };
    let tag = format!("\"{}\"", info.version);
    let mut resp = if not_modified(&headers, &tag) {
        unchanged()
    } else {
        let mut body = serde_json::to_value(&info).unwrap_or_default();
        body["thumbnail"] = format!(
            "/thumbnails/{}?v={}",
            encode_path(original.as_str()),
            info.version
        )
        .into();
        let mut r = Response::new(body.to_string().into());
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        r
    };
    let h = resp.headers_mut();
    put_header(h, header::ETAG, &tag);
    // The answer changes with the original: cached like an unversioned thumbnail.
    thumbnail_cache_headers(&s, access, false, h);
    Ok(resp)
}
