//! # thumbnail-http
//!
//! The HTTP API as an axum [`Router`], built by [`router`] from an explicit [`AppState`]: the
//! same code serves `thumbnail serve` and the Lambda's HTTP mode.
//!
//! | route | what |
//! |---|---|
//! | `PUT /images/{key}` | store an original, make its thumbnails, answer with the default one |
//! | `GET /images/{key}` | the stored original |
//! | `GET /thumbnails/{key}`, `/thumbnails/{preset}/{key}` | a stored thumbnail (made on first request if missing) |
//! | `POST /thumbnail` | body in, thumbnail out, nothing stored |
//! | `POST /uploads/{key}` | a presigned upload URL for large files (S3 stores) |
//! | `GET /healthz`, `/readyz`, `/metrics` | liveness, storage reachable, Prometheus |
//!
//! Thumbnail options in the query (`size=WxH`, `fit`, `gravity`, `format`, `quality`,
//! `background`) override the default preset. Errors are JSON: `{"error": code, "message": ...}`.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use thumbnail_http::{router, AppState, Auth, HttpConfig};
//! use thumbnail_storage::{ObjectStoreBackend, Preset, Thumbnailer};
//!
//! let store = Arc::new(ObjectStoreBackend::memory());
//! let thumbs = Arc::new(ObjectStoreBackend::memory());
//! let thumbnailer = Thumbnailer::new(store.clone(), thumbs, vec![Preset::default_preset()]);
//! let state = AppState::new(store, thumbnailer, HttpConfig::default(), Auth::default());
//! let app = router(state);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
//! # drop((app, listener));
//! // axum::serve(listener, app).await.unwrap();
//! # });
//! ```

mod auth;
mod error;
mod gate;
mod metrics;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Extension, MatchedPath, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};
use thumbnail_core::ThumbnailSpec;
use thumbnail_storage::{Key, Preset, PutOptions, Store, StoreError, Thumbnailer, Work, render};

pub use crate::auth::{Auth, sign};
pub use crate::error::ApiError;
use crate::error::Rejected;
pub use crate::gate::JobGate;
pub use crate::metrics::Metrics;

/// Limits and behaviour of the API. Every limit has a default and a knob.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Largest request body, in bytes (413 above it).
    pub max_body_bytes: u64,
    /// Largest width or height a query may ask for.
    pub max_dimension: u32,
    /// Image jobs at once.
    pub max_jobs: usize,
    /// Requests allowed to wait for a job slot (503 with Retry-After beyond).
    pub max_queue: usize,
    /// Whole-request deadline (504 after it).
    pub request_timeout: Duration,
    /// Longest pause between two chunks of a request body (408 after it).
    pub read_timeout: Duration,
    /// Cache-Control of GET responses.
    pub cache_control: String,
    /// Lifetime of presigned upload URLs.
    pub presign_expiry: Duration,
    /// Where a 413 sends clients with large files (the Lambda's synchronous payload limit).
    pub large_upload_hint: bool,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_body_bytes: thumbnail_core::Limits::default().max_input_bytes,
            max_dimension: 4096,
            max_jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
            max_queue: 64,
            request_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(10),
            cache_control: "public, max-age=86400".into(),
            presign_expiry: Duration::from_secs(900),
            large_upload_hint: false,
        }
    }
}

/// Everything the handlers share, passed explicitly.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    originals: Arc<dyn Store>,
    thumbnailer: Thumbnailer,
    config: HttpConfig,
    auth: Auth,
    gate: JobGate,
    metrics: Metrics,
}

impl AppState {
    /// `thumbnailer.source` should be `originals`; thumbnails go to `thumbnailer.dest`.
    pub fn new(
        originals: Arc<dyn Store>,
        thumbnailer: Thumbnailer,
        config: HttpConfig,
        auth: Auth,
    ) -> Self {
        let gate = JobGate::new(config.max_jobs, config.max_queue);
        AppState(Arc::new(Inner {
            originals,
            thumbnailer,
            config,
            auth,
            gate,
            metrics: Metrics::default(),
        }))
    }

    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }
}

