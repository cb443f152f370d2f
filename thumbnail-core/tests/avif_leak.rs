//! Failing AV1 decodes release everything: measured alone in its own binary, because the
//! counting allocator sees every thread's allocations and a leak of a few KiB is the signal.

mod common;

use thumbnail_core::{ErrorKind, Limits, ThumbnailSpec, thumbnail};
use thumbnail_testkit::{heif_fixture, peak_during};

#[global_allocator]
static ALLOCATOR: thumbnail_testkit::Counting = thumbnail_testkit::Counting;

#[test]
fn failing_av1_pictures_leak_nothing() {
    // Both items' ispe shrunk to 64x64: the container is consistent, and the AV1 decoder
    // refuses the 1800x1200 frame inside as over its size limit.
    let mut data = common::read(&heif_fixture("avif-alpha.avif"));
    let mut at = 0;
    while let Some(i) = data[at..].windows(4).position(|w| w == b"ispe") {
        let i = at + i;
        data[i + 8..i + 16].copy_from_slice(&[0, 0, 0, 64, 0, 0, 0, 64]);
        at = i + 4;
    }
    let once = || thumbnail(&data, &ThumbnailSpec::default(), &Limits::default());
    let e = once().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
    let (_, one) = peak_during(|| drop(once()));
    // rav1d's empty pictures each owned 48 bytes that were never freed: 200 failing decodes
    // leaked tens of KiB before `av1::release`.
    let (_, many) = peak_during(|| (0..200).for_each(|_| drop(once())));
    assert!(
        many <= one + (16 << 10),
        "one decode {one} bytes, 200 of them {many}"
    );
}
