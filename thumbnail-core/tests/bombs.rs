//! Acceptance: decompression bombs are refused from their header, before any big allocation;
//! and a huge JPEG that is allowed costs memory in proportion to the reduced image only.
//!
//! A counting global allocator records the peak of live heap bytes while each file is handled;
//! it lives in this test binary alone so no other test's allocations are counted.

mod common;

use thumbnail_core::{ErrorKind, Limits, ThumbnailSpec, thumbnail};
use thumbnail_testkit::peak_during;

#[global_allocator]
static ALLOCATOR: thumbnail_testkit::Counting = thumbnail_testkit::Counting;

const BUDGET: usize = 64 << 20;

#[test]
fn bombs_are_refused_from_the_header_with_little_memory() {
    let bombs = [
        "malformed/bomb-valid-palette-65536x65536.png",
        "malformed/crafted-bomb-ihdr-100000x100000.png",
        "malformed/crafted-bomb-sof0-65500x65500.jpg",
        "malformed/crashtest-max_size.jpg",
        "conformance/jpeg-variants/huge-gray-20000x14000.jpg",
    ];
    for rel in bombs {
        let data = common::read(&common::corpus().join(rel));
        let (result, peak) =
            peak_during(|| thumbnail(&data, &ThumbnailSpec::default(), &Limits::default()));
        let e = result.expect_err(rel);
        assert_eq!(e.kind(), ErrorKind::TooManyPixels, "{rel}: {e}");
        assert!(
            peak < BUDGET,
            "{rel}: {peak} bytes allocated before refusing"
        );
        // Refusing from the header costs next to nothing.
        assert!(
            peak < 1 << 20,
            "{rel}: {peak} bytes allocated before refusing"
        );
    }
}

#[test]
fn the_counter_sees_real_allocations() {
    // Proves the measurement is live: a real decode of a 2000x1072 photo allocates megabytes.
    let data = common::read(&common::corpus().join("conformance/icc/adobergb1998-2000x1072.jpg"));
    let spec = ThumbnailSpec::sized(1000, 1000);
    let (r, peak) = peak_during(|| thumbnail(&data, &spec, &Limits::default()));
    r.unwrap();
    assert!(peak > 4 << 20, "only {peak} bytes counted");
}

#[test]
fn a_280_megapixel_jpeg_needs_memory_for_the_reduced_image_only() {
    // 20000x14000 gray: a full decode would hold 280 MB of pixels.
    let data =
        common::read(&common::corpus().join("conformance/jpeg-variants/huge-gray-20000x14000.jpg"));
    let limits = Limits::default().with_max_pixels(300_000_000);
    let (result, peak) = peak_during(|| thumbnail(&data, &ThumbnailSpec::default(), &limits));
    let t = result.unwrap();
    assert_eq!((t.width, t.height), (100, 100));
    assert!(peak < 24 << 20, "{} MiB for a 280 MP JPEG", peak >> 20);
}

#[test]
fn a_50_megapixel_colour_jpeg_needs_memory_for_the_reduced_image_only() {
    let _alone = thumbnail_testkit::alone();
    // 8660x5774 4:2:0, made here from smooth content (the corpus tops out at 16 MP).
    let (w, h) = (8660u16, 5774u16);
    let mut px = Vec::with_capacity(usize::from(w) * usize::from(h) * 3);
    for y in 0..u32::from(h) {
        for x in 0..u32::from(w) {
            px.extend_from_slice(&[(x / 34) as u8, (y / 23) as u8, ((x + y) / 57) as u8]);
        }
    }
    let mut data = Vec::new();
    jpeg_encoder::Encoder::new(&mut data, 85)
        .encode(&px, w, h, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    drop(px);
    let (result, peak) =
        peak_during(|| thumbnail(&data, &ThumbnailSpec::default(), &Limits::default()));
    let t = result.unwrap();
    assert_eq!((t.width, t.height), (100, 100));
    // The decoder's own copy of the entropy data, plus planes at 1/8: about
    // 1083x722 luma and the same again for the two chroma planes at 1/4.
    assert!(
        peak < data.len() + (24 << 20),
        "{} MiB for a 50 MP JPEG of {} MiB",
        peak >> 20,
        data.len() >> 20
    );
}
