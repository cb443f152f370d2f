//! # thumbnail-lambda
//!
//! One function, three kinds of event, told apart by their shape:
//!
//! - **S3 events**: `ObjectRemoved:*` removes the deleted original's thumbnails (unless it was
//!   uploaded again since); for `ObjectCreated:*` every record's thumbnails are
//!   made and written with the shared [`Thumbnailer`], under deterministic keys, so a retry
//!   overwrites instead of duplicating. Keys arrive URL-encoded (`red+flower.jpg`) and are
//!   decoded. Records outside the source bucket/prefix and the function's own outputs are
//!   skipped (a same-bucket setup cannot loop). Bytes that are not an image we read (a
//!   presigned upload of anything) are recorded as refused ([`Thumbnailer::refuse`]): no
//!   thumbnails, and `GET /images` answers them as a download, never as an image; not
//!   retried. A transient storage error fails the invocation so Lambda retries it.
//! - **SQS events** whose messages are S3 events (S3 -> SQS -> Lambda): the same, with transient
//!   failures reported per message as `batchItemFailures`.
//! - **S3 Batch Operations** tasks (schema 1.0 and 2.0, a backfill of existing originals): one
//!   result per task, `TemporaryFailure` where a retry may pass so Batch Operations retries.
//! - **HTTP events** (API Gateway REST/HTTP APIs, ALB): the same axum router as `thumbnail
//!   serve`; a body too large for Lambda's 6 MiB synchronous payload (base64 inside JSON) is
//!   answered by a 413 that names the presigned-upload route.
//!
//! ```no_run
//! # async fn run() -> Result<(), thumbnail_lambda::LambdaError> {
//! use thumbnail_lambda::{App, Config};
//! let app = App::new(Config::from_env()?).await?;
//! # let event = lambda_runtime::LambdaEvent::new(serde_json::json!({}), Default::default());
//! let answer = thumbnail_lambda::handle(&app, event).await;
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

mod batch;
mod http;

use aws_lambda_events::event::sqs::SqsEvent;
use axum::Router;
use axum::http::StatusCode;
use lambda_runtime::LambdaEvent;
use serde::Deserialize;
use serde_json::{Value, json};
use thumbnail_http::ApiError;
use thumbnail_service::{Profile, Service};
use thumbnail_storage::{JobError, Key, StoreError, Thumbnailer};
use tracing::{Instrument, error, info, warn};

/// The function's settings: the service's one [`thumbnail_service::Config`], read from the
/// environment with [`Config::from_env`] (`THUMBNAIL_STORE`, `THUMBNAIL_THUMBS`, ...).
pub use thumbnail_service::{Config, ConfigError, MAX_SYNC_BODY, SYNC_PAYLOAD_LIMIT};

/// The crate's errors; an `Err` from [`handle`] fails the invocation (and Lambda retries it).
#[derive(Debug, thiserror::Error)]
pub enum LambdaError {
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),

    #[error("{count} object(s) failed for a reason that may pass (they will be retried): {keys}")]
    Transient { count: usize, keys: String },

    #[error("the event is neither an S3, SQS nor HTTP event: {0}")]
    UnknownEvent(String),
}

/// What the function holds between invocations: the stores, the presets, the router.
pub struct App {
    pub thumbnailer: Thumbnailer,
    router: Router,
}

impl App {
    /// Validates the configuration and opens the stores (no network call is made until the
    /// first event), with the Lambda's defaults ([`Profile::Lambda`]).
    pub async fn new(config: Config) -> Result<App, LambdaError> {
        let service = Service::build(&config, Profile::Lambda).await?;
        let router = if service.auth.enabled() || service.insecure_no_auth {
            http::without_stage(service.router(None))
                // Connection headers are the front door's business (API Gateway, function
                // URLs); a hop-by-hop header in a Lambda response is an error there.
                .layer(axum::middleware::map_response(
                    |mut resp: axum::response::Response| async move {
                        resp.headers_mut().remove(axum::http::header::CONNECTION);
                        resp
                    },
                ))
        } else {
            // A function URL or API Gateway is public: without credentials, say what to set.
            Router::new().fallback(|| async {
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "not_configured",
                    "HTTP is off until THUMBNAIL_API_KEYS or THUMBNAIL_SIGNING_KEY is set \
                     (or THUMBNAIL_INSECURE_NO_AUTH=true)",
                )
            })
        };
        Ok(App {
            thumbnailer: service.thumbnailer,
            router,
        })
    }
}

