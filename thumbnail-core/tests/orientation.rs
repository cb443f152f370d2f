//! Acceptance: EXIF orientations 1-8 all come out upright and unmirrored.
//!
//! `Landscape_N.jpg` and `Portrait_N.jpg` store the same picture transformed N ways, with the
//! EXIF tag that undoes it (`_0` has no tag). Upright, all nine must look the same apart from
//! the digit drawn on each. The test also proves it can fail: each of the seven wrong ways to
//! turn the reference is measured and must be far outside the tolerance.

mod common;

use common::Pixels;
use thumbnail_core::{Limits, OutputFormat, ThumbnailSpec, thumbnail};

/// Mean absolute difference (0-255) allowed between two correct renderings: the digits differ.
const SAME: f64 = 4.0;

fn render(group: &str, n: u32) -> Pixels {
    let path = common::corpus().join(format!("conformance/orientation/{group}_{n}.jpg"));
    let spec = ThumbnailSpec::default().with_format(OutputFormat::Png);
    let t = thumbnail(&common::read(&path), &spec, &Limits::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    common::decode(&t.bytes)
}

/// The reference turned the seven wrong ways (it is square, so all of them fit).
fn wrong_ways(p: &Pixels) -> Vec<(&'static str, Pixels)> {
    let n = p.width;
    assert_eq!(n, p.height);
    let map = |f: &dyn Fn(u32, u32) -> (u32, u32)| {
        let mut data = Vec::with_capacity(p.data.len());
        for y in 0..n {
            for x in 0..n {
                let (sx, sy) = f(x, y);
                data.extend_from_slice(&p.rgb(sx, sy));
            }
        }
        Pixels {
            width: n,
            height: n,
            channels: 3,
            data,
        }
    };
    let m = n - 1;
    vec![
        ("mirrored", map(&|x, y| (m - x, y))),
        ("upside down", map(&|x, y| (m - x, m - y))),
        ("flipped", map(&|x, y| (x, m - y))),
        ("transposed", map(&|x, y| (y, x))),
        ("rotated 90", map(&|x, y| (y, m - x))),
        ("transversed", map(&|x, y| (m - y, m - x))),
        ("rotated 270", map(&|x, y| (m - y, x))),
    ]
}

fn check(group: &str) {
    let reference = render(group, 1);
    for (how, wrong) in wrong_ways(&reference) {
        let d = common::mean_abs_diff(&reference, &wrong);
        assert!(
            d > 4.0 * SAME,
            "{group}: a {how} image differs by only {d:.1}"
        );
    }
    for n in 0..=8 {
        let got = render(group, n);
        let d = common::mean_abs_diff(&reference, &got);
        assert!(
            d < SAME,
            "{group}_{n} differs from {group}_1 by {d:.1} (limit {SAME})"
        );
    }
}

#[test]
fn landscape_orientations_agree() {
    check("Landscape");
}

#[test]
fn portrait_orientations_agree() {
    check("Portrait");
}
