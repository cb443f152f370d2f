//! Acceptance: bounded work for every image. Each hostile or huge file the testkit makes (the
//! decompression bombs of every format, a scan bomb, one giant TIFF strip, valid 100 MP
//! files of each format) either becomes a thumbnail within the memory budget or is refused
//! by name before anything large is allocated; a CPU bomb stops at its deadline.
//!
//! A counting global allocator records the peak of live heap bytes while each file is
//! handled; the input itself is made before the measurement starts.

use std::time::{Duration, Instant};

use thumbnail_core::{ErrorKind, Limits, ThumbnailSpec, thumbnail};
use thumbnail_testkit::hostile::{self, Outcome};
use thumbnail_testkit::{alone, peak_during};

#[global_allocator]
static ALLOCATOR: thumbnail_testkit::Counting = thumbnail_testkit::Counting;

/// Heap for one image at the default limits: the whole CLI process stays under 48 MiB of
/// RSS with the binary, the runtime and the input on top of this.
const HEAP_BUDGET: usize = 40 << 20;

/// Refusals come from headers and sizes alone.
const REFUSAL_BUDGET: usize = 1 << 20;

#[test]
fn every_hostile_or_huge_file_is_bounded() {
    let mut seen = Vec::new();
    for sample in hostile::catalogue() {
        let _alone = alone();
        let data = (sample.make)();
        let (result, peak) =
            peak_during(|| thumbnail(&data, &ThumbnailSpec::default(), &Limits::default()));
        drop(data);
        let name = sample.name;
        match (sample.outcome, result) {
            (Outcome::Thumbnail, Ok(t)) => {
                assert_eq!((t.width, t.height), (100, 100), "{name}");
                assert!(peak <= HEAP_BUDGET, "{name}: {} MiB of heap", peak >> 20);
            }
            (Outcome::Refused(code), Err(e)) => {
                assert_eq!(e.kind().code(), code, "{name}: {e}");
                assert!(e.to_string().contains("limit"), "{name}: {e}");
                assert!(peak <= REFUSAL_BUDGET, "{name}: {peak} bytes to refuse");
            }
            (want, got) => panic!("{name}: wanted {want:?}, got {:?}", got.map(|t| t.width)),
        }
        seen.push((name, peak >> 20));
    }
    // Every format is covered by the catalogue.
    for ext in ["gif", "webp", "bmp", "png", "tif", "jpg"] {
        assert!(
            seen.iter().any(|(n, _)| n.ends_with(ext)),
            "no {ext} sample in {seen:?}"
        );
    }
}

#[test]
fn a_scan_bomb_stops_at_its_deadline() {
    let _alone = alone();
    let bomb = hostile::cpu_bomb();
    // Large enough that the AC scans are decoded: several seconds of work without a deadline.
    let spec = ThumbnailSpec::sized(1000, 1000);
    let limits = Limits::default().with_deadline(Some(Instant::now() + Duration::from_millis(300)));
    let start = Instant::now();
    let e = thumbnail(&bomb, &spec, &limits).unwrap_err();
    let took = start.elapsed();
    assert_eq!(e.kind(), ErrorKind::DeadlineExceeded, "{e}");
    // Checked per scan and per row of blocks: stopped within a fraction of a scan.
    assert!(took < Duration::from_millis(1500), "stopped after {took:?}");
    // The same file without the deadline is a valid image, only slow.
    let small = thumbnail(&bomb, &ThumbnailSpec::default(), &Limits::default()).unwrap();
    assert_eq!((small.width, small.height), (100, 100));
}

#[test]
fn the_scan_limit_is_configurable() {
    let jpeg = hostile::progressive_jpeg(64, 64, 20);
    let spec = ThumbnailSpec::default();
    thumbnail(&jpeg, &spec, &Limits::default()).unwrap();
    let few = Limits::default().with_max_scans(20);
    let e = thumbnail(&jpeg, &spec, &few).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OverLimit);
    assert!(e.to_string().contains("20 scans"), "{e}");
}

#[test]
fn the_memory_limit_is_configurable_and_grows_with_the_output() {
    let _alone = alone();
    let tiff = hostile::tiff(2000, 2000, 16, Some(2000), false);
    // One 2000x2000 strip of 16-bit RGBA is 30.5 MiB: under the default limit, over 8 MiB.
    let spec = ThumbnailSpec::default();
    thumbnail(&tiff, &spec, &Limits::default()).unwrap();
    let tight = Limits::default().with_max_memory(8 << 20);
    let e = thumbnail(&tiff, &spec, &tight).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OverLimit);
    assert!(
        e.to_string().contains("strip of 2000x2000") && e.to_string().contains("8 MiB"),
        "{e}"
    );
    // A thumbnail that itself needs that much memory raises the limit to what it needs.
    let big = ThumbnailSpec::sized(1000, 1000);
    thumbnail(&tiff, &big, &tight).unwrap();
}