/// Handles one invocation, whatever its kind.
pub async fn handle(app: &App, event: LambdaEvent<Value>) -> Result<Value, LambdaError> {
    let LambdaEvent { payload, context } = event;
    let span = tracing::info_span!("invocation", request_id = %context.request_id);
    async move {
        match event_kind(&payload) {
            Kind::S3 => {
                let event: S3Notification = serde_json::from_value(payload)
                    .map_err(|e| LambdaError::UnknownEvent(e.to_string()))?;
                let outcome = process_records(app, &event.records).await;
                outcome.log_summary();
                if outcome.retry.is_empty() {
                    Ok(outcome.to_json())
                } else {
                    Err(LambdaError::Transient {
                        count: outcome.retry.len(),
                        keys: outcome.retry.join(", "),
                    })
                }
            }
            Kind::Sqs => {
                let event: SqsEvent = serde_json::from_value(payload)
                    .map_err(|e| LambdaError::UnknownEvent(e.to_string()))?;
                Ok(process_sqs(app, event).await)
            }
            Kind::S3Test => {
                info!("S3 test event: nothing to do");
                Ok(json!({ "processed": 0 }))
            }
            Kind::Batch => batch::handle(app, payload).await,
            Kind::Http => http::answer(&app.router, payload, context).await,
        }
    }
    .instrument(span)
    .await
}

/// An S3 event notification: only the fields the function needs, so that an event from an
/// S3-compatible server that leaves out others (user identity, a timezone in `eventTime`) is
/// still read. AWS's own events carry all of these.
#[derive(Debug, Clone, Deserialize)]
pub struct S3Notification {
    #[serde(rename = "Records", default)]
    pub records: Vec<S3Record>,
}

/// One record of an [`S3Notification`].
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Record {
    #[serde(default)]
    pub event_name: String,
    pub s3: S3Entity,
}

#[derive(Debug, Clone, Deserialize)]
pub struct S3Entity {
    pub bucket: S3Bucket,
    pub object: S3Object,
}

#[derive(Debug, Clone, Deserialize)]
pub struct S3Bucket {
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct S3Object {
    /// URL-encoded, as S3 sends it; see [`decode_key`].
    pub key: String,
    #[serde(default)]
    pub size: Option<i64>,
    /// The uploaded version's ETag: thumbnails already made from it are not made again.
    #[serde(default, rename = "eTag")]
    pub e_tag: Option<String>,
}

enum Kind {
    S3,
    Sqs,
    S3Test,
    Batch,
    Http,
}

fn event_kind(payload: &Value) -> Kind {
    let source = payload
        .get("Records")
        .and_then(|r| r.get(0))
        .and_then(|r| r.get("eventSource"))
        .and_then(Value::as_str);
    match source {
        Some("aws:s3") => Kind::S3,
        Some("aws:sqs") => Kind::Sqs,
        _ if payload.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") => Kind::S3Test,
        _ if payload.get("invocationSchemaVersion").is_some() && payload.get("tasks").is_some() => {
            Kind::Batch
        }
        _ => Kind::Http,
    }
}

/// What happened to a batch of records.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Keys whose thumbnails were written.
    pub processed: Vec<String>,
    /// Deleted originals whose thumbnails were removed.
    pub removed: Vec<String>,
    /// Records that are not ours, with why.
    pub skipped: Vec<String>,
    /// Keys that can never succeed (corrupt, unsupported, too large), with why; not retried.
    pub failed: Vec<String>,
    /// Keys that failed for a reason that may pass (storage unavailable); retried.
    pub retry: Vec<String>,
}

