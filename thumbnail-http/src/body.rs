//! Request bodies, read whole under the body limit and the read timeout.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use http_body_util::BodyExt;

use crate::error::ApiError;
use crate::{AppState, fail};

/// Reads a body whole: refuses a declared or actual size over the limit (413) and a client
/// that pauses longer than the read timeout (408).
pub(crate) async fn read_body(
    s: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Bytes, ApiError> {
    let limit = s.0.config.max_body_bytes;
    let too_large = || {
        let mut msg = format!("the request body is over the limit of {limit} bytes");
        if s.0.config.large_upload_hint {
            msg.push_str(
                "; upload large files with POST /uploads/{key}, which returns a presigned URL",
            );
        }
        fail(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            msg,
        ))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut buf = Vec::with_capacity(declared.unwrap_or(0) as usize);
    let mut body = body;
    loop {
        match tokio::time::timeout(s.0.config.read_timeout, body.frame()).await {
            Err(_) => {
                return Err(fail(ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "read_timeout",
                    format!("no request body data for {:?}", s.0.config.read_timeout),
                )));
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                return Err(fail(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_body",
                    format!("reading the body: {e}"),
                )));
            }
            Ok(Some(Ok(frame))) => {
                let Ok(chunk) = frame.into_data() else {
                    continue;
                };
                if (buf.len() + chunk.len()) as u64 > limit {
                    return Err(too_large());
                }
                buf.extend_from_slice(&chunk);
            }
        }
    }
    s.0.metrics.bytes_in(buf.len() as u64);
    Ok(Bytes::from(buf))
}
