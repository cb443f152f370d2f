//! Every error a client gets is JSON, whoever made it: ours, axum's (a method the route does
//! not take, a path that is not UTF-8, a query that does not parse) or a request head over
//! our limits, which are kept below hyper's so that ours answer first.

use axum::body::to_bytes;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Longest request target (path and query) taken: 8 KiB, as nginx's default buffer.
pub(crate) const MAX_URI_BYTES: usize = 8 << 10;
/// Most request header fields and their bytes taken (hyper's own limits, 100 and about
/// 400 KiB, would answer with an empty body).
pub(crate) const MAX_HEADERS: usize = 64;
pub(crate) const MAX_HEADER_BYTES: usize = 32 << 10;

/// Refuses a request head over the limits: 414 or 431, as JSON.
pub(crate) fn check_head(req: &Request) -> Result<(), ApiError> {
    let uri = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if uri > MAX_URI_BYTES {
        return Err(ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("the request's path and query are over {MAX_URI_BYTES} bytes"),
        ));
    }
    let headers = req.headers();
    let bytes: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if headers.len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        return Err(ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!(
                "the request has {} header fields in {bytes} bytes; at most {MAX_HEADERS} \
                 in {MAX_HEADER_BYTES} are taken",
                headers.len()
            ),
        ));
    }
    Ok(())
}

/// An error answer whose body is not JSON, made JSON: its text (axum's rejections say what
/// did not parse, never a filesystem path) becomes the message.
pub(crate) async fn as_json(resp: Response) -> Response {
    let status = resp.status();
    let json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if status.as_u16() < 400 || json {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let text = to_bytes(body, 4096).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let message = match text.trim() {
        "" => status.canonical_reason().unwrap_or("error").to_string(),
        t => t.chars().take(300).collect(),
    };
    let (made, body) = ApiError::new(status, code(status), message)
        .into_response()
        .into_parts();
    // The answer's own headers (`Allow` of a 405, say) stay; its body is the JSON one.
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.extensions.extend(made.extensions);
    Response::from_parts(parts, body)
}

fn code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::URI_TOO_LONG => "uri_too_long",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "headers_too_large",
        StatusCode::UNPROCESSABLE_ENTITY => "unprocessable",
        s if s.is_server_error() => "internal",
        _ => "error",
    }
}
