//! JPEG XL input: cjxl's files (lossy, alpha, gray, lossless, a transcoded JPEG with its
//! orientation, an animation) become thumbnails that match libjxl's (djxl) decode of the same
//! file, whether rendered whole or a region at a time; a 48 MP file stays in the memory
//! budget and stops at its deadline; what would take more memory is refused by name.

mod common;

use common::Pixels;
use thumbnail_core::{
    ErrorKind, InputFormat, Limits, Orientation, OutputFormat, ThumbnailSpec, probe, thumbnail,
};
use thumbnail_testkit::{alone, jxl_fixture, peak_during};

#[global_allocator]
static ALLOCATOR: thumbnail_testkit::Counting = thumbnail_testkit::Counting;

/// Mean absolute difference (0-255) between two thumbnails of the same pixels.
const SAME: f64 = 1.0;

fn render(file: &str, limits: &Limits) -> Pixels {
    let spec = ThumbnailSpec::default().with_format(OutputFormat::Png);
    let t = thumbnail(&common::read(&jxl_fixture(file)), &spec, limits)
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    assert_eq!((t.width, t.height), (100, 100));
    common::decode(&t.bytes)
}

/// Whole frames: these files' full renders fit.
fn roomy() -> Limits {
    Limits::default().with_max_memory(512 << 20)
}

#[test]
fn lossy_alpha_gray_and_lossless_match_libjxl_whole_or_by_region() {
    let _alone = alone();
    for name in ["lossy", "gray", "alpha", "lossless"] {
        let reference = render(&format!("{name}-ref.png"), &roomy());
        let whole = render(&format!("{name}.jxl"), &roomy());
        let d = common::mean_abs_diff(&whole, &reference);
        assert!(d < SAME, "{name} whole: {d}");
    }
    // The default limit (32 MiB) is under a whole render of 1800x1200 (about 70 MiB):
    // regions of 512x512, the same pixels.
    for name in ["lossy", "gray"] {
        let reference = render(&format!("{name}-ref.png"), &roomy());
        let by_region = render(&format!("{name}.jxl"), &Limits::default());
        let d = common::mean_abs_diff(&by_region, &reference);
        assert!(d < SAME, "{name} by region: {d}");
    }
    let info = probe(&common::read(&jxl_fixture("alpha.jxl"))).unwrap();
    assert_eq!(info.format, InputFormat::Jxl);
    assert!(info.has_alpha);
    assert_eq!((info.width, info.height), (1800, 1200));
}

#[test]
fn a_transcoded_jpeg_keeps_its_orientation() {
    let _alone = alone();
    let data = common::read(&jxl_fixture("jpeg-orient6.jxl"));
    let info = probe(&data).unwrap();
    assert_eq!(info.orientation, Orientation::Rotate90);
    // As stored, like every other format; displayed upright.
    assert_eq!((info.width, info.height), (2048, 1536));
    assert_eq!(info.upright_size(), (1536, 2048));
    let ours = render("jpeg-orient6.jxl", &Limits::default());
    let d = common::mean_abs_diff(&ours, &render("jpeg-orient6-ref.png", &roomy()));
    assert!(d < SAME, "{d}");
    // And the same picture as the JPEG it came from, through our JPEG decoder.
    let jpeg = thumbnail_testkit::corpus_file("photos/canon-hdr-2048x1536-orient6.jpg");
    let spec = ThumbnailSpec::default().with_format(OutputFormat::Png);
    let from_jpeg = common::decode(&thumbnail(&jpeg, &spec, &Limits::default()).unwrap().bytes);
    let d = common::mean_abs_diff(&ours, &from_jpeg);
    assert!(d < 2.0, "{d}");
}

#[test]
fn an_animation_gives_its_first_frame_and_says_so() {
    let _alone = alone();
    let info = probe(&common::read(&jxl_fixture("anim.jxl"))).unwrap();
    assert!(info.animated);
    let ours = render("anim.jxl", &Limits::default());
    let first = render("small.png", &roomy());
    let d = common::mean_abs_diff(&ours, &first);
    assert!(d < 2.0, "{d}");
}

#[test]
fn a_48_mp_file_stays_in_budget_and_stops_at_its_deadline() {
    let _alone = alone();
    let data = common::read(&jxl_fixture("big-48mp.jxl"));
    // The default memory limit, 32 MiB, with a little for the reduction and the output.
    common::in_budget_and_stopped_by_deadline(&data, 34 << 20);
}

#[test]
fn over_the_limits_is_refused_by_name_before_the_work() {
    // Every test here measures or renders big frames: one at a time, so that the allocator's
    // peak is this test's.
    let _alone = alone();
    // Alpha (a modular extra channel) and lossless images decode their whole frame whatever
    // the region: over the limit, they are refused before decoding.
    for (file, says) in [("alpha.jxl", "with alpha"), ("lossless.jxl", "lossless")] {
        let data = common::read(&jxl_fixture(file));
        let tight = Limits::default().with_max_memory(4 << 20);
        let (e, peak) =
            peak_during(|| thumbnail(&data, &ThumbnailSpec::default(), &tight).unwrap_err());
        assert_eq!(e.kind(), ErrorKind::OverLimit, "{e}");
        let text = e.to_string();
        assert!(
            text.contains("JPEG XL") && text.contains(says) && text.contains("4 MiB"),
            "{e}"
        );
        assert!(peak < 4 << 20, "{file}: {} MiB to refuse", peak >> 20);
    }
    let big = common::read(&jxl_fixture("big-48mp.jxl"));
    let few = Limits::default().with_max_pixels(12_000_000);
    let (e, peak) = peak_during(|| thumbnail(&big, &ThumbnailSpec::default(), &few).unwrap_err());
    assert_eq!(e.kind(), ErrorKind::TooManyPixels, "{e}");
    assert!(peak < 4 << 20, "{} MiB to refuse", peak >> 20);
}

#[test]
fn truncated_and_wrecked_files_give_typed_errors() {
    let _alone = alone();
    let data = common::read(&jxl_fixture("lossy.jxl"));
    for cut in [
        1,
        2,
        10,
        40,
        200,
        1000,
        data.len() / 3,
        data.len() / 2,
        data.len() - 1,
    ] {
        let e = thumbnail(&data[..cut], &ThumbnailSpec::default(), &Limits::default())
            .expect_err("a truncated file");
        assert!(
            matches!(e.kind(), ErrorKind::Corrupt | ErrorKind::UnsupportedFormat),
            "cut at {cut}: {e}"
        );
    }
    for file in ["lossy.jxl", "alpha.jxl", "lossless.jxl", "jpeg-orient6.jxl"] {
        for step in [3, 97, 1009] {
            let mut bad = common::read(&jxl_fixture(file));
            let from = 64.min(bad.len() / 3);
            bad[from..]
                .iter_mut()
                .step_by(step)
                .for_each(|b| *b ^= 0x5A);
            if let Err(e) = thumbnail(&bad, &ThumbnailSpec::default(), &Limits::default()) {
                assert!(
                    matches!(
                        e.kind(),
                        ErrorKind::Corrupt | ErrorKind::UnsupportedFormat | ErrorKind::OverLimit
                    ),
                    "{file} every {step}: {e}"
                );
            }
        }
    }
}