impl Outcome {
    fn to_json(&self) -> Value {
        json!({
            "processed": self.processed,
            "removed": self.removed,
            "skipped": self.skipped,
            "failed": self.failed,
        })
    }

    fn log_summary(&self) {
        info!(
            processed = self.processed.len(),
            removed = self.removed.len(),
            skipped = self.skipped.len(),
            failed = self.failed.len(),
            retry = self.retry.len(),
            "batch done"
        );
    }
}

/// An S3 event key as the object's real key: `+` is a space, `%XX` a byte.
///
/// ```
/// assert_eq!(thumbnail_lambda::decode_key("red+flower%2B1.jpg").unwrap(), "red flower+1.jpg");
/// ```
pub fn decode_key(raw: &str) -> Result<String, std::str::Utf8Error> {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|s| s.into_owned())
}

/// Processes records one after another: one original in memory at a time, so a small
/// function handles a large batch.
pub async fn process_records(app: &App, records: &[S3Record]) -> Outcome {
    let mut outcome = Outcome::default();
    for record in records {
        process_record(app, record, &mut outcome).await;
    }
    outcome
}

async fn process_record(app: &App, record: &S3Record, outcome: &mut Outcome) {
    let bucket = record.s3.bucket.name.as_str();
    let raw = record.s3.object.key.as_str();
    let event_name = record.event_name.as_str();
    let full = match decode_key(raw) {
        Ok(k) => k,
        Err(e) => {
            warn!(bucket, key = raw, reason = %e, "skipped: key is not UTF-8");
            outcome.skipped.push(format!("{raw}: key is not UTF-8"));
            return;
        }
    };
    let mut skip = |reason: &str| {
        info!(bucket, key = %full, reason, "skipped");
        outcome.skipped.push(format!("{bucket}/{full}: {reason}"));
    };
    let removed = event_name.starts_with("ObjectRemoved:");
    if !removed && !event_name.starts_with("ObjectCreated:") {
        return skip(&format!(
            "event {event_name} is neither an upload nor a removal"
        ));
    }
    let key = match source_key(app, bucket, &full) {
        Ok(key) => key,
        Err(reason) => return skip(&reason),
    };
    if removed {
        return remove_thumbnails(app, &key, &full, outcome).await;
    }
    if let Some(etag) = record.s3.object.e_tag.as_deref() {
        // An HTTP upload made its thumbnails already; so did an earlier try of this event.
        match app.thumbnailer.is_current(&key, etag).await {
            Ok(true) => return skip("its thumbnails were made from this version already"),
            Ok(false) => {}
            Err(e) => {
                warn!(key = %key, reason = %e, "cannot tell whether the thumbnails are current")
            }
        }
    }
    let size = record.s3.object.size.unwrap_or(0);
    // A new version of the original: the sizes made from the old one go too.
    let made = app
        .thumbnailer
        .process_replaced(&key, thumbnail_storage::Work::default())
        .await;
    match made {
        Ok(report) => {
            info!(
                key = %key,
                source_bytes = report.source_bytes,
                thumbnails = report.written.len(),
                thumbnail_bytes = report.written.iter().map(|w| w.bytes.len()).sum::<usize>(),
                read_ms = report.read_ms,
                render_ms = report.render_ms,
                write_ms = report.write_ms,
                "thumbnails written"
            );
            outcome.processed.push(full);
        }
        Err(JobError::Store(StoreError::NotFound { .. })) => {
            warn!(key = %key, "skipped: the object is gone (deleted after the upload event)");
            outcome.skipped.push(format!("{bucket}/{full}: gone"));
        }
        Err(JobError::Image { source, .. }) => {
            error!(key = %key, size, reason = %source, "refused: not an image we can thumbnail; not retried");
            outcome.failed.push(format!("{full}: refused: {source}"));
        }
        // Storage down, but also access denied, a missing bucket, a KMS key the role cannot
        // use: retrying is the only way such a record is not lost (after the retries, it
        // reaches the dead-letter queue where someone can see it).
        Err(e) => {
            error!(key = %key, size, reason = %e, "storage or configuration failed; the invocation fails and is retried");
            outcome.retry.push(full);
        }
    }
}