/// The API's router.
pub fn router(state: AppState) -> Router {
    // Everything that touches images needs credentials (when any are configured); health and
    // metrics do not, so load balancers and scrapers can reach them.
    let images = Router::new()
        .route("/images/{*key}", put(put_image).get(get_image))
        .route("/thumbnails/{*path}", get(get_thumbnail))
        .route("/thumbnail", post(post_thumbnail))
        .route("/uploads/{*key}", post(post_upload))
        .route_layer(middleware::from_fn_with_state(state.clone(), authorize));
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .merge(images)
        .fallback(|| async { ApiError::not_found("route") })
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// When the request must be answered: image work is handed it, so the engine stops there too.
#[derive(Debug, Clone, Copy)]
struct Deadline(Instant);

/// The image work of a request: its deadline, and its job slot, held until the work ends.
fn work(deadline: Deadline, job: tokio::sync::OwnedSemaphorePermit) -> Work {
    Work {
        deadline: Some(deadline.0),
        hold: Some(Box::new(job)),
    }
}

/// Deadline, in-flight count, per-route metrics and rejection reasons for every request.
async fn observe(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let start = Instant::now();
    // A request refused before its body was read leaves the rest of the body on the wire;
    // the connection cannot carry another request, so say so rather than let a client reuse it.
    let has_body = matches!(*req.method(), Method::PUT | Method::POST);
    s.0.metrics.in_flight(1);
    let mut req = req;
    req.extensions_mut()
        .insert(Deadline(start + s.0.config.request_timeout));
    let resp = match tokio::time::timeout(s.0.config.request_timeout, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "timeout",
            format!(
                "the request took longer than {:?}",
                s.0.config.request_timeout
            ),
        )
        .into_response(),
    };
    s.0.metrics.in_flight(-1);
    let mut resp = resp;
    if has_body && (resp.status().is_client_error() || resp.status().is_server_error()) {
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    let status = resp.status().as_u16();
    if let Some(Rejected(code)) = resp.extensions().get::<Rejected>() {
        s.0.metrics.reject(code);
    } else if status >= 400 {
        s.0.metrics
            .reject(if status == 504 { "timeout" } else { "other" });
    }
    if let Some(n) = resp
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse().ok())
    {
        s.0.metrics.bytes_out(n);
    }
    let seconds = start.elapsed().as_secs_f64();
    s.0.metrics.request(&route, status, seconds);
    tracing::info!(route, status, ms = seconds * 1000.0, "request");
    resp
}

/// Checks credentials before a handler runs: GET and HEAD are reads (public when configured
/// so), anything else a write.
async fn authorize(State(s): State<AppState>, req: Request, next: Next) -> Handler {
    let read = matches!(*req.method(), Method::GET | Method::HEAD);
    s.0.auth
        .check(req.method(), req.uri(), req.headers(), read)?;
    Ok(next.run(req).await)
}

fn fail(e: impl Into<ApiError>) -> ApiError {
    e.into()
}

type Handler = Result<Response, ApiError>;

async fn readyz(State(s): State<AppState>) -> Handler {
    s.0.originals.check().await.map_err(fail)?;
    s.0.thumbnailer.dest.check().await.map_err(fail)?;
    Ok(axum::Json(serde_json::json!({ "status": "ready" })).into_response())
}

async fn metrics_text(State(s): State<AppState>) -> Response {
    let text = s.0.metrics.render(s.0.gate.running(), s.0.gate.waiting());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

fn key(raw: &str) -> Result<Key, ApiError> {
    Key::new(raw).map_err(fail)
}

/// Reads a body whole: refuses a declared or actual size over the limit (413) and a client
/// that pauses longer than the read timeout (408).
async fn read_body(s: &AppState, headers: &HeaderMap, body: Body) -> Result<Bytes, ApiError> {
    let limit = s.0.config.max_body_bytes;
    let too_large = || {
        let mut msg = format!("the request body is over the limit of {limit} bytes");
        if s.0.config.large_upload_hint {
            msg.push_str(
                "; upload large files with POST /uploads/{key}, which returns a presigned URL",
            );
        }
        fail(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            msg,
        ))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut buf = Vec::with_capacity(declared.unwrap_or(0) as usize);
    let mut body = body;
    loop {
        match tokio::time::timeout(s.0.config.read_timeout, body.frame()).await {
            Err(_) => {
                return Err(fail(ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "read_timeout",
                    format!("no request body data for {:?}", s.0.config.read_timeout),
                )));
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                return Err(fail(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_body",
                    format!("reading the body: {e}"),
                )));
            }
            Ok(Some(Ok(frame))) => {
                let Ok(chunk) = frame.into_data() else {
                    continue;
                };
                if (buf.len() + chunk.len()) as u64 > limit {
                    return Err(too_large());
                }
                buf.extend_from_slice(&chunk);
            }
        }
    }
    s.0.metrics.bytes_in(buf.len() as u64);
    Ok(Bytes::from(buf))
}

