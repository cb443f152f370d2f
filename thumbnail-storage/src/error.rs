use std::time::Duration;

/// Everything a store can report. The variants are distinct on purpose: a front end answers
/// 404, 413, 403, 400 and 503 from them, and the Lambda retries only [`StoreError::Unavailable`].
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("object {key:?} not found")]
    NotFound { key: String },

    /// Refused before the body was read.
    #[error("object {key:?} is {size} bytes, over the limit of {limit} bytes")]
    TooLarge { key: String, size: u64, limit: u64 },

    #[error("access denied to {key:?}: {message}")]
    AccessDenied { key: String, message: String },

    #[error("invalid key {key:?}: {reason}")]
    InvalidKey { key: String, reason: &'static str },

    /// The key cannot be stored beside what is there: a file where its folder would be, or a
    /// folder where it would be (a local store).
    #[error("key {key:?} conflicts with a stored object: {reason}")]
    Conflict { key: String, reason: &'static str },

    /// Transient: the store did not answer, or answered with a server error, after the
    /// configured retries and within the configured timeout.
    #[error("storage unavailable ({store}): {message}")]
    Unavailable { store: String, message: String },

    #[error("{what} is not supported by {store}")]
    Unsupported { what: &'static str, store: String },

    #[error("invalid storage URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },

    /// Anything else the backend reported (a bug, a misconfiguration).
    #[error("storage error ({store}): {message}")]
    Other { store: String, message: String },
}

impl StoreError {
    /// Whether retrying later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }
}

/// Timeouts and retries for remote stores. Every limit has a default and a knob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Connecting to the store.
    pub connect: Duration,
    /// One whole operation, retries included.
    pub operation: Duration,
    /// Attempts per operation (1 = no retry); retries back off exponentially.
    pub attempts: u32,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(3),
            operation: Duration::from_secs(30),
            attempts: 3,
        }
    }
}

/// An error and its causes on one line: the SDK's and object_store's own messages alone say
/// little ("dispatch failure", "generic error").
pub fn source_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
