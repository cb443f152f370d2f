//! `thumbnail sign`: a signed URL for a server that takes HMAC-signed URLs.

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::Method;

use thumbnail_service::parse_duration;

/// Arguments of `thumbnail sign`.
#[derive(Debug, clap::Args)]
pub struct SignArgs {
    /// Path and optional query, e.g. /images/cat.jpg or "/thumbnails/cat.jpg?size=64x64".
    path: String,

    /// The server's signing key.
    #[arg(long, env = "THUMBNAIL_SIGNING_KEY", hide_env_values = true)]
    signing_key: String,

    /// The request method the URL is for.
    #[arg(long, default_value = "GET")]
    method: String,

    /// How long the URL works.
    #[arg(long, default_value = "1h", value_parser = parse_duration)]
    expires_in: Duration,

    /// The longest lifetime the server accepts (as `thumbnail serve --max-signed-lifetime`).
    #[arg(long, default_value = "7d", value_parser = parse_duration, env = "THUMBNAIL_MAX_SIGNED_LIFETIME")]
    max_signed_lifetime: Duration,
}

pub fn run(args: &SignArgs) -> Result<ExitCode, String> {
    thumbnail_http::check_key(&args.signing_key).map_err(|e| format!("--signing-key: {e}"))?;
    if args.expires_in > args.max_signed_lifetime {
        return Err(format!(
            "--expires-in {:?} is longer than the longest lifetime a server accepts, {:?} \
             (--max-signed-lifetime)",
            args.expires_in, args.max_signed_lifetime
        ));
    }
    let method: Method = args
        .method
        .to_ascii_uppercase()
        .parse()
        .map_err(|_| format!("bad method {:?}", args.method))?;
    let (path, query) = args.path.split_once('?').unwrap_or((&args.path, ""));
    if !path.starts_with('/') {
        return Err(format!("{path:?} must start with /"));
    }
    let expires = (SystemTime::now() + args.expires_in)
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    println!(
        "{}",
        thumbnail_http::sign(args.signing_key.as_bytes(), &method, path, query, expires)
    );
    Ok(ExitCode::SUCCESS)
}
