//! The whole pipeline (every decoder, colour, resize, encode) on hostile bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use thumbnail_core::{Limits, ThumbnailSpec, thumbnail};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default().with_max_pixels(1_000_000);
    if let Ok(t) = thumbnail(data, &ThumbnailSpec::sized(64, 48), &limits) {
        assert_eq!((t.width, t.height), (64, 48));
    }
});