/// Thumbnail options from the query, over `base`. Unknown options are refused, so a typo is
/// not silently ignored.
fn spec_from_query(
    s: &AppState,
    base: ThumbnailSpec,
    q: &BTreeMap<String, String>,
) -> Result<Option<ThumbnailSpec>, ApiError> {
    let mut spec = base;
    let mut changed = false;
    let bad = |e: thumbnail_core::Error| fail(e);
    for (k, v) in q {
        changed = true;
        match k.as_str() {
            "size" => {
                let (w, h) = thumbnail_core::parse_size(v).map_err(bad)?;
                (spec.width, spec.height) = (w, h);
            }
            "width" => {
                spec.width = v
                    .parse()
                    .map_err(|_| fail(invalid(format!("width {v:?}"))))?
            }
            "height" => {
                spec.height = v
                    .parse()
                    .map_err(|_| fail(invalid(format!("height {v:?}"))))?
            }
            "fit" => spec.fit = v.parse().map_err(bad)?,
            "gravity" => spec.gravity = v.parse().map_err(bad)?,
            "format" => spec.format = v.parse().map_err(bad)?,
            "background" => spec.background = v.parse().map_err(bad)?,
            "quality" => {
                spec.quality = v
                    .parse()
                    .map_err(|_| fail(invalid(format!("quality {v:?}"))))?
            }
            "progressive" => spec.progressive = matches!(v.as_str(), "1" | "true" | "yes"),
            "expires" | "signature" => changed = changed && k != "expires" && k != "signature",
            other => {
                return Err(fail(invalid(format!(
                    "unknown option {other:?} (size, fit, gravity, format, quality, background, progressive)"
                ))));
            }
        }
    }
    let max = s.0.config.max_dimension;
    if spec.width > max || spec.height > max {
        return Err(fail(invalid(format!(
            "{}x{} is over the largest size allowed here, {max}x{max}",
            spec.width, spec.height
        ))));
    }
    spec.validate().map_err(bad)?;
    Ok((changed && spec != base).then_some(spec))
}

fn invalid(msg: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_spec", msg)
}

fn etag(bytes: &[u8]) -> String {
    format!("\"{}\"", &hex::encode(Sha256::digest(bytes))[..32])
}

fn preset_for_spec(spec: ThumbnailSpec) -> Preset {
    Preset {
        name: spec.canonical(),
        spec,
    }
}

