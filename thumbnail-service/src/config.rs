//! The one configuration: flags for `thumbnail serve`, environment variables for both it and
//! the Lambda, with the same names and units everywhere.

use std::time::Duration;

use clap::{Args, Command, FromArgMatches};
use thumbnail_storage::{Preset, parse_presets};

use crate::args::{LimitArgs, StoreArgs};
use crate::duration::parse_duration;
use crate::error::ConfigError;

/// Where the service runs, which decides the defaults of the settings left unset.
///
/// | setting | `Server` | `Lambda` |
/// |---|---|---|
/// | `--store`, `--thumbs` | `./thumbnail-data/originals`, `./thumbnail-data/thumbnails` | required |
/// | `--max-body-bytes` | `--max-input-bytes` | [`MAX_SYNC_BODY`] (what fits in Lambda's 6 MiB payload) |
/// | `--jobs`, `--queue` | one per CPU, 64 | 1, 0 (one invocation is one request) |
/// | `--request-timeout`, `--image-timeout` | 30 s | 25 s (under API Gateway's 29 s) |
/// | `--redirect-originals-over` | none | [`MAX_SYNC_BODY`] |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Profile {
    /// `thumbnail serve`: a long-running process.
    Server,
    /// The Lambda function: one request per invocation, behind API Gateway or a function URL.
    Lambda,
}

impl Profile {
    /// The request and image timeouts when none is set: 30 s, or 25 s on Lambda (under API
    /// Gateway's 29 s).
    pub fn default_timeout(self) -> Duration {
        Duration::from_secs(match self {
            Profile::Lambda => 25,
            Profile::Server => 30,
        })
    }
}

/// Lambda's synchronous invocation payload limit.
pub const SYNC_PAYLOAD_LIMIT: u64 = 6 * 1024 * 1024;

/// The largest raw body that can arrive inside that payload: API Gateway and function URLs
/// deliver binary bodies base64-encoded (4 bytes for 3) next to the headers and request
/// context (64 KiB left for them). Larger requests are refused by AWS before the function runs.
pub const MAX_SYNC_BODY: u64 = (SYNC_PAYLOAD_LIMIT - 64 * 1024) / 4 * 3;

/// A parsed `--presets` list (the first preset is the default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presets(pub Vec<Preset>);

fn presets(text: &str) -> Result<Presets, String> {
    parse_presets(text).map(Presets).map_err(|e| e.to_string())
}

/// One `--allow-sizes` entry: `WxH`, `W` (a square), `Wx` or `xH` (the other side auto).
fn allowed_size(text: &str) -> Result<(u32, u32), String> {
    thumbnail_core::parse_size(text.trim()).map_err(|e| e.to_string())
}

