//! `thumbnail backfill s3://bucket/prefix`: thumbnails for originals that already exist, by S3
//! Batch Operations. Lists the originals into a CSV manifest, stores it, and prints the
//! `aws s3control create-job` command that runs the function on every object, with a report
//! of every task.

use std::process::ExitCode;

use aws_sdk_s3::primitives::ByteStream;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::json;
use thumbnail_service::StoreArgs;
use thumbnail_storage::{S3Store, open_s3};

/// Arguments of `thumbnail backfill`.
#[derive(Debug, clap::Args)]
pub struct BackfillArgs {
    /// The originals: s3://bucket/prefix (the function's THUMBNAIL_STORE).
    source: String,

    /// Where to write the manifest: s3://bucket/key.csv.
    #[arg(long)]
    manifest: String,

    /// ARN of the thumbnail function (its `function_arn` output).
    #[arg(long)]
    function_arn: String,

    /// ARN of the role Batch Operations assumes (the module's `batch_role_arn` output).
    #[arg(long)]
    role_arn: String,

    /// Where the job's completion report goes: s3://bucket/prefix.
    #[arg(long)]
    report: String,

    /// Job priority (higher runs first).
    #[arg(long, default_value_t = 10)]
    priority: u32,

    #[command(flatten)]
    storage: StoreArgs,
}

/// Characters a manifest key keeps as they are: Batch Operations wants keys URL-encoded.
const KEY_SAFE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

pub fn run(args: &BackfillArgs) -> Result<ExitCode, String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(backfill(args))
}

async fn backfill(args: &BackfillArgs) -> Result<ExitCode, String> {
    let account = args
        .function_arn
        .split(':')
        .nth(4)
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            format!(
                "--function-arn {:?} is not a Lambda function ARN",
                args.function_arn
            )
        })?;
    let timeouts = args.storage.timeouts();
    let source = open_s3(&args.source, &timeouts)
        .await
        .map_err(|e| format!("{}: {e}", args.source))?;
    // Every URL is checked before anything is listed or written.
    let report = open_s3(&args.report, &timeouts)
        .await
        .map_err(|e| format!("--report {}: {e}", args.report))?;
    let target = open_s3(&args.manifest, &timeouts)
        .await
        .map_err(|e| format!("--manifest {}: {e}", args.manifest))?;
    let manifest_key = target.prefix().to_string();
    if manifest_key.is_empty() {
        return Err(format!(
            "--manifest {}: name an object, s3://bucket/key.csv",
            args.manifest
        ));
    }
    let (csv, count) = manifest(&source).await?;
    if count == 0 {
        return Err(format!("{}: no objects to backfill", args.source));
    }
    let put = target
        .client()
        .put_object()
        .bucket(target.bucket())
        .key(&manifest_key)
        .content_type("text/csv")
        .body(ByteStream::from(csv))
        .send()
        .await
        .map_err(|e| {
            format!(
                "writing {}: {}",
                args.manifest,
                thumbnail_storage::source_chain(&e)
            )
        })?;
    let etag = thumbnail_storage::bare_etag(put.e_tag().unwrap_or_default()).to_string();
    eprintln!(
        "wrote {count} tasks to s3://{}/{manifest_key}",
        target.bucket()
    );
    println!(
        "{}",
        create_job(args, account, &target, &manifest_key, &etag, &report)
    );
    Ok(ExitCode::SUCCESS)
}

/// Every object under the source's prefix as a `bucket,key` line, page by page (about 60
/// bytes per object in memory: 10 million originals make a 600 MB manifest; for more, use
/// an S3 Inventory report as the manifest instead).
async fn manifest(source: &S3Store) -> Result<(Vec<u8>, usize), String> {
    let prefix = match source.prefix() {
        "" => String::new(),
        p => format!("{p}/"),
    };
    let mut pages = source
        .client()
        .list_objects_v2()
        .bucket(source.bucket())
        .prefix(&prefix)
        .into_paginator()
        .send();
    let (mut csv, mut count) = (Vec::new(), 0usize);
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            format!(
                "listing {}: {}",
                source.bucket(),
                thumbnail_storage::source_chain(&e)
            )
        })?;
        for key in page.contents().iter().filter_map(|o| o.key()) {
            if key.ends_with('/') {
                continue; // a folder marker, not an original
            }
            csv.extend_from_slice(source.bucket().as_bytes());
            csv.push(b',');
            csv.extend(utf8_percent_encode(key, KEY_SAFE).flat_map(str::bytes));
            csv.push(b'\n');
            count += 1;
        }
    }
    Ok((csv, count))
}

/// The `aws s3control create-job` command for the manifest, shell-quoted.
fn create_job(
    args: &BackfillArgs,
    account: &str,
    manifest: &S3Store,
    manifest_key: &str,
    etag: &str,
    report: &S3Store,
) -> String {
    let operation = json!({ "LambdaInvoke": {
        "FunctionArn": args.function_arn,
        "InvocationSchemaVersion": "2.0",
    }});
    let manifest = json!({
        "Spec": { "Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"] },
        "Location": {
            "ObjectArn": format!("arn:aws:s3:::{}/{manifest_key}", manifest.bucket()),
            "ETag": etag,
        },
    });
    let mut report_spec = json!({
        "Bucket": format!("arn:aws:s3:::{}", report.bucket()),
        "Format": "Report_CSV_20180820",
        "Enabled": true,
        "ReportScope": "AllTasks",
    });
    if !report.prefix().is_empty() {
        report_spec["Prefix"] = json!(report.prefix());
    }
    let quote = |v: &serde_json::Value| format!("'{}'", v.to_string().replace('\'', r"'\''"));
    format!(
        "aws s3control create-job --account-id {account} --no-confirmation-required \
         --priority {} --role-arn {} --operation {} --manifest {} --report {}",
        args.priority,
        args.role_arn,
        quote(&operation),
        quote(&manifest),
        quote(&report_spec),
    )
}
