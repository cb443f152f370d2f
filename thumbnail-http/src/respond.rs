//! Answers with image bytes: ETag, If-None-Match, Cache-Control.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::auth::Access;

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
    let mut resp = if not_modified(headers, &tag) {
        unchanged()
    } else {
        let len = bytes.len();
        let mut r = Response::new(Body::from(bytes));
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        r
    };
    let h = resp.headers_mut();
    put_header(h, header::ETAG, &tag);
    cache_headers(s, h);
    if let Some(ct) = content_type {
        put_header(h, header::CONTENT_TYPE, ct);
    }
    resp
}

/// A 304 without a body (the caller adds the validators).
pub(crate) fn unchanged() -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::NOT_MODIFIED;
    r
}

/// Whether `If-None-Match` names `tag`. GET and HEAD compare weakly (RFC 9110 13.1.2): a
/// `W/"..."` tag a cache or proxy weakened still matches.
pub(crate) fn not_modified(headers: &HeaderMap, tag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    let tag = bare(tag);
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == "*" || bare(t) == tag)
}

/// Cache-Control (and Vary) of a read. Where reads need credentials the answer is `private`
/// (a shared cache or CDN must not keep it, nor hand it to someone without them) and varies
/// with `Authorization`; only public reads are `public`.
pub(crate) fn cache_headers(s: &AppState, h: &mut HeaderMap) {
    let configured = &s.0.config.cache_control;
    if public_reads(s) {
        put_header(h, header::CACHE_CONTROL, configured);
    } else {
        put_header(h, header::CACHE_CONTROL, &private(configured));
        h.insert(header::VARY, HeaderValue::from_static("authorization"));
    }
}

/// Whether a read needs no credentials (none are configured, or `--public-reads`).
fn public_reads(s: &AppState) -> bool {
    !s.0.auth.enabled() || s.0.auth.public_reads
}

/// How long a cache may keep what a content-addressed URL names: a year, never revalidated.
pub(crate) const IMMUTABLE: &str = "max-age=31536000, immutable";

/// Cache-Control (and Vary) of a thumbnail: [`cache_headers`], except that an answer made for
/// credentials is `private` even where reads are public (a shared cache must not give it to
/// the next anonymous client), and a versioned URL (`?v=` naming the original as it is) is
/// kept for a year as [`IMMUTABLE`].
pub(crate) fn thumbnail_cache_headers(
    s: &AppState,
    access: Access,
    versioned: bool,
    h: &mut HeaderMap,
) {
    let configured = &s.0.config.cache_control;
    let public = public_reads(s);
    let shared = public && !configured.contains("private");
    if !public || (shared && access == Access::Credentialed) {
        h.insert(header::VARY, HeaderValue::from_static("authorization"));
    }
    let value = match (versioned, shared && access != Access::Credentialed) {
        (true, true) => format!("public, {IMMUTABLE}"),
        (true, false) => format!("private, {IMMUTABLE}"),
        (false, true) => configured.clone(),
        (false, false) => private(configured),
    };
    put_header(h, header::CACHE_CONTROL, &value);
}

/// `configured` with `public` replaced by `private` (added when neither is there).
fn private(configured: &str) -> String {
    let mut parts: Vec<&str> = configured
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty() && !p.eq_ignore_ascii_case("public"))
        .collect();
    if !parts.iter().any(|p| p.eq_ignore_ascii_case("private")) {
        parts.insert(0, "private");
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_keeps_the_lifetime() {
        assert_eq!(private("public, max-age=86400"), "private, max-age=86400");
        assert_eq!(private("max-age=60"), "private, max-age=60");
        assert_eq!(private("private, no-store"), "private, no-store");
    }

    #[test]
    fn weak_tags_match() {
        let mut h = HeaderMap::new();
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("W/\"abc\", \"x\""),
        );
        assert!(not_modified(&h, "\"abc\""));
        assert!(!not_modified(&h, "\"abd\""));
    }
}
