//! Acceptance: ICC-profiled and CMYK images come out in sRGB within a stated tolerance of an
//! independent reference conversion.
//!
//! The reference (`tests/reference/colour.json`, made by `tools/make-colour-reference.py`) is
//! LittleCMS 2 through Pillow's ImageCms, perceptual intent, applied to the whole image at full
//! resolution (CMYK without a profile: Pillow's naive complement); alpha composited onto white;
//! then the mean colour of each cell of a 4x4 grid. We render the whole image (fill fit) to a
//! lossless 64x64 PNG and average the same cells. Two CMS implementations differ by a few
//! levels at most on cell means; a wrong profile, a missed Adobe inversion or swapped channels
//! are off by tens of levels, and the test checks that too.

mod common;

use common::Pixels;
use thumbnail_core::{Fit, Limits, OutputFormat, ThumbnailSpec, thumbnail};

/// Largest difference allowed in any cell's mean, per channel, on the 0-255 scale.
const TOLERANCE: f64 = 4.0;
const SIZE: u32 = 64;

fn reference() -> serde_json::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/colour.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn our_cells(rel: &str, grid: u32) -> Vec<[f64; 3]> {
    let spec = ThumbnailSpec::sized(SIZE, SIZE)
        .with_fit(Fit::Fill)
        .with_format(OutputFormat::Png);
    let data = common::read(&common::corpus().join(rel));
    let t = thumbnail(&data, &spec, &Limits::default()).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let px = flatten_on_white(common::decode(&t.bytes));
    let c = SIZE / grid;
    let mut cells = Vec::new();
    for gy in 0..grid {
        for gx in 0..grid {
            cells.push(px.mean(gx * c, gy * c, (gx + 1) * c, (gy + 1) * c));
        }
    }
    cells
}

fn flatten_on_white(p: Pixels) -> Pixels {
    if p.channels != 4 && p.channels != 2 {
        return p;
    }
    let mut data = Vec::new();
    for s in p.data.chunks_exact(p.channels) {
        let a = f64::from(s[p.channels - 1]) / 255.0;
        let rgb = if p.channels == 4 {
            [s[0], s[1], s[2]]
        } else {
            [s[0]; 3]
        };
        data.extend(rgb.map(|v| (f64::from(v) * a + 255.0 * (1.0 - a)).round() as u8));
    }
    Pixels {
        width: p.width,
        height: p.height,
        channels: 3,
        data,
    }
}

fn worst(ours: &[[f64; 3]], cells: &[serde_json::Value]) -> f64 {
    ours.iter()
        .zip(cells)
        .flat_map(|(o, r)| (0..3).map(move |i| (o[i] - r[i].as_f64().unwrap()).abs()))
        .fold(0.0, f64::max)
}

#[test]
fn colour_managed_files_match_the_reference() {
    let r = reference();
    let grid = r["grid"].as_u64().unwrap() as u32;
    let files = r["files"].as_object().unwrap();
    assert!(files.len() >= 10);
    for (rel, entry) in files {
        let cells = entry["cells"].as_array().unwrap();
        let d = worst(&our_cells(rel, grid), cells);
        assert!(
            d <= TOLERANCE,
            "{rel}: a cell is {d:.1} levels off the reference (max {TOLERANCE})"
        );
    }
}

#[test]
fn the_tolerance_catches_real_mistakes() {
    let r = reference();
    let grid = r["grid"].as_u64().unwrap() as u32;
    // Inverted CMYK (the classic Adobe mistake) and swapped channels must both fail.
    let rel = "conformance/cmyk/ycck-swop-icc-500x333.jpg";
    let cells = r["files"][rel]["cells"].as_array().unwrap();
    let ours = our_cells(rel, grid);
    let inverted: Vec<_> = ours.iter().map(|c| c.map(|v| 255.0 - v)).collect();
    let swapped: Vec<_> = ours.iter().map(|c| [c[2], c[1], c[0]]).collect();
    assert!(worst(&inverted, cells) > 4.0 * TOLERANCE);
    assert!(worst(&swapped, cells) > 2.0 * TOLERANCE);
    // Ignoring the profile of a wide-gamut or CMYK image is off by much more than the
    // tolerance: render the FOGRA TIFF as naive CMYK and compare.
    let rel = "conformance/tiff/cmyk-fogra.tif";
    let cells = r["files"][rel]["cells"].as_array().unwrap();
    let naive = vec![[255.0, 0.0, 0.0]; cells.len()];
    assert!(worst(&naive, cells) > 2.0 * TOLERANCE);
}
