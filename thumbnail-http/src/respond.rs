//! Answers with image bytes: ETag, If-None-Match, Cache-Control.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use sha2::{Digest, Sha256};

use crate::AppState;

pub(crate) fn etag(bytes: &[u8]) -> String {
    format!("\"{}\"", &hex::encode(Sha256::digest(bytes))[..32])
}

pub(crate) fn put_header(
    h: &mut HeaderMap,
    name: impl axum::http::header::IntoHeaderName,
    value: &str,
) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(name, v);
    }
}

/// Percent-encodes what a URL path cannot hold as-is (keys may contain spaces and more).
pub(crate) fn encode_path(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Answers with stored bytes: ETag, If-None-Match -> 304, Cache-Control.
pub(crate) fn serve_bytes(
    s: &AppState,
    headers: &HeaderMap,
    bytes: Bytes,
    content_type: Option<&str>,
) -> Response {
    let tag = etag(&bytes);
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let mut resp = if matches {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        let len = bytes.len();
        let mut r = Response::new(Body::from(bytes));
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        r
    };
    let h = resp.headers_mut();
    put_header(h, header::ETAG, &tag);
    put_header(h, header::CACHE_CONTROL, &s.0.config.cache_control);
    if let Some(ct) = content_type {
        put_header(h, header::CONTENT_TYPE, ct);
    }
    resp
}
