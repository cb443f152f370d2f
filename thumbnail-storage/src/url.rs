//! Choosing a backend from a URL, the same way in every front end.

use std::path::PathBuf;
use std::sync::Arc;

use crate::{ObjectStoreBackend, S3Config, S3Store, Store, StoreError, Timeouts};

/// Opens an `s3://bucket/prefix[?region=..&endpoint=..&path-style=..]` URL as an [`S3Store`],
/// for what needs the bucket itself (a Batch Operations manifest, say).
pub async fn open_s3(url: &str, timeouts: &Timeouts) -> Result<S3Store, StoreError> {
    let bad = |reason: &str| StoreError::InvalidUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let rest = url
        .strip_prefix("s3://")
        .ok_or_else(|| bad("not an s3:// URL"))?;
    let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (bucket, prefix) = location.split_once('/').unwrap_or((location, ""));
    if bucket.is_empty() {
        return Err(bad("no bucket: s3://bucket/prefix"));
    }
    let mut config = S3Config {
        bucket: bucket.to_string(),
        prefix: prefix.trim_matches('/').to_string(),
        path_style: env_flag("THUMBNAIL_S3_PATH_STYLE"),
        timeouts: *timeouts,
        ..S3Config::default()
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, "true"));
        let v = percent_decode(v);
        match k {
            "region" => config.region = Some(v),
            "endpoint" => config.endpoint = Some(v),
            "path-style" | "path_style" => {
                config.path_style = matches!(v.as_str(), "true" | "1" | "yes")
            }
            other => {
                return Err(bad(&format!(
                    "unknown option {other:?} (region, endpoint, path-style)"
                )));
            }
        }
    }
    S3Store::new(config).await
}

/// Opens the store a URL names:
///
/// - `s3://bucket/prefix`, with optional `?region=...&endpoint=http://host:port&path-style=true`
///   for S3-compatible servers (the SDK's `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL` work too,
///   and `THUMBNAIL_S3_PATH_STYLE=true` sets path-style addressing);
/// - `file:///path` or a plain path: a local folder, created if missing;
/// - `memory://`: an empty store in memory.
///
/// Google Cloud Storage and Azure Blob Storage are not offered: S3-compatible endpoints
/// (GCS's XML API, MinIO, R2, Ceph, ...) go through `s3://...&endpoint=`.
pub async fn open(url: &str, timeouts: &Timeouts) -> Result<Arc<dyn Store>, StoreError> {
    let bad = |reason: &str| StoreError::InvalidUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let Some((scheme, rest)) = url.split_once("://") else {
        if url.is_empty() {
            return Err(bad("empty"));
        }
        return Ok(Arc::new(ObjectStoreBackend::local(&PathBuf::from(url))?));
    };
    match scheme {
        "file" => {
            if !rest.starts_with('/') {
                return Err(bad("file URLs need an absolute path: file:///path"));
            }
            let path = ::url::Url::parse(url)
                .ok()
                .and_then(|u| u.to_file_path().ok())
                .ok_or_else(|| bad("not a file path"))?;
            Ok(Arc::new(ObjectStoreBackend::local(&path)?))
        }
        "memory" => Ok(Arc::new(ObjectStoreBackend::memory())),
        "s3" => Ok(Arc::new(open_s3(url, timeouts).await?)),
        "gs" | "az" => Err(bad(&format!(
            "{scheme}:// is not supported: use s3:// (any S3-compatible service), file://, \
             memory:// or a path"
        ))),
        other => Err(bad(&format!(
            "unknown scheme {other:?} (s3://, file://, memory://, or a path)"
        ))),
    }
}

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| matches!(v.as_str(), "1" | "true" | "yes"))
}

fn percent_decode(s: &str) -> String {
    ::url::form_urlencoded::parse(format!("v={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn urls_pick_backends_or_say_why_not() {
        let t = Timeouts::default();
        let (a, b) = (
            open("memory://", &t).await.unwrap(),
            open("memory://", &t).await.unwrap(),
        );
        assert!(a.url().starts_with("memory://"));
        assert_ne!(a.url(), b.url(), "two memory stores are two places");
        let dir = tempfile::tempdir().unwrap();
        let local = open(dir.path().join("a").to_str().unwrap(), &t)
            .await
            .unwrap();
        assert!(local.url().starts_with("file:///"));
        let file_url = format!("file://{}", dir.path().display());
        assert!(
            open(&file_url, &t)
                .await
                .unwrap()
                .url()
                .starts_with("file:///")
        );
        let s3 = open(
            "s3://bucket/some/prefix?region=eu-west-1&path-style=true",
            &t,
        )
        .await
        .unwrap();
        assert_eq!(s3.url(), "s3://bucket/some/prefix");
        for bad in [
            "",
            "s3://",
            "s3:///x",
            "ftp://x",
            "file://relative",
            "s3://b?colour=red",
            "gs://b",
        ] {
            let e = open(bad, &t).await.unwrap_err();
            assert!(matches!(e, StoreError::InvalidUrl { .. }), "{bad}: {e}");
        }
    }
}