/// Every setting of the service. Read it from flags ([`clap::Args`], flattened into
/// `thumbnail serve`), from the environment ([`Config::from_env`]) or from any lookup
/// ([`Config::from_lookup`]); each flag `--some-setting` has the variable
/// `THUMBNAIL_SOME_SETTING`. [`crate::Service::build`] validates it and wires the service.
///
/// ```
/// use thumbnail_service::Config;
///
/// let env = |k: &str| match k {
///     "THUMBNAIL_STORE" => Some("s3://photos/uploads".to_string()),
///     "THUMBNAIL_PRESETS" => Some("default=100x100 small=64x64,fit=inside".to_string()),
///     "THUMBNAIL_REQUEST_TIMEOUT" => Some("10s".to_string()),
///     _ => None,
/// };
/// let config = Config::from_lookup(env).unwrap();
/// assert_eq!(config.store.as_deref(), Some("s3://photos/uploads"));
/// assert_eq!(config.presets.0[1].name, "small");
/// assert_eq!(config.request_timeout, Some(std::time::Duration::from_secs(10)));
/// ```
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Where originals are stored: a folder, file:///path, s3://bucket/prefix, memory://
    /// [default: ./thumbnail-data/originals; required on Lambda].
    #[arg(long, env = "THUMBNAIL_STORE")]
    pub store: Option<String>,

    /// Where thumbnails are stored (same forms) [default: ./thumbnail-data/thumbnails;
    /// required on Lambda].
    #[arg(long, env = "THUMBNAIL_THUMBS")]
    pub thumbs: Option<String>,

    /// Folder of the thumbnail store for thumbnails (default: none when the thumbnails have a
    /// store of their own, `thumbnails` when they share the originals' store).
    #[arg(long, env = "THUMBNAIL_THUMBS_PREFIX")]
    pub thumbs_prefix: Option<String>,

    /// Presets, `name=WxH[,fit=..][,format=..][,quality=..]` separated by spaces; the first
    /// is the default.
    #[arg(long, default_value = "default=100x100", value_parser = presets, env = "THUMBNAIL_PRESETS")]
    pub presets: Presets,

    /// An API key accepted as `Authorization: Bearer <key>` (repeat, or comma-separate in the
    /// environment variable).
    #[arg(
        long = "api-key",
        env = "THUMBNAIL_API_KEYS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub api_keys: Vec<String>,

    /// Key for HMAC-signed URLs (`?expires=&signature=`; see `thumbnail sign`).
    #[arg(long, env = "THUMBNAIL_SIGNING_KEY", hide_env_values = true)]
    pub signing_key: Option<String>,

    /// ARN (or name) of a Secrets Manager secret holding the credentials, read once at start:
    /// JSON `{"api_keys": ["..."], "signing_key": "..."}`, added to any given directly. A
    /// secret without a value yet means no credentials from it.
    #[arg(long, env = "THUMBNAIL_CREDENTIALS_SECRET")]
    pub credentials_secret: Option<String>,

    /// Let GET requests through without credentials.
    #[arg(long, env = "THUMBNAIL_PUBLIC_READS")]
    pub public_reads: bool,

    /// With --public-reads, let originals through without credentials too. Off by default:
    /// an original is served byte for byte, EXIF included, and EXIF may hold where the
    /// photo was taken; thumbnails carry no metadata.
    #[arg(long, env = "THUMBNAIL_PUBLIC_ORIGINALS")]
    pub public_originals: bool,

    /// Host names (besides localhost, 127.0.0.1, [::1] and the listen address) a server
    /// without credentials answers, comma-separated; any other `Host` gets a 421, so a web
    /// page cannot reach it through DNS rebinding. With credentials every host is answered.
    #[arg(
        long = "allowed-hosts",
        env = "THUMBNAIL_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    pub allowed_hosts: Vec<String>,

    /// A bearer token `GET /metrics` requires (none: open, for a scraper on a private
    /// network).
    #[arg(long, env = "THUMBNAIL_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// A secret every request must carry in `X-Origin-Verify` (a CDN adds it on its way to
    /// the origin; Terraform sets CloudFront's), so that nobody reaches the origin around the
    /// CDN; others get a 403 before anything is read. `/healthz`, `/readyz` and `/metrics`
    /// are exempt. None: every request is answered.
    #[arg(long, env = "THUMBNAIL_ORIGIN_SECRET", hide_env_values = true)]
    pub origin_secret: Option<String>,

    /// Serve without any credentials where that is otherwise refused (a non-loopback
    /// address; Lambda's HTTP mode).
    #[arg(long, env = "THUMBNAIL_INSECURE_NO_AUTH")]
    pub insecure_no_auth: bool,

    #[command(flatten)]
    pub limits: LimitArgs,

    /// Largest request body, in bytes [default: --max-input-bytes; on Lambda what fits in its
    /// 6 MiB synchronous payload].
    #[arg(long, env = "THUMBNAIL_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<u64>,

    /// Largest width or height a request may ask for.
    #[arg(long, default_value_t = 4096, env = "THUMBNAIL_MAX_DIMENSION")]
    pub max_dimension: u32,

    /// Sizes a request without credentials (`--public-reads`) may have made besides the
    /// presets, e.g. `64x64,320x,640x` (`320x`: 320 wide, the height from the image) [default:
    /// none: presets only].
    #[arg(
        long = "allow-sizes",
        env = "THUMBNAIL_ALLOW_SIZES",
        value_delimiter = ',',
        value_parser = allowed_size
    )]
    pub allow_sizes: Vec<(u32, u32)>,

    /// Most sizes made on request and stored for one original; a new size past it is refused
    /// (403, `too_many_sizes`). 0: no sizes on request.
    #[arg(long, default_value_t = thumbnail_http::DEFAULT_MAX_DERIVATIVES, env = "THUMBNAIL_MAX_DERIVATIVES")]
    pub max_derivatives: usize,

    /// Image jobs at once [default: the number of CPUs; 1 on Lambda].
    #[arg(long, env = "THUMBNAIL_JOBS")]
    pub jobs: Option<usize>,

    /// Requests that may wait for a job; more get 503 with Retry-After [default: 64; 0 on
    /// Lambda].
    #[arg(long, env = "THUMBNAIL_QUEUE")]
    pub queue: Option<usize>,

    /// Deadline of a whole request, 504 after it [default: 30s; 25s on Lambda].
    #[arg(long, value_parser = parse_duration, env = "THUMBNAIL_REQUEST_TIMEOUT")]
    pub request_timeout: Option<Duration>,

    /// Longest pause while a client sends its body (408 after it).
    #[arg(long, default_value = "10s", value_parser = parse_duration, env = "THUMBNAIL_READ_TIMEOUT")]
    pub read_timeout: Duration,

    /// Cache-Control of GET responses and of stored thumbnails.
    #[arg(
        long,
        default_value = "public, max-age=86400",
        env = "THUMBNAIL_CACHE_CONTROL"
    )]
    pub cache_control: String,

    /// Request-body bytes in memory at once, across all requests (503 beyond): bodies are
    /// read before a job slot is taken, and counted as they arrive.
    #[arg(long, default_value_t = 256 << 20, env = "THUMBNAIL_MAX_BODY_IN_FLIGHT")]
    pub max_body_in_flight: u64,

    /// `GET /images/{key}` streams at once (503 beyond).
    #[arg(long, default_value_t = 16, env = "THUMBNAIL_MAX_ORIGINAL_READS")]
    pub max_original_reads: usize,

    /// Connections open at once (`serve`); beyond it a new connection gets a 503 (`/healthz`
    /// its 200) and is closed.
    #[arg(long, default_value_t = 512, env = "THUMBNAIL_MAX_CONNECTIONS")]
    pub max_connections: usize,

    /// How long a request's line and headers may take to arrive (`serve`), counted from when
    /// the connection opened or sent its last response: also how long an idle keep-alive
    /// connection is kept.
    #[arg(long, default_value = "10s", value_parser = parse_duration, env = "THUMBNAIL_HEADER_READ_TIMEOUT")]
    pub header_read_timeout: Duration,

    /// A connection on which no byte moves either way for this long is closed (`serve`).
    #[arg(long, default_value = "60s", value_parser = parse_duration, env = "THUMBNAIL_IDLE_TIMEOUT")]
    pub idle_timeout: Duration,

    /// On SIGTERM, how long requests in flight may take to finish (`serve`).
    #[arg(long, default_value = "30s", value_parser = parse_duration, env = "THUMBNAIL_SHUTDOWN_TIMEOUT")]
    pub shutdown_timeout: Duration,

    /// Longest lifetime a signed URL may have (S3 caps presigned URLs at 7 days too).
    #[arg(long, default_value = "7d", value_parser = parse_duration, env = "THUMBNAIL_MAX_SIGNED_LIFETIME")]
    pub max_signed_lifetime: Duration,

    /// Originals larger than this many bytes are answered with a 307 to a presigned URL of the
    /// store (S3) instead of through the service [default: none; on Lambda what fits in its
    /// 6 MiB response]. 0 turns it off.
    #[arg(long, env = "THUMBNAIL_REDIRECT_ORIGINALS_OVER")]
    pub redirect_originals_over: Option<u64>,

    /// Origins a browser page may call the API from, comma-separated (`*` for any); none:
    /// no cross-origin calls.
    #[arg(
        long = "cors-origin",
        env = "THUMBNAIL_CORS_ORIGINS",
        value_delimiter = ','
    )]
    pub cors_origins: Vec<String>,

    /// Lifetime of the presigned URLs: uploads (`POST /uploads/{key}`) and the redirects of
    /// large originals.
    #[arg(long, default_value = "15m", value_parser = parse_duration, env = "THUMBNAIL_PRESIGN_EXPIRY")]
    pub presign_expiry: Duration,

    #[command(flatten)]
    pub storage: StoreArgs,
}

