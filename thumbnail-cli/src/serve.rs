//! `thumbnail serve`: the HTTP API on a local address, with local folders (or any storage URL).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use thumbnail_http::{AppState, Auth, HttpConfig, router};
use thumbnail_storage::{Thumbnailer, open, parse_presets};

use crate::options::{LimitArgs, StoreArgs, parse_duration};

/// Arguments of `thumbnail serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on. Anything but a loopback address needs --api-key or
    /// --signing-key (or --insecure-no-auth).
    #[arg(long, default_value = "127.0.0.1:8080", env = "THUMBNAIL_LISTEN")]
    listen: String,

    /// Where originals are stored: a folder, file:///path, s3://bucket/prefix, memory://.
    #[arg(
        long,
        default_value = "./thumbnail-data/originals",
        env = "THUMBNAIL_STORE"
    )]
    store: String,

    /// Where thumbnails are stored (same forms).
    #[arg(
        long,
        default_value = "./thumbnail-data/thumbnails",
        env = "THUMBNAIL_THUMBS"
    )]
    thumbs: String,

    /// Folder of the thumbnail store for thumbnails (default: none when the thumbnails have a
    /// store of their own, `thumbnails` when they share the originals' store).
    #[arg(long, env = "THUMBNAIL_THUMBS_PREFIX")]
    thumbs_prefix: Option<String>,

    /// Presets, `name=WxH[,fit=..][,format=..][,quality=..]` separated by spaces; the first
    /// is the default.
    #[arg(long, default_value = "default=100x100", env = "THUMBNAIL_PRESETS")]
    presets: String,

    /// An API key accepted as `Authorization: Bearer <key>` (repeat, or comma-separate in the
    /// environment variable).
    #[arg(
        long = "api-key",
        env = "THUMBNAIL_API_KEYS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    api_keys: Vec<String>,

    /// Key for HMAC-signed URLs (`?expires=&signature=`; see `thumbnail sign`).
    #[arg(long, env = "THUMBNAIL_SIGNING_KEY", hide_env_values = true)]
    signing_key: Option<String>,

    /// Let GET requests through without credentials.
    #[arg(long, env = "THUMBNAIL_PUBLIC_READS")]
    public_reads: bool,

    /// Start on a non-loopback address without any credentials.
    #[arg(long)]
    insecure_no_auth: bool,

    #[command(flatten)]
    limits: LimitArgs,

    /// Largest request body, in bytes (default: --max-input-bytes).
    #[arg(long, env = "THUMBNAIL_MAX_BODY_BYTES")]
    max_body_bytes: Option<u64>,

    /// Largest width or height a request may ask for.
    #[arg(long, default_value_t = 4096, env = "THUMBNAIL_MAX_DIMENSION")]
    max_dimension: u32,

    /// Image jobs at once (default: the number of CPUs).
    #[arg(long, env = "THUMBNAIL_JOBS")]
    jobs: Option<usize>,

    /// Requests that may wait for a job; more get 503 with Retry-After.
    #[arg(long, default_value_t = 64, env = "THUMBNAIL_QUEUE")]
    queue: usize,

    /// Deadline of a whole request (504 after it).
    #[arg(long, default_value = "30s", value_parser = parse_duration, env = "THUMBNAIL_REQUEST_TIMEOUT")]
    request_timeout: Duration,

    /// Longest pause while a client sends its body (408 after it).
    #[arg(long, default_value = "10s", value_parser = parse_duration, env = "THUMBNAIL_READ_TIMEOUT")]
    read_timeout: Duration,

    /// Cache-Control of GET responses.
    #[arg(
        long,
        default_value = "public, max-age=86400",
        env = "THUMBNAIL_CACHE_CONTROL"
    )]
    cache_control: String,

    #[command(flatten)]
    store_args: StoreArgs,

    /// Log lines as text or JSON.
    #[arg(long, default_value = "text", value_parser = ["text", "json"], env = "THUMBNAIL_LOG_FORMAT")]
    log_format: String,
}

pub fn run(args: ServeArgs) -> Result<ExitCode, String> {
    init_logging(&args.log_format);
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1);
    // Image work runs on the blocking pool: sized for the job limit, so load cannot grow it.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(jobs + 4)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let result = rt.block_on(serve(args, jobs));
    // Image work stops itself at its deadline; never wait on a blocking thread past that.
    rt.shutdown_timeout(SHUTDOWN_GRACE);
    result
}

/// How long, after the last request is answered, the process waits for image work to stop.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

async fn serve(args: ServeArgs, jobs: usize) -> Result<ExitCode, String> {
    let addr: SocketAddr = tokio::net::lookup_host(&args.listen)
        .await
        .map_err(|e| format!("--listen {}: {e}", args.listen))?
        .next()
        .ok_or_else(|| format!("--listen {}: no address", args.listen))?;
    let auth = Auth {
        api_keys: args
            .api_keys
            .iter()
            .filter(|k| !k.is_empty())
            .cloned()
            .collect(),
        signing_key: args.signing_key.as_ref().map(|k| k.as_bytes().to_vec()),
        public_reads: args.public_reads,
    };
    if !addr.ip().is_loopback() && !auth.enabled() && !args.insecure_no_auth {
        return Err(format!(
            "refusing to listen on {addr} without credentials: set --api-key or --signing-key, \
             or pass --insecure-no-auth to serve it open"
        ));
    }
    let timeouts = args.store_args.timeouts();
    let originals = open(&args.store, &timeouts)
        .await
        .map_err(|e| e.to_string())?;
    let thumbs = open(&args.thumbs, &timeouts)
        .await
        .map_err(|e| e.to_string())?;
    let shared = originals.url() == thumbs.url();
    let prefix = args.thumbs_prefix.clone().unwrap_or_else(|| {
        if shared {
            "thumbnails".into()
        } else {
            String::new()
        }
    });
    if shared && prefix.trim_matches('/').is_empty() {
        return Err(
            "originals and thumbnails share a store: --thumbs-prefix must name a folder".into(),
        );
    }
    let presets = parse_presets(&args.presets).map_err(|e| e.to_string())?;
    let mut thumbnailer = Thumbnailer::new(originals.clone(), thumbs.clone(), presets);
    thumbnailer.limits = args.limits.limits();
    thumbnailer.image_timeout = Some(args.limits.image_timeout);
    thumbnailer.prefix = prefix;
    thumbnailer.cache_control = args.cache_control.clone();
    let config = HttpConfig {
        max_body_bytes: args.max_body_bytes.unwrap_or(args.limits.max_input_bytes),
        max_dimension: args.max_dimension,
        max_jobs: jobs,
        max_queue: args.queue,
        request_timeout: args.request_timeout,
        read_timeout: args.read_timeout,
        cache_control: args.cache_control.clone(),
        ..HttpConfig::default()
    };
    let state = AppState::new(originals.clone(), thumbnailer, config, auth.clone());
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("{addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(
        address = %local,
        originals = originals.url(),
        thumbnails = thumbs.url(),
        auth = auth.enabled(),
        jobs,
        "listening"
    );
    // A line tests and scripts can wait for.
    eprintln!("listening on http://{local}");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!("stopped: in-flight requests finished");
    Ok(ExitCode::SUCCESS)
}

/// SIGTERM (how orchestrators stop a service) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
