//! Request bodies, read whole under the body limit, the read timeout and the server-wide
//! budget of body bytes in memory.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use http_body_util::BodyExt;
use tokio::sync::OwnedSemaphorePermit;

use crate::error::ApiError;
use crate::{AppState, fail};

/// A body read whole, with its share of the server's body budget: dropping it gives the
/// bytes back, so it goes wherever the bytes go (into the image work).
pub(crate) struct Received {
    pub bytes: Bytes,
    pub budget: OwnedSemaphorePermit,
}

/// Reads a body whole: refuses a declared or actual size over the limit (413), a client that
/// pauses longer than the read timeout (408), and a body that would take the bytes in memory
/// over the server-wide budget (503). Bytes are counted as they arrive, so a slow client
/// holds only what it has sent.
async fn read_body(s: &AppState, headers: &HeaderMap, body: Body) -> Result<Received, ApiError> {
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
    let mut buf = Vec::new();
    // Room for the declared length at once: growing by doubling would copy a large body and
    // hold it twice meanwhile. Pages are touched only as bytes arrive, and a reservation the
    // system refuses just leaves the buffer to grow.
    let _ = buf.try_reserve_exact(declared.map_or(0, |n| n as usize));
    let mut budget = take(s, 0)?;
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
                budget.merge(take(s, chunk.len())?);
                buf.extend_from_slice(&chunk);
            }
        }
    }
    s.0.metrics.bytes_in(buf.len() as u64);
    Ok(Received {
        bytes: Bytes::from(buf),
        budget,
    })
}

/// `bytes` of the body budget, or a 503 when they are not free now: waiting would let slow
/// bodies queue up behind each other.
fn take(s: &AppState, bytes: usize) -> Result<OwnedSemaphorePermit, ApiError> {
    let n = u32::try_from(bytes).unwrap_or(u32::MAX);
    s.0.bodies.clone().try_acquire_many_owned(n).map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            format!(
                "request bodies already hold the server's budget of {} bytes; try again shortly",
                s.0.config.max_body_in_flight
            ),
        )
        .retry_after(1)
    })
}

/// A write's body, then its job slot: the body is read before a slot is taken, so a slow
/// client costs a connection and the bytes it sent (under the body budget), never a job.
pub(crate) async fn admit_body(
    s: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Received, OwnedSemaphorePermit), ApiError> {
    let start = std::time::Instant::now();
    let received = read_body(s, headers, body).await?;
    s.0.metrics.stage("read", start.elapsed().as_secs_f64());
    let job = s.0.gate.enter().await.map_err(fail)?;
    Ok((received, job))
}
