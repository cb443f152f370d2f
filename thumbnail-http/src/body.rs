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
                reserve_declared(&mut buf, declared, chunk.len());
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

/// Room for the whole declared body once a quarter of it has arrived: growing by doubling
/// would copy a large body and hold it twice meanwhile, and reserving it before any of it came
/// would let slow clients hold address space they never fill (300 connections declaring 50 MB
/// each: 14 GB). This way what is reserved stays within 4x the bytes received, which the body
/// budget bounds. A reservation the system refuses just leaves the buffer to grow.
fn reserve_declared(buf: &mut Vec<u8>, declared: Option<u64>, incoming: usize) {
    let Some(total) = declared.and_then(|n| usize::try_from(n).ok()) else {
        return;
    };
    let after = buf.len() + incoming;
    if total > buf.capacity() && after < total && after.saturating_mul(4) >= total {
        let _ = buf.try_reserve_exact(total - buf.len());
    }
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

#[cfg(test)]
mod tests {
    use super::reserve_declared;

    #[test]
    fn the_declared_length_is_reserved_only_once_a_quarter_has_come() {
        let mut buf = Vec::new();
        // A slow client's first bytes of a 50 MB body: no room taken for the rest.
        reserve_declared(&mut buf, Some(50_000_000), 2);
        buf.extend_from_slice(&[0xFF, 0xD8]);
        assert!(buf.capacity() < 1 << 20, "{}", buf.capacity());
        // A quarter of a 4 MB body: room for all of it at once.
        let mut buf = vec![0u8; 999_000];
        reserve_declared(&mut buf, Some(4_000_000), 1_000);
        assert!(buf.capacity() >= 4_000_000, "{}", buf.capacity());
        // No declared length, or one the body already reached: nothing.
        let mut buf = Vec::new();
        reserve_declared(&mut buf, None, 10);
        assert_eq!(buf.capacity(), 0);
    }
}
