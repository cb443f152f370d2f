//! `GET /readyz` and `GET /metrics` (`/healthz` needs no state).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::{AppState, Handler, fail};

pub(crate) async fn readyz(State(s): State<AppState>) -> Handler {
    s.0.originals.check().await.map_err(fail)?;
    s.0.thumbnailer.dest.check().await.map_err(fail)?;
    Ok(axum::Json(serde_json::json!({ "status": "ready" })).into_response())
}

pub(crate) async fn metrics_text(
    State(s): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Response {
    if let Err(e) = s.0.auth.check_metrics(&headers) {
        return e.into_response();
    }
    let text = s.0.metrics.render(s.0.gate.running(), s.0.gate.waiting());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}
