//! The function's configuration, from environment variables (how Lambda passes it).

use std::time::Duration;

use thumbnail_core::Limits;
use thumbnail_http::{Auth, HttpConfig};
use thumbnail_storage::{Preset, Timeouts, parse_presets};

use crate::LambdaError;

/// Lambda's synchronous invocation payload limit.
pub const SYNC_PAYLOAD_LIMIT: u64 = 6 * 1024 * 1024;

/// The largest raw body that can arrive inside that payload: API Gateway and function URLs
/// deliver binary bodies base64-encoded (4 bytes for 3) next to the headers and request
/// context (64 KiB left for them). Larger requests are refused by AWS before the function runs.
pub const MAX_SYNC_BODY: u64 = (SYNC_PAYLOAD_LIMIT - 64 * 1024) / 4 * 3;

/// Everything the function reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `THUMBNAIL_SOURCE` (required): the originals, `s3://bucket/prefix`.
    pub source: String,
    /// `THUMBNAIL_DEST` (required): where thumbnails go, `s3://bucket/prefix`; may be the
    /// source bucket under another prefix (its objects are then never processed again).
    pub dest: String,
    /// `THUMBNAIL_PRESETS`: `name=WxH[,fit=..][,format=..][,quality=..] ...`; the first is
    /// the default. Default `default=100x100` (cover, JPEG, quality 80).
    pub presets: Vec<Preset>,
    /// `THUMBNAIL_MAX_INPUT_BYTES`, `THUMBNAIL_MAX_PIXELS`, `THUMBNAIL_MAX_SCANS`,
    /// `THUMBNAIL_MAX_MEMORY`.
    pub limits: Limits,
    /// `THUMBNAIL_IMAGE_TIMEOUT_MS` (default 25 s): the longest one image's work may take,
    /// enforced inside the decoder.
    pub image_timeout: Duration,
    /// `THUMBNAIL_MAX_BODY_BYTES` (default [`MAX_SYNC_BODY`], what fits in the synchronous
    /// payload limit),
    /// `THUMBNAIL_REQUEST_TIMEOUT_MS` (default 25 s, under API Gateway's 29 s),
    /// `THUMBNAIL_CACHE_CONTROL`, `THUMBNAIL_PRESIGN_EXPIRY_SECS`, `THUMBNAIL_MAX_DIMENSION`.
    pub http: HttpConfig,
    /// `THUMBNAIL_API_KEYS` (comma-separated), `THUMBNAIL_SIGNING_KEY`, `THUMBNAIL_PUBLIC_READS`.
    pub auth: Auth,
    /// `THUMBNAIL_INSECURE_NO_AUTH=true` serves HTTP without credentials; otherwise HTTP
    /// requests are refused until a key is configured.
    pub insecure_no_auth: bool,
    /// `THUMBNAIL_STORE_TIMEOUT_MS` (default 30 s), `THUMBNAIL_STORE_ATTEMPTS` (default 3).
    pub timeouts: Timeouts,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, LambdaError> {
        Config::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads variables through `get`, so tests need not touch the process environment.
    ///
    /// ```
    /// use thumbnail_lambda::Config;
    /// let env = |k: &str| match k {
    ///     "THUMBNAIL_SOURCE" => Some("s3://photos/uploads".to_string()),
    ///     "THUMBNAIL_DEST" => Some("s3://photos/thumbnails".to_string()),
    ///     _ => None,
    /// };
    /// let config = Config::from_lookup(env).unwrap();
    /// assert_eq!(config.presets[0].spec.width, 100);
    /// assert_eq!(config.http.max_body_bytes, thumbnail_lambda::MAX_SYNC_BODY);
    /// ```
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, LambdaError> {
        let bad = |var: &str, reason: String| LambdaError::Config {
            var: var.to_string(),
            reason,
        };
        let required = |var: &str| {
            get(var)
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| bad(var, "is not set".into()))
        };
        let number = |var: &str, default: u64| -> Result<u64, LambdaError> {
            match get(var).filter(|v| !v.trim().is_empty()) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse()
                    .map_err(|_| bad(var, format!("{v:?} is not a whole number"))),
            }
        };
        let flag = |var: &str| {
            get(var).is_some_and(|v| {
                matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes")
            })
        };

        let source = required("THUMBNAIL_SOURCE")?;
        let dest = required("THUMBNAIL_DEST")?;
        let presets_text = get("THUMBNAIL_PRESETS").unwrap_or_else(|| "default=100x100".into());
        let presets =
            parse_presets(&presets_text).map_err(|e| bad("THUMBNAIL_PRESETS", e.to_string()))?;
        let defaults = Limits::default();
        let limits = Limits {
            max_input_bytes: number("THUMBNAIL_MAX_INPUT_BYTES", defaults.max_input_bytes)?,
            max_pixels: number("THUMBNAIL_MAX_PIXELS", defaults.max_pixels)?,
            max_scans: u32::try_from(number("THUMBNAIL_MAX_SCANS", defaults.max_scans.into())?)
                .map_err(|_| bad("THUMBNAIL_MAX_SCANS", "too large".into()))?,
            max_memory: number("THUMBNAIL_MAX_MEMORY", defaults.max_memory)?,
            deadline: None,
        };
        let base = HttpConfig::default();
        let http = HttpConfig {
            max_body_bytes: number("THUMBNAIL_MAX_BODY_BYTES", MAX_SYNC_BODY)?,
            max_dimension: u32::try_from(number(
                "THUMBNAIL_MAX_DIMENSION",
                base.max_dimension.into(),
            )?)
            .map_err(|_| bad("THUMBNAIL_MAX_DIMENSION", "too large".into()))?,
            // One invocation is one request: the job gate admits it, nothing queues.
            max_jobs: 1,
            max_queue: 0,
            request_timeout: Duration::from_millis(number("THUMBNAIL_REQUEST_TIMEOUT_MS", 25_000)?),
            cache_control: get("THUMBNAIL_CACHE_CONTROL").unwrap_or(base.cache_control),
            presign_expiry: Duration::from_secs(number(
                "THUMBNAIL_PRESIGN_EXPIRY_SECS",
                base.presign_expiry.as_secs(),
            )?),
            large_upload_hint: true,
            ..base
        };
        let auth = Auth {
            api_keys: get("THUMBNAIL_API_KEYS")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(String::from)
                .collect(),
            signing_key: get("THUMBNAIL_SIGNING_KEY")
                .filter(|k| !k.is_empty())
                .map(String::into_bytes),
            public_reads: flag("THUMBNAIL_PUBLIC_READS"),
        };
        let base_timeouts = Timeouts::default();
        let timeouts = Timeouts {
            operation: Duration::from_millis(number(
                "THUMBNAIL_STORE_TIMEOUT_MS",
                base_timeouts.operation.as_millis() as u64,
            )?),
            attempts: u32::try_from(number(
                "THUMBNAIL_STORE_ATTEMPTS",
                base_timeouts.attempts.into(),
            )?)
            .map_err(|_| bad("THUMBNAIL_STORE_ATTEMPTS", "too large".into()))?,
            ..base_timeouts
        };
        Ok(Config {
            source,
            dest,
            presets,
            limits,
            image_timeout: Duration::from_millis(number("THUMBNAIL_IMAGE_TIMEOUT_MS", 25_000)?),
            http,
            auth,
            insecure_no_auth: flag("THUMBNAIL_INSECURE_NO_AUTH"),
            timeouts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_values_name_the_variable() {
        let env = |k: &str| match k {
            "THUMBNAIL_SOURCE" | "THUMBNAIL_DEST" => Some("s3://b".to_string()),
            "THUMBNAIL_MAX_PIXELS" => Some("lots".to_string()),
            _ => None,
        };
        let e = Config::from_lookup(env).unwrap_err().to_string();
        assert!(e.contains("THUMBNAIL_MAX_PIXELS"), "{e}");
        let e = Config::from_lookup(|_| None).unwrap_err().to_string();
        assert!(e.contains("THUMBNAIL_SOURCE is not set"), "{e}");
    }
}
