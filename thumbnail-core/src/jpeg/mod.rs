//! JPEG internals shared by the probe and the decoders.

pub(crate) mod markers;
