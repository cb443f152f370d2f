//! JPEG internals: marker parsing shared by the probe, and our shrink-on-load decoder.

pub(crate) mod bits;
pub(crate) mod decoder;
pub(crate) mod idct;
pub(crate) mod markers;
pub(crate) mod tables;
