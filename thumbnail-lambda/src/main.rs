//! `bootstrap`: the Lambda function (provided.al2023, arm64 or x86_64). Configuration comes
//! from the environment; see `thumbnail_lambda::Config`.

use std::process::ExitCode;
use std::time::Instant;

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use thumbnail_lambda::{App, Config, handle};

fn main() -> ExitCode {
    thumbnail_service::one_arena();
    let started = Instant::now();
    init_logging();
    // One invocation at a time per instance: a current-thread runtime, with image work on the
    // blocking pool (which uses every vCPU the memory setting buys).
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let app = match Config::from_env() {
            Ok(config) => App::new(config).await,
            Err(e) => Err(e.into()),
        };
        let app = match app {
            Ok(app) => app,
            Err(e) => {
                // Logged, then a failed init: Lambda reports it instead of retrying blindly.
                tracing::error!(error = %e, "configuration error");
                return ExitCode::FAILURE;
            }
        };
        tracing::info!(init_ms = started.elapsed().as_secs_f64() * 1000.0, "ready");
        let app = &app;
        let result = lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
            handle(app, event).await
        }))
        .await;
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!(error = %e, "runtime stopped");
                ExitCode::FAILURE
            }
        }
    })
}

/// JSON lines on stderr (CloudWatch takes each as one event), with the invocation's
/// request id from the span on every line. `RUST_LOG` filters, `info` by default.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_ansi(false)
        .without_time()
        .with_writer(std::io::stderr)
        .try_init();
}
