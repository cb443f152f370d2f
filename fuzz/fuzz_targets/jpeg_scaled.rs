//! Our shrink-on-load JPEG decoder on hostile bytes: it must return Ok or Err, never panic,
//! hang or allocate beyond what the pixel limit allows.
#![no_main]

use libfuzzer_sys::fuzz_target;
use thumbnail_core::stages::{self, JpegDetail};
use thumbnail_core::Limits;

fuzz_target!(|data: &[u8]| {
    // The scale comes from the length, so real JPEGs work as seeds unchanged.
    let scale = [1, 2, 4, 8][data.len() % 4];
    let detail = [JpegDetail::Low, JpegDetail::Exact][data.len() / 4 % 2];
    let limits = Limits::default().with_max_pixels(1_000_000);
    if let Ok(bitmap) = stages::decode_jpeg_scaled(data, scale, detail, &limits) {
        assert!(bitmap.width() > 0 && bitmap.height() > 0);
    }
});
