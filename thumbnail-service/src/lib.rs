//! # thumbnail-service
//!
//! One way to configure and wire the thumbnail service. [`Config`] holds every setting, read
//! from flags (`thumbnail serve --max-pixels ...`) or from the environment
//! (`THUMBNAIL_MAX_PIXELS=...`, how the Lambda is configured) with the same names and units
//! everywhere; [`Service::build`] validates it once and turns it into the running parts:
//! stores, the shared [`thumbnail_storage::Thumbnailer`] and the HTTP state. `thumbnail serve`
//! and the Lambda both call it; only their defaults differ, by [`Profile`].
//!
//! [`LimitArgs`] and [`StoreArgs`] are the engine limits and storage timeouts, flattened into
//! [`Config`] and into the batch CLI's flags, so a limit has one name in every front end.

// Denied, not forbidden: `allocator` makes the one call into glibc.
#![deny(unsafe_code)]

mod allocator;
mod args;
mod config;
mod duration;
mod error;
mod secrets;
mod wire;

pub use crate::allocator::one_arena;
pub use crate::args::{LimitArgs, StoreArgs};
pub use crate::config::{Config, MAX_SYNC_BODY, Presets, Profile, SYNC_PAYLOAD_LIMIT};
pub use crate::duration::parse_duration;
pub use crate::error::ConfigError;
pub use crate::wire::Service;