/// Variables that earlier versions read, and the setting that replaced each: set, they are
/// refused rather than silently ignored.
const RENAMED: [(&str, &str); 6] = [
    ("THUMBNAIL_SOURCE", "THUMBNAIL_STORE"),
    ("THUMBNAIL_DEST", "THUMBNAIL_THUMBS"),
    (
        "THUMBNAIL_IMAGE_TIMEOUT_MS",
        "THUMBNAIL_IMAGE_TIMEOUT (a duration: 25s)",
    ),
    (
        "THUMBNAIL_REQUEST_TIMEOUT_MS",
        "THUMBNAIL_REQUEST_TIMEOUT (a duration: 25s)",
    ),
    (
        "THUMBNAIL_STORE_TIMEOUT_MS",
        "THUMBNAIL_STORE_TIMEOUT (a duration: 30s)",
    ),
    (
        "THUMBNAIL_PRESIGN_EXPIRY_SECS",
        "THUMBNAIL_PRESIGN_EXPIRY (a duration: 15m)",
    ),
];

impl Config {
    /// Reads the process environment (how Lambda passes settings).
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the settings' environment variables through `get`, so tests need not touch the
    /// process environment. Values are parsed exactly as the flags are; an error names the
    /// variable.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        for (old, new) in RENAMED {
            if get(old).is_some() {
                return Err(ConfigError::invalid(old, format!("was renamed: set {new}")));
            }
        }
        let command = Config::augment_args(Command::new("thumbnail").no_binary_name(true));
        let mut argv = Vec::new();
        let mut names = Vec::new();
        for arg in command.get_arguments() {
            let (Some(var), Some(long)) = (arg.get_env(), arg.get_long()) else {
                continue;
            };
            let var = var.to_string_lossy().into_owned();
            names.push((format!("--{long}"), var.clone()));
            let Some(value) = get(&var) else { continue };
            if arg.get_action().takes_values() {
                argv.push(format!("--{long}={value}"));
            } else if !is_falsey(&value) {
                argv.push(format!("--{long}"));
            }
        }
        // The process environment must not leak into a lookup: only `get` answers.
        let command = command.mut_args(|a| a.env(None::<&'static str>));
        let matches = command
            .try_get_matches_from(&argv)
            .map_err(|e| from_clap(&e, &names))?;
        Config::from_arg_matches(&matches).map_err(|e| from_clap(&e, &names))
    }
}