/// `PUT /images/{key}`: store the original, make and store its thumbnails, answer with one.
async fn put_image(
    State(s): State<AppState>,
    Extension(deadline): Extension<Deadline>,
    Path(raw): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Handler {
    let key = key(&raw)?;
    s.0.thumbnailer.check_source(&key).map_err(fail)?;
    let default =
        s.0.thumbnailer
            .presets
            .first()
            .map_or_else(ThumbnailSpec::default, |p| p.spec);
    let wanted = spec_from_query(&s, default, &q)?;
    let job = s.0.gate.enter().await.map_err(fail)?;
    let start = Instant::now();
    let bytes = read_body(&s, &headers, body).await?;
    s.0.metrics.stage("read", start.elapsed().as_secs_f64());
    let info = thumbnail_core::admit(&bytes, &s.0.thumbnailer.limits).map_err(fail)?;
    let start = Instant::now();
    let options = PutOptions {
        content_type: Some(info.format.mime().to_string()),
        cache_control: None,
    };
    s.0.originals
        .put(&key, bytes.clone(), &options)
        .await
        .map_err(fail)?;
    s.0.metrics.stage("write", start.elapsed().as_secs_f64());
    let mut thumbnailer = s.0.thumbnailer.clone();
    if let Some(spec) = wanted {
        thumbnailer.presets.push(preset_for_spec(spec));
    }
    let report = thumbnailer
        .process_bytes_with(&key, bytes, work(deadline, job))
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

fn put_header(h: &mut HeaderMap, name: impl axum::http::header::IntoHeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(name, v);
    }
}

/// Percent-encodes what a URL path cannot hold as-is (keys may contain spaces and more).
fn encode_path(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Answers with stored bytes: ETag, If-None-Match -> 304, Cache-Control.
fn serve_bytes(
    s: &AppState,
    headers: &HeaderMap,
    bytes: Bytes,
    content_type: Option<&str>,
) -> Response {
    let tag = etag(&bytes);
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let mut resp = if matches {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        let len = bytes.len();
        let mut r = Response::new(Body::from(bytes));
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        r
    };
    let h = resp.headers_mut();
    put_header(h, header::ETAG, &tag);
    put_header(h, header::CACHE_CONTROL, &s.0.config.cache_control);
    if let Some(ct) = content_type {
        put_header(h, header::CONTENT_TYPE, ct);
    }
    resp
}

/// `GET /images/{key}`: the stored original.
async fn get_image(
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

/// `GET /thumbnails/{preset}/{key}` or `/thumbnails/{key}` (default preset). A missing preset
/// thumbnail of an existing original is made on the spot.
async fn get_thumbnail(
    State(s): State<AppState>,
    Extension(deadline): Extension<Deadline>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Handler {
    let t = &s.0.thumbnailer;
    let (first, rest) = path.split_once('/').unwrap_or(("", path.as_str()));
    let max = t.limits.max_input_bytes;
    if let Some(preset) = t.presets.iter().find(|p| p.name == first) {
        return thumbnail_of(&s, deadline, preset, &key(rest)?, &headers).await;
    }
    if looks_like_canonical(first) {
        // An ad-hoc size stored by PUT ?size=...: served if it exists, never made here.
        let stored = key(&path)?.under(&t.prefix).map_err(fail)?;
        let obj = t.dest.get(&stored, max).await.map_err(fail)?;
        return Ok(serve_bytes(
            &s,
            &headers,
            obj.bytes,
            obj.meta.content_type.as_deref(),
        ));
    }
    let Some(default) = t.presets.first() else {
        return Err(fail(ApiError::not_found("preset")));
    };
    thumbnail_of(&s, deadline, default, &key(&path)?, &headers).await
}

fn looks_like_canonical(segment: &str) -> bool {
    let Some((size, _)) = segment.split_once('-') else {
        return false;
    };
    thumbnail_core::parse_size(size).is_ok() && segment.contains("-q")
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
        .process_with(original, work(deadline, job))
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
async fn post_thumbnail(
    State(s): State<AppState>,
    Extension(deadline): Extension<Deadline>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Handler {
    let default =
        s.0.thumbnailer
            .presets
            .first()
            .map_or_else(ThumbnailSpec::default, |p| p.spec);
    let spec = spec_from_query(&s, default, &q)?.unwrap_or(default);
    let job = s.0.gate.enter().await.map_err(fail)?;
    let start = Instant::now();
    let bytes = read_body(&s, &headers, body).await?;
    s.0.metrics.stage("read", start.elapsed().as_secs_f64());
    let t = &s.0.thumbnailer;
    thumbnail_core::admit(&bytes, &t.limits).map_err(fail)?;
    let start = Instant::now();
    let thumb = render(
        "body",
        bytes,
        vec![spec],
        t.limits,
        t.timed(work(deadline, job)),
    )
    .await
    .map_err(fail)?
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

/// `POST /uploads/{key}`: a presigned URL to upload a large original straight to storage.
async fn post_upload(
    State(s): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Handler {
    let key = key(&raw)?;
    s.0.thumbnailer.check_source(&key).map_err(fail)?;
    let content_type = q.get("content_type").map(String::as_str);
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
