//! What every request goes through: its deadline, metrics, and credentials.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use thumbnail_storage::Work;

use crate::error::{ApiError, Internal, Rejected};
use crate::respond::put_header;
use crate::{AppState, Handler};

/// When the request must be answered: image work is handed it, so the engine stops there too.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline(Instant);

/// The image work of a request: its deadline, and its job slot, held until the work ends.
/// `body`, when there is one, is the request body's share of the body budget: it too is
/// held until the work (which holds the bytes) has ended.
pub(crate) fn work(
    deadline: Deadline,
    job: tokio::sync::OwnedSemaphorePermit,
    body: Option<tokio::sync::OwnedSemaphorePermit>,
) -> Work {
    Work {
        deadline: Some(deadline.0),
        hold: Some(Box::new((job, body))),
        ..Work::default()
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
    let resp = match crate::plain::check_head(&req) {
        Err(refused) => refused.into_response(),
        Ok(()) => match tokio::time::timeout(s.0.config.request_timeout, next.run(req)).await {
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
        },
    };
    s.0.metrics.in_flight(-1);
    let mut resp = crate::plain::as_json(resp).await;
    // No answer is ever sniffed into another type (an original served as HTML, say).
    resp.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if has_body && (resp.status().is_client_error() || resp.status().is_server_error()) {
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    let id = request_id();
    put_header(resp.headers_mut(), "x-request-id", &id);
    if let Some(Internal(details)) = resp.extensions_mut().remove::<Internal>() {
        let code = resp
            .extensions()
            .get::<Rejected>()
            .map_or("internal", |r| r.0);
        tracing::error!(request_id = %id, route, code, details, "request failed");
        let body = serde_json::json!({
            "error": code,
            "message": format!("internal error (request id {id})"),
            "request_id": id,
        });
        resp.headers_mut().remove(header::CONTENT_LENGTH);
        *resp.body_mut() = Body::from(body.to_string());
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
    tracing::info!(request_id = %id, route, status, ms = seconds * 1000.0, "request");
    resp
}

/// A request id for logs and the `x-request-id` header: 64 random bits (std's hasher keys are
/// random per process; the counter makes each id different).
fn request_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    static KEYS: std::sync::OnceLock<std::collections::hash_map::RandomState> =
        std::sync::OnceLock::new();
    let mut h = KEYS.get_or_init(Default::default).build_hasher();
    h.write_u64(SEQ.fetch_add(1, Ordering::Relaxed));
    format!("{:016x}", h.finish())
}

/// Checks credentials before a handler runs: GET and HEAD are reads (public when configured
/// so), anything else a write.
pub(crate) async fn authorize(State(s): State<AppState>, mut req: Request, next: Next) -> Handler {
    crate::query::refuse_repeated(req.uri())?;
    let read = matches!(*req.method(), Method::GET | Method::HEAD);
    let access =
        s.0.auth
            .check(req.method(), req.uri(), req.headers(), read)?;
    req.extensions_mut().insert(access);
    Ok(next.run(req).await)
}
