//! Every failure as an HTTP status and a JSON body: `{"error": code, "message": ...}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use thumbnail_core::ErrorKind;
use thumbnail_storage::{JobError, StoreError};

/// The rejection code of an error response, read back by the metrics middleware.
#[derive(Clone, Copy)]
pub(crate) struct Rejected(pub &'static str);

/// An error answered to a client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable snake_case code, also the `reason` label of the rejection metric.
    pub code: &'static str,
    pub message: String,
    /// Seconds for a Retry-After header (overload, storage trouble).
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn retry_after(mut self, seconds: u32) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }
}

impl From<thumbnail_core::Error> for ApiError {
    fn from(e: thumbnail_core::Error) -> Self {
        let status = match e.kind() {
            ErrorKind::InputTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::TooManyPixels | ErrorKind::OverLimit | ErrorKind::Corrupt => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ErrorKind::UnsupportedFormat => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorKind::InvalidSpec => StatusCode::BAD_REQUEST,
            ErrorKind::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.kind().code(), e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let msg = e.to_string();
        match e {
            StoreError::NotFound { .. } => ApiError::new(StatusCode::NOT_FOUND, "not_found", msg),
            StoreError::TooLarge { .. } => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "input_too_large", msg)
            }
            StoreError::InvalidKey { .. } => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_key", msg)
            }
            StoreError::Unavailable { .. } => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable", msg)
                    .retry_after(5)
            }
            StoreError::AccessDenied { .. } => {
                ApiError::new(StatusCode::BAD_GATEWAY, "storage_denied", msg)
            }
            StoreError::Unsupported { .. } => {
                ApiError::new(StatusCode::NOT_IMPLEMENTED, "not_supported", msg)
            }
            StoreError::InvalidUrl { .. } | StoreError::Other { .. } => {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "storage_error", msg)
            }
        }
    }
}

impl From<JobError> for ApiError {
    fn from(e: JobError) -> Self {
        match e {
            JobError::Image { source, .. } => source.into(),
            JobError::Store(s) => s.into(),
            JobError::OwnOutput { .. } => {
                ApiError::new(StatusCode::CONFLICT, "reserved_key", e.to_string())
            }
            JobError::Worker { .. } => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "worker_failed",
                e.to_string(),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(status = self.status.as_u16(), code = self.code, message = %self.message, "request failed");
        }
        let body = serde_json::json!({ "error": self.code, "message": self.message });
        let mut resp = (self.status, Json(body)).into_response();
        resp.extensions_mut().insert(Rejected(self.code));
        if let Some(s) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"thumbnail\""),
            );
        }
        resp
    }
}
