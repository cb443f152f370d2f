//! Cross-origin requests: a browser page on an allowed origin may call the API (upload with
//! `PUT /images`, read thumbnails), the answer to its preflight coming from here, before
//! credentials are checked (a preflight carries none).

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::error::ApiError;

const ALLOW_METHODS: &str = "GET, HEAD, PUT, POST, DELETE";
const ALLOW_HEADERS: &str = "authorization, content-type, if-none-match, range";
const EXPOSE_HEADERS: &str =
    "etag, content-length, content-range, retry-after, location, x-request-id, x-thumbnail-key";
/// How long a browser may reuse a preflight's answer, in seconds.
const MAX_AGE: &str = "600";

/// Answers preflights from allowed origins and marks their other answers readable by them.
pub(crate) async fn cors(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let allowed = &s.0.config.cors_origins;
    let origin = req.headers().get(header::ORIGIN).cloned();
    let Some(origin) = origin.filter(|_| !allowed.is_empty()) else {
        return next.run(req).await;
    };
    let ok = origin.to_str().is_ok_and(|o| {
        allowed
            .iter()
            .any(|a| a == "*" || a.eq_ignore_ascii_case(o))
    });
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        if !ok {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "cors_origin",
                "this origin may not call the API",
            )
            .into_response();
        }
        let mut resp = StatusCode::NO_CONTENT.into_response();
        let h = resp.headers_mut();
        allow(h, origin);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOW_METHODS),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOW_HEADERS),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(MAX_AGE),
        );
        return resp;
    }
    let mut resp = next.run(req).await;
    if ok {
        let h = resp.headers_mut();
        allow(h, origin);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
    }
    resp
}

/// The origin itself, never `*`: answers vary by origin, and caches must know it.
fn allow(h: &mut HeaderMap, origin: HeaderValue) {
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.append(header::VARY, HeaderValue::from_static("origin"));
}
