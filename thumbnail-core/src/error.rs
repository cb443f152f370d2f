use std::fmt;

/// Everything that can go wrong turning bytes into a thumbnail.
///
/// Each variant carries enough context to be shown to a user as-is; front ends map them to HTTP
/// statuses or exit codes with [`Error::kind`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The encoded input is bigger than [`Limits::max_input_bytes`](crate::Limits).
    #[error("input is {size} bytes, over the limit of {limit} bytes")]
    InputTooLarge { size: u64, limit: u64 },

    /// The header declares more pixels than [`Limits::max_pixels`](crate::Limits) allows.
    #[error("image is {width}x{height} ({pixels} pixels), over the limit of {limit} pixels")]
    TooManyPixels {
        width: u32,
        height: u32,
        pixels: u64,
        limit: u64,
    },

    /// The bytes are an image format (or a variant of one) that is not supported.
    #[error("unsupported image format: {format}")]
    UnsupportedFormat { format: String },

    /// The bytes claim a supported format but cannot be decoded.
    #[error("corrupt {format} image: {reason}")]
    Corrupt {
        format: &'static str,
        reason: String,
    },

    /// The image would cost more than the limits allow: more JPEG scans than
    /// [`Limits::max_scans`](crate::Limits), or more working memory than
    /// [`Limits::max_memory`](crate::Limits). The message names the limit.
    #[error("image is over a limit: {reason}")]
    OverLimit { reason: String },

    /// The work passed [`Limits::deadline`](crate::Limits) and was stopped.
    #[error("the image took longer than its deadline and was stopped")]
    DeadlineExceeded,

    /// The requested thumbnail makes no sense (zero size, quality out of range, ...).
    #[error("invalid thumbnail spec: {0}")]
    InvalidSpec(String),

    /// Resampling refused the pixels; a bug, not bad input.
    #[error("could not resize: {reason}")]
    Resize { reason: String },

    /// The encoder refused the pixels; this is a bug or an encoder limit, not bad input.
    #[error("could not encode {format}: {reason}")]
    Encode {
        format: &'static str,
        reason: String,
    },
}

/// Coarse classification of [`Error`], for mapping to status codes and metrics labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    InputTooLarge,
    TooManyPixels,
    OverLimit,
    DeadlineExceeded,
    UnsupportedFormat,
    Corrupt,
    InvalidSpec,
    Resize,
    Encode,
}

impl ErrorKind {
    /// A stable snake_case code, used in JSON error bodies and metric labels.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InputTooLarge => "input_too_large",
            ErrorKind::TooManyPixels => "too_many_pixels",
            ErrorKind::OverLimit => "over_limit",
            ErrorKind::DeadlineExceeded => "deadline_exceeded",
            ErrorKind::UnsupportedFormat => "unsupported_format",
            ErrorKind::Corrupt => "corrupt_image",
            ErrorKind::InvalidSpec => "invalid_spec",
            ErrorKind::Resize => "resize_failed",
            ErrorKind::Encode => "encode_failed",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Error {
    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InputTooLarge { .. } => ErrorKind::InputTooLarge,
            Error::TooManyPixels { .. } => ErrorKind::TooManyPixels,
            Error::OverLimit { .. } => ErrorKind::OverLimit,
            Error::DeadlineExceeded => ErrorKind::DeadlineExceeded,
            Error::UnsupportedFormat { .. } => ErrorKind::UnsupportedFormat,
            Error::Corrupt { .. } => ErrorKind::Corrupt,
            Error::InvalidSpec(_) => ErrorKind::InvalidSpec,
            Error::Resize { .. } => ErrorKind::Resize,
            Error::Encode { .. } => ErrorKind::Encode,
        }
    }

    pub(crate) fn corrupt(format: &'static str, reason: impl fmt::Display) -> Self {
        Error::Corrupt {
            format,
            reason: reason.to_string(),
        }
    }

    pub(crate) fn unsupported(format: impl Into<String>) -> Self {
        Error::UnsupportedFormat {
            format: format.into(),
        }
    }
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
