//! Acceptance: every photo gives exactly the requested size in cover, contain and fill, and
//! inside-fit keeps the aspect ratio without enlarging.

mod common;

use thumbnail_core::{Fit, Limits, ThumbnailSpec, probe, thumbnails};

const SIZES: [(u32, u32); 4] = [(100, 100), (64, 64), (320, 180), (150, 400)];

fn specs(fit: Fit) -> Vec<ThumbnailSpec> {
    SIZES
        .iter()
        .map(|&(w, h)| ThumbnailSpec::sized(w, h).with_fit(fit))
        .collect()
}

#[test]
fn exact_sizes_in_cover_contain_and_fill() {
    let photos = common::files("photos");
    assert_eq!(photos.len(), 28, "the photo corpus changed size");
    for path in &photos {
        let data = common::read(path);
        for fit in [Fit::Cover, Fit::Contain, Fit::Fill] {
            let out = thumbnails(&data, &specs(fit), &Limits::default())
                .unwrap_or_else(|e| panic!("{} {fit:?}: {e}", common::name(path)));
            for (thumb, &(w, h)) in out.iter().zip(&SIZES) {
                let px = common::decode(&thumb.bytes);
                assert_eq!(
                    (px.width, px.height, thumb.width, thumb.height),
                    (w, h, w, h),
                    "{} {fit:?} {w}x{h}",
                    common::name(path)
                );
                assert_eq!(thumb.mime(), "image/jpeg");
            }
        }
    }
}

#[test]
fn inside_keeps_aspect_and_never_enlarges() {
    for path in common::files("photos") {
        let data = common::read(&path);
        let (sw, sh) = probe(&data).unwrap().upright_size();
        let out = thumbnails(&data, &specs(Fit::Inside), &Limits::default()).unwrap();
        for (thumb, &(bw, bh)) in out.iter().zip(&SIZES) {
            let px = common::decode(&thumb.bytes);
            let (w, h) = (px.width, px.height);
            let name = common::name(&path);
            assert!(w <= bw && h <= bh, "{name}: {w}x{h} outside {bw}x{bh}");
            assert!(w <= sw && h <= sh, "{name}: {w}x{h} enlarges {sw}x{sh}");
            let s = (f64::from(bw) / f64::from(sw))
                .min(f64::from(bh) / f64::from(sh))
                .min(1.0);
            let (ew, eh) = (f64::from(sw) * s, f64::from(sh) * s);
            assert!(
                (f64::from(w) - ew).abs() <= 1.0 && (f64::from(h) - eh).abs() <= 1.0,
                "{name}: {w}x{h} is not the source aspect (expected {ew:.1}x{eh:.1})"
            );
            // One side touches the box unless the source is smaller than the box.
            assert!(
                w == bw || h == bh || (w, h) == (sw, sh),
                "{name}: {w}x{h} in {bw}x{bh}"
            );
        }
    }
}

#[test]
fn several_specs_come_from_one_decode_in_order() {
    let path = common::corpus().join("photos/canon-hdr-2048x1536-orient6.jpg");
    let data = common::read(&path);
    let mixed = [
        ThumbnailSpec::sized(64, 64),
        ThumbnailSpec::sized(300, 300).with_fit(Fit::Inside),
        ThumbnailSpec::sized(32, 48).with_format(thumbnail_core::OutputFormat::Png),
    ];
    let out = thumbnails(&data, &mixed, &Limits::default()).unwrap();
    // Orientation 6: the 2048x1536 stored image is 1536x2048 upright.
    let got: Vec<_> = out.iter().map(|t| (t.width, t.height, t.mime())).collect();
    assert_eq!(
        got,
        [
            (64, 64, "image/jpeg"),
            (225, 300, "image/jpeg"),
            (32, 48, "image/png")
        ]
    );
}