fn is_falsey(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "" | "0" | "false" | "no" | "off" | "n" | "f"
    )
}

/// A clap error about a flag, told in terms of its environment variable.
fn from_clap(e: &clap::Error, names: &[(String, String)]) -> ConfigError {
    let text = e.render().to_string();
    let line = text.lines().next().unwrap_or_default();
    let line = line.strip_prefix("error: ").unwrap_or(line);
    let var = names
        .iter()
        .find(|(flag, _)| {
            line.contains(&format!("'{flag} ")) || line.contains(&format!("'{flag}'"))
        })
        .map_or("configuration", |(_, var)| var.as_str());
    ConfigError::invalid(var, line.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(vars: &'static [(&'static str, &'static str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn every_setting_reads_its_variable() {
        let c = lookup(&[
            ("THUMBNAIL_STORE", "s3://a/b"),
            ("THUMBNAIL_THUMBS", "s3://c"),
            ("THUMBNAIL_API_KEYS", "k1,k2"),
            ("THUMBNAIL_PUBLIC_READS", "true"),
            ("THUMBNAIL_PUBLIC_ORIGINALS", "true"),
            ("THUMBNAIL_ALLOWED_HOSTS", "photos.internal,cdn.example"),
            ("THUMBNAIL_METRICS_TOKEN", "scrape-0123456789abcdef"),
            ("THUMBNAIL_INSECURE_NO_AUTH", "false"),
            ("THUMBNAIL_MAX_PIXELS", "1000"),
            ("THUMBNAIL_IMAGE_TIMEOUT", "2s"),
            ("THUMBNAIL_STORE_TIMEOUT", "500ms"),
            ("THUMBNAIL_JOBS", "3"),
            ("THUMBNAIL_IMAGE_THREADS", "3"),
        ])
        .unwrap();
        assert_eq!(c.thumbs.as_deref(), Some("s3://c"));
        assert_eq!(c.api_keys, ["k1", "k2"]);
        assert!(c.public_reads && c.public_originals && !c.insecure_no_auth);
        assert_eq!(c.allowed_hosts, ["photos.internal", "cdn.example"]);
        let keyed = lookup(&[
            ("THUMBNAIL_PUBLIC_ORIGINALS", "true"),
            ("THUMBNAIL_METRICS_TOKEN", "scrape-0123456789abcdef"),
            ("THUMBNAIL_ORIGIN_SECRET", "cdn-origin-0123456789abcdef"),
        ])
        .unwrap();
        let auth = keyed.auth().unwrap();
        assert!(auth.public_originals);
        assert_eq!(
            auth.origin_secret.as_deref(),
            Some("cdn-origin-0123456789abcdef")
        );
        // Terraform sets it empty when there is no CDN: no secret asked for.
        let off = lookup(&[("THUMBNAIL_ORIGIN_SECRET", "")]).unwrap();
        assert_eq!(off.auth().unwrap().origin_secret, None);
        let short = lookup(&[("THUMBNAIL_ORIGIN_SECRET", "cdn")]).unwrap();
        assert!(
            short
                .auth()
                .unwrap_err()
                .to_string()
                .contains("THUMBNAIL_ORIGIN_SECRET")
        );
        assert_eq!(
            auth.metrics_token.as_deref(),
            Some("scrape-0123456789abcdef")
        );
        let short = lookup(&[("THUMBNAIL_METRICS_TOKEN", "short")]).unwrap();
        assert!(
            short
                .auth()
                .unwrap_err()
                .to_string()
                .contains("THUMBNAIL_METRICS_TOKEN")
        );
        assert_eq!(c.limits.max_pixels, 1000);
        assert_eq!(c.limits.image_timeout, Some(Duration::from_secs(2)));
        assert_eq!(c.storage.store_timeout, Duration::from_millis(500));
        assert_eq!(c.jobs, Some(3));
        assert_eq!(c.limits.limits().max_threads, 3);
        assert_eq!(c.presets.0[0].name, "default");
        // Unset, an image may run on every CPU; 0 means one thread.
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let unset = lookup(&[]).unwrap().limits.limits();
        assert_eq!(unset.max_threads as usize, cpus);
        let zero = lookup(&[("THUMBNAIL_IMAGE_THREADS", "0")]).unwrap();
        assert_eq!(zero.limits.limits().max_threads, 1);
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = lookup(&[("THUMBNAIL_MAX_PIXELS", "lots")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("THUMBNAIL_MAX_PIXELS") && e.contains("lots"),
            "{e}"
        );
        let e = lookup(&[("THUMBNAIL_PRESETS", "x=0x10")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("THUMBNAIL_PRESETS") && e.contains("width"),
            "{e}"
        );
        let e = lookup(&[("THUMBNAIL_READ_TIMEOUT", "soon")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("THUMBNAIL_READ_TIMEOUT"), "{e}");
        let e = lookup(&[("THUMBNAIL_SOURCE", "s3://a")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("THUMBNAIL_SOURCE") && e.contains("THUMBNAIL_STORE"),
            "{e}"
        );
    }
}
