//! S3 Batch Operations (`LambdaInvoke`): thumbnails for objects that already exist, listed in
//! a manifest (see `thumbnail backfill`). Every task gets a result: `Succeeded`,
//! `TemporaryFailure` when a retry may pass (storage unavailable or throttling), so Batch
//! Operations tries it again, or `PermanentFailure` with the reason, in the job's report.

use serde::Deserialize;
use serde_json::{Value, json};
use thumbnail_storage::{JobError, StoreError};
use tracing::{error, info, warn};

use crate::{App, LambdaError, decode_key, source_key};

/// A Batch Operations invocation: schema 1.0 names the bucket by ARN, 2.0 by name.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    invocation_schema_version: String,
    invocation_id: String,
    #[serde(default)]
    tasks: Vec<Task>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Task {
    task_id: String,
    /// URL-encoded, like an S3 event's key.
    s3_key: String,
    #[serde(default)]
    s3_bucket: Option<String>,
    #[serde(default)]
    s3_bucket_arn: Option<String>,
}

pub(crate) async fn handle(app: &App, payload: Value) -> Result<Value, LambdaError> {
    let invocation: Invocation = serde_json::from_value(payload)
        .map_err(|e| LambdaError::UnknownEvent(format!("S3 Batch Operations: {e}")))?;
    let mut results = Vec::with_capacity(invocation.tasks.len());
    for task in &invocation.tasks {
        let (code, message) = run(app, task).await;
        results.push(json!({
            "taskId": task.task_id,
            "resultCode": code,
            "resultString": message,
        }));
    }
    Ok(json!({
        "invocationSchemaVersion": invocation.invocation_schema_version,
        "treatMissingKeysAs": "PermanentFailure",
        "invocationId": invocation.invocation_id,
        "results": results,
    }))
}

/// One task's result code and the line the job's report shows for it.
async fn run(app: &App, task: &Task) -> (&'static str, String) {
    const OK: &str = "Succeeded";
    const RETRY: &str = "TemporaryFailure";
    const FAIL: &str = "PermanentFailure";
    let bucket = match (&task.s3_bucket, &task.s3_bucket_arn) {
        (Some(name), _) => name.as_str(),
        (None, Some(arn)) => arn.rsplit(':').next().unwrap_or(arn),
        (None, None) => return (FAIL, "the task names no bucket".into()),
    };
    let full = match decode_key(&task.s3_key) {
        Ok(k) => k,
        Err(_) => return (FAIL, "the key is not UTF-8".into()),
    };
    let key = match source_key(app, bucket, &full) {
        Ok(key) => key,
        Err(reason) => return (FAIL, format!("not processed: {reason}")),
    };
    match app.thumbnailer.process(&key).await {
        Ok(report) => {
            info!(key = %key, thumbnails = report.written.len(), "backfill: thumbnails written");
            let names: Vec<_> = report.written.iter().map(|w| w.key.as_str()).collect();
            (OK, format!("wrote {}", names.join(" ")))
        }
        Err(JobError::Store(StoreError::NotFound { .. })) => (FAIL, "no such object".into()),
        Err(e) if e.is_transient() => {
            warn!(key = %key, reason = %e, "backfill: storage unavailable; Batch Operations retries");
            (RETRY, e.to_string())
        }
        Err(e) => {
            error!(key = %key, reason = %e, "backfill: failed");
            (FAIL, e.to_string())
        }
    }
}
