//! What every request goes through: its deadline, metrics, and credentials.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use thumbnail_storage::Work;

use crate::error::{ApiError, Rejected};
use crate::{AppState, Handler};

/// When the request must be answered: image work is handed it, so the engine stops there too.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline(Instant);

/// The image work of a request: its deadline, and its job slot, held until the work ends.
pub(crate) fn work(deadline: Deadline, job: tokio::sync::OwnedSemaphorePermit) -> Work {
    Work {
        deadline: Some(deadline.0),
        hold: Some(Box::new(job)),
    }
}

/// Deadline, in-flight count, per-route metrics and rejection reasons for every request.
pub(crate) async fn observe(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let start = Instant::now();
    // A request refused before its body was read leaves the rest of the body on the wire;
    // the connection cannot carry another request, so say so rather than let a client reuse it.
    let has_body = matches!(*req.method(), Method::PUT | Method::POST);
    s.0.metrics.in_flight(1);
    let mut req = req;
    req.extensions_mut()
        .insert(Deadline(start + s.0.config.request_timeout));
    let resp = match tokio::time::timeout(s.0.config.request_timeout, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "timeout",
            format!(
                "the request took longer than {:?}",
                s.0.config.request_timeout
            ),
        )
        .into_response(),
    };
    s.0.metrics.in_flight(-1);
    let mut resp = resp;
    if has_body && (resp.status().is_client_error() || resp.status().is_server_error()) {
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    let status = resp.status().as_u16();
    if let Some(Rejected(code)) = resp.extensions().get::<Rejected>() {
        s.0.metrics.reject(code);
    } else if status >= 400 {
        s.0.metrics
            .reject(if status == 504 { "timeout" } else { "other" });
    }
    if let Some(n) = resp
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse().ok())
    {
        s.0.metrics.bytes_out(n);
    }
    let seconds = start.elapsed().as_secs_f64();
    s.0.metrics.request(&route, status, seconds);
    tracing::info!(route, status, ms = seconds * 1000.0, "request");
    resp
}

/// Checks credentials before a handler runs: GET and HEAD are reads (public when configured
/// so), anything else a write.
pub(crate) async fn authorize(State(s): State<AppState>, req: Request, next: Next) -> Handler {
    let read = matches!(*req.method(), Method::GET | Method::HEAD);
    s.0.auth
        .check(req.method(), req.uri(), req.headers(), read)?;
    Ok(next.run(req).await)
}
