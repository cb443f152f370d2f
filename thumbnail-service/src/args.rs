//! Settings shared by every front end that runs images: the engine's limits and the storage
//! timeouts. The batch CLI and the service flatten the same structs, so a limit has one flag
//! and one environment variable everywhere.

use std::time::Duration;

use thumbnail_core::Limits;
use thumbnail_storage::{DEFAULT_IMAGE_TIMEOUT, Timeouts};

use crate::duration::parse_duration;

/// What the engine refuses and how long one image may take.
#[derive(Debug, Clone, clap::Args)]
pub struct LimitArgs {
    /// Largest input accepted, in bytes.
    #[arg(long, default_value_t = Limits::default().max_input_bytes, env = "THUMBNAIL_MAX_INPUT_BYTES")]
    pub max_input_bytes: u64,

    /// Largest input accepted, in pixels (width x height from the header).
    #[arg(long, default_value_t = Limits::default().max_pixels, env = "THUMBNAIL_MAX_PIXELS")]
    pub max_pixels: u64,

    /// Most scans a JPEG may have (each one walks the whole image).
    #[arg(long, default_value_t = Limits::default().max_scans, env = "THUMBNAIL_MAX_SCANS")]
    pub max_scans: u32,

    /// Working memory one image's decoder may hold beyond its reduced image, in bytes (whole
    /// frames of formats that cannot stream, a TIFF strip or tile).
    #[arg(long, default_value_t = Limits::default().max_memory, env = "THUMBNAIL_MAX_MEMORY")]
    pub max_memory: u64,

    /// Most threads one image may run on, taken only from idle cores: a big JPEG with restart
    /// intervals is decoded in bands [default: the number of CPUs].
    #[arg(long, env = "THUMBNAIL_IMAGE_THREADS", value_name = "N")]
    pub image_threads: Option<u32>,

    /// Longest one image's work may take; the decoder stops itself there [default: 30s; 25s
    /// on Lambda, under API Gateway's 29 s].
    #[arg(long, value_parser = parse_duration, env = "THUMBNAIL_IMAGE_TIMEOUT")]
    pub image_timeout: Option<Duration>,
}

impl LimitArgs {
    /// The limits, without a deadline: each image gets its own.
    pub fn limits(&self) -> Limits {
        Limits::default()
            .with_max_input_bytes(self.max_input_bytes)
            .with_max_pixels(self.max_pixels)
            .with_max_scans(self.max_scans)
            .with_max_memory(self.max_memory)
            .with_max_threads(self.image_threads())
    }

    /// `--image-threads`, or the number of CPUs.
    pub fn image_threads(&self) -> u32 {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        self.image_threads
            .unwrap_or_else(|| u32::try_from(cpus).unwrap_or(u32::MAX))
            .max(1)
    }

    /// `--image-timeout`, or `default` when it was not given.
    pub fn image_timeout_or(&self, default: Duration) -> Duration {
        self.image_timeout.unwrap_or(default)
    }

    /// `--image-timeout`, or the engine-wide default.
    pub fn image_timeout(&self) -> Duration {
        self.image_timeout_or(DEFAULT_IMAGE_TIMEOUT)
    }
}

/// Timeouts and retries for remote stores (S3 and the like).
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    /// Connect timeout for remote stores.
    #[arg(long, default_value = "3s", value_parser = parse_duration, env = "THUMBNAIL_STORE_CONNECT_TIMEOUT")]
    pub store_connect_timeout: Duration,

    /// Deadline of one storage operation, retries included.
    #[arg(long, default_value = "30s", value_parser = parse_duration, env = "THUMBNAIL_STORE_TIMEOUT")]
    pub store_timeout: Duration,

    /// Attempts per storage operation (1 = no retry).
    #[arg(long, default_value_t = 3, env = "THUMBNAIL_STORE_ATTEMPTS")]
    pub store_attempts: u32,
}

impl StoreArgs {
    pub fn timeouts(&self) -> Timeouts {
        Timeouts {
            connect: self.store_connect_timeout,
            operation: self.store_timeout,
            attempts: self.store_attempts,
        }
    }
}
