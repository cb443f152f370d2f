//! `thumbnail serve`: the HTTP API on a local address, with local folders (or any storage URL).

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use thumbnail_service::{Config, Profile, Service};

/// Arguments of `thumbnail serve`: where to listen and how to log, plus the service's one
/// [`Config`] (every setting also read from its `THUMBNAIL_*` environment variable).
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on. Anything but a loopback address needs --api-key or
    /// --signing-key (or --insecure-no-auth).
    #[arg(long, default_value = "127.0.0.1:8080", env = "THUMBNAIL_LISTEN")]
    listen: String,

    /// Log lines as text or JSON.
    #[arg(long, default_value = "text", value_parser = ["text", "json"], env = "THUMBNAIL_LOG_FORMAT")]
    log_format: String,

    #[command(flatten)]
    config: Config,
}

pub fn run(args: ServeArgs) -> Result<ExitCode, String> {
    init_logging(&args.log_format);
    let jobs = args.config.jobs(Profile::Server);
    // Image work runs on the blocking pool: sized for the job limit, so load cannot grow it.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(jobs + 4)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let result = rt.block_on(serve(args));
    // Image work stops itself at its deadline; never wait on a blocking thread past that.
    rt.shutdown_timeout(SHUTDOWN_GRACE);
    result
}

/// How long, after the last request is answered, the process waits for image work to stop.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Log lines on stderr; colour only when stderr is a terminal, so a log file or a pipe gets
/// plain text.
fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

async fn serve(args: ServeArgs) -> Result<ExitCode, String> {
    let addr: SocketAddr = tokio::net::lookup_host(&args.listen)
        .await
        .map_err(|e| format!("--listen {}: {e}", args.listen))?
        .next()
        .ok_or_else(|| format!("--listen {}: no address", args.listen))?;
    // Refused before anything is opened: a folder store would be created otherwise.
    let open = args.config.insecure_no_auth;
    let auth = args.config.auth().map_err(|e| e.to_string())?;
    let refuse = |auth: &thumbnail_http::Auth| {
        if !addr.ip().is_loopback() && !auth.enabled() && !open {
            return Err(format!(
                "refusing to listen on {addr} without credentials: set --api-key, \
                 --signing-key or --credentials-secret, or pass --insecure-no-auth to serve it open"
            ));
        }
        Ok(())
    };
    if args.config.credentials_secret.is_none() {
        refuse(&auth)?;
    }
    let service = Service::build(&args.config, Profile::Server)
        .await
        .map_err(|e| e.to_string())?;
    refuse(&service.auth)?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("{addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(
        address = %local,
        originals = service.originals.url(),
        thumbnails = service.thumbs.url(),
        auth = service.auth.enabled(),
        jobs = service.jobs,
        "listening"
    );
    // A line tests and scripts can wait for.
    eprintln!("listening on http://{local}");
    thumbnail_http::serve(
        listener,
        service.router(Some(local)),
        args.config.server_limits(),
        shutdown_signal(),
    )
    .await;
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
