//! Every failure as an HTTP status and a JSON body: `{"error": code, "message": ...}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use thumbnail_core::ErrorKind;
use thumbnail_storage::{JobError, StoreError};

/// The rejection code of an error response, read back by the metrics middleware.
#[derive(Clone, Copy)]
pub(crate) struct Rejected(pub &'static str);

/// The details of a server-side failure: logged with the request id by the middleware, which
/// answers the client with that id alone (details can name paths, buckets, endpoints).
#[derive(Clone)]
pub(crate) struct Internal(pub String);

/// An error answered to a client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable snake_case code, also the `reason` label of the rejection metric.
    pub code: &'static str,
    pub message: String,
    /// Seconds for a Retry-After header (overload, storage trouble).
    pub retry_after: Option<u32>,
    /// Whether the message holds details for the log, not for the client.
    pub internal: bool,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
            internal: false,
        }
    }

    /// The same error with its message kept for the log: the client gets "internal error"
    /// and the request id.
    pub fn internal(mut self) -> Self {
        self.internal = true;
        self
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
        let error = ApiError::new(status, e.kind().code(), e.to_string());
        if status.is_server_error() && status != StatusCode::GATEWAY_TIMEOUT {
            error.internal()
        } else {
            error
        }
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
            StoreError::Conflict { .. } => ApiError::new(StatusCode::CONFLICT, "key_conflict", msg),
            StoreError::Unavailable { .. } => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable", msg)
                    .retry_after(5)
                    .internal()
            }
            StoreError::AccessDenied { .. } => {
                ApiError::new(StatusCode::BAD_GATEWAY, "storage_denied", msg).internal()
            }
            StoreError::Unsupported { what, .. } => ApiError::new(
                StatusCode::NOT_IMPLEMENTED,
                "not_supported",
                format!("{what} are not supported by this server's storage"),
            ),
            StoreError::InvalidUrl { .. } | StoreError::Other { .. } => {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "storage_error", msg).internal()
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
            JobError::Refused { .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "refused", e.to_string())
            }
            JobError::Worker { .. } => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "worker_failed",
                e.to_string(),
            )
            .internal(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = if self.internal {
            "internal error".to_string()
        } else {
            self.message.clone()
        };
        let body = serde_json::json!({ "error": self.code, "message": message });
        let mut resp = (self.status, Json(body)).into_response();
        resp.extensions_mut().insert(Rejected(self.code));
        if self.internal {
            resp.extensions_mut().insert(Internal(self.message));
        }
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
