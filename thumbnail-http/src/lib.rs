//! # thumbnail-http
//!
//! The HTTP API as an axum [`Router`], built by [`router`] from an explicit [`AppState`]: the
//! same code serves `thumbnail serve` and the Lambda's HTTP mode.
//!
//! | route | what |
//! |---|---|
//! | `PUT /images/{key}` | store an original, make its thumbnails, answer with the default one |
//! | `GET /images/{key}` | the stored original |
//! | `GET /thumbnails/{key}` | a preset's thumbnail, or any size by its options (made on first request if missing, then stored); `format=auto` by `Accept`; `v=` a version: cached for a year |
//! | `GET /info/{key}` | the original's format, size, alpha, ICC, bytes, version and ThumbHash |
//! | `POST /thumbnail` | body in, thumbnail out, nothing stored |
//! | `POST /uploads/{key}` | a presigned upload URL for large files (S3 stores) |
//! | `GET /healthz`, `/readyz`, `/metrics` | liveness, storage reachable, Prometheus |
//!
//! Thumbnail options in the query (`size=WxH`, `width`, `height`, `dpr`, `fit`, `gravity`,
//! `format`, `quality`, `background`, `progressive`, `chroma`:
//! [`thumbnail_core::ThumbnailSpec::with_options`]'s, the one parser every front end uses)
//! override the default preset. Errors are JSON: `{"error": code, "message": ...}`.
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

#![forbid(unsafe_code)]

mod auth;
mod body;
mod cors;
mod error;
mod flight;
mod gate;
mod hosts;
mod metrics;
mod middleware;
mod negotiate;
mod plain;
mod query;
mod respond;
mod routes;
mod served;
mod server;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post, put};
use thumbnail_storage::{Key, Store, Thumbnailer};

use crate::flight::Flights;
use tokio::sync::Semaphore;

pub use crate::auth::{
    Auth, DEFAULT_MAX_SIGNED_LIFETIME, MIN_KEY_BYTES, ORIGIN_HEADER, check_key, sign,
};
pub use crate::error::ApiError;
pub use crate::gate::JobGate;
pub use crate::hosts::AllowedHosts;
pub use crate::metrics::Metrics;
pub use crate::negotiate::FormatClass;
pub use crate::server::{ServerLimits, serve};

/// Limits and behaviour of the API. Every limit has a default and a knob.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Largest request body, in bytes (413 above it).
    pub max_body_bytes: u64,
    /// Largest width or height a query may ask for (an auto side included, once the image
    /// gives it).
    pub max_dimension: u32,
    /// Sizes (`(width, height)`, 0 for an auto side) that requests without credentials may
    /// have made, besides the presets, over any preset's other options, in any format.
    pub allow_sizes: Vec<(u32, u32)>,
    /// Most sizes made on request and stored for one original (403 beyond).
    pub max_derivatives: usize,
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
    /// Request-body bytes held in memory at once, across all requests (503 beyond): bodies
    /// are read before a job slot is taken, so this, not the job limit, bounds them.
    pub max_body_in_flight: u64,
    /// `GET /images/{key}` streams at once (503 beyond).
    pub max_original_reads: usize,
    /// Originals larger than this are answered by a 307 to a presigned URL of the store
    /// (where it has them) instead of through the function: Lambda's responses stop at 6 MB.
    pub redirect_originals_over: Option<u64>,
    /// Origins a browser may call the API from (`*` for any); none: no CORS headers.
    pub cors_origins: Vec<String>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_body_bytes: thumbnail_core::Limits::default().max_input_bytes,
            max_dimension: 4096,
            allow_sizes: Vec::new(),
            max_derivatives: DEFAULT_MAX_DERIVATIVES,
            max_jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
            max_queue: 64,
            request_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(10),
            cache_control: "public, max-age=86400".into(),
            presign_expiry: Duration::from_secs(900),
            large_upload_hint: false,
            max_body_in_flight: 256 << 20,
            max_original_reads: 16,
            redirect_originals_over: None,
            cors_origins: Vec::new(),
        }
    }
}

/// The default of [`HttpConfig::max_derivatives`]: sizes on request per original.
pub const DEFAULT_MAX_DERIVATIVES: usize = 50;

/// Everything the handlers share, passed explicitly.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    originals: Arc<dyn Store>,
    thumbnailer: Thumbnailer,
    /// The thumbnailer for sizes clients ask for: outputs capped at `max_dimension`.
    on_request: Thumbnailer,
    /// Sizes being made on request, so that concurrent first requests make each once.
    flights: Flights,
    config: HttpConfig,
    auth: Auth,
    gate: JobGate,
    /// Permits are bytes of request bodies in memory.
    bodies: Arc<Semaphore>,
    /// Permits are original reads under way.
    reads: Arc<Semaphore>,
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
        let budget = usize::try_from(config.max_body_in_flight)
            .unwrap_or(usize::MAX)
            .min(Semaphore::MAX_PERMITS);
        let bodies = Arc::new(Semaphore::new(budget));
        let reads = Arc::new(Semaphore::new(config.max_original_reads.max(1)));
        let capped = thumbnailer
            .limits
            .with_max_output_dimension(config.max_dimension);
        let on_request = thumbnailer.clone().with_limits(capped);
        AppState(Arc::new(Inner {
            originals,
            thumbnailer,
            on_request,
            flights: Flights::default(),
            config,
            auth,
            gate,
            bodies,
            reads,
            metrics: Metrics::default(),
        }))
    }

    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }
}

/// The API's router.
pub fn router(state: AppState) -> Router {
    routes(state, None)
}

/// The API's router answering, while no credentials are configured, only requests for
/// `hosts` (a JSON 421 otherwise, before anything is read or stored): what keeps an open
/// server on loopback out of reach of DNS rebinding. With credentials it is [`router`].
pub fn router_for_hosts(state: AppState, hosts: AllowedHosts) -> Router {
    routes(state, Some(hosts))
}

fn routes(state: AppState, hosts: Option<AllowedHosts>) -> Router {
    // Everything that touches images needs credentials (when any are configured); health and
    // metrics do not, so load balancers and scrapers can reach them.
    let images = Router::new()
        .route(
            "/images/{*key}",
            put(routes::images::put_image)
                .get(routes::images::get_image)
                .delete(routes::images::delete_image),
        )
        .route(
            "/thumbnails/{*path}",
            get(routes::thumbnails::get_thumbnail),
        )
        .route("/info/{*key}", get(routes::info::get_info))
        .route("/thumbnail", post(routes::thumbnails::post_thumbnail))
        .route("/uploads/{*key}", post(routes::uploads::post_upload))
        .route_layer(from_fn_with_state(state.clone(), middleware::authorize));
    let mut app = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(routes::health::readyz))
        .route("/metrics", get(routes::health::metrics_text))
        .merge(images)
        .fallback(|| async { ApiError::not_found("route") });
    // Inside `observe`, so a refused host is answered like any other refusal.
    if let Some(hosts) = hosts.filter(|_| !state.0.auth.enabled()) {
        app = app.layer(from_fn_with_state(hosts, hosts::check_host));
    }
    if state.0.auth.origin_secret.is_some() {
        app = app.layer(from_fn_with_state(state.clone(), hosts::check_origin));
    }
    app.layer(from_fn_with_state(state.clone(), middleware::observe))
        .layer(from_fn_with_state(state.clone(), cors::cors))
        .with_state(state)
}

type Handler = Result<axum::response::Response, ApiError>;

fn fail(e: impl Into<ApiError>) -> ApiError {
    e.into()
}

fn key(raw: &str) -> Result<Key, ApiError> {
    Key::new(raw).map_err(fail)
}