/// An original was deleted: so are its thumbnails, unless it exists again (uploaded anew
/// after the deletion; events may arrive out of order).
async fn remove_thumbnails(app: &App, key: &Key, full: &str, outcome: &mut Outcome) {
    let result = match app.thumbnailer.source.exists(key).await {
        Ok(true) => {
            info!(key = %key, "skipped: the original exists again");
            outcome
                .skipped
                .push(format!("{full}: the original exists again"));
            return;
        }
        Ok(false) => app.thumbnailer.delete_thumbnails(key).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => {
            info!(key = %key, "thumbnails of a deleted original removed");
            outcome.removed.push(full.to_string());
        }
        Err(e) => {
            error!(key = %key, reason = %e, "removing thumbnails failed; the invocation fails and is retried");
            outcome.retry.push(full.to_string());
        }
    }
}

/// The key of `bucket`/`full` in the source store, or why the object is not one of ours:
/// outside the source store's root (the same location comparison the thumbnailer makes for
/// its own outputs), not a valid key, or one of the function's own thumbnails.
fn source_key(app: &App, bucket: &str, full: &str) -> Result<Key, String> {
    let root = format!("{}/", app.thumbnailer.source.url().trim_end_matches('/'));
    let location = format!("s3://{bucket}/{full}");
    let relative = location
        .strip_prefix(&root)
        .ok_or_else(|| format!("outside the source {root}"))?;
    let key = Key::new(relative).map_err(|e| e.to_string())?;
    if app.thumbnailer.check_source(&key).is_err() {
        return Err("one of this function's own thumbnails".into());
    }
    Ok(key)
}

/// SQS messages carrying S3 events, directly or inside an SNS notification (S3 -> SNS -> SQS
/// without raw delivery): failures are reported per message, so only those come back. A
/// message that is none of these is reported too, so that it reaches the dead-letter queue
/// instead of being deleted unseen.
async fn process_sqs(app: &App, event: SqsEvent) -> Value {
    let mut failures = Vec::new();
    for message in &event.records {
        let id = message.message_id.clone().unwrap_or_default();
        let body = message.body.as_deref().unwrap_or("");
        let records = match s3_records(body) {
            Ok(Some(records)) => records,
            Ok(None) => continue,
            Err(reason) => {
                error!(message_id = %id, reason, "not an S3 event; reported as failed");
                failures.push(json!({ "itemIdentifier": id }));
                continue;
            }
        };
        let outcome = process_records(app, &records).await;
        outcome.log_summary();
        if !outcome.retry.is_empty() {
            failures.push(json!({ "itemIdentifier": id }));
        }
    }
    json!({ "batchItemFailures": failures })
}

/// The S3 records of an SQS message body: `None` for S3's test event, an error for anything
/// that is not an S3 event.
fn s3_records(body: &str) -> Result<Option<Vec<S3Record>>, String> {
    let mut parsed: Value =
        serde_json::from_str(body).map_err(|e| format!("message is not JSON: {e}"))?;
    if parsed.get("Type").and_then(Value::as_str) == Some("Notification") {
        let inner = parsed
            .get("Message")
            .and_then(Value::as_str)
            .ok_or("SNS notification without a Message")?;
        parsed =
            serde_json::from_str(inner).map_err(|e| format!("SNS message is not JSON: {e}"))?;
    }
    match event_kind(&parsed) {
        Kind::S3 => serde_json::from_value::<S3Notification>(parsed)
            .map(|e| Some(e.records))
            .map_err(|e| format!("malformed S3 event: {e}")),
        Kind::S3Test => Ok(None),
        _ => Err("message is not an S3 event".into()),
    }
}

impl From<LambdaError> for lambda_runtime::Diagnostic {
    fn from(e: LambdaError) -> Self {
        let error_type = match e {
            LambdaError::Config(_) => "ConfigError",
            LambdaError::Transient { .. } => "TransientStorageError",
            LambdaError::UnknownEvent(_) => "UnknownEvent",
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.into(),
            error_message: e.to_string(),
        }
    }
}
